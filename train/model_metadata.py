"""What a trained model carries besides its parameters: its evaluation (and which model the
figures are for), what it was trained on, its drift reference and its default deal value. It is
stored inside the artifact as JSON, so serving reads it without this package."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from features.joins import JOINED_COLUMNS_KEY
from features.labels import LabeledLeads
from serve.model.deal_value import DEFAULT_KEY
from serve.model.drift import profile
from serve.model.lead_model import LeadModel
from train.evaluate.holdout import Evaluation
from train.learn import LearnedModel
from train.results import ClassCounts, RowCounts
from train.sources import TrainingData
from train.split import Split

log = logging.getLogger(__name__)

# The drift reference's histograms and quantiles are stable long before a million leads.
PROFILE_MAX_ROWS = 200_000


def model_metadata(
    learned: LearnedModel,
    model: LeadModel,
    evaluation: Evaluation,
    data: TrainingData,
    outer: Split,
    rows: RowCounts,
) -> dict[str, Any]:
    """The metadata of `model`, refitted on every labeled lead: the evaluation of `learned`
    (the same recipe without the evaluation leads) and which model that is, what the model
    learnt from (content fingerprint and newest lead, so a retrain compares on leads it never
    saw: all of them here) and its drift reference."""
    leads = data.leads
    matrix = model.encoder.transform(leads.frame.iloc[profile_rows(len(leads.y))])
    metadata: dict[str, Any] = {
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "data_sha256": data.file_sha256,
        "data_fingerprint": data.fingerprint,
        "trained_through": newest_lead(leads, np.arange(len(leads.y))),
        "trained_on": len(leads.y),
        "metrics": evaluation.metrics,
        "baseline_metrics": evaluation.baseline_metrics,
        "metrics_for": metrics_scope(outer, rows),
        "learner": model.learner.describe(),
        "candidates": learned.choice.to_dict(),
        "rows": rows.to_json(),
        "features": model.encoder.feature_names,
        "trees": model.learner.trees,
        "usable_signal": evaluation.signal.usable,
        "leaky_columns": learned.audit.excluded_as_leaks,
        "drift_profile": profile(
            model.encoder, matrix, model.probabilities(matrix), float(leads.y.mean())
        ),
    }
    if data.joins:  # scoring joins the same tables and must name their columns alike
        metadata[JOINED_COLUMNS_KEY] = {join.table: join.columns for join in data.joins}
    value_column = model.contract.value
    if value_column:
        metadata[DEFAULT_KEY] = default_deal_value(leads.frame[value_column], leads.y)
    return metadata


def profile_rows(leads: int, most: int = PROFILE_MAX_ROWS) -> np.ndarray:
    """The leads the drift reference is drawn from: all of them, or a random `most`."""
    if leads <= most:
        return np.arange(leads)
    return np.sort(np.random.default_rng(0).choice(leads, most, replace=False))


def metrics_scope(outer: Split, rows: RowCounts) -> str:
    """Which model the evaluation figures are for, in words."""
    held = "newest" if outer.by_time else "randomly held-out"
    return (
        f"the same recipe fitted on {rows.train.total:,} labeled leads without the "
        f"{rows.evaluate.total:,} {held} ones it was evaluated on; the registered model is "
        f"that recipe refitted on all {rows.train.total + rows.evaluate.total:,} labeled leads"
    )


def row_counts(leads: LabeledLeads, train: np.ndarray, evaluate: np.ndarray) -> RowCounts:
    def counts(rows: np.ndarray) -> ClassCounts:
        won = int(leads.y[rows].sum())
        return ClassCounts(won=won, lost=int(len(rows) - won))

    return RowCounts(train=counts(train), evaluate=counts(evaluate), open=leads.n_open)


def newest_lead(leads: LabeledLeads, rows: np.ndarray) -> str | None:
    """The created-at time of the newest of these leads, or None without times."""
    if leads.created_at is None or len(rows) == 0:
        return None
    return leads.created_at.iloc[rows].max().isoformat()


def default_deal_value(values: pd.Series, won: np.ndarray) -> float | None:
    """Median deal value of won leads; None when none of them has a readable value. Values
    that are not plain numbers ('1,670,000.00') count as not given, and a warning says so."""
    readable = pd.to_numeric(values, errors="coerce")
    unreadable = values[values.notna() & readable.isna()]
    if len(unreadable):
        log.warning(
            "%d deal values of %s are not numbers (e.g. %r) and count as not given; export "
            "plain numbers (1670000.5), without thousands separators",
            len(unreadable),
            values.name,
            unreadable.iloc[0],
        )
    numbers = readable[won.astype(bool)].dropna()
    return float(numbers.median()) if len(numbers) else None
