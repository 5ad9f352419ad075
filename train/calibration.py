"""Turning the booster's raw score into a probability that means what it says.

Fitted on leads the booster did not train on. Isotonic and sigmoid (Platt) are both tried; the
one with the lower log loss in a 2-fold cross-check on those leads is kept. The fitted mapping is
stored as numbers, so scoring is a lookup, not a scikit-learn call.
"""

from __future__ import annotations

import numpy as np
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.model_selection import StratifiedKFold

from serve.model.calibrator import Calibrator


def fit_calibrator(raw_score: np.ndarray, y: np.ndarray, method: str = "auto") -> Calibrator:
    """Fit the given method, or with 'auto' the one with lower held-out log loss."""
    if method == "auto":
        method = min(("isotonic", "sigmoid"), key=lambda m: _cross_checked_loss(raw_score, y, m))
    return _fit(raw_score, y, method)


def _fit(raw_score: np.ndarray, y: np.ndarray, method: str) -> Calibrator:
    if method == "isotonic":
        iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(raw_score, y)
        return Calibrator("isotonic", tuple(iso.X_thresholds_), tuple(iso.y_thresholds_))
    platt = LogisticRegression(C=1e6).fit(raw_score.reshape(-1, 1), y)
    return Calibrator(
        "sigmoid", slope=float(platt.coef_[0, 0]), intercept=float(platt.intercept_[0])
    )


def _cross_checked_loss(raw_score: np.ndarray, y: np.ndarray, method: str) -> float:
    folds = StratifiedKFold(n_splits=2, shuffle=True, random_state=0)
    losses = []
    for fit_rows, check_rows in folds.split(raw_score, y):
        calibrator = _fit(raw_score[fit_rows], y[fit_rows], method)
        losses.append(
            log_loss(y[check_rows], calibrator.apply(raw_score[check_rows]), labels=[0, 1])
        )
    return float(np.mean(losses))
