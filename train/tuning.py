"""An optional, time-bounded search for better LightGBM settings (`--tune-seconds N`).

Each trial fits on the training part of the training period and is judged by log loss on its
newest slice (the same slice early stopping watches); the evaluation slice is never seen. The
defaults are the first trial, so the search can only keep them or find better.
"""

from __future__ import annotations

import logging

import numpy as np
import optuna

from features.encoder import LeadEncoder
from train.fit import default_params, early_stopping_sets, train_early_stopped
from train.split import Split

log = logging.getLogger(__name__)

SEARCHED = ("learning_rate", "num_leaves", "min_data_in_leaf", "feature_fraction", "lambda_l2")


def tune_params(
    matrix: np.ndarray, y: np.ndarray, encoder: LeadEncoder, inner: Split, seconds: float
) -> dict:
    """The settings with the lowest validation log loss found within `seconds`."""
    defaults = default_params(len(y))
    train_set, valid_set = early_stopping_sets(
        matrix, y, inner.train, inner.evaluate, encoder, keep_raw_data=True
    )

    def objective(trial: optuna.Trial) -> float:
        params = {
            **defaults,
            "learning_rate": trial.suggest_float("learning_rate", 0.01, 0.2, log=True),
            "num_leaves": trial.suggest_int("num_leaves", 3, 63, log=True),
            "min_data_in_leaf": trial.suggest_int("min_data_in_leaf", 5, 400, log=True),
            "feature_fraction": trial.suggest_float("feature_fraction", 0.5, 1.0),
            "lambda_l2": trial.suggest_float("lambda_l2", 1e-3, 30.0, log=True),
        }
        booster = train_early_stopped(params, train_set, valid_set)
        return float(booster.best_score["valid_0"]["binary_logloss"])

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="minimize", sampler=optuna.samplers.TPESampler(seed=0))
    study.enqueue_trial({name: defaults[name] for name in SEARCHED})
    study.optimize(objective, timeout=seconds)
    log.info(
        "tuning: %d trials in %.0f s, best validation log loss %.4f",
        len(study.trials),
        seconds,
        study.best_value,
    )
    return dict(study.best_params)
