"""A few weeks of demo traffic for a new store, so the board has something to show at once:
demo leads scored by the serving model as if they had arrived (and been created) day by day, and
the outcomes sales would have reported since, written through the score log's writer and
`record_outcomes`, as the API writes them.

A lead closes a while after it was scored (about three weeks, some much later); one that would
close after today is still open, and a few never close (they stall). Won leads bring their deal
value; some lost ones come without a reason, as in real CRMs.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import sqlalchemy as sa

from features.demo import generate_leads
from serve.model.lead_model import LeadModel
from serve.model.scorer import score_leads
from serve.store.outcomes import Outcome, record_outcomes
from serve.store.performance import reported_segments
from serve.store.score_log import ScoreLog
from serve.store.tables import scored_leads
from serve.store.times import utc_now

log = logging.getLogger(__name__)

MEDIAN_DAYS_TO_CLOSE = 18
NEVER_CLOSED = 0.05
NO_REASON = 0.15
ID_PREFIX = "DEMO-"


@dataclass(frozen=True)
class DemoTraffic:
    """What was written: leads scored and outcomes reported, from `first` to `last`; `note`
    says why nothing was written."""

    leads: int
    outcomes: int
    first: datetime | None
    last: datetime | None
    note: str | None = None


def replay_demo_traffic(
    engine: sa.Engine,
    model: LeadModel,
    version: str | None,
    weeks: int,
    leads_per_day: int,
    seed: int = 0,
) -> DemoTraffic:
    """Score `weeks` weeks of demo leads into an empty store, and report their outcomes."""
    already = _scored(engine)
    if already:
        note = f"the store already holds {already:,} scored leads; demo traffic is for an empty one"
        return DemoTraffic(0, 0, None, None, note)
    rng = np.random.default_rng(seed)
    now = utc_now()
    days = weeks * 7
    leads = generate_leads(days * leads_per_day, seed)
    leads["lead_id"] = [f"{ID_PREFIX}{i:06d}" for i in range(1, len(leads) + 1)]
    ago = np.sort(rng.uniform(0, days, len(leads)))[::-1]  # oldest first, as they arrived
    scored_at = [now - timedelta(days=float(d)) for d in ago]
    if model.contract.time in leads.columns:  # created when they arrived, scored at once
        leads[model.contract.time] = [moment.strftime("%Y-%m-%d %H:%M") for moment in scored_at]
    _score(engine, model, version, leads, scored_at)
    outcomes = _outcomes(rng, leads, scored_at, now)
    record_outcomes(engine, outcomes)
    log.info("demo traffic: %d leads scored, %d outcomes", len(leads), len(outcomes))
    return DemoTraffic(len(leads), len(outcomes), scored_at[0], scored_at[-1])


def _scored(engine: sa.Engine) -> int:
    with engine.connect() as connection:
        return int(
            connection.execute(sa.select(sa.func.count()).select_from(scored_leads)).scalar_one()
        )


def _score(
    engine: sa.Engine,
    model: LeadModel,
    version: str | None,
    leads: pd.DataFrame,
    scored_at: list[datetime],
) -> None:
    """Each day's leads in one request's worth, as the API records them (PII removed)."""
    sent = leads.drop(columns=["outcome", "loss_reason"])
    records = [
        {key: (None if pd.isna(value) else value) for key, value in row.items()}
        for row in sent.to_dict("records")
    ]
    days = pd.Series([moment.date() for moment in scored_at])
    writer = ScoreLog(engine)
    for _, positions in days.groupby(days).groups.items():
        batch = [records[i] for i in positions]
        scored = score_leads(model, batch)
        for i, lead in enumerate(batch):  # each at its own time, as leads arrive
            writer.record(
                [lead],
                [lead["lead_id"]],
                scored.probability[i : i + 1],
                version,
                model.contract.pii,
                [scored.tier[i]],
                None if scored.expected_value is None else scored.expected_value[i : i + 1],
                reported_segments(model),
                scored_at=scored_at[positions[i]],
            )
        writer.flush()


def _outcomes(
    rng: np.random.Generator, leads: pd.DataFrame, scored_at: list[datetime], now: datetime
) -> list[Outcome]:
    wait = rng.lognormal(np.log(MEDIAN_DAYS_TO_CLOSE), 0.6, len(leads))
    never = rng.random(len(leads)) < NEVER_CLOSED
    silent = rng.random(len(leads)) < NO_REASON
    ids, truth = leads["lead_id"].tolist(), leads["outcome"].tolist()
    values = leads["deal_value"].to_numpy(dtype=float)
    reasons = leads["loss_reason"].astype(object).where(leads["loss_reason"].notna(), None).tolist()
    outcomes = []
    for i, lead_id in enumerate(ids):
        closed_at = scored_at[i] + timedelta(days=float(wait[i]))
        if never[i] or closed_at > now or truth[i] == "open":
            continue
        won = truth[i] == "won"
        value = float(values[i]) if won and not np.isnan(values[i]) else None
        reason = None if won or silent[i] or reasons[i] is None else str(reasons[i])
        outcomes.append(Outcome(str(lead_id), "won" if won else "lost", reason, value, closed_at))
    return outcomes
