"""Fitting the lead model (LightGBM with early stopping, then calibration) and the baseline."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import lightgbm as lgb
import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from features.encoder import LeadEncoder
from train.calibration import Calibrator, fit_calibrator
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
# The baseline is a yardstick, not the model: a random sample this large estimates its
# coefficients well, and keeps its fit from dominating training on millions of leads.
BASELINE_MAX_ROWS = 200_000


@dataclass
class FittedBooster:
    booster: lgb.Booster
    calibrator: Calibrator
    validation_rows: np.ndarray


def fit_booster(
    matrix: np.ndarray,
    y: np.ndarray,
    encoder: LeadEncoder,
    inner: Split,
    params: dict | None = None,
) -> FittedBooster:
    """Fit on `inner.train`, stop early and calibrate on `inner.evaluate` (the newest training
    leads when there is a time column), which the booster never trains on."""
    fit_rows, validation_rows = inner.train, inner.evaluate
    dataset_args = {
        "feature_name": encoder.feature_names,
        "categorical_feature": encoder.categorical_indices,
        "free_raw_data": True,
    }
    train_set = lgb.Dataset(matrix[fit_rows], y[fit_rows], **dataset_args)
    valid_set = lgb.Dataset(
        matrix[validation_rows], y[validation_rows], reference=train_set, **dataset_args
    )
    booster = lgb.train(
        {**DEFAULT_PARAMS, **(params or {})},
        train_set,
        num_boost_round=MAX_ROUNDS,
        valid_sets=[valid_set],
        callbacks=[lgb.early_stopping(EARLY_STOPPING_ROUNDS, verbose=False)],
    )
    booster.free_dataset()
    log.info("booster stopped at %d trees", booster.best_iteration)
    booster = lgb.Booster(model_str=booster.model_to_string(num_iteration=booster.best_iteration))
    raw = booster.predict(matrix[validation_rows], raw_score=True)
    calibrator = fit_calibrator(raw, y[validation_rows])
    return FittedBooster(booster, calibrator, validation_rows)


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
