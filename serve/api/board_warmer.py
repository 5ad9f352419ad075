"""The board's default view, computed in the background once for each model version that comes
to serve (at start, after a swap), so the first person to open the board after either does not
wait for figures that take seconds on a store of millions of leads. Later views keep them fresh
(see `serve.api.board_cache`); a filter nobody opened yet is computed when it is opened."""

from __future__ import annotations

import logging
import threading

import sqlalchemy as sa

from serve.api.board_cache import FiguresCache
from serve.api.board_view import BoardFilter, build_board
from serve.api.model_holder import ModelHolder

log = logging.getLogger(__name__)

CHECK_SECONDS = 5.0


class BoardWarmer:
    def __init__(
        self,
        holder: ModelHolder,
        engine: sa.Engine,
        cache: FiguresCache,
        check_seconds: float = CHECK_SECONDS,
    ) -> None:
        self._holder, self._engine, self._cache = holder, engine, cache
        self._check_seconds = check_seconds
        self._warmed: tuple[str | None, str | None] | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._cache.seconds <= 0:  # nothing would be kept
            return
        self._thread = threading.Thread(target=self._run, name="board-warmer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def warm(self) -> None:
        """Compute the default view if the model serving now has not had it computed."""
        loaded = self._holder.current
        if loaded is None or (loaded.name, loaded.version) == self._warmed:
            return
        served_from, notice = self._holder.served_from, self._holder.cache_notice
        build_board(self._engine, loaded, served_from, notice, BoardFilter(), self._cache)
        self._warmed = (loaded.name, loaded.version)
        log.info("board figures computed for version %s", loaded.version)

    def _run(self) -> None:
        while not self._stop.wait(self._check_seconds):
            try:
                self.warm()
            except Exception:  # the board computes them when opened; try again next time
                log.exception("computing the board's figures in the background failed")
