"""Outcomes the CRM posts back: stored durably before the API answers, idempotent, with history.

Each lead's outcomes are numbered revisions; re-posting the current outcome stores nothing, a
changed outcome becomes the next revision. Two writers racing on the same lead collide on the
unique (lead_id, revision) and the loser retries, so no revision is lost or doubled.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from serve.store.tables import current_outcomes, outcomes, scored_leads
from serve.store.times import as_naive_utc, utc_now

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
LOOKUP_BATCH = 1000


DETAILS = ("loss_reason", "value", "closed_at")


@dataclass(frozen=True)
class Outcome:
    """How a lead ended; `closed_at` is normalised to naive UTC. `given`: which of DETAILS
    the CRM sent (None: all of them); one it left out keeps what is stored when the outcome
    stays the same, so a CRM that re-sends only the status keeps the deal's value."""

    lead_id: str
    outcome: str
    loss_reason: str | None = None
    value: float | None = None
    closed_at: datetime | None = None
    given: frozenset[str] | None = None

    def __post_init__(self) -> None:
        if self.closed_at is not None:
            object.__setattr__(self, "closed_at", as_naive_utc(self.closed_at))

    @property
    def content(self) -> tuple:
        return (self.outcome, self.loss_reason, self.value, self.closed_at)

    def over(self, stored: tuple | None) -> tuple:
        """This outcome's content, with the details it left out taken from `stored` (the
        lead's current content) when both are the same outcome."""
        if stored is None or self.given is None or stored[0] != self.outcome:
            return self.content
        kept = dict(zip(DETAILS, stored[1:], strict=True))
        sent = {name: getattr(self, name) for name in DETAILS if name in self.given}
        details = {**kept, **sent}
        return (self.outcome, *(details[name] for name in DETAILS))


@dataclass(frozen=True)
class RecordedOutcomes:
    stored: int
    unchanged: int


def record_outcomes(engine: sa.Engine, batch: Sequence[Outcome]) -> RecordedOutcomes:
    """Store the outcomes that differ from each lead's current one, in one transaction that is
    committed before this returns."""
    for attempt in range(1, MAX_ATTEMPTS):
        try:
            with engine.begin() as connection:
                return _record(connection, batch)
        except IntegrityError:
            log.info("outcome revision taken by a concurrent writer; retrying (%d)", attempt)
    with engine.begin() as connection:  # the last attempt lets a conflict through
        return _record(connection, batch)


def _record(connection: sa.Connection, batch: Sequence[Outcome]) -> RecordedOutcomes:
    current = _current_outcomes(connection, {o.lead_id for o in batch})
    received_at = utc_now()
    rows = []
    for item in batch:
        revision, stored = current.get(item.lead_id, (0, None))
        content = item.over(stored)
        if content == stored:
            continue
        current[item.lead_id] = (revision + 1, content)
        rows.append(
            {
                "lead_id": item.lead_id,
                "revision": revision + 1,
                **dict(zip(("outcome", *DETAILS), content, strict=True)),
                "received_at": received_at,
            }
        )
    if rows:
        connection.execute(outcomes.insert(), rows)
        newest = {row["lead_id"]: row for row in rows}  # a lead's last revision of the batch
        connection.execute(_upsert_current(connection), list(newest.values()))
    return RecordedOutcomes(stored=len(rows), unchanged=len(batch) - len(rows))


def _upsert_current(connection: sa.Connection) -> sa.Insert:
    """Insert a lead's current outcome, or replace the one it had."""
    insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    statement = insert(current_outcomes)
    changed = {
        c.name: statement.excluded[c.name] for c in current_outcomes.c if c.name != "lead_id"
    }
    return statement.on_conflict_do_update(index_elements=["lead_id"], set_=changed)


def _current_outcomes(connection: sa.Connection, lead_ids: set[str]) -> dict[str, tuple]:
    """Each lead's current revision and its content."""
    query = sa.select(current_outcomes).where(current_outcomes.c.lead_id.in_(sorted(lead_ids)))
    return {
        row.lead_id: (row.revision, (row.outcome, row.loss_reason, row.value, row.closed_at))
        for row in connection.execute(query)
    }


def unscored_leads(engine: sa.Engine, lead_ids: Collection[str]) -> set[str]:
    """The ones of `lead_ids` never scored: their outcomes are stored but no model can learn
    from them, most often because the CRM sent another id."""
    wanted = sorted(set(lead_ids))
    seen: set[str] = set()
    with engine.connect() as connection:
        for start in range(0, len(wanted), LOOKUP_BATCH):
            batch = wanted[start : start + LOOKUP_BATCH]
            query = sa.select(scored_leads.c.lead_id).where(scored_leads.c.lead_id.in_(batch))
            seen.update(connection.execute(query.distinct()).scalars())
    return set(wanted) - seen
