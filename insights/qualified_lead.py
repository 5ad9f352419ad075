"""What a qualified lead is, as the serving model learnt it from what actually converted: the
fields it relies on, grouped into fit (who the lead is) and engagement (what the lead did), and
for each field the values that raise and lower a score most.

Read from the model's contributions over a sample of leads it scored (see `insights.reliance`):
a value's effect is the mean contribution (log-odds) of the field for the leads with that value.
Numbers are cut into ranges of about equally many leads.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from features.field_groups import ENGAGEMENT, FIT, field_groups
from insights.funnel import MISSING
from insights.reliance import category_effects, contribution_frame, dependence, global_importance
from serve.model.lead_model import LeadModel

RANGES = 4
VALUES_SHOWN = 2
MIN_LEADS_PER_VALUE = 20


@dataclass(frozen=True)
class ValueEffect:
    """Leads with this value (or in this range) and the field's mean contribution for them."""

    value: str
    leads: int
    effect: float


@dataclass(frozen=True)
class FieldReliance:
    """A field's share of everything that moves a score, and its strongest values each way."""

    field: str
    group: str
    share: float
    raises: list[ValueEffect]
    lowers: list[ValueEffect]


@dataclass(frozen=True)
class QualifiedLead:
    """The fields the model relies on, most first, over `leads` scored leads, and the share of
    fit and of engagement in all contributions."""

    leads: int
    fields: list[FieldReliance]
    group_shares: dict[str, float]


def qualified_lead(model: LeadModel, frame: pd.DataFrame) -> QualifiedLead:
    """The model's reliance over the leads of `frame` (fields as the API received them)."""
    frame = frame.reindex(columns=model.encoder.feature_names)
    if frame.empty:
        return QualifiedLead(0, [], {FIT: 0.0, ENGAGEMENT: 0.0})
    contributions = contribution_frame(model, frame)
    importance = global_importance(contributions).fillna(0.0)
    groups = field_groups(model.contract, model.encoder.feature_names)
    fields = []
    for name, row in importance.iterrows():
        field = str(name)
        effects = _value_effects(dependence(model, frame, contributions, field))
        fields.append(
            FieldReliance(
                field=field,
                group=groups[field],
                share=float(row["share"]),
                raises=[e for e in effects[:VALUES_SHOWN] if e.effect > 0],
                lowers=[e for e in effects[::-1][:VALUES_SHOWN] if e.effect < 0],
            )
        )
    shares = {
        group: sum(f.share for f in fields if f.group == group) for group in (FIT, ENGAGEMENT)
    }
    return QualifiedLead(len(frame), fields, shares)


def _value_effects(pairs: pd.DataFrame) -> list[ValueEffect]:
    """Mean contribution per value (per range for numbers), highest first; values held by fewer
    than MIN_LEADS_PER_VALUE leads are left out, too few to say."""
    values = pairs["value"]
    if pd.api.types.is_datetime64_any_dtype(values):
        values = values.dt.strftime("%Y-%m")
    elif pd.api.types.is_numeric_dtype(values):
        values = _ranges(values)
    labelled = pd.DataFrame(
        {"value": values.astype(object).where(values.notna(), MISSING).astype(str)}
    ).assign(contribution=pairs["contribution"])
    table = category_effects(labelled)
    table = table[table["leads"] >= MIN_LEADS_PER_VALUE]
    return [
        ValueEffect(str(value), int(row["leads"]), float(row["mean_contribution"]))
        for value, row in table.iterrows()
    ]


def _ranges(numbers: pd.Series) -> pd.Series:
    """'3 to 12'-like labels of about equally many leads each; few distinct values stay as
    they are."""
    known = numbers.dropna()
    if known.nunique() <= RANGES:
        return numbers.map(_number, na_action="ignore")
    cuts = pd.qcut(known, RANGES, duplicates="drop", retbins=True)[1]
    position = pd.cut(known, [float(c) for c in cuts], include_lowest=True, labels=False)
    low = known.groupby(position).min().map(_number)
    high = known.groupby(position).max().map(_number)
    names = {p: low[p] if low[p] == high[p] else f"{low[p]} to {high[p]}" for p in low.index}
    return position.map(names).reindex(numbers.index)


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() or abs(value) >= 100 else f"{value:.2f}"
