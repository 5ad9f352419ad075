"""The board's figures, kept for a short time so that the page answers in well under a second on
a store of millions of leads (computing them there takes seconds).

Each figure is kept under its own key (live performance per window, the board's aggregates per
filter, the stalled leads, the reliance...) for `seconds`. A figure older than that is still
shown while one background thread computes it again, so only the first view of a filter waits;
the page says how old its figures are. `seconds` 0 computes every figure on every view.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from serve.store.times import utc_now

log = logging.getLogger(__name__)

T = TypeVar("T")
MAX_ENTRIES = 256


@dataclass(frozen=True)
class Cached(Generic[T]):
    value: T
    built_at: datetime  # naive UTC


class FiguresCache:
    def __init__(self, seconds: float, max_entries: int = MAX_ENTRIES) -> None:
        self.seconds = seconds
        self._max_entries = max_entries
        self._entries: OrderedDict[Hashable, Cached] = OrderedDict()
        self._lock = threading.Lock()
        self._building: dict[Hashable, threading.Lock] = {}
        self._refreshing: set[Hashable] = set()

    def get(self, key: Hashable, build: Callable[[], T]) -> Cached[T]:
        """The figure under `key`: kept if fresh; kept and refreshed in the background if
        stale; else built now (once, however many requests ask at the same moment)."""
        if self.seconds <= 0:
            return Cached(build(), utc_now())
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and self._age(entry) >= self.seconds:
                self._refresh_in_background(key, build)
            if entry is not None:
                return entry
            building = self._building.setdefault(key, threading.Lock())
        try:
            with building:
                with self._lock:
                    entry = self._entries.get(key)
                if entry is None:  # not built by a request that held the lock before this one
                    entry = self._store(key, build)
        finally:
            with self._lock:
                self._building.pop(key, None)  # kept only while a build may be running
        return entry

    def _age(self, entry: Cached) -> float:
        return (utc_now() - entry.built_at).total_seconds()

    def _store(self, key: Hashable, build: Callable[[], T]) -> Cached[T]:
        entry = Cached(build(), utc_now())
        with self._lock:
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)
        return entry

    def _refresh_in_background(self, key: Hashable, build: Callable[[], T]) -> None:
        """Called with the lock held."""
        if key in self._refreshing:
            return
        self._refreshing.add(key)

        def refresh() -> None:
            try:
                self._store(key, build)
            except Exception:  # the old figure stays; the next view tries again
                log.exception("refreshing the board figure %s failed", key)
            finally:
                with self._lock:
                    self._refreshing.discard(key)

        threading.Thread(target=refresh, name="board-refresh", daemon=True).start()
