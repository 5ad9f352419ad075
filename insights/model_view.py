"""A trained model held against an export: how its tiers and probabilities hold up per segment,
which stalled leads it rates high, and how it treats the fields named leaky. DataFrames in,
DataFrames out. (Which leads it was judged on, and a refit with the leaky fields, are
training's: `train.evaluate.held_out`, `train.evaluate.leakage`.)"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from features.contract import LeadContract
from features.labels import LOST, WON
from features.reading import file_sha256
from insights.funnel import conversion_table, lead_ids, segments_of
from insights.reliance import top_reasons
from serve.model.lead_model import LeadModel
from serve.model.tiers import TIER_NAMES

HIGH_TIERS = ("A", "B")
EXAMPLES = ("won", "lost, high score", "lost, low score")
WITHOUT_LEAKY, WITH_LEAKY = "without the leaky fields", "with the leaky fields"


def is_training_export(model: LeadModel, data_path: Path) -> bool:
    """Whether this file is byte for byte the one the model was trained on."""
    return model.metadata.get("data_sha256") == file_sha256(Path(data_path))


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
    model: LeadModel,
    frame: pd.DataFrame,
    contract: LeadContract,
    scores: pd.DataFrame,
    ages: pd.DataFrame,
    tiers: tuple[str, ...] = HIGH_TIERS,
) -> pd.DataFrame:
    """Stalled open leads in the high tiers, best first: the ones to hand back to marketing for
    nurturing, with their id, age, score and the fields that make them score high. `contract`
    is the export's (it names the id and created-at columns)."""
    chosen = ages["stalled"] & scores["tier"].isin(tiers)
    table = scores.loc[chosen, ["probability", "score", "tier"]].copy()
    table.insert(0, "age_days", ages.loc[chosen, "age_days"].round(1))
    if contract.time:
        table.insert(0, contract.time, frame.loc[chosen, contract.time])
    table.insert(0, "lead", lead_ids(frame, contract)[chosen])
    table["why it scores high"] = top_reasons(model, frame.loc[chosen])
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
