"""The score log: every lead the API scored, as received (PII removed), with its probability,
the model version and the time.

The request path turns its leads into one JSON array of rows (orjson, in C: microseconds) and
queues the bytes. A thread of its own writes the queue with one `INSERT ... SELECT` per few
megabytes, in which the database itself splits the JSON. That way the writer holds Python's GIL
for almost nothing: Python work in a background thread would stall every request in flight, and
show in the API's tail latency. `close` writes whatever is left, so a clean shutdown loses none.

When is a scored lead durable? With `wait_for_commit` (group commit) the writer writes as soon
as leads are queued, everything queued in one transaction, and `record` returns a future the
request awaits before it answers: an acknowledged score survives `kill -9`. Without it the
writer writes every `flush_seconds`, and a crash loses at most the leads of that last interval.

What is kept is bounded: PII fields are removed whatever their spelling (case and separators
ignored), a lead whose fields are larger than `max_lead_bytes` of JSON keeps only the fields the
model reads (texts cut at CUT_TEXT characters), and rows older than `retention_days` are deleted.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Collection, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

import numpy as np
import orjson
import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from features.field_names import matching_names
from serve.store.tables import score_log
from serve.store.times import utc_now

log = logging.getLogger(__name__)

# Each row is [lead_id, fields, probability, tier, expected_value, model_version, scored_at,
# segments]; `scored_at` is naive UTC text in the form SQLAlchemy keeps SQLite datetimes in
# (PostgreSQL reads it as a timestamp). The second statement of each dialect keeps each lead's
# first score per model version in `scored_leads` (a later one, or a repeat in the same
# batch, is left out by the unique key).
_INSERT_FROM_JSON = {
    "sqlite": (
        """
        INSERT INTO score_log
            (lead_id, fields, probability, tier, expected_value, model_version, scored_at)
        SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'),
               json_extract(value, '$[2]'), json_extract(value, '$[3]'),
               json_extract(value, '$[4]'), json_extract(value, '$[5]'),
               json_extract(value, '$[6]')
        FROM json_each(:rows)
        """,
        """
        INSERT INTO scored_leads (lead_id, model_version, first_scored_at, probability, tier,
                                  expected_value, segments)
        SELECT json_extract(value, '$[0]'), COALESCE(json_extract(value, '$[5]'), ''),
               json_extract(value, '$[6]'), json_extract(value, '$[2]'),
               json_extract(value, '$[3]'), json_extract(value, '$[4]'),
               json_extract(value, '$[7]')
        FROM json_each(:rows) WHERE json_extract(value, '$[0]') IS NOT NULL
        ON CONFLICT (lead_id, model_version) DO NOTHING
        """,
    ),
    "postgresql": (
        """
        INSERT INTO score_log
            (lead_id, fields, probability, tier, expected_value, model_version, scored_at)
        SELECT value ->> 0, value -> 1, (value ->> 2)::float8, value ->> 3,
               (value ->> 4)::float8, value ->> 5, (value ->> 6)::timestamp
        FROM json_array_elements(CAST(:rows AS json))
        """,
        """
        INSERT INTO scored_leads (lead_id, model_version, first_scored_at, probability, tier,
                                  expected_value, segments)
        SELECT value ->> 0, COALESCE(value ->> 5, ''), (value ->> 6)::timestamp,
               (value ->> 2)::float8, value ->> 3, (value ->> 4)::float8, value -> 7
        FROM json_array_elements(CAST(:rows AS json)) WHERE value ->> 0 IS NOT NULL
        ON CONFLICT (lead_id, model_version) DO NOTHING
        """,
    ),
}
STATEMENT_BYTES = 4 * 1024 * 1024
CUT_TEXT = 200  # characters kept of a text field of a lead over the size limit
RETENTION_CHECK_SECONDS = 3600.0


class ScoreLogError(Exception):
    """The store did not keep a request's leads (the API answers 503: nothing was stored)."""


