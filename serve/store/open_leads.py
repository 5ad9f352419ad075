"""Scored leads the CRM has reported no outcome for, and how long closed leads took to close:
what the stalled-lead list is made of. Time is counted from a lead's first score, the moment it
was handed over."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd
import sqlalchemy as sa

from serve.store.tables import current_outcomes, score_log, scored_leads

TIME_TO_CLOSE_SAMPLE = 20_000


@dataclass(frozen=True)
class OpenLead:
    """A scored lead without an outcome: its newest logged fields and when it was first scored."""

    lead_id: str
    first_scored_at: datetime
    fields: dict[str, Any]


def _first_scores() -> sa.Subquery:
    """Each scored lead's first score, whichever model version gave it."""
    return (
        sa.select(
            scored_leads.c.lead_id,
            sa.func.min(scored_leads.c.first_scored_at).label("first_scored_at"),
        )
        .group_by(scored_leads.c.lead_id)
        .subquery("first_scores")
    )


def days_to_close(engine: sa.Engine) -> pd.Series:
    """Days from first score to close of the TIME_TO_CLOSE_SAMPLE scored leads whose outcomes
    came in last. The close is the outcome's `closed_at`, else when it arrived; a closing
    before the lead was first scored says nothing about how long leads take, so the arrival
    stands in for it too."""
    newest = (
        sa.select(current_outcomes)
        .order_by(current_outcomes.c.received_at.desc())
        .limit(TIME_TO_CLOSE_SAMPLE)
        .subquery("newest_outcomes")
    )
    scored = (
        sa.select(sa.func.min(scored_leads.c.first_scored_at))
        .where(scored_leads.c.lead_id == newest.c.lead_id)
        .scalar_subquery()
    )
    query = sa.select(
        scored.label("scored"), newest.c.closed_at.label("closed"), newest.c.received_at
    )
    with engine.connect() as connection:
        rows = [row for row in connection.execute(query).all() if row.scored is not None]
    frame = pd.DataFrame([tuple(r) for r in rows], columns=["scored", "closed", "received"])
    scored_at, received = pd.to_datetime(frame["scored"]), pd.to_datetime(frame["received"])
    closed = pd.to_datetime(frame["closed"])
    closed = closed.where(closed >= scored_at, received).fillna(received)
    return ((closed - scored_at) / pd.Timedelta(days=1)).clip(lower=0).astype(float)


def open_leads_scored_before(
    engine: sa.Engine, cutoff: datetime, limit: int
) -> tuple[list[OpenLead], int]:
    """Leads first scored before `cutoff` with no outcome: the `limit` the model rated highest
    when first scored, with their newest logged fields, and how many there are in all."""
    firsts = _first_scores()
    has_outcome = sa.select(current_outcomes.c.lead_id).where(
        current_outcomes.c.lead_id == firsts.c.lead_id
    )
    open_before = (
        sa.select(firsts.c.lead_id, firsts.c.first_scored_at)
        .where(firsts.c.first_scored_at < cutoff, ~has_outcome.exists())
        .subquery("open_before")
    )
    best = sa.func.max(scored_leads.c.probability)
    ranked = (
        sa.select(open_before.c.lead_id, open_before.c.first_scored_at)
        .join(scored_leads, scored_leads.c.lead_id == open_before.c.lead_id)
        .group_by(open_before.c.lead_id, open_before.c.first_scored_at)
        .order_by(best.desc(), open_before.c.lead_id)
        .limit(limit)
    )
    with engine.connect() as connection:
        total = connection.execute(sa.select(sa.func.count()).select_from(open_before)).scalar()
        chosen = connection.execute(ranked).all()
        fields = _newest_fields(connection, [row.lead_id for row in chosen])
    leads = [OpenLead(row.lead_id, row.first_scored_at, fields[row.lead_id]) for row in chosen]
    return leads, int(total or 0)


def _newest_fields(connection: sa.Connection, lead_ids: list[str]) -> dict[str, dict[str, Any]]:
    newest = (
        sa.select(sa.func.max(score_log.c.id))
        .where(score_log.c.lead_id.in_(lead_ids))
        .group_by(score_log.c.lead_id)
    )
    query = sa.select(score_log.c.lead_id, score_log.c.fields).where(score_log.c.id.in_(newest))
    return {row.lead_id: dict(row.fields) for row in connection.execute(query)}
