"""How fast the board (`GET /board`) renders on a store of 1,000,000 scored leads and 300,000
outcomes, on SQLite and, when LEADSCORE_TEST_POSTGRES_URL names a database it may empty, on
PostgreSQL.

    .venv/bin/python benchmarks/board_store.py            # or: make bench-board

The store is filled through the score log's own writer, each batch of leads at its time over
the last 80 days with its source, and through `record_outcomes` (the oldest leads closed, lost
ones with their loss reason), by a model trained on demo leads (the model and store set-up of
`live_store.py`). Three figures, each the best of three runs, building the board's figures and
rendering its HTML in this process (the registry's last decision included):

- first view: every figure computed (an empty cache, as after a start or a model swap);
- another filter: the figures that do not depend on the filter cached, the rest computed;
- cached: the view a person gets while the figures are younger than
  LEADSCORE_BOARD_CACHE_SECONDS (and, older, while they are refreshed in the background).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import numpy as np
import sqlalchemy as sa
from live_store import SENT, emptied_store, trained_model

from features.demo import generate_leads
from serve.api.board_cache import FiguresCache
from serve.api.board_page import board_html
from serve.api.board_view import BoardFilter, build_board
from serve.model.lead_model import LeadModel
from serve.model.loading import LoadedModel, load_lead_model
from serve.model.scorer import score_leads
from serve.store.outcomes import Outcome, record_outcomes
from serve.store.performance import reported_segments
from serve.store.score_log import ScoreLog
from serve.store.times import utc_now

BATCH = 20_000
DAYS = 80
DAYS_TO_CLOSE = 20
CACHE_SECONDS = 3600.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--outcomes", type=int, default=300_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        trained_model(Path(folder))
        loaded = load_lead_model("models:/leadscore/1")
        urls = {"SQLite": f"sqlite:///{Path(folder) / 'store.db'}"}
        if os.environ.get("LEADSCORE_TEST_POSTGRES_URL"):
            urls["PostgreSQL"] = os.environ["LEADSCORE_TEST_POSTGRES_URL"]
        rows = [measure(name, url, loaded, args.leads, args.outcomes) for name, url in urls.items()]
    print(
        f"| store ({args.leads:,} scored leads, {args.outcomes:,} outcomes) | fill s "
        "| first view s | another filter s | cached s |"
    )
    print("|---|---|---|---|---|")
    for name, filled, first, other, cached in rows:
        print(f"| {name} | {filled:.0f} | {first:.2f} | {other:.2f} | {cached:.3f} |")


def measure(
    name: str, url: str, loaded: LoadedModel, leads: int, outcomes: int
) -> tuple[str, float, float, float, float]:
    engine = emptied_store(url)
    try:
        started = time.perf_counter()
        fill(engine, loaded.model, leads, outcomes)
        filled = time.perf_counter() - started
        default, other = BoardFilter(), BoardFilter(30, "Referral", "B")

        def view(cache: FiguresCache, chosen: BoardFilter) -> str:
            board = build_board(engine, loaded, "registry", None, chosen, cache)
            return board_html(board, False, cache.seconds, "")

        first = best_of(lambda: view(FiguresCache(CACHE_SECONDS), default))

        def another_filter() -> tuple[Callable[[], object], Callable[[], object]]:
            cache = FiguresCache(CACHE_SECONDS)
            return (lambda: view(cache, default)), (lambda: view(cache, other))

        filtered = best_of_after(another_filter)
        cache = FiguresCache(CACHE_SECONDS)
        view(cache, default)
        cached = best_of(lambda: view(cache, default))
    finally:
        engine.dispose()
    return name, filled, first, filtered, cached


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


def best_of(work: Callable[[], object], runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return float(np.min(times))


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
