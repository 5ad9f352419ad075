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

import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from live_store import (
    best_of,
    best_of_after,
    emptied_store,
    fill,
    store_size,
    store_urls,
    trained_model,
)

from serve.api.board_cache import FiguresCache
from serve.api.board_page import board_html
from serve.api.board_view import BoardFilter, build_board
from serve.model.loading import LoadedModel, load_lead_model

CACHE_SECONDS = 3600.0


def main() -> None:
    args = store_size(__doc__)
    with tempfile.TemporaryDirectory() as folder:
        trained_model(Path(folder))
        loaded = load_lead_model("models:/leadscore/1")
        urls = store_urls(Path(folder))
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

        first = best_of(lambda: view(FiguresCache(CACHE_SECONDS), default), warm_up=False)

        def another_filter() -> tuple[Callable[[], object], Callable[[], object]]:
            cache = FiguresCache(CACHE_SECONDS)
            return (lambda: view(cache, default)), (lambda: view(cache, other))

        filtered = best_of_after(another_filter)
        cache = FiguresCache(CACHE_SECONDS)
        view(cache, default)
        cached = best_of(lambda: view(cache, default), warm_up=False)
    finally:
        engine.dispose()
    return name, filled, first, filtered, cached


if __name__ == "__main__":
    main()
