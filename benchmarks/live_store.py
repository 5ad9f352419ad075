"""How fast the live surfaces answer on a large store: `live_performance` (what
`GET /v1/performance` and `leadscore performance` run) and `stalled_leads` (`GET
/v1/leads/stalled`, `leadscore stalled`) on a store of 1,000,000 scored leads and 300,000
outcomes, on SQLite and, when LEADSCORE_TEST_POSTGRES_URL names a database it may empty, on
PostgreSQL.

    .venv/bin/python benchmarks/live_store.py            # or: make bench-live

The store is filled through the score log's own writer and `record_outcomes`, with demo leads
scored by a model trained on demo leads (`leadscore train` in a temporary folder). Each figure
is the best of three runs after one warm-up. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import sqlalchemy as sa

from features.demo import LEAD_FIELDS, generate_leads, write_demo
from insights.stalled import stalled_leads
from serve.model.lead_model import LeadModel
from serve.model.loading import load_lead_model
from serve.model.scorer import score_leads
from serve.store.database import VERSION_TABLE, open_store
from serve.store.outcomes import Outcome, record_outcomes
from serve.store.performance import live_performance
from serve.store.score_log import ScoreLog
from serve.store.tables import metadata

SENT = [*LEAD_FIELDS, "created_at", "deal_value"]
BATCH = 20_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--outcomes", type=int, default=300_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        model = trained_model(Path(folder))
        urls = {"SQLite": f"sqlite:///{Path(folder) / 'store.db'}"}
        if os.environ.get("LEADSCORE_TEST_POSTGRES_URL"):
            urls["PostgreSQL"] = os.environ["LEADSCORE_TEST_POSTGRES_URL"]
        rows = [measure(name, url, model, args.leads, args.outcomes) for name, url in urls.items()]
    print(
        f"| store ({args.leads:,} scored leads, {args.outcomes:,} outcomes) | fill s "
        "| performance s | stalled leads s |"
    )
    print("|---|---|---|---|")
    for name, filled, performance, stalled in rows:
        print(f"| {name} | {filled:.0f} | {performance:.2f} | {stalled:.2f} |")


def measure(
    name: str, url: str, model: LeadModel, leads: int, outcomes: int
) -> tuple[str, float, float, float]:
    """Fill the store at `url`, then time the live figures on it."""
    engine = emptied_store(url)
    try:
        started = time.perf_counter()
        fill(engine, model, leads, outcomes)
        filled = time.perf_counter() - started
        performance = best_of(lambda: live_performance(engine, model, "1"))
        stalled = best_of(lambda: stalled_leads(engine, model, after_days=1, limit=500))
    finally:
        engine.dispose()
    return name, filled, performance, stalled


def trained_model(folder: Path) -> LeadModel:
    data = folder / "demo.csv"
    contract = write_demo(data, 20_000, seed=7)
    env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{folder / 'mlflow.db'}"}
    command = [sys.executable, "-m", "leadscore_cli", "train", str(data), "--config", str(contract)]
    subprocess.run(command, check=True, env=env, cwd=folder, capture_output=True)
    os.environ["MLFLOW_TRACKING_URI"] = env["MLFLOW_TRACKING_URI"]
    return load_lead_model("models:/leadscore/1").model


def emptied_store(url: str) -> sa.Engine:
    engine = open_store(url)
    with engine.begin() as connection:
        metadata.drop_all(connection)
        connection.execute(sa.text(f"DROP TABLE IF EXISTS {VERSION_TABLE}"))
    engine.dispose()
    return open_store(url)


def fill(engine: sa.Engine, model: LeadModel, leads: int, outcomes: int) -> None:
    """`leads` scored leads spread over the last 80 days (the score log stamps them now; they
    are moved back in time in one statement), and outcomes for the first `outcomes` of them."""
    pool = generate_leads(min(leads, 100_000), seed=11)
    records = json.loads(pool[SENT].to_json(orient="records"))
    scored = score_leads(model, records)
    log = ScoreLog(engine)
    for start in range(0, leads, BATCH):
        ids = [f"L{i}" for i in range(start, min(start + BATCH, leads))]
        picks = [i % len(records) for i in range(start, start + len(ids))]
        batch = [{**records[i], "lead_id": lead} for i, lead in zip(picks, ids, strict=True)]
        log.record(
            batch,
            ids,
            scored.probability[picks],
            "1",
            (),
            [scored.tier[i] for i in picks],
            None if scored.expected_value is None else scored.expected_value[picks],
        )
        log.flush()
    with engine.begin() as connection:
        for table, column in (("score_log", "scored_at"), ("scored_leads", "first_scored_at")):
            connection.execute(_moved_back(engine.dialect.name, table, column))
    outcome = pool["outcome"].to_numpy()
    for start in range(0, outcomes, BATCH):
        batch = [
            Outcome(f"L{i}", "won" if outcome[i % len(pool)] == "won" else "lost", value=1000.0)
            for i in range(start, min(start + BATCH, outcomes))
        ]
        record_outcomes(engine, batch)


def _moved_back(dialect: str, table: str, column: str) -> sa.TextClause:
    """Spread the rows of a table over the last 80 days, by their id."""
    if dialect == "sqlite":
        return sa.text(
            f"UPDATE {table} SET {column} = datetime({column}, '-' || (id % 80) || ' days')"
        )
    return sa.text(f"UPDATE {table} SET {column} = {column} - (id % 80) * interval '1 day'")


def best_of(work: Callable[[], object], runs: int = 3) -> float:
    work()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return float(np.min(times))


if __name__ == "__main__":
    main()
