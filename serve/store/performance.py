"""How the serving model does live: the score log joined with the outcomes the CRM posted back.

Each lead counts once per model version, as it was first scored by that version in the window
(the score sales acted on), with its current outcome. Counts, conversion and revenue are summed
in the database (one GROUP BY over score buckets, tiers and segment values), so a store of
millions of scored leads answers in seconds; only the closed leads' probabilities are fetched,
for ROC AUC, log loss and calibration, and a sample of the newest leads for drift.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sklearn.metrics import log_loss, roc_auc_score

from serve.model.drift import PSI_WARNING, drift_report
from serve.model.lead_model import LeadModel
from serve.model.metrics import CALIBRATION_BINS, Interval, wilson_interval
from serve.model.tiers import TIER_NAMES
from serve.store.outcomes import latest_outcomes
from serve.store.tables import score_log
from serve.store.times import utc_now

DEFAULT_WINDOW_DAYS = 90
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
    firsts = _first_scores(since, until, segments)
    with engine.connect() as connection:
        groups = _grouped(connection, firsts, model_version)
        closed = _closed_probabilities(connection, firsts, model_version)
        versions = _versions(connection, firsts)
        sample = _newest_fields(connection, firsts, model_version)
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
        versions=versions,
    )


def reported_segments(model: LeadModel) -> list[str]:
    """The fields conversion is broken down by: the contract's `segments`, else the first
    categorical field whose name speaks of a source (lead source, channel), else none."""
    categorical = [f.name for f in model.encoder.features if f.kind == "categorical"]
    if model.contract.segments:
        return list(model.contract.segments)
    sources = [name for name in categorical if "source" in name.lower()]
    return sources[:1]


def _first_scores(since: datetime, until: datetime, segments: Sequence[str]) -> sa.Subquery:
    """Each lead's first score by each model version in the window, with its current outcome.
    A row without a lead id is a lead of its own (it can have no outcome)."""
    order = sa.func.row_number().over(
        partition_by=(score_log.c.lead_id, score_log.c.model_version),
        order_by=(score_log.c.scored_at, score_log.c.id),
    )
    ranked = (
        sa.select(
            score_log.c.id,
            score_log.c.lead_id,
            score_log.c.model_version,
            score_log.c.probability,
            score_log.c.tier,
            score_log.c.expected_value,
            *(
                score_log.c.fields[name].as_string().label(f"segment_{i}")
                for i, name in enumerate(segments)
            ),
            order.label("rank"),
        )
        .where(score_log.c.scored_at >= since, score_log.c.scored_at <= until)
        .subquery()
    )
    latest = latest_outcomes()
    return (
        sa.select(ranked, latest.c.outcome, latest.c.value.label("outcome_value"))
        .join(latest, latest.c.lead_id == ranked.c.lead_id, isouter=True)
        .where(sa.or_(ranked.c.rank == 1, ranked.c.lead_id.is_(None)))
        .subquery("first_scores")
    )


def _grouped(connection: sa.Connection, firsts: sa.Subquery, version: str | None) -> pd.DataFrame:
    """Counts and sums per score bucket (0-100), stored tier, segment values and outcome."""
    bucket = sa.cast(sa.func.round(firsts.c.probability * 100), sa.Integer).label("bucket")
    segment_columns = [c for c in firsts.c if c.name.startswith("segment_")]
    outcome = sa.func.coalesce(firsts.c.outcome, OPEN).label("outcome")
    keys = [bucket, firsts.c.tier, *segment_columns, outcome]
    query = (
        sa.select(
            *keys,
            sa.func.count().label("leads"),
            sa.func.sum(firsts.c.probability).label("probability_sum"),
            sa.func.sum(firsts.c.outcome_value).label("won_value"),
            sa.func.sum(firsts.c.expected_value).label("expected_value"),
        )
        .where(_version_is(firsts, version))
        .group_by(*keys)
    )
    rows = connection.execute(query).all()
    names = ["bucket", "stored_tier", *(c.name for c in segment_columns), "outcome"]
    frame = pd.DataFrame(
        [tuple(row) for row in rows],
        columns=[*names, "leads", "probability_sum", "won_value", "expected_value"],
    )
    for column in segment_columns:
        frame[column.name] = frame[column.name].fillna(MISSING_SEGMENT).astype(str)
    return frame


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
    connection: sa.Connection, firsts: sa.Subquery, version: str | None
) -> pd.DataFrame:
    query = sa.select(firsts.c.probability, firsts.c.outcome).where(
        _version_is(firsts, version), firsts.c.outcome.in_([WON, LOST])
    )
    rows = connection.execute(query).all()
    frame = pd.DataFrame([tuple(r) for r in rows], columns=["probability", "outcome"])
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


def _versions(connection: sa.Connection, firsts: sa.Subquery) -> list[VersionCount]:
    closed = sa.func.sum(sa.case((firsts.c.outcome.in_([WON, LOST]), 1), else_=0))
    query = (
        sa.select(firsts.c.model_version, sa.func.count(), closed)
        .group_by(firsts.c.model_version)
        .order_by(firsts.c.model_version)
    )
    return [VersionCount(v, int(n), int(c or 0)) for v, n, c in connection.execute(query)]


def _newest_fields(
    connection: sa.Connection, firsts: sa.Subquery, version: str | None
) -> tuple[pd.DataFrame, np.ndarray]:
    """The fields and probabilities of the newest DRIFT_SAMPLE leads scored in the window."""
    newest = (
        sa.select(firsts.c.id)
        .where(_version_is(firsts, version))
        .order_by(firsts.c.id.desc())
        .limit(DRIFT_SAMPLE)
        .subquery()
    )
    query = sa.select(score_log.c.fields, score_log.c.probability).join(
        newest, newest.c.id == score_log.c.id
    )
    rows = connection.execute(query).all()
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


def _version_is(firsts: sa.Subquery, version: str | None) -> sa.ColumnElement[bool]:
    if version is None:
        return firsts.c.model_version.is_(None)
    return firsts.c.model_version == version
