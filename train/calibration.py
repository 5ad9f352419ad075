"""Turning a learner's raw score into a probability that means what it says.

Fitted on raw scores of leads the scoring learner did not train on. Sigmoid (Platt) is the
default; isotonic replaces it only when it has a lower log loss over five folds of those leads by
more than twice the noise of that difference (its dozens of steps follow the particular leads
more than two numbers do, and break more easily when the scores shift). Isotonic steps hold at
least `MIN_PER_CLASS` won and lost leads each, so no step can promise 0 % or 100 % from a handful
of leads (which would pin many leads to the probability floor). When the leads are ordered in
time, newer ones weigh more (`recency_weights`), so a drifting conversion rate is calibrated
closer to where it is now. The fitted mapping is stored as numbers, so scoring is a lookup, not a
scikit-learn call.
"""

from __future__ import annotations

import logging

import numpy as np
from sklearn.isotonic import IsotonicRegression
from sklearn.model_selection import StratifiedKFold

from serve.model.calibrator import Calibrator

log = logging.getLogger(__name__)

MIN_PER_CLASS = 10
CHECK_FOLDS = 5
NOISE_MULTIPLE = 2.0
OLDEST_WEIGHT, NEWEST_WEIGHT = 0.25, 1.75
PLATT_RIDGE = 1e-6  # scikit-learn's C = 1e6: the slope all but unpenalised
PLATT_MAX_STEPS = 100


def recency_weights(order: np.ndarray) -> np.ndarray:
    """A weight per lead rising linearly with its rank in time, from OLDEST_WEIGHT to
    NEWEST_WEIGHT (mean 1): newer leads count more, without resting on the newest few alone."""
    rank = np.argsort(np.argsort(order, kind="stable"), kind="stable")
    return OLDEST_WEIGHT + (NEWEST_WEIGHT - OLDEST_WEIGHT) * rank / max(len(order) - 1, 1)


def fit_calibrator(
    raw_score: np.ndarray,
    y: np.ndarray,
    weights: np.ndarray | None = None,
    method: str = "auto",
) -> Calibrator:
    """Fit the given method, or with 'auto' sigmoid unless isotonic is clearly better."""
    weights = np.ones(len(y)) if weights is None else weights
    if method == "auto":
        method = "isotonic" if _isotonic_clearly_better(raw_score, y, weights) else "sigmoid"
    return _fit(raw_score, y, weights, method)


def _fit(raw_score: np.ndarray, y: np.ndarray, weights: np.ndarray, method: str) -> Calibrator:
    if method == "isotonic":
        return _pooled_isotonic(raw_score, y, weights)
    slope, intercept = fit_platt(raw_score, y, weights)
    return Calibrator("sigmoid", slope=slope, intercept=intercept)


def fit_platt(
    raw_score: np.ndarray, y: np.ndarray, weights: np.ndarray | None = None
) -> tuple[float, float]:
    """Slope and intercept of a logistic regression of the outcomes on one raw score (Platt
    scaling), by Newton's method with step halving. A ridge of PLATT_RIDGE on the slope keeps
    it finite when the score separates the classes. Two parameters need no general solver: a
    handful of Newton steps, each a few passes over the scores."""
    x, y = np.asarray(raw_score, dtype=float), np.asarray(y, dtype=float)
    w = np.ones(len(y)) if weights is None else np.asarray(weights, dtype=float)
    rate = np.clip(np.average(y, weights=w), 1e-6, 1 - 1e-6)
    theta = np.array([0.0, np.log(rate / (1 - rate))])

    def loss(t: np.ndarray) -> float:
        z = t[0] * x + t[1]
        return float(w @ (np.logaddexp(0, z) - y * z) + 0.5 * PLATT_RIDGE * t[0] ** 2)

    current = loss(theta)
    for _ in range(PLATT_MAX_STEPS):
        p = 1 / (1 + np.exp(-(theta[0] * x + theta[1])))
        residual, curvature = w * (p - y), w * p * (1 - p)
        gradient = np.array([residual @ x + PLATT_RIDGE * theta[0], residual.sum()])
        cross = curvature @ x
        hessian = np.array([[curvature @ (x * x) + PLATT_RIDGE, cross], [cross, curvature.sum()]])
        step = np.linalg.solve(hessian + 1e-12 * np.eye(2), gradient)
        size = 1.0
        while (trial := loss(theta - size * step)) > current and size > 1e-8:
            size /= 2
        theta, improvement, current = theta - size * step, current - trial, trial
        if improvement <= 1e-12 * max(1.0, abs(current)):
            break
    return float(theta[0]), float(theta[1])


