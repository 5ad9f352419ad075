"""Fitting the LightGBM candidate: early stopping on the mean log loss of the validation folds,
then one booster on all the leads with the number of trees scaled for the larger data.

With five folds every lead is held out once, so no decision rests on one small slice and the
raw scores of held-out leads cover every lead (what blending and calibration learn from). With
one fold (large exports), the booster stopped on it is kept as it is: refitting it would cost a
second fit of the whole export for little gain.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

import lightgbm as lgb
import numpy as np

from features.encoder import LeadEncoder
from serve.model.learners import TreeLearner
from train.split import Split

log = logging.getLogger(__name__)

DEFAULT_PARAMS = {
    "objective": "binary",
    "learning_rate": 0.05,
    "num_leaves": 7,
    "min_data_in_leaf": 40,
    "max_cat_to_onehot": 16,
    "feature_fraction": 0.9,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 1.0,
    "cat_smooth": 10.0,
    "verbose": -1,
    "seed": 0,
    "deterministic": True,
    "force_row_wise": True,
}
MAX_ROUNDS = 2000
# JSON's special characters (LightGBM's CheckAllowedJSON refuses them) and white space (LightGBM
# turns it into '_' itself, so 'Web Visits' and 'Web_Visits' would become one name).
LIGHTGBM_REFUSED = re.compile(r'[",:\[\]{}\s]')
EARLY_STOPPING_ROUNDS = 50
# Early stopping on weak signal can stop after a handful of trees, whose scores barely separate
# leads; this many trees at the default learning rate still learn little noise. The held-out
# scores come from as many trees as the booster kept, so calibration sees what it will score.
MIN_TREES = 20


def default_params(rows: int) -> dict:
    """LightGBM settings for `rows` training leads, so that 500 leads and a million both work
    without tuning: few leaves and large leaves where data is scarce (little to overfit with),
    more leaves where there is data to support them, and a faster learning rate from 50,000
    leads on, so that early stopping comes within a bounded number of trees. Below 200,000 leads
    one thread is faster than several: the work per tree is too small to share, and on a busy
    machine threads that wait for each other cost far more than they save."""
    size: dict[str, int | float]
    if rows < 2_000:
        size = {"num_leaves": 7, "min_data_in_leaf": 20}
    elif rows < 50_000:
        size = {"num_leaves": 7, "min_data_in_leaf": 40}
    elif rows < 300_000:
        size = {"num_leaves": 15, "min_data_in_leaf": 100, "learning_rate": 0.1}
    else:
        size = {"num_leaves": 31, "min_data_in_leaf": 200, "learning_rate": 0.1}
    threads = {"num_threads": 1} if rows < 200_000 else {}
    return {**DEFAULT_PARAMS, **size, **threads}


@dataclass(frozen=True)
class TreeRecipe:
    """How to fit the same booster on other leads: the settings, and the number of trees early
    stopping chose for boosters that trained on `fit_rows` leads (scaled with the leads)."""

    params: dict[str, Any]
    best_rounds: int
    fit_rows: float

    def rounds_for(self, rows: int) -> int:
        return max(1, round(self.best_rounds * rows / self.fit_rows))


@dataclass(frozen=True)
class FittedTrees:
    """The booster, its recipe, and each lead's raw score by a booster that did not train on
    it (NaN for leads no fold held out)."""

    learner: TreeLearner
    recipe: TreeRecipe
    held_out_raw: np.ndarray


def fit_trees(
    matrix: np.ndarray,
    y: np.ndarray,
    encoder: LeadEncoder,
    folds: list[Split],
    params: dict | None = None,
) -> FittedTrees:
    """Early stopping on the folds' mean log loss, then the booster kept (see the module)."""
    settings = {**default_params(len(y)), **(params or {})}
    result = cross_validate(matrix, y, encoder, folds, settings)
    boosters = result["cvbooster"].boosters
    stopped = int(result["cvbooster"].best_iteration)
    best = min(max(MIN_TREES, stopped), boosters[0].current_iteration())
    held_out = np.full(len(y), np.nan)
    for fold, booster in zip(folds, boosters, strict=True):
        held_out[fold.evaluate] = booster.predict(
            matrix[fold.evaluate], raw_score=True, num_iteration=best
        )
    recipe = TreeRecipe(settings, best, float(np.mean([len(f.train) for f in folds])))
    if len(folds) == 1:
        kept = lgb.Booster(model_str=boosters[0].model_to_string(num_iteration=best))
        log.info("booster stopped at %d trees on %d leads", best, len(folds[0].train))
        return FittedTrees(TreeLearner(kept), recipe, held_out)
    log.info("boosters of %d folds stopped at %d trees (%d kept)", len(folds), stopped, best)
    return FittedTrees(refit_trees(matrix, y, encoder, recipe), recipe, held_out)


def refit_trees(
    matrix: np.ndarray, y: np.ndarray, encoder: LeadEncoder, recipe: TreeRecipe
) -> TreeLearner:
    """The recipe's booster on these leads, with its number of trees scaled to them."""
    rounds = recipe.rounds_for(len(y))
    booster = lgb.train(recipe.params, lgb.Dataset(matrix, y, **dataset_args(encoder)), rounds)
    booster.free_dataset()
    log.info("booster of %d trees fitted on %d leads", rounds, len(y))
    return TreeLearner(booster)


def cross_validate(
    matrix: np.ndarray,
    y: np.ndarray,
    encoder: LeadEncoder,
    folds: list[Split],
    settings: dict,
    keep_boosters: bool = True,
) -> dict[str, Any]:
    """Boost on every fold at once until the folds' mean validation log loss has not improved
    for EARLY_STOPPING_ROUNDS trees (LightGBM's `cv`)."""
    return lgb.cv(
        settings,
        lgb.Dataset(matrix, y, **dataset_args(encoder)),
        num_boost_round=MAX_ROUNDS,
        folds=[(fold.train, fold.evaluate) for fold in folds],
        callbacks=[lgb.early_stopping(EARLY_STOPPING_ROUNDS, verbose=False)],
        return_cvbooster=keep_boosters,
    )


def dataset_args(encoder: LeadEncoder) -> dict:
    return {
        "feature_name": lightgbm_names(encoder.feature_names),
        "categorical_feature": encoder.categorical_indices,
        "free_raw_data": True,
    }


def lightgbm_names(names: list[str]) -> list[str]:
    """The fields' names as LightGBM takes them: each character it refuses or rewrites in a
    feature name becomes '_' (a name that then matches another gets its position added). Only
    the booster's text holds these; reasons and reports use the encoder's names."""
    cleaned = [LIGHTGBM_REFUSED.sub("_", name) for name in names]
    counts = Counter(cleaned)
    return [f"{name}_{i}" if counts[name] > 1 else name for i, name in enumerate(cleaned)]
