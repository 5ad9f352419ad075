"""Scored leads the CRM has reported no outcome for, and how long closed leads took to close:
what the stalled-lead list is made of. Time is counted from a lead's first score, the moment it
was handed over."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd
import sqlalchemy as sa

from serve.store.outcomes import latest_outcomes
from serve.store.tables import score_log

TIME_TO_CLOSE_SAMPLE = 20_000


@dataclass(frozen=True)
class OpenLead:
    """A scored lead without an outcome: its newest logged fields and when it was first scored."""

    lead_id: str
    first_scored_at: datetime
    fields: dict[str, Any]


def _first_scores() -> sa.Subquery:
    return (
        sa.select(
            score_log.c.lead_id,
            sa.func.min(score_log.c.scored_at).label("first_scored_at"),
            sa.func.max(score_log.c.id).label("newest_id"),
        )
        .where(score_log.c.lead_id.is_not(None))
        .group_by(score_log.c.lead_id)
        .subquery("first_scores")
    )


def days_to_close(engine: sa.Engine) -> pd.Series:
    """Days from first score to close (the outcome's `closed_at`, else when it was received) of
    the newest TIME_TO_CLOSE_SAMPLE closed leads that were scored."""
    firsts, latest = _first_scores(), latest_outcomes()
    closed_at = sa.func.coalesce(latest.c.closed_at, latest.c.received_at)
    query = (
        sa.select(firsts.c.first_scored_at, closed_at)
        .join(latest, latest.c.lead_id == firsts.c.lead_id)
        .order_by(latest.c.id.desc())
        .limit(TIME_TO_CLOSE_SAMPLE)
    )
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    frame = pd.DataFrame([tuple(r) for r in rows], columns=["scored", "closed"])
    days = (pd.to_datetime(frame["closed"]) - pd.to_datetime(frame["scored"])) / pd.Timedelta(
        days=1
    )
    return days.clip(lower=0).astype(float)


def open_leads_scored_before(
    engine: sa.Engine, cutoff: datetime, limit: int
) -> tuple[list[OpenLead], int]:
    """Leads first scored before `cutoff` with no outcome: the `limit` the model rated highest
    when last scored, and how many there are in all."""
    firsts, latest = _first_scores(), latest_outcomes()
    open_before = (
        sa.select(firsts.c.lead_id, firsts.c.first_scored_at, firsts.c.newest_id)
        .join(latest, latest.c.lead_id == firsts.c.lead_id, isouter=True)
        .where(latest.c.lead_id.is_(None), firsts.c.first_scored_at < cutoff)
        .subquery("open_before")
    )
    query = (
        sa.select(open_before.c.lead_id, open_before.c.first_scored_at, score_log.c.fields)
        .join(score_log, score_log.c.id == open_before.c.newest_id)
        .order_by(score_log.c.probability.desc(), open_before.c.lead_id)
        .limit(limit)
    )
    with engine.connect() as connection:
        total = connection.execute(sa.select(sa.func.count()).select_from(open_before)).scalar()
        rows = connection.execute(query).all()
    leads = [OpenLead(row.lead_id, row.first_scored_at, dict(row.fields)) for row in rows]
    return leads, int(total or 0)
