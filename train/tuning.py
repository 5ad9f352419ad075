"""An optional, time-bounded search for better LightGBM settings (`--tune-seconds N`).

Each trial is judged as the defaults are: by the mean validation log loss of the same folds
(five when the training leads are few, so a trial cannot win by luck on one small slice), with
early stopping on that mean. The evaluation slice is never seen. The defaults are the first
trial, so the search can only keep them or find better; it stops early when `PATIENCE` trials in
a row found nothing better, since by then more trials mostly find noise.
"""

from __future__ import annotations

import logging

import numpy as np
import optuna

from features.encoder import LeadEncoder
from train.fit import cross_validate, default_params
from train.split import Split

log = logging.getLogger(__name__)

SEARCHED = ("learning_rate", "num_leaves", "min_data_in_leaf", "feature_fraction", "lambda_l2")
PATIENCE = 20
METRIC = "valid binary_logloss-mean"


def tune_params(
    matrix: np.ndarray, y: np.ndarray, encoder: LeadEncoder, folds: list[Split], seconds: float
) -> dict:
    """The settings with the lowest mean validation log loss found within `seconds`."""
    defaults = default_params(len(y))

    def objective(trial: optuna.Trial) -> float:
        params = {
            **defaults,
            "learning_rate": trial.suggest_float("learning_rate", 0.01, 0.2, log=True),
            "num_leaves": trial.suggest_int("num_leaves", 3, 63, log=True),
            "min_data_in_leaf": trial.suggest_int("min_data_in_leaf", 5, 400, log=True),
            "feature_fraction": trial.suggest_float("feature_fraction", 0.5, 1.0),
            "lambda_l2": trial.suggest_float("lambda_l2", 1e-3, 30.0, log=True),
        }
        result = cross_validate(matrix, y, encoder, folds, params, keep_boosters=False)
        return float(min(result[METRIC]))

    def stop_when_stale(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        if trial.number - study.best_trial.number >= PATIENCE:
            study.stop()

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="minimize", sampler=optuna.samplers.TPESampler(seed=0))
    study.enqueue_trial({name: defaults[name] for name in SEARCHED})
    study.optimize(objective, timeout=seconds, callbacks=[stop_when_stale])
    log.info(
        "tuning: %d trials, best mean validation log loss %.4f (defaults %.4f)",
        len(study.trials),
        study.best_value,
        study.trials[0].value,
    )
    return dict(study.best_params)