@dataclass(frozen=True)
class ScoreLogPolicy:
    """When an answer may go out and what the log keeps (see the module's docstring)."""

    wait_for_commit: bool = False
    max_lead_bytes: int = 16 * 1024
    retention_days: float = 0.0  # 0: kept for good


# One queued request: its rows as a JSON array, how many, and the future its answer awaits.
_Queued = tuple[bytes, int, "Future[None] | None"]


class ScoreLogObserver(Protocol):
    """Told how the writer keeps up (the API's metrics); called from the writer's thread."""

    def score_log_queued(self, rows: int) -> None: ...

    def score_log_written(self, rows: int, seconds: float, written: bool) -> None: ...


class ScoreLog:
    """Batches scored leads into the store every `flush_seconds`."""

    def __init__(
        self,
        engine: sa.Engine,
        flush_seconds: float = 1.0,
        observer: ScoreLogObserver | None = None,
        policy: ScoreLogPolicy = ScoreLogPolicy(),
    ) -> None:
        self._engine = engine
        self._observer = observer
        self._inserts = [sa.text(sql) for sql in _INSERT_FROM_JSON[engine.dialect.name]]
        self._flush_seconds = flush_seconds
        self._policy = policy
        self._pending: deque[_Queued] = deque()
        self._flushing = threading.Lock()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="score-log", daemon=True)
        self._thread.start()

    def record(
        self,
        records: Sequence[Mapping[str, Any]],
        lead_ids: Sequence[str | None],
        probabilities: np.ndarray | Sequence[float],
        model_version: str | None,
        pii: Collection[str],
        tiers: Sequence[str] | None = None,
        expected_values: np.ndarray | None = None,
        segment_fields: Sequence[str] = (),
        scored_at: datetime | None = None,
        kept_fields: Collection[str] = (),
    ) -> Future[None] | None:
        """Queue one request's leads as JSON; cheap enough for the request path. The tier and
        expected value are what the lead was told (live performance is judged by them), and
        `segment_fields` the fields it is broken down by. `scored_at` (naive UTC, default now)
        is for traffic replayed from the past: the demo's and the benchmarks'. `kept_fields`:
        what a lead over the size limit keeps. With `wait_for_commit`, the future is done once
        the leads are committed (ScoreLogError if they could not be)."""
        if not records:
            return None
        pii = frozenset(matching_names(set().union(*records), pii)) if pii else frozenset()
        scored_at_text = (scored_at or utc_now()).isoformat(" ", "microseconds")
        count = len(records)
        tier_list: Sequence[str | None] = tiers if tiers is not None else [None] * count
        expected: list[float | None] = (
            [None] * count
            if expected_values is None
            else [None if v != v else v for v in expected_values.tolist()]  # NaN: none known
        )
        rows = [
            [
                lead_id,
                record if pii.isdisjoint(record) else _without(record, pii),
                probability,
                tier,
                value,
                model_version,
                scored_at_text,
                {name: record.get(name) for name in segment_fields},
            ]
            for record, lead_id, probability, tier, value in zip(
                records,
                lead_ids,
                np.asarray(probabilities, dtype=float).tolist(),
                tier_list,
                expected,
                strict=True,
            )
        ]
        payload = orjson.dumps(rows)
        if len(payload) > self._policy.max_lead_bytes:  # a lead may be over the limit
            payload = self._capped(rows, kept_fields)
        committed: Future[None] | None = Future() if self._policy.wait_for_commit else None
        self._pending.append((payload, len(rows), committed))
        if committed is not None:
            self._wake.set()
        return committed

    def _capped(self, rows: list[list[Any]], kept_fields: Collection[str]) -> bytes:
        """The rows as JSON, each lead over the size limit cut down to the model's fields."""
        limit, capped = self._policy.max_lead_bytes, 0
        for row in rows:
            if len(orjson.dumps(row)) > limit:
                row[1] = {k: _cut(v) for k, v in row[1].items() if k in kept_fields}
                row[7] = {k: _cut(v) for k, v in row[7].items()}
                capped += 1
        if capped:
            log.warning(
                "score log: %d leads over %d bytes keep only the fields the model reads",
                capped,
                limit,
            )
        return orjson.dumps(rows)

    def flush(self) -> int:
        """Write every queued lead now; returns how many rows were written."""
        with self._flushing:
            if self._observer is not None:
                # tuple() copies the deque in one step, safe while requests append to it
                self._observer.score_log_queued(sum(n for _, n, _ in tuple(self._pending)))
            written = 0
            while self._pending:
                written += self._write(self._next_statement())
            return written

    def close(self) -> None:
        """Stop the writer thread and write what is left."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join()
        self.flush()

    def _next_statement(self) -> list[_Queued]:
        """Queued requests for one statement: up to about STATEMENT_BYTES of JSON."""
        arrays: list[_Queued] = []
        size = 0
        while self._pending and (not arrays or size < STATEMENT_BYTES):
            arrays.append(self._pending.popleft())
            size += len(arrays[-1][0])
        return arrays

    def _write(self, arrays: list[_Queued]) -> int:
        """One statement for all the requests' rows. Should the database refuse it, one per
        request, so that a request it cannot store costs only its own rows."""
        rows = sum(count for _, count, _ in arrays)
        payload = "[" + b",".join(array[1:-1] for array, _, _ in arrays).decode() + "]"
        started = time.perf_counter()
        try:
            with self._engine.begin() as connection:
                for insert in self._inserts:
                    connection.execute(insert, {"rows": payload})
        except SQLAlchemyError as exc:
            if len(arrays) > 1:
                return sum(self._write([array]) for array in arrays)
            log.error("score log: %d rows not written: %s", rows, type(exc).__name__)
            self._observe(rows, started, written=False)
            failed = ScoreLogError(f"the store did not keep the leads ({type(exc).__name__})")
            _settle(arrays, failed)
            return 0
        self._observe(rows, started, written=True)
        _settle(arrays, None)
        return rows

    def _observe(self, rows: int, started: float, written: bool) -> None:
        if self._observer is not None:
            self._observer.score_log_written(rows, time.perf_counter() - started, written)

    def _run(self) -> None:
        """Write when leads are queued (waiting for commit) or every `flush_seconds`; delete
        rows past the retention at start and every RETENTION_CHECK_SECONDS."""
        waiting = RETENTION_CHECK_SECONDS if self._policy.wait_for_commit else self._flush_seconds
        self._forget_old_rows()
        checked = time.monotonic()
        while not self._stop.is_set():
            self._wake.wait(waiting)
            self._wake.clear()
            if self._stop.is_set():
                return
            self.flush()
            if time.monotonic() - checked >= RETENTION_CHECK_SECONDS:
                self._forget_old_rows()
                checked = time.monotonic()

    def _forget_old_rows(self) -> None:
        if self._policy.retention_days <= 0:
            return
        cutoff = utc_now() - timedelta(days=self._policy.retention_days)
        try:
            with self._engine.begin() as connection:
                gone = connection.execute(score_log.delete().where(score_log.c.scored_at < cutoff))
        except SQLAlchemyError as exc:
            log.warning("score log: rows past the retention not deleted: %s", type(exc).__name__)
            return
        if gone.rowcount:
            log.info("score log: deleted %d rows scored before %s", gone.rowcount, cutoff)


def _settle(arrays: list[_Queued], error: ScoreLogError | None) -> None:
    for _, _, committed in arrays:
        if committed is not None:
            if error is None:
                committed.set_result(None)
            else:
                committed.set_exception(error)


def _cut(value: Any) -> Any:
    return value[:CUT_TEXT] if isinstance(value, str) else value


def _without(record: Mapping[str, Any], pii: Collection[str]) -> dict[str, Any]:
    return {key: value for key, value in record.items() if key not in pii}
