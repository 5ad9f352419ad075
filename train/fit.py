"""Fitting the lead model (LightGBM with early stopping, then calibration) and the baseline."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import lightgbm as lgb
import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from features.encoder import LeadEncoder
from serve.model.calibrator import Calibrator
from train.calibration import fit_calibrator
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
EARLY_STOPPING_ROUNDS = 50
CROSS_FIT_FOLDS = 5
CROSS_FIT_MAX_ROWS = 100_000
# The baseline is a yardstick, not the model: a random sample this large estimates its
# coefficients well, and keeps its fit from dominating training on millions of leads.
BASELINE_MAX_ROWS = 200_000


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


@dataclass
class FittedBooster:
    """The booster, its calibrator, and the raw scores of leads the scoring booster(s) did not
    train on (what the calibrator and the tier cut-offs were fitted on)."""

    booster: lgb.Booster
    calibrator: Calibrator
    validation_raw: np.ndarray


def fit_booster(
    matrix: np.ndarray,
    y: np.ndarray,
    encoder: LeadEncoder,
    inner: Split,
    params: dict | None = None,
) -> FittedBooster:
    """Fit LightGBM with early stopping and calibrate it on leads it did not train on.

    With a time order, the newest slice (`inner.evaluate`) is what early stopping watches and
    calibration learns from: it is closest to the leads the model will score. Without one (below
    100,000 leads), every lead is held out once instead (cross-fitting): five boosters, each
    stopped early on its held-out fifth, give held-out raw scores for all leads to calibrate on,
    and the booster that is kept learns from all leads, with the five's average number of trees
    scaled for the quarter more data it sees."""
    settings = {**default_params(len(y)), **(params or {})}
    if inner.by_time or len(y) > CROSS_FIT_MAX_ROWS:
        return _fit_on_newest(matrix, y, encoder, inner, settings)
    return _cross_fit(matrix, y, encoder, settings)


def _fit_on_newest(
    matrix: np.ndarray, y: np.ndarray, encoder: LeadEncoder, inner: Split, settings: dict
) -> FittedBooster:
    booster = _early_stopped(matrix, y, inner.train, inner.evaluate, encoder, settings)
    booster = lgb.Booster(model_str=booster.model_to_string(num_iteration=booster.best_iteration))
    raw = np.asarray(booster.predict(matrix[inner.evaluate], raw_score=True))
    return FittedBooster(booster, fit_calibrator(raw, y[inner.evaluate]), raw)


def _cross_fit(
    matrix: np.ndarray, y: np.ndarray, encoder: LeadEncoder, settings: dict
) -> FittedBooster:
    raw = np.empty(len(y))
    trees = []
    folds = StratifiedKFold(n_splits=CROSS_FIT_FOLDS, shuffle=True, random_state=0)
    for fit_rows, held_rows in folds.split(matrix, y):
        booster = _early_stopped(matrix, y, fit_rows, held_rows, encoder, settings)
        raw[held_rows] = np.asarray(
            booster.predict(matrix[held_rows], raw_score=True, num_iteration=booster.best_iteration)
        )
        trees.append(booster.best_iteration)
    rounds = max(1, round(np.mean(trees) * CROSS_FIT_FOLDS / (CROSS_FIT_FOLDS - 1)))
    final = lgb.train(settings, lgb.Dataset(matrix, y, **_dataset_args(encoder)), rounds)
    final.free_dataset()
    log.info("cross-fitted boosters stopped at %s trees; %d trees on all leads", trees, rounds)
    return FittedBooster(final, fit_calibrator(raw, y), raw)


def early_stopping_sets(
    matrix: np.ndarray,
    y: np.ndarray,
    fit_rows: np.ndarray,
    validation_rows: np.ndarray,
    encoder: LeadEncoder,
    keep_raw_data: bool = False,
) -> tuple[lgb.Dataset, lgb.Dataset]:
    """The leads to fit on, and the validation leads early stopping watches, binned alike.
    `keep_raw_data` lets the pair be trained on again with other settings."""
    args = _dataset_args(encoder, keep_raw_data)
    train_set = lgb.Dataset(matrix[fit_rows], y[fit_rows], **args)
    valid_set = lgb.Dataset(
        matrix[validation_rows], y[validation_rows], reference=train_set, **args
    )
    return train_set, valid_set


def train_early_stopped(
    settings: dict, train_set: lgb.Dataset, valid_set: lgb.Dataset
) -> lgb.Booster:
    """Boost until the validation log loss has not improved for EARLY_STOPPING_ROUNDS trees."""
    return lgb.train(
        settings,
        train_set,
        num_boost_round=MAX_ROUNDS,
        valid_sets=[valid_set],
        callbacks=[lgb.early_stopping(EARLY_STOPPING_ROUNDS, verbose=False)],
    )


def _early_stopped(
    matrix: np.ndarray,
    y: np.ndarray,
    fit_rows: np.ndarray,
    validation_rows: np.ndarray,
    encoder: LeadEncoder,
    settings: dict,
) -> lgb.Booster:
    sets = early_stopping_sets(matrix, y, fit_rows, validation_rows, encoder)
    booster = train_early_stopped(settings, *sets)
    booster.free_dataset()
    log.info("booster stopped at %d trees", booster.best_iteration)
    return booster


def _dataset_args(encoder: LeadEncoder, keep_raw_data: bool = False) -> dict:
    return {
        "feature_name": encoder.feature_names,
        "categorical_feature": encoder.categorical_indices,
        "free_raw_data": not keep_raw_data,
    }


def fit_baseline(
    matrix: np.ndarray, y: np.ndarray, encoder: LeadEncoder, max_rows: int = BASELINE_MAX_ROWS
) -> Pipeline:
    """Logistic regression on the same encoded columns: one-hot categories, scaled numbers;
    fitted on a random sample of `max_rows` leads when there are more."""
    if len(y) > max_rows:
        log.info("baseline fitted on a random sample of %d of %d leads", max_rows, len(y))
        rows = np.sort(np.random.default_rng(0).choice(len(y), max_rows, replace=False))
        matrix, y = matrix[rows], y[rows]
    categorical = encoder.categorical_indices
    other = [i for i in range(matrix.shape[1]) if i not in set(categorical)]
    columns = ColumnTransformer(
        [
            (
                "categories",
                make_pipeline(
                    SimpleImputer(strategy="constant", fill_value=-1.0),
                    OneHotEncoder(handle_unknown="ignore", min_frequency=5),
                ),
                categorical,
            ),
            (
                "numbers",
                make_pipeline(
                    SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
                    StandardScaler(),
                ),
                other,
            ),
        ]
    )
    baseline = make_pipeline(columns, LogisticRegression(max_iter=2000, C=1.0))
    return baseline.fit(matrix, y)