def _pooled_isotonic(raw_score: np.ndarray, y: np.ndarray, weights: np.ndarray) -> Calibrator:
    """Isotonic regression, then neighbouring steps pooled from the lowest score up until each
    holds at least MIN_PER_CLASS won and lost leads (pooled steps of a rising curve still
    rise). Each step is stored by its lowest and highest raw score."""
    values, inverse = np.unique(raw_score, return_inverse=True)
    counts = np.bincount(inverse).astype(float)
    won = np.bincount(inverse, weights=y.astype(float))
    weight = np.bincount(inverse, weights=weights)
    weighted_won = np.bincount(inverse, weights=weights * y)
    fitted = IsotonicRegression(y_min=0.0, y_max=1.0).fit_transform(
        values, weighted_won / weight, sample_weight=weight
    )
    starts = np.flatnonzero(np.r_[True, np.diff(fitted) != 0])
    bounds: list[tuple[int, int]] = []
    open_start, leads, wins = 0, 0.0, 0.0
    for start, end in zip(starts.tolist(), [*starts[1:].tolist(), len(values)], strict=True):
        leads, wins = leads + counts[start:end].sum(), wins + won[start:end].sum()
        if min(wins, leads - wins) >= MIN_PER_CLASS:
            bounds.append((open_start, end))
            open_start, leads, wins = end, 0.0, 0.0
    if open_start < len(values):  # the top leftover joins the step below it
        first = bounds.pop()[0] if bounds else 0
        bounds.append((first, len(values)))
    x, probability = [], []
    for start, end in bounds:
        rate = float(weighted_won[start:end].sum() / weight[start:end].sum())
        x.extend([float(values[start]), float(values[end - 1])])
        probability.extend([rate, rate])
    return Calibrator("isotonic", tuple(x), tuple(probability))


def _isotonic_clearly_better(raw_score: np.ndarray, y: np.ndarray, weights: np.ndarray) -> bool:
    """Whether isotonic's cross-checked log loss is lower than sigmoid's by more than
    NOISE_MULTIPLE standard errors of the paired, per-lead difference."""
    difference = _cross_checked_losses(raw_score, y, weights, "isotonic") - _cross_checked_losses(
        raw_score, y, weights, "sigmoid"
    )
    mean = float(np.average(difference, weights=weights))
    noise = float(difference.std() / np.sqrt(len(difference)))
    log.info("calibration: isotonic minus sigmoid log loss %.5f (noise %.5f)", mean, noise)
    return mean < -NOISE_MULTIPLE * noise


def _cross_checked_losses(
    raw_score: np.ndarray, y: np.ndarray, weights: np.ndarray, method: str
) -> np.ndarray:
    """Each lead's log loss under the method fitted on the other folds."""
    losses = np.empty(len(y))
    folds = StratifiedKFold(n_splits=CHECK_FOLDS, shuffle=True, random_state=0)
    for fit_rows, check_rows in folds.split(raw_score, y):
        calibrator = _fit(raw_score[fit_rows], y[fit_rows], weights[fit_rows], method)
        probability = calibrator.apply(raw_score[check_rows])
        won = y[check_rows] == 1
        losses[check_rows] = -np.where(won, np.log(probability), np.log1p(-probability))
    return losses
