"""What the model relies on, read from its contributions.

Each encoded column is exactly one input field, so every contribution (log-odds, before
calibration) belongs to one field of the lead; a lead's contributions plus the base value add up
to its raw score. Importance, dependence and per-lead explanations are all views of that one
table.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from insights.funnel import MISSING, segment_values
from serve.model.lead_model import LeadModel
from serve.model.reasons import Explanation
from serve.model.scorer import score_leads

BASE_VALUE = "(base value)"
BOOLEAN_LABELS = {0.0: "no", 1.0: "yes"}


def contribution_frame(model: LeadModel, frame: pd.DataFrame) -> pd.DataFrame:
    """One row per lead, one column per input field, plus the base value in the last column."""
    values = model.contributions(model.encoder.transform(frame))
    columns = [*model.encoder.feature_names, BASE_VALUE]
    return pd.DataFrame(values, index=frame.index, columns=columns)


def global_importance(contributions: pd.DataFrame) -> pd.DataFrame:
    """Mean absolute contribution of each field and its share of the total, largest first."""
    mean_abs = contributions.drop(columns=BASE_VALUE).abs().mean()
    table = pd.DataFrame({"mean_abs_contribution": mean_abs, "share": mean_abs / mean_abs.sum()})
    return table.rename_axis("field").sort_values("mean_abs_contribution", ascending=False)


def model_view(model: LeadModel, frame: pd.DataFrame, field: str) -> pd.Series:
    """A field's values as the model reads them: categories too rare to learn from become
    'other', missing values are named, yes/no stay words, numbers stay numbers."""
    position = model.encoder.feature_names.index(field)
    feature = model.encoder.features[position]
    codes = pd.Series(model.encoder.transform(frame[[field]])[:, position], index=frame.index)
    if feature.kind == "categorical":
        return codes.map(lambda code: feature.category_label(code) or MISSING)
    if feature.kind == "boolean":
        return codes.map(BOOLEAN_LABELS).fillna(MISSING)
    if feature.kind == "datetime":
        return pd.to_datetime(codes, unit="D")
    return codes


def dependence(
    model: LeadModel, frame: pd.DataFrame, contributions: pd.DataFrame, field: str
) -> pd.DataFrame:
    """Per lead: the field's value as the model reads it and that field's contribution."""
    return pd.DataFrame(
        {"value": model_view(model, frame, field), "contribution": contributions[field]}
    )


def category_effects(pairs: pd.DataFrame) -> pd.DataFrame:
    """For a field read as categories: leads and mean contribution of each value, highest first."""
    grouped = pairs.groupby("value")["contribution"]
    table = pd.DataFrame({"leads": grouped.size(), "mean_contribution": grouped.mean()})
    return table.sort_values("mean_contribution", ascending=False)


def explain_lead(model: LeadModel, frame: pd.DataFrame, lead: object) -> pd.DataFrame:
    """One lead field by field: its value and how far it moved the score (log-odds), largest
    first; the base value is the last row, so the column adds up to the lead's raw score. The
    same explanation the API gives, every field shown."""
    row = frame.loc[[lead]]
    explanation = _explanations(model, row)[0]
    values = [segment_values(row[field]).iloc[0] for field in explanation.fields]
    table = pd.DataFrame(
        {"field": explanation.fields, "value": values, "contribution": explanation.field_effects}
    )
    table = table.sort_values("contribution", key=np.abs, ascending=False, ignore_index=True)
    base = pd.DataFrame(
        {"field": [BASE_VALUE], "value": [""], "contribution": [explanation.base_value]}
    )
    return pd.concat([table, base], ignore_index=True)


def top_reasons(model: LeadModel, frame: pd.DataFrame, count: int = 3) -> pd.Series:
    """For each lead, the API's reasons that raise its score, as 'field = value (+0.42)'."""
    reasons = [
        "; ".join(
            f"{reason.field} = {MISSING if reason.value is None else reason.value} "
            f"({reason.effect:+.2f})"
            for reason in explanation.reasons[:count]
            if reason.effect > 0
        )
        for explanation in _explanations(model, frame)
    ]
    return pd.Series(reasons, index=frame.index, dtype=object, name="why it scores high")


def _explanations(model: LeadModel, frame: pd.DataFrame) -> list[Explanation]:
    explanations = score_leads(model, frame, reasons=True, unreadable="missing").explanations
    assert explanations is not None  # asked for
    return explanations
