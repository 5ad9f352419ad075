"""A trained model held against an export: which leads it never trained on, how its tiers and
probabilities hold up per segment, which stalled leads it rates high, and how it would have
looked with the fields excluded as leaky. DataFrames in, DataFrames out."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedKFold

from features.contract import LeadContract
from features.encoder import LeadEncoder
from features.errors import DataError
from features.insights import conversion_table, lead_ids, segments_of
from features.kinds import feature_kinds
from features.labels import LOST, WON, split_labeled
from features.reading import file_sha256
from train.explain import top_reasons
from train.fit import fit_booster
from train.metrics import evaluate
from train.model import LeadModel
from train.split import split_rows, stratified_split
from train.tiers import TIER_NAMES

log = logging.getLogger(__name__)

HIGH_TIERS = ("A", "B")
EXAMPLES = ("won", "lost, high score", "lost, low score")
WITHOUT_LEAKY, WITH_LEAKY = "without the leaky fields", "with the leaky fields"


def is_training_export(model: LeadModel, data_path: Path) -> bool:
    """Whether this file is byte for byte the one the model was trained on."""
    return model.metadata.get("data_sha256") == file_sha256(Path(data_path))


def held_out_mask(
    frame: pd.DataFrame, outcome: pd.Series, model: LeadModel, data_path: Path
) -> pd.Series:
    """Closed leads the model never trained on. On the training export these are its evaluation
    leads (the same split training made); on any other export every closed lead is counted."""
    closed = outcome.isin([WON, LOST])
    if not is_training_export(model, data_path):
        return closed
    leads = split_labeled(frame, model.contract, str(data_path))
    if leads.created_at is not None:
        outer = split_rows(leads.y, leads.created_at)
    else:
        outer = stratified_split(leads.y)
    return pd.Series(frame.index.isin(leads.frame.index[outer.evaluate]), index=frame.index)


def conversion_by_tier(outcome: pd.Series, scores: pd.DataFrame) -> pd.DataFrame:
    """Per tier: leads, won, lost, open, observed conversion with its interval, and the mean
    probability the model gave the closed leads of that tier."""
    table = conversion_table(outcome, scores["tier"]).reindex(list(TIER_NAMES))
    closed = outcome.isin([WON, LOST])
    table["predicted"] = scores.loc[closed, "probability"].groupby(scores["tier"]).mean()
    table.index.name = "tier"
    return table.dropna(subset=["leads"])


def calibration_by_segment(
    frame: pd.DataFrame,
    outcome: pd.Series,
    probability: pd.Series,
    columns: list[str],
    min_leads: int = 30,
) -> pd.DataFrame:
    """Per value of each column with at least `min_leads` closed leads: the mean predicted
    probability of its closed leads against their observed conversion; `within_interval` says
    whether the prediction falls inside the observed rate's 95 % interval. Largest gaps first."""
    closed = outcome.isin([WON, LOST])
    parts = []
    for column in columns:
        segments = segments_of(frame[column], outcome, min_leads)
        table = conversion_table(outcome[closed], segments[closed])
        table["predicted"] = probability[closed].groupby(segments[closed]).mean()
        parts.append(table.rename_axis("value").reset_index().assign(field=column))
    table = pd.concat(parts, ignore_index=True)
    table["closed"] = table[WON] + table[LOST]
    table = table[table["closed"] >= min_leads]
    table["gap_points"] = 100 * (table["predicted"] - table["conversion"])
    table["within_interval"] = table["predicted"].between(table["ci_low"], table["ci_high"])
    columns_out = ["field", "value", "closed", "predicted", "conversion", "ci_low", "ci_high"]
    return table[[*columns_out, "gap_points", "within_interval"]].sort_values(
        "gap_points", key=np.abs, ascending=False, ignore_index=True
    )


def example_leads(
    outcome: pd.Series, scores: pd.DataFrame, eligible: pd.Series, ids: pd.Series
) -> pd.DataFrame:
    """Three leads worth explaining, among `eligible` ones: a typical won lead (the median score
    of won leads), the lost lead scored highest, and the lost lead scored lowest. `lead` is the
    row's index label, `id` the lead's id."""
    columns = ["lead", "id", "outcome", "probability", "score", "tier"]
    probability = scores["probability"][eligible]
    won = probability[outcome[eligible] == WON].sort_values(kind="stable")
    lost = probability[outcome[eligible] == LOST].sort_values(kind="stable")
    if won.empty or lost.empty:
        return pd.DataFrame(columns=columns)
    leads = [won.index[len(won) // 2], lost.index[-1], lost.index[0]]
    table = scores.loc[leads, ["probability", "score", "tier"]]
    table.insert(0, "outcome", outcome[leads].to_numpy())
    table.insert(0, "id", ids[leads].to_numpy())
    table.insert(0, "lead", leads)
    table.index = pd.Index(EXAMPLES, name="example")
    return table[columns]


def recycle_candidates(
    frame: pd.DataFrame,
    contract: LeadContract,
    scores: pd.DataFrame,
    ages: pd.DataFrame,
    contributions: pd.DataFrame,
    tiers: tuple[str, ...] = HIGH_TIERS,
) -> pd.DataFrame:
    """Stalled open leads in the high tiers, best first: the ones to hand back to marketing for
    nurturing, with their id, age, score and the fields that make them score high."""
    chosen = ages["stalled"] & scores["tier"].isin(tiers)
    table = scores.loc[chosen, ["probability", "score", "tier"]].copy()
    table.insert(0, "age_days", ages.loc[chosen, "age_days"].round(1))
    if contract.time:
        table.insert(0, contract.time, frame.loc[chosen, contract.time])
    table.insert(0, "lead", lead_ids(frame, contract)[chosen])
    table["why it scores high"] = top_reasons(frame, contributions, table.index)
    return table.sort_values("probability", ascending=False)


def segment_fields(model: LeadModel) -> list[str]:
    """The categorical and yes/no fields the model reads: the ones to break conversion down by."""
    return [f.name for f in model.encoder.features if f.kind in ("categorical", "boolean")]


def leaky_field_status(
    model: LeadModel, frame: pd.DataFrame, leaky_columns: list[str]
) -> pd.DataFrame:
    """For each field named leaky: whether the export has it, how the model's contract treats
    it, and whether the model reads it (it must not)."""
    contract = model.contract
    rows = []
    for column in leaky_columns:
        if column == contract.loss_reason:
            role = "loss reason"
        elif column in contract.drop:
            role = "dropped"
        elif column in contract.excluded_columns:
            role = "excluded (id, target, time, value or PII)"
        else:
            role = "not excluded"
        rows.append(
            {
                "field": column,
                "in_export": column in frame.columns,
                "contract_role": role,
                "model_reads_it": column in model.encoder.feature_names,
            }
        )
    return pd.DataFrame(rows, columns=["field", "in_export", "contract_role", "model_reads_it"])


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
            _fold_scores(leads.frame, leads.y, kinds, variant, rows_, leaky_columns, seed)
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
    seed: int,
) -> dict[str, float]:
    train, test = fold
    encoder = LeadEncoder.fit(frame.iloc[train], kinds, contract.na_values)
    matrix = encoder.transform(frame)
    fitted = fit_booster(matrix[train], y[train], encoder, stratified_split(y[train], seed=seed))
    raw = fitted.booster.predict(matrix[test], raw_score=True)
    metrics = evaluate(y[test], fitted.calibrator.apply(raw))
    reliance = np.abs(fitted.booster.predict(matrix[test], pred_contrib=True)[:, :-1]).mean(axis=0)
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
