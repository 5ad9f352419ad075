"""How good a probability is: ranking, calibration and what the top of the list holds, and how
sure an observed rate is. Training, live monitoring and the insights all measure with these."""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score

METRIC_NAMES = ("roc_auc", "pr_auc", "log_loss", "brier", "lift_at_10", "ece")
CALIBRATION_BINS = 10
CONFIDENCE = 0.95


@dataclass(frozen=True)
class Interval:
    estimate: float
    low: float
    high: float

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high

    def to_dict(self) -> dict[str, float]:
        return {"estimate": self.estimate, "low": self.low, "high": self.high}


def evaluate(y: np.ndarray, probability: np.ndarray) -> dict[str, float]:
    return {
        "roc_auc": float(roc_auc_score(y, probability)),
        "pr_auc": float(average_precision_score(y, probability)),
        "log_loss": float(log_loss(y, probability, labels=[0, 1])),
        "brier": float(brier_score_loss(y, probability)),
        "lift_at_10": lift_at(y, probability, 0.1),
        "ece": expected_calibration_error(y, probability),
    }


def expected_calibration_error(
    y: np.ndarray, probability: np.ndarray, bins: int = CALIBRATION_BINS
) -> float:
    """How far stated probabilities are from what happened: leads are put in 10 equal-width
    probability bins, and the gap between mean probability and conversion rate of each bin is
    averaged, weighted by the bin's share of leads."""
    probability = np.asarray(probability, dtype=float)
    which = np.minimum((probability * bins).astype(int), bins - 1)
    stated = np.bincount(which, weights=probability, minlength=bins)
    happened = np.bincount(which, weights=np.asarray(y, dtype=float), minlength=bins)
    return float(np.abs(stated - happened).sum() / len(probability))


def base_rate_log_loss(y: np.ndarray, base_rate: float) -> float:
    """The log loss of saying `base_rate` for every lead: what a model must beat to be of use."""
    return float(log_loss(y, np.full(len(y), base_rate), labels=[0, 1]))


def lift_at(y: np.ndarray, probability: np.ndarray, share: float) -> float:
    """Conversion rate among the top `share` of leads, divided by the overall rate."""
    top = max(1, int(round(len(y) * share)))
    order = np.argsort(-probability, kind="stable")[:top]
    return float(y[order].mean() / y.mean())


def wilson_interval(
    successes: np.ndarray, trials: np.ndarray, confidence: float = CONFIDENCE
) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of a rate: unlike the normal approximation it stays inside [0, 1]
    and is honest for small segments and rates near 0 or 1. NaN where there are no trials."""
    successes = np.asarray(successes, dtype=float)
    trials = np.asarray(trials, dtype=float)
    z = NormalDist().inv_cdf(1 - (1 - confidence) / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = successes / trials
        denominator = 1 + z**2 / trials
        centre = (rate + z**2 / (2 * trials)) / denominator
        half = z * np.sqrt(rate * (1 - rate) / trials + z**2 / (4 * trials**2)) / denominator
    low = np.where(successes == 0, 0.0, centre - half)  # exact at the ends, where rounding
    high = np.where(successes == trials, 1.0, centre + half)  # would leave a hair's gap
    return np.where(np.isnan(rate), np.nan, low), np.where(np.isnan(rate), np.nan, high)
