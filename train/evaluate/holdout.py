"""Judging a fitted lead model on leads it never saw: metrics beside the logistic baseline, with
bootstrap intervals, the no-signal check, the tier table, the deal-value ranking and what the
model relies on most."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from serve.model.lead_model import LeadModel
from serve.model.learners import LinearLearner
from serve.model.metrics import Interval, base_rate_log_loss, evaluate
from serve.model.tiers import to_scores
from train.evaluate.bootstrap import Bootstrap
from train.evaluate.gate import SignalCheck, check_signal
from train.evaluate.ranking import TierRow, ValueRanking, tier_table, value_ranking

TOP_FEATURES = 10
CONTRIBUTION_ROWS = 5_000
INTERVAL_METRICS = ("roc_auc", "log_loss", "lift_at_10")


@dataclass(frozen=True)
class MetricIntervals:
    """95 % intervals of one metric: the model's, the baseline's and their paired difference."""

    model: Interval
    baseline: Interval
    model_minus_baseline: Interval

    def to_dict(self) -> dict[str, dict[str, float]]:
        return {
            "model": self.model.to_dict(),
            "baseline": self.baseline.to_dict(),
            "model_minus_baseline": self.model_minus_baseline.to_dict(),
        }


@dataclass(frozen=True)
class FeatureStrength:
    """How much one encoded field moves the raw score, on average over the evaluation leads."""

    feature: str
    mean_abs_contribution: float

    def to_dict(self) -> dict[str, str | float]:
        return asdict(self)


@dataclass(frozen=True)
class Evaluation:
    y: np.ndarray
    probability: np.ndarray
    baseline_probability: np.ndarray
    metrics: dict[str, float]
    baseline_metrics: dict[str, float]
    intervals: dict[str, MetricIntervals]
    base_rate_log_loss: float
    signal: SignalCheck
    tier_table: list[TierRow]
    value: ValueRanking | None
    top_features: list[FeatureStrength]


def evaluate_holdout(
    model: LeadModel,
    baseline: LinearLearner,
    train_frame: pd.DataFrame,
    y_train: np.ndarray,
    eval_frame: pd.DataFrame,
    y_eval: np.ndarray,
) -> Evaluation:
    """Everything the report says about the model, measured on the evaluation leads, beside the
    baseline: the logistic regression fitted on the same training leads, as it is."""
    eval_matrix = model.encoder.transform(eval_frame)
    probability = model.probabilities(eval_matrix)
    baseline_probability = 1 / (1 + np.exp(-baseline.raw_scores(eval_matrix)))
    bootstrap = Bootstrap(
        y_eval, {"model": probability, "baseline": baseline_probability}, INTERVAL_METRICS
    )
    intervals = {
        metric: MetricIntervals(
            model=bootstrap.interval("model", metric),
            baseline=bootstrap.interval("baseline", metric),
            model_minus_baseline=bootstrap.difference("model", "baseline", metric),
        )
        for metric in INTERVAL_METRICS
    }
    metrics = evaluate(y_eval, probability)
    reference_loss = base_rate_log_loss(y_eval, float(np.mean(y_train)))
    return Evaluation(
        y=y_eval,
        probability=probability,
        baseline_probability=baseline_probability,
        metrics=metrics,
        baseline_metrics=evaluate(y_eval, baseline_probability),
        intervals=intervals,
        base_rate_log_loss=reference_loss,
        signal=check_signal(
            bootstrap.interval("model", "roc_auc"), metrics["log_loss"], reference_loss, y_eval
        ),
        tier_table=tier_table(y_eval, model.tiers.assign(to_scores(probability))),
        value=_value_ranking(model, train_frame, eval_frame, y_eval, probability),
        top_features=top_features(model, eval_matrix),
    )


def top_features(
    model: LeadModel, matrix: np.ndarray, count: int = TOP_FEATURES
) -> list[FeatureStrength]:
    """The fields that move scores most: mean absolute contribution to the raw score."""
    contributions = model.contributions(matrix[:CONTRIBUTION_ROWS])[:, :-1]
    strength = np.abs(contributions).mean(axis=0)
    order = np.argsort(-strength)[:count]
    names = model.encoder.feature_names
    return [FeatureStrength(names[i], float(strength[i])) for i in order]


def _value_ranking(
    model: LeadModel,
    train_frame: pd.DataFrame,
    eval_frame: pd.DataFrame,
    y_eval: np.ndarray,
    probability: np.ndarray,
) -> ValueRanking | None:
    column = model.contract.value
    if not column or column not in eval_frame.columns:
        return None
    typical = pd.to_numeric(train_frame[column], errors="coerce").median()
    values = pd.to_numeric(eval_frame[column], errors="coerce").to_numpy(float)
    return value_ranking(y_eval, probability, values, 0.0 if np.isnan(typical) else typical)
