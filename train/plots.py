"""Charts of one evaluation, written as PNG files."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.calibration import calibration_curve  # noqa: E402
from sklearn.metrics import roc_curve  # noqa: E402


def roc_plot(y: np.ndarray, curves: dict[str, np.ndarray], path: Path) -> Path:
    """ROC curve of each named probability vector."""
    figure, axes = plt.subplots(figsize=(5, 5))
    for name, probability in curves.items():
        fpr, tpr, _ = roc_curve(y, probability)
        axes.plot(fpr, tpr, label=name)
    axes.plot([0, 1], [0, 1], linestyle=":", color="grey", label="chance")
    axes.set(xlabel="share of lost leads flagged", ylabel="share of won leads found", title="ROC")
    axes.legend(loc="lower right")
    return _save(figure, path)


def calibration_plot(y: np.ndarray, curves: dict[str, np.ndarray], path: Path) -> Path:
    """Predicted probability against the observed conversion rate, in 10 bins."""
    figure, axes = plt.subplots(figsize=(5, 5))
    for name, probability in curves.items():
        observed, predicted = calibration_curve(y, probability, n_bins=10, strategy="quantile")
        axes.plot(predicted, observed, marker="o", label=name)
    axes.plot([0, 1], [0, 1], linestyle=":", color="grey", label="perfect")
    axes.set(xlabel="predicted probability", ylabel="observed conversion rate", title="Calibration")
    axes.legend(loc="upper left")
    return _save(figure, path)


def _save(figure: plt.Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path
