"""What a trained model carries besides its parameters: its evaluation, what it was trained on,
its drift reference and its default deal value. It is stored inside the artifact as JSON, so
serving reads it without this package."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from features.joins import JOINED_COLUMNS_KEY
from features.labels import LabeledLeads
from serve.model.deal_value import DEFAULT_KEY
from serve.model.drift import profile
from train.evaluate.holdout import Evaluation
from train.learn import LearnedModel
from train.results import ClassCounts, RowCounts
from train.sources import TrainingData
from train.split import Split


def model_metadata(
    learned: LearnedModel, evaluation: Evaluation, data: TrainingData, outer: Split, rows: RowCounts
) -> dict[str, Any]:
    """The evaluation, what the model was trained on (content fingerprint and newest training
    lead, so a retrain compares on leads it never saw) and its drift reference."""
    leads, model = data.leads, learned.model
    train_frame, y_train = leads.frame.iloc[outer.train], leads.y[outer.train]
    train_matrix = model.encoder.transform(train_frame)
    metadata: dict[str, Any] = {
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "data_sha256": data.file_sha256,
        "data_fingerprint": data.fingerprint,
        "trained_through": newest_lead(leads, outer.train),
        "metrics": evaluation.metrics,
        "baseline_metrics": evaluation.baseline_metrics,
        "rows": rows.to_json(),
        "features": model.encoder.feature_names,
        "trees": model.booster.num_trees(),
        "usable_signal": evaluation.signal.usable,
        "leaky_columns": learned.audit.excluded_as_leaks,
        "drift_profile": profile(
            model.encoder, train_matrix, model.probabilities(train_matrix), float(y_train.mean())
        ),
    }
    if data.joins:  # scoring joins the same tables and must name their columns alike
        metadata[JOINED_COLUMNS_KEY] = {join.table: join.columns for join in data.joins}
    value_column = model.contract.value
    if value_column:
        metadata[DEFAULT_KEY] = default_deal_value(train_frame[value_column], y_train)
    return metadata


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
    """Median deal value of won leads; None when none of them has a readable value."""
    numbers = pd.to_numeric(values[won.astype(bool)], errors="coerce").dropna()
    return float(numbers.median()) if len(numbers) else None
