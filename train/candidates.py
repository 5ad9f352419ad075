"""Which learner serves: LightGBM, the logistic regression, or a blend of the two in log-odds,
chosen by the log loss of leads neither trained on.

Both candidates give raw scores of the same held-out leads (every training lead with five folds).
Each blend weight w in 0, 0.1, ..., 1 (w x trees + (1 - w) x linear) is judged by the log loss of
those scores after a sigmoid fit to them, so that the weight is chosen for the ranking and the
spread it gives, not for how calibrated a raw score happens to be. On weak or small data the
regression often wins; where interactions matter, the trees do; often a blend beats both.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from sklearn.metrics import log_loss

from serve.model.learners import BlendLearner, Learner, LinearLearner, TreeLearner
from train.calibration import fit_calibrator, recency_weights

log = logging.getLogger(__name__)

WEIGHTS = tuple(step / 10 for step in range(11))


@dataclass(frozen=True)
class HeldOutScores:
    """Raw scores of leads by candidates that did not train on them, the leads' outcomes, and
    when they came (`order`: created-at times or another sortable key; None when unknown)."""

    trees: np.ndarray
    linear: np.ndarray
    y: np.ndarray
    order: np.ndarray | None = None

    def blend(self, weight: float) -> np.ndarray:
        return weight * self.trees + (1 - weight) * self.linear

    def calibration_weights(self) -> np.ndarray | None:
        """Newer leads weigh more in calibration when the leads are ordered in time."""
        return None if self.order is None else recency_weights(self.order)

    def rows(self, rows: np.ndarray) -> HeldOutScores:
        order = None if self.order is None else self.order[rows]
        return HeldOutScores(self.trees[rows], self.linear[rows], self.y[rows], order)

    def __add__(self, other: HeldOutScores) -> HeldOutScores:
        order = None
        if self.order is not None and other.order is not None:
            order = np.concatenate([self.order, other.order])
        return HeldOutScores(
            np.concatenate([self.trees, other.trees]),
            np.concatenate([self.linear, other.linear]),
            np.concatenate([self.y, other.y]),
            order,
        )


@dataclass(frozen=True)
class CandidateChoice:
    """The held-out log loss of every weight tried, and the weight chosen (1: LightGBM alone,
    0: the logistic regression alone)."""

    weight: float
    losses: dict[float, float]
    leads: int

    @property
    def name(self) -> str:
        if self.weight == 1:
            return "LightGBM"
        if self.weight == 0:
            return "logistic regression"
        return f"blend {self.weight:.1f} LightGBM + {1 - self.weight:.1f} logistic regression"

    @property
    def lightgbm_loss(self) -> float:
        return self.losses[1.0]

    @property
    def linear_loss(self) -> float:
        return self.losses[0.0]

    @property
    def chosen_loss(self) -> float:
        return self.losses[self.weight]

    def held_out_losses(self) -> dict[str, float]:
        """The log loss of LightGBM alone, the regression alone, and the choice."""
        return {
            "lightgbm": self.lightgbm_loss,
            "logistic_regression": self.linear_loss,
            "chosen": self.chosen_loss,
        }

    def to_dict(self) -> dict:
        return {
            "chosen": self.name,
            "weight": self.weight,
            "held_out_leads": self.leads,
            "held_out_log_loss": self.held_out_losses(),
        }


def choose_weight(scores: HeldOutScores) -> CandidateChoice:
    """The blend weight with the lowest held-out log loss (the simpler end of a tie)."""
    losses = {weight: _sigmoid_fitted_loss(scores.blend(weight), scores.y) for weight in WEIGHTS}
    best = min(losses.values())
    weight = next(w for w in (1.0, 0.0, *WEIGHTS) if losses[w] <= best + 1e-6)
    choice = CandidateChoice(weight, losses, len(scores.y))
    log.info(
        "candidates on %d held-out leads: LightGBM %.4f, logistic regression %.4f; chosen: %s "
        "(%.4f)",
        len(scores.y),
        choice.lightgbm_loss,
        choice.linear_loss,
        choice.name,
        choice.chosen_loss,
    )
    return choice


def combine(weight: float, trees: TreeLearner | None, linear: LinearLearner | None) -> Learner:
    """The learner for this weight: the trees or the regression alone at either end."""
    if weight == 1 and trees is not None:
        return trees
    if weight == 0 and linear is not None:
        return linear
    if trees is None or linear is None:
        raise ValueError(f"a blend of weight {weight} needs both learners")
    return BlendLearner(trees, linear, weight)


def _sigmoid_fitted_loss(raw: np.ndarray, y: np.ndarray) -> float:
    return float(log_loss(y, fit_calibrator(raw, y, method="sigmoid").apply(raw), labels=[0, 1]))
