"""How good a probability is: ranking, calibration and what the top of the list holds."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score

METRIC_NAMES = ("roc_auc", "pr_auc", "log_loss", "brier", "lift_at_10")


def evaluate(y: np.ndarray, probability: np.ndarray) -> dict[str, float]:
    return {
        "roc_auc": float(roc_auc_score(y, probability)),
        "pr_auc": float(average_precision_score(y, probability)),
        "log_loss": float(log_loss(y, probability, labels=[0, 1])),
        "brier": float(brier_score_loss(y, probability)),
        "lift_at_10": lift_at(y, probability, 0.1),
    }


def lift_at(y: np.ndarray, probability: np.ndarray, share: float) -> float:
    """Conversion rate among the top `share` of leads, divided by the overall rate."""
    top = max(1, int(round(len(y) * share)))
    order = np.argsort(-probability, kind="stable")[:top]
    return float(y[order].mean() / y.mean())
