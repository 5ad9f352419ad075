"""The score log: every lead the API scored, as received (PII removed), with its probability,
the model version and the time. Appending is all the request path does; a thread of its own
writes the rows in batches, and `close` writes whatever is left, so a clean shutdown loses none.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from serve.store.tables import score_log

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _ScoredBatch:
    """One request's leads as queued; `scored_at` is a Unix time (cheaper to take than a
    datetime on the request path)."""

    records: Sequence[Mapping[str, Any]]
    lead_ids: Sequence[str | None]
    probabilities: Sequence[float]
    model_version: str | None
    pii: frozenset[str]
    scored_at: float


class ScoreLog:
    """Batches scored leads into the store every `flush_seconds`."""

    def __init__(self, engine: sa.Engine, flush_seconds: float = 1.0) -> None:
        self._engine = engine
        self._insert = _DriverInsert(engine.dialect)
        self._flush_seconds = flush_seconds
        self._pending: deque[_ScoredBatch] = deque()
        self._flushing = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="score-log", daemon=True)
        self._thread.start()

    def record(
        self,
        records: Sequence[Mapping[str, Any]],
        lead_ids: Sequence[str | None],
        probabilities: Sequence[float],
        model_version: str | None,
        pii: Collection[str],
    ) -> None:
        """Queue one request's leads; cheap enough for the request path."""
        self._pending.append(
            _ScoredBatch(
                records, lead_ids, probabilities, model_version, frozenset(pii), time.time()
            )
        )

    def flush(self) -> int:
        """Write every queued lead now; returns how many rows were written."""
        with self._flushing:
            batches = []
            while self._pending:
                batches.append(self._pending.popleft())
            rows = [row for batch in batches for row in self._insert.rows(batch)]
            if not rows:
                return 0
            try:
                with self._engine.begin() as connection:
                    connection.exec_driver_sql(self._insert.sql, rows)
            except SQLAlchemyError as exc:
                log.error("score log: %d rows not written: %s", len(rows), type(exc).__name__)
                return 0
            return len(rows)

    def close(self) -> None:
        """Stop the writer thread and write what is left."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.flush()

    def _run(self) -> None:
        while not self._stop.wait(self._flush_seconds):
            self.flush()


class _DriverInsert:
    """The score-log insert handed to the database driver as it is: SQLAlchemy compiles it for
    the dialect and supplies its type conversions, but applying them row by row through
    SQLAlchemy costs more than the insert itself. The time is converted once per batch."""

    COLUMNS = ("lead_id", "fields", "probability", "model_version", "scored_at")

    def __init__(self, dialect: sa.Dialect) -> None:
        compiled = score_log.insert().compile(dialect=dialect, column_keys=list(self.COLUMNS))
        self.sql = str(compiled)
        self._order = compiled.positiontup if compiled.positional else None
        self._to_json = self._converter(dialect, "fields")
        self._to_time = self._converter(dialect, "scored_at")

    @staticmethod
    def _converter(dialect: sa.Dialect, column: str):
        column_type = score_log.c[column].type.dialect_impl(dialect)
        return column_type.bind_processor(dialect) or (lambda value: value)

    def rows(self, batch: _ScoredBatch) -> list:
        scored_at = self._to_time(datetime.fromtimestamp(batch.scored_at, UTC).replace(tzinfo=None))
        pii = batch.pii
        rows = [
            {
                "lead_id": lead_id,
                "fields": self._to_json(
                    record
                    if pii.isdisjoint(record)
                    else {k: v for k, v in record.items() if k not in pii}
                ),
                "probability": probability,
                "model_version": batch.model_version,
                "scored_at": scored_at,
            }
            for record, lead_id, probability in zip(
                batch.records, batch.lead_ids, list(map(float, batch.probabilities)), strict=True
            )
        ]
        if self._order is None:
            return rows
        return [tuple(row[key] for key in self._order) for row in rows]
