"""Stalled leads: open leads older than a multiple of the typical time to close, the ones sales
could not move and that go back to marketing to nurture. One rule for the notebook (over an
export) and for the API and CLI (over the store), and for the store a list of those leads,
rescored by the serving model with its reasons, most promising first."""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import sqlalchemy as sa

from serve.model.lead_model import LeadModel
from serve.model.scorer import score_leads
from serve.store.bounds import DEFAULT_STALL_FACTOR, DEFAULT_STALLED_LIMIT
from serve.store.open_leads import days_to_close, open_leads_scored_before
from serve.store.times import utc_now

MIN_CLOSED_FOR_TYPICAL = 20
# Leads that close within hours would make every open lead "stalled" after minutes.
MIN_STALLED_DAYS = 1.0
CSV_COLUMNS = ("lead_id", "age_days", "probability", "score", "tier", "expected_value", "reasons")


def is_stalled(
    age_days: pd.Series, is_open: pd.Series, typical_days: float, factor: float
) -> pd.Series:
    """Open leads older than `factor` times the typical number of days (none when unknown)."""
    if math.isnan(typical_days):
        return pd.Series(False, index=age_days.index)
    return is_open & (age_days > factor * typical_days)


@dataclass(frozen=True)
class StalledLead:
    lead_id: str
    age_days: float
    probability: float
    score: int
    tier: str
    expected_value: float | None
    reasons: list[str]


@dataclass(frozen=True)
class StalledLeads:
    """The stalled leads (at most `limit`, best first), how many there are in all, and the
    rule: open for more than `threshold_days` = `factor` x `typical_days_to_close`."""

    typical_days_to_close: float | None
    factor: float
    threshold_days: float | None
    total: int
    leads: list[StalledLead]
    note: str | None = None

    def csv(self) -> str:
        """One line per lead, for a marketing-automation import."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for lead in self.leads:
            writer.writerow(
                [
                    lead.lead_id,
                    lead.age_days,
                    lead.probability,
                    lead.score,
                    lead.tier,
                    "" if lead.expected_value is None else lead.expected_value,
                    "; ".join(lead.reasons),
                ]
            )
        return out.getvalue()


def stalled_leads(
    engine: sa.Engine,
    model: LeadModel,
    factor: float = DEFAULT_STALL_FACTOR,
    after_days: float | None = None,
    limit: int = DEFAULT_STALLED_LIMIT,
    now: datetime | None = None,
) -> StalledLeads:
    """Scored leads with no outcome for longer than `after_days` (default: `factor` times the
    median days to close of the closed leads), rescored now by `model`."""
    typical = _typical_days(engine)
    threshold = (
        after_days
        if after_days is not None
        else (None if typical is None else max(factor * typical, MIN_STALLED_DAYS))
    )
    if threshold is None:
        note = (
            f"fewer than {MIN_CLOSED_FOR_TYPICAL} scored leads have an outcome, so the typical "
            "time to close is unknown: give the age in days instead (--after-days N, or "
            "?after_days=N in the API)"
        )
        return StalledLeads(None, factor, None, 0, [], note)
    try:
        cutoff = (now or utc_now()) - timedelta(days=threshold)
    except OverflowError:  # older than the calendar: no lead is
        return StalledLeads(typical, factor, threshold, 0, [])
    open_leads, total = open_leads_scored_before(engine, cutoff, limit)
    if not open_leads:
        return StalledLeads(typical, factor, threshold, total, [])
    scored = score_leads(
        model, [lead.fields for lead in open_leads], reasons=True, unreadable="missing"
    )
    assert scored.explanations is not None  # asked for
    moment = now or utc_now()
    leads = [
        StalledLead(
            lead_id=lead.lead_id,
            age_days=round((moment - lead.first_scored_at) / timedelta(days=1), 2),
            probability=float(scored.probability[i]),
            score=int(scored.score[i]),
            tier=scored.tier[i],
            expected_value=_number(scored.expected_value, i),
            reasons=[reason.text for reason in scored.explanations[i].reasons],
        )
        for i, lead in enumerate(open_leads)
    ]
    leads.sort(key=lambda lead: (-lead.probability, lead.lead_id))
    return StalledLeads(typical, factor, threshold, total, leads)


def _typical_days(engine: sa.Engine) -> float | None:
    days = days_to_close(engine)
    return float(days.median()) if len(days) >= MIN_CLOSED_FOR_TYPICAL else None


def _number(values: np.ndarray | None, i: int) -> float | None:
    if values is None or math.isnan(values[i]):
        return None
    return float(values[i])
