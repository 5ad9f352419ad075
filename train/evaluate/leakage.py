"""How the lead model would look with the fields the audit excluded as leaky: the same folds,
with and without them, so a jump in ROC AUC from fields known only after handoff shows as the
leak it is."""

from __future__ import annotations

import logging
from dataclasses import replace

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedKFold

from features.contract import LeadContract
from features.encoder import LeadEncoder
from features.errors import DataError
from features.kinds import feature_kinds
from features.labels import split_labeled
from insights.model_view import WITH_LEAKY, WITHOUT_LEAKY
from serve.model.metrics import evaluate
from train.calibration import fit_calibrator
from train.fit import fit_trees
from train.split import validation_folds

log = logging.getLogger(__name__)


def leakage_comparison(
    frame: pd.DataFrame,
    contract: LeadContract,
    leaky_columns: list[str],
    folds: int = 5,
    seed: int = 0,
    source: str = "export",
) -> pd.DataFrame:
    """Cross-validated ROC AUC and log loss of the lead model without and with the leaky fields
    (the same folds for both), and the share of the with-model's reliance that sits on them.
    A big jump in AUC from fields known only after sales touched the lead is leakage, not skill."""
    missing = [c for c in leaky_columns if c not in frame.columns]
    if missing:
        raise DataError(
            f"{source}: leaky column(s) {missing} are not in the file; "
            "list only columns of this export"
        )
    variants = {
        WITHOUT_LEAKY: replace(
            contract, drop=tuple(dict.fromkeys([*contract.drop, *leaky_columns]))
        ),
        WITH_LEAKY: _with_leaky(contract, leaky_columns),
    }
    leads = split_labeled(frame, contract, source)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    fold_rows = list(splitter.split(leads.frame, leads.y))
    rows = []
    for name, variant in variants.items():
        kinds = feature_kinds(leads.frame, variant, source)
        scores = [
            _fold_scores(leads.frame, leads.y, kinds, variant, rows_, leaky_columns)
            for rows_ in fold_rows
        ]
        rows.append(_summary(name, kinds, scores))
        log.info("leakage check: %s, ROC AUC %.3f", name, rows[-1]["roc_auc"])
    return pd.DataFrame(rows).set_index("variant")


def _with_leaky(contract: LeadContract, leaky_columns: list[str]) -> LeadContract:
    """The contract with the leaky fields back in as features (a loss reason among them too)."""
    loss_reason = None if contract.loss_reason in leaky_columns else contract.loss_reason
    drop = tuple(c for c in contract.drop if c not in leaky_columns)
    return replace(contract, drop=drop, loss_reason=loss_reason)


def _fold_scores(
    frame: pd.DataFrame,
    y: np.ndarray,
    kinds: dict[str, str],
    contract: LeadContract,
    fold: tuple[np.ndarray, np.ndarray],
    leaky_columns: list[str],
) -> dict[str, float]:
    train, test = fold
    encoder = LeadEncoder.fit(frame.iloc[train], kinds, contract.na_values)
    matrix = encoder.transform(frame)
    fitted = fit_trees(matrix[train], y[train], encoder, validation_folds(y[train], None))
    calibrator = fit_calibrator(fitted.held_out_raw, y[train])
    metrics = evaluate(y[test], calibrator.apply(fitted.learner.raw_scores(matrix[test])))
    contributions = fitted.learner.contributions(matrix[test])
    reliance = np.abs(contributions[:, :-1]).mean(axis=0)
    leaky = [i for i, name in enumerate(encoder.feature_names) if name in leaky_columns]
    return {**metrics, "leaky_share": float(reliance[leaky].sum() / reliance.sum())}


def _summary(name: str, kinds: dict[str, str], scores: list[dict[str, float]]) -> dict:
    auc = np.array([s["roc_auc"] for s in scores])
    return {
        "variant": name,
        "fields": len(kinds),
        "roc_auc": float(auc.mean()),
        "roc_auc_std": float(auc.std(ddof=1)) if len(auc) > 1 else float("nan"),
        "log_loss": float(np.mean([s["log_loss"] for s in scores])),
        "leaky_share": float(np.mean([s["leaky_share"] for s in scores])),
    }
