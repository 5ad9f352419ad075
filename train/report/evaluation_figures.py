"""Charts of one evaluation, returned as matplotlib Figures (no pyplot state, nothing written),
like the insight figures; the report saves them."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from sklearn.calibration import calibration_curve
from sklearn.metrics import precision_recall_curve, roc_curve

from train.evaluate.holdout import FeatureStrength
from train.evaluate.ranking import TierRow

Curves = dict[str, np.ndarray]


def roc_figure(y: np.ndarray, curves: Curves) -> Figure:
    """ROC curve of each named probability vector."""
    figure = Figure(figsize=(5, 5), layout="tight")
    axes = figure.subplots()
    for name, probability in curves.items():
        fpr, tpr, _ = roc_curve(y, probability)
        axes.plot(fpr, tpr, label=name)
    axes.plot([0, 1], [0, 1], linestyle=":", color="grey", label="chance")
    axes.set(xlabel="share of lost leads flagged", ylabel="share of won leads found", title="ROC")
    axes.legend(loc="lower right")
    return figure


def precision_recall_figure(y: np.ndarray, curves: Curves) -> Figure:
    """Of the leads above a cut-off, the share that converts, against the share of wins found."""
    figure = Figure(figsize=(5, 5), layout="tight")
    axes = figure.subplots()
    for name, probability in curves.items():
        precision, recall, _ = precision_recall_curve(y, probability)
        axes.plot(recall, precision, label=name)
    axes.axhline(np.mean(y), linestyle=":", color="grey", label="no model")
    axes.set(
        xlabel="share of won leads found",
        ylabel="share of called leads that convert",
        title="Precision-recall",
        ylim=(0, 1.02),
    )
    axes.legend(loc="upper right")
    return figure


def calibration_figure(y: np.ndarray, curves: Curves) -> Figure:
    """Predicted probability against the observed conversion rate, in 10 bins."""
    figure = Figure(figsize=(5, 5), layout="tight")
    axes = figure.subplots()
    for name, probability in curves.items():
        observed, predicted = calibration_curve(y, probability, n_bins=10, strategy="quantile")
        axes.plot(predicted, observed, marker="o", label=name)
    axes.plot([0, 1], [0, 1], linestyle=":", color="grey", label="perfect")
    axes.set(xlabel="predicted probability", ylabel="observed conversion rate", title="Calibration")
    axes.legend(loc="upper left")
    return figure


def gains_figure(y: np.ndarray, curves: Curves) -> Figure:
    """Cumulative gains: calling the top x % of leads finds this share of all conversions."""
    figure = Figure(figsize=(5, 5), layout="tight")
    axes = figure.subplots()
    for name, probability in curves.items():
        called, found = _gains(y, probability)
        axes.plot(called, found, label=name)
    axes.plot([0, 1], [0, 1], linestyle=":", color="grey", label="random order")
    axes.set(
        xlabel="share of leads called, best first",
        ylabel="share of all conversions found",
        title="Cumulative gains",
    )
    axes.legend(loc="lower right")
    return figure


def lift_figure(y: np.ndarray, curves: Curves) -> Figure:
    """Lift: how many times the average conversion rate the top x % of leads converts at."""
    figure = Figure(figsize=(5, 5), layout="tight")
    axes = figure.subplots()
    for name, probability in curves.items():
        called, found = _gains(y, probability)
        start = max(1, len(called) // 100)
        axes.plot(called[start:], found[start:] / called[start:], label=name)
    axes.axhline(1.0, linestyle=":", color="grey", label="random order")
    axes.set(
        xlabel="share of leads called, best first",
        ylabel="conversion rate / average rate",
        title="Lift",
    )
    axes.legend(loc="upper right")
    return figure


def features_figure(top_features: list[FeatureStrength]) -> Figure:
    """Horizontal bars: mean absolute contribution of each of the top features."""
    names = [f.feature for f in top_features][::-1]
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
