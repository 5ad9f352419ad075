"""How the serving model does live: each lead's first score joined with the outcome the CRM
posted back.

Each lead (with an id) counts once per model version, as it was first scored by that version in
the window (the score sales acted on), with its current outcome. Counts, conversion and revenue
are summed in the database over the narrow `scored_leads` and `current_outcomes` tables (one
GROUP BY over model versions, score buckets, tiers, segment values and outcomes), so a store of
millions of scored leads answers in seconds; only the closed leads' probabilities are fetched,
for ROC AUC, log loss and calibration, and the newest leads' fields for drift.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sklearn.metrics import log_loss, roc_auc_score

from serve.model.drift import PSI_WARNING, drift_report
from serve.model.lead_model import LeadModel
from serve.model.metrics import CALIBRATION_BINS, Interval, wilson_interval
from serve.model.tiers import TIER_NAMES
from serve.store.bounds import DEFAULT_WINDOW_DAYS
from serve.store.tables import current_outcomes, score_log, scored_leads
from serve.store.times import utc_now

MIN_CLOSED_LEADS = 50
MIN_CLOSED_PER_CLASS = 5
DRIFT_SAMPLE = 20_000
MISSING_SEGMENT = "(missing)"
WON, LOST, OPEN = "won", "lost", "open"


@dataclass(frozen=True)
class Conversion:
    """Leads and outcomes of one group, realised conversion (won / closed) with its 95 % Wilson
    interval, the mean predicted probability of its closed leads, and revenue: won (the
    outcomes' values) and expected from the open leads (probability x deal value)."""

    scored: int
    won: int
    lost: int
    open: int
    predicted: float | None
    realised: Interval | None
    won_revenue: float
    expected_open_revenue: float

    @property
    def closed(self) -> int:
        return self.won + self.lost


@dataclass(frozen=True)
class TierConversion:
    tier: str
    conversion: Conversion


@dataclass(frozen=True)
class SegmentConversion:
    field: str
    value: str
    conversion: Conversion


@dataclass(frozen=True)
class CalibrationBin:
    """Closed leads whose probability fell in [low, high): mean predicted, share won."""

    low: float
    high: float
    leads: int
    predicted: float
    realised: float


@dataclass(frozen=True)
class Discrimination:
    """ROC AUC (95 % interval, Hanley-McNeil) and log loss on closed leads; None with a note
    when there are too few closed leads to say."""

    roc_auc: Interval | None
    log_loss: float | None
    note: str | None


@dataclass(frozen=True)
class DriftSummary:
    """PSI of each field and of the score (`score`) between the newest leads scored in the
    window and the model's training profile; `drifted`: those above `warning_level`, worst
    first."""

    psi: dict[str, float]
    drifted: list[str]
    warning_level: float
    leads: int


@dataclass(frozen=True)
class VersionCount:
    model_version: str | None
    scored: int
    closed: int


@dataclass(frozen=True)
class LivePerformance:
    model_version: str | None
    window_days: float
    since: datetime
    until: datetime
    overall: Conversion
    tiers: list[TierConversion]
    segments: list[SegmentConversion]
    discrimination: Discrimination
    calibration: list[CalibrationBin]
    drift: DriftSummary | None
    versions: list[VersionCount] = field(default_factory=list)


def live_performance(
    engine: sa.Engine,
    model: LeadModel,
    model_version: str | None,
    window_days: float = DEFAULT_WINDOW_DAYS,
    now: datetime | None = None,
) -> LivePerformance:
    """The live performance of `model` (served as `model_version`) over the leads it scored in
    the last `window_days` days."""
    until = now or utc_now()
    since = until - timedelta(days=window_days)
    segments = reported_segments(model)
    version = model_version or ""
    in_window = sa.and_(
        scored_leads.c.first_scored_at >= since, scored_leads.c.first_scored_at <= until
    )
    with engine.connect() as connection:
        every_version = _grouped(connection, in_window, segments)
        closed = _closed_probabilities(connection, in_window, version)
        sample = _newest_fields(connection, since, until, model_version)
    groups = every_version[every_version["model_version"] == version].reset_index(drop=True)
    groups["tier"] = _tiers(groups, model)
    return LivePerformance(
        model_version=model_version,
        window_days=window_days,
        since=since,
        until=until,
        overall=_conversion(groups),
        tiers=[
            TierConversion(name, _conversion(groups[groups["tier"] == name])) for name in TIER_NAMES
        ],
        segments=[
            SegmentConversion(name, str(value), _conversion(part))
            for i, name in enumerate(segments)
            for value, part in groups.groupby(f"segment_{i}", sort=True)
        ],
        discrimination=_discrimination(closed),
        calibration=_calibration(closed),
        drift=_drift(model, sample),
        versions=_versions(every_version),
    )


def reported_segments(model: LeadModel) -> list[str]:
    """The fields conversion is broken down by: the contract's `segments`, else the first
    categorical field whose name speaks of a source (lead source, channel), else none."""
    categorical = [f.name for f in model.encoder.features if f.kind == "categorical"]
    if model.contract.segments:
        return list(model.contract.segments)
    sources = [name for name in categorical if "source" in name.lower()]
    return sources[:1]


def _grouped(
    connection: sa.Connection, in_window: sa.ColumnElement[bool], segments: Sequence[str]
) -> pd.DataFrame:
    """Leads, probability and expected value summed per model version, score bucket (0-100),
    stored tier, segment values and outcome (won, lost, open). Two passes, each over one table
    mostly: every lead of the window, then the closed ones found from their outcomes (fewer);
    open = every - closed."""
    bucket = sa.cast(sa.func.round(scored_leads.c.probability * 100), sa.Integer)
    keys = [
        scored_leads.c.model_version.label("model_version"),
        bucket.label("bucket"),
        scored_leads.c.tier.label("stored_tier"),
        sa.cast(scored_leads.c.segments, sa.Text).label("segments"),  # JSON, read once per value
    ]
    sums = [
        sa.func.count().label("leads"),
        sa.func.sum(scored_leads.c.probability).label("probability_sum"),
        sa.func.sum(scored_leads.c.expected_value).label("expected_value"),
    ]
    every = sa.select(*keys, *sums).where(in_window).group_by(*keys)
    closed = (
        sa.select(
            *keys,
            current_outcomes.c.outcome,
            *sums,
            sa.func.sum(current_outcomes.c.value).label("won_value"),
        )
        .select_from(current_outcomes)
        .join(scored_leads, scored_leads.c.lead_id == current_outcomes.c.lead_id)
        .where(in_window)
        .group_by(*keys, current_outcomes.c.outcome)
    )
    names = [key.name for key in keys]
    all_rows = _frame(connection, every, [*names, "leads", "probability_sum", "expected_value"])
    closed_rows = _frame(
        connection,
        closed,
        [*names, "outcome", "leads", "probability_sum", "expected_value", "won_value"],
    )
    for frame in (all_rows, closed_rows):
        frame["segments"] = frame["segments"].fillna("null")
        frame["stored_tier"] = frame["stored_tier"].astype(object)
    summed = ["leads", "probability_sum", "expected_value"]
    for frame in (all_rows, closed_rows):
        frame[summed] = frame[summed].astype(float)  # a sum of no values comes back empty
    closed_by_key = closed_rows.groupby(names, dropna=False)[summed].sum()
    open_rows = all_rows.set_index(names)
    open_rows[summed] = open_rows[summed].sub(closed_by_key.reindex(open_rows.index), fill_value=0)
    open_rows = open_rows.reset_index().assign(outcome=OPEN, won_value=0.0)
    open_rows = open_rows[open_rows["leads"] > 0]
    groups = pd.concat([closed_rows, open_rows], ignore_index=True)
    values = {text: json.loads(text) or {} for text in groups["segments"].unique()}
    for i, name in enumerate(segments):
        groups[f"segment_{i}"] = [
            _segment_value(values[text].get(name)) for text in groups["segments"]
        ]
    return groups


def _segment_value(value: Any) -> str:
    return MISSING_SEGMENT if value is None else str(value)


def _frame(connection: sa.Connection, query: sa.Select[Any], columns: list[str]) -> pd.DataFrame:
    rows = connection.execute(query).all()
    return pd.DataFrame([tuple(row) for row in rows], columns=columns)


def _tiers(groups: pd.DataFrame, model: LeadModel) -> pd.Series:
    """The tier each lead was told; for rows logged before tiers were kept, the model's."""
    derived = [model.tiers.assign_one(int(b)) for b in groups["bucket"].tolist()]
    return groups["stored_tier"].where(groups["stored_tier"].notna(), pd.Series(derived))


def _conversion(groups: pd.DataFrame) -> Conversion:
    counts = groups.groupby("outcome")["leads"].sum()
    won, lost, open_ = (int(counts.get(name, 0)) for name in (WON, LOST, OPEN))
    closed_rows = groups[groups["outcome"].isin([WON, LOST])]
    closed = won + lost
    realised = None
    if closed:
        low, high = wilson_interval(np.array([won]), np.array([closed]))
        realised = Interval(won / closed, float(low[0]), float(high[0]))
    open_rows = groups[groups["outcome"] == OPEN]
    return Conversion(
        scored=int(groups["leads"].sum()),
        won=won,
        lost=lost,
        open=open_,
        predicted=float(closed_rows["probability_sum"].sum() / closed) if closed else None,
        realised=realised,
        won_revenue=float(groups.loc[groups["outcome"] == WON, "won_value"].fillna(0).sum()),
        expected_open_revenue=float(open_rows["expected_value"].fillna(0).sum()),
    )


def _closed_probabilities(
    connection: sa.Connection, in_window: sa.ColumnElement[bool], version: str
) -> pd.DataFrame:
    query = (
        sa.select(scored_leads.c.probability, current_outcomes.c.outcome)
        .select_from(current_outcomes)
        .join(scored_leads, scored_leads.c.lead_id == current_outcomes.c.lead_id)
        .where(in_window, scored_leads.c.model_version == version)
    )
    frame = _frame(connection, query, ["probability", "outcome"])
    frame["won"] = (frame["outcome"] == WON).astype(int)
    return frame


def _discrimination(closed: pd.DataFrame) -> Discrimination:
    won = int(closed["won"].sum())
    lost = len(closed) - won
    if len(closed) < MIN_CLOSED_LEADS or min(won, lost) < MIN_CLOSED_PER_CLASS:
        return Discrimination(
            None,
            None,
            f"not enough closed leads: {won} won and {lost} lost; ROC AUC and log loss need "
            f"{MIN_CLOSED_LEADS} closed leads with at least {MIN_CLOSED_PER_CLASS} of each",
        )
    y, probability = closed["won"].to_numpy(), closed["probability"].to_numpy()
    auc = float(roc_auc_score(y, probability))
    return Discrimination(
        hanley_mcneil_interval(auc, won, lost), float(log_loss(y, probability, labels=[0, 1])), None
    )


def hanley_mcneil_interval(auc: float, positives: int, negatives: int) -> Interval:
    """95 % interval of a ROC AUC from its standard error (Hanley and McNeil, 1982)."""
    q1, q2 = auc / (2 - auc), 2 * auc**2 / (1 + auc)
    variance = (
        auc * (1 - auc) + (positives - 1) * (q1 - auc**2) + (negatives - 1) * (q2 - auc**2)
    ) / (positives * negatives)
    half = 1.959963984540054 * math.sqrt(max(variance, 0.0))
    return Interval(auc, max(0.0, auc - half), min(1.0, auc + half))


def _calibration(closed: pd.DataFrame) -> list[CalibrationBin]:
    """Ten equal-width probability bins, as the expected calibration error uses."""
    if closed.empty:
        return []
    which = np.minimum((closed["probability"] * CALIBRATION_BINS).astype(int), CALIBRATION_BINS - 1)
    bins = []
    for number in sorted(set(which.tolist())):
        part = closed[which == number]
        bins.append(
            CalibrationBin(
                low=number / CALIBRATION_BINS,
                high=(number + 1) / CALIBRATION_BINS,
                leads=len(part),
                predicted=float(part["probability"].mean()),
                realised=float(part["won"].mean()),
            )
        )
    return bins


def _versions(groups: pd.DataFrame) -> list[VersionCount]:
    closed = groups["outcome"].isin([WON, LOST])
    counts = []
    for version, part in groups.groupby("model_version", sort=True):
        scored, closed_leads = int(part["leads"].sum()), int(part.loc[closed, "leads"].sum())
        counts.append(VersionCount(str(version) or None, scored, closed_leads))
    return counts


def _newest_fields(
    connection: sa.Connection, since: datetime, until: datetime, version: str | None
) -> tuple[pd.DataFrame, np.ndarray]:
    """The fields and probabilities of the newest DRIFT_SAMPLE leads the version scored, those
    of the window kept (as logged, PII removed). Walking the score log newest first by its key
    finds them without sorting it."""
    version_is = (
        score_log.c.model_version.is_(None)
        if version is None
        else score_log.c.model_version == version
    )
    query = (
        sa.select(score_log.c.fields, score_log.c.probability, score_log.c.scored_at)
        .where(version_is)
        .order_by(score_log.c.id.desc())
        .limit(DRIFT_SAMPLE)
    )
    rows = [row for row in connection.execute(query) if since <= row.scored_at <= until]
    frame = pd.DataFrame.from_records([row.fields for row in rows], index=range(len(rows)))
    return frame, np.array([row.probability for row in rows], dtype=float)


def _drift(model: LeadModel, sample: tuple[pd.DataFrame, np.ndarray]) -> DriftSummary | None:
    """PSI of the sampled leads' fields and scores against the profile stored in the model."""
    frame, probability = sample
    reference = model.metadata.get("drift_profile")
    if reference is None or frame.empty:
        return None
    report = drift_report(reference, model.encoder, frame, probability, None, set(frame.columns))
    return DriftSummary(report.psi, report.drifted, PSI_WARNING, len(frame))
