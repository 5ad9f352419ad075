"""Charts of one evaluation, returned as matplotlib Figures (no pyplot state, nothing written),
like the insight figures; the report saves them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from sklearn.calibration import calibration_curve
from sklearn.metrics import precision_recall_curve, roc_curve

from insights.figures import literal
from train.evaluate.holdout import FeatureStrength
from train.evaluate.ranking import TierRow

Curves = dict[str, np.ndarray]
Points = tuple[np.ndarray, np.ndarray]
Corner = Literal["upper right", "upper left", "lower right"]


def roc_figure(y: np.ndarray, curves: Curves) -> Figure:
    """ROC curve of each named probability vector."""

    def points(probability: np.ndarray) -> Points:
        fpr, tpr, _ = roc_curve(y, probability)
        return fpr, tpr

    return _curves_figure(
        curves,
        points,
        _diagonal("chance"),
        "lower right",
        xlabel="share of lost leads flagged",
        ylabel="share of won leads found",
        title="ROC",
    )


def precision_recall_figure(y: np.ndarray, curves: Curves) -> Figure:
    """Of the leads above a cut-off, the share that converts, against the share of wins found."""

    def points(probability: np.ndarray) -> Points:
        precision, recall, _ = precision_recall_curve(y, probability)
        return recall, precision

    return _curves_figure(
        curves,
        points,
        _level(float(np.mean(y)), "no model"),
        "upper right",
        xlabel="share of won leads found",
        ylabel="share of called leads that convert",
        title="Precision-recall",
        ylim=(0, 1.02),
    )


def calibration_figure(y: np.ndarray, curves: Curves) -> Figure:
    """Predicted probability against the observed conversion rate, in 10 bins."""

    def points(probability: np.ndarray) -> Points:
        observed, predicted = calibration_curve(y, probability, n_bins=10, strategy="quantile")
        return predicted, observed

    return _curves_figure(
        curves,
        points,
        _diagonal("perfect"),
        "upper left",
        marker="o",
        xlabel="predicted probability",
        ylabel="observed conversion rate",
        title="Calibration",
    )


def gains_figure(y: np.ndarray, curves: Curves) -> Figure:
    """Cumulative gains: calling the top x % of leads finds this share of all conversions."""
    return _curves_figure(
        curves,
        lambda probability: _gains(y, probability),
        _diagonal("random order"),
        "lower right",
        xlabel="share of leads called, best first",
        ylabel="share of all conversions found",
        title="Cumulative gains",
    )


def lift_figure(y: np.ndarray, curves: Curves) -> Figure:
    """Lift: how many times the average conversion rate the top x % of leads converts at."""

    def points(probability: np.ndarray) -> Points:
        called, found = _gains(y, probability)
        start = max(1, len(called) // 100)
        return called[start:], found[start:] / called[start:]

    return _curves_figure(
        curves,
        points,
        _level(1.0, "random order"),
        "upper right",
        xlabel="share of leads called, best first",
        ylabel="conversion rate / average rate",
        title="Lift",
    )


def features_figure(top_features: list[FeatureStrength]) -> Figure:
    """Horizontal bars: mean absolute contribution of each of the top features."""
    names = [literal(f.feature) for f in top_features][::-1]
    strength = [f.mean_abs_contribution for f in top_features][::-1]
    figure = Figure(figsize=(8, 0.4 * len(names) + 1.4), layout="tight")
    axes = figure.subplots()
    axes.barh(names, strength, color="tab:blue")
    axes.set(xlabel="average effect on the score (log-odds)", title="What the score relies on")
    return figure


def tiers_figure(table: list[TierRow]) -> Figure:
    """Conversion rate of each tier."""
    figure = Figure(figsize=(5, 3.5), layout="tight")
    axes = figure.subplots()
    names = [row.tier for row in table]
    rates = [row.conversion_rate for row in table]
    axes.bar(names, rates, color=["#1a7f37", "#4d9a5a", "#c9a227", "#b0413e"])
    for i, row in enumerate(table):
        axes.annotate(f"{row.leads:,} leads", (i, rates[i]), ha="center", va="bottom")
    axes.set(xlabel="tier", ylabel="conversion rate", title="Conversion by tier")
    return figure


def _gains(y: np.ndarray, probability: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(-probability, kind="stable")
    found = np.cumsum(y[order]) / max(y.sum(), 1)
    called = np.arange(1, len(y) + 1) / len(y)
    return np.r_[0.0, called], np.r_[0.0, found]


def _curves_figure(
    curves: Curves,
    points: Callable[[np.ndarray], Points],
    reference: Callable[[Axes], object],
    legend: Corner,
    marker: str | None = None,
    **labels: Any,
) -> Figure:
    """One line per named probability vector (its points), a grey reference, the labels."""
    figure = Figure(figsize=(5, 5), layout="tight")
    axes = figure.subplots()
    for name, probability in curves.items():
        x, y = points(probability)
        axes.plot(x, y, marker=marker, label=name)
    reference(axes)
    axes.set(**labels)
    axes.legend(loc=legend)
    return figure


def _diagonal(label: str) -> Callable[[Axes], object]:
    return lambda axes: axes.plot([0, 1], [0, 1], linestyle=":", color="grey", label=label)


def _level(height: float, label: str) -> Callable[[Axes], object]:
    return lambda axes: axes.axhline(height, linestyle=":", color="grey", label=label)
