"""How fast the live surfaces answer on a large store: `live_performance` (what
`GET /v1/performance` and `leadscore performance` run) and `stalled_leads` (`GET
/v1/leads/stalled`, `leadscore stalled`) on a store of 1,000,000 scored leads and 300,000
outcomes, on SQLite and, when LEADSCORE_TEST_POSTGRES_URL names a database it may empty, on
PostgreSQL.

    .venv/bin/python benchmarks/live_store.py            # or: make bench-live

The store is filled through the score log's own writer, each batch of leads at its time over
the last 80 days, and through `record_outcomes` (the oldest leads, closed 20 days after their
score, lost ones with their loss reason), with demo leads scored by a model trained on demo
leads (`leadscore train` in a temporary folder). Each figure is the best of three runs after one
warm-up. Prints a Markdown table. `board_store.py` fills its store the same way.
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
from datetime import timedelta
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
from serve.store.performance import live_performance, reported_segments
from serve.store.score_log import ScoreLog
from serve.store.tables import metadata
from serve.store.times import utc_now

SENT = [*LEAD_FIELDS, "created_at", "deal_value"]
BATCH = 20_000
DAYS = 80
DAYS_TO_CLOSE = 20


def main() -> None:
    args = store_size(__doc__)
    with tempfile.TemporaryDirectory() as folder:
        model = trained_model(Path(folder))
        urls = store_urls(Path(folder))
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


def store_size(doc: str | None) -> argparse.Namespace:
    """The command line of a store benchmark: how many scored leads and outcomes to fill."""
    parser = argparse.ArgumentParser(description=(doc or "").splitlines()[0])
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--outcomes", type=int, default=300_000)
    return parser.parse_args()


def store_urls(folder: Path) -> dict[str, str]:
    """SQLite in `folder`, and PostgreSQL when LEADSCORE_TEST_POSTGRES_URL names a database."""
    urls = {"SQLite": f"sqlite:///{folder / 'store.db'}"}
    if os.environ.get("LEADSCORE_TEST_POSTGRES_URL"):
        urls["PostgreSQL"] = os.environ["LEADSCORE_TEST_POSTGRES_URL"]
    return urls


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
    """`leads` scored leads in batches over the last DAYS days, oldest first, and outcomes for
    the oldest `outcomes` of them, closed DAYS_TO_CLOSE days after they were scored."""
    pool = generate_leads(min(leads, 100_000), seed=11)
    records = json.loads(pool[SENT].to_json(orient="records"))
    scored = score_leads(model, records)
    segments = reported_segments(model)
    log = ScoreLog(engine)
    now = utc_now()
    moments = []
    for start in range(0, leads, BATCH):
        ids = [f"L{i}" for i in range(start, min(start + BATCH, leads))]
        picks = [i % len(records) for i in range(start, start + len(ids))]
        batch = [{**records[i], "lead_id": lead} for i, lead in zip(picks, ids, strict=True)]
        at = now - timedelta(days=DAYS * (1 - start / leads))
        moments.append(at)
        log.record(
            batch,
            ids,
            scored.probability[picks],
            "1",
            (),
            [scored.tier[i] for i in picks],
            None if scored.expected_value is None else scored.expected_value[picks],
            segments,
            scored_at=at,
        )
        log.flush()
    truth, reasons = pool["outcome"].to_numpy(), pool["loss_reason"].to_numpy()
    values = pool["deal_value"].to_numpy(dtype=float)
    for start in range(0, outcomes, BATCH):
        closed_at = moments[start // BATCH] + timedelta(days=DAYS_TO_CLOSE)
        batch = []
        for i in range(start, min(start + BATCH, outcomes)):
            won = truth[i % len(pool)] == "won"
            reason = reasons[i % len(pool)]
            batch.append(
                Outcome(
                    f"L{i}",
                    "won" if won else "lost",
                    None if won or not isinstance(reason, str) else reason,
                    float(values[i % len(pool)]) if won else None,
                    closed_at,
                )
            )
        record_outcomes(engine, batch)


def best_of(work: Callable[[], object], runs: int = 3, warm_up: bool = True) -> float:
    """The best time of `runs` runs (after one run not timed, with `warm_up`)."""
    if warm_up:
        work()
    return best_of_after(lambda: (lambda: None, work), runs)


def best_of_after(
    make: Callable[[], tuple[Callable[[], object], Callable[[], object]]], runs: int = 3
) -> float:
    """The best time of the second step, each run after its own first step."""
    times = []
    for _ in range(runs):
        before, work = make()
        before()
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return float(np.min(times))


if __name__ == "__main__":
    main()
