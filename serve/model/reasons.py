"""Why a lead scored as it did, in the terms of the fields the CRM sent: the reasons the API
returns with each score.

The model's learner splits each lead's raw score (log-odds, before calibration) exactly into
one additive effect per encoded column plus a base value: LightGBM's exact contributions, the
logistic regression's per-field terms, or the same blend of both (see `serve.model.learners`).
The encoder maps every input field to exactly one column, so each effect belongs to one field.
The strongest few raising and lowering effects become the reasons shown to the sales rep.
Nothing here depends on the API, so a notebook can call it on any encoded leads.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from serve.model.lead_model import LeadModel

TOP_REASONS = 3


class Reason(NamedTuple):
    """One field's effect on one lead's score; `effect` is in log-odds, positive raises it."""

    field: str
    value: Any
    effect: float

    @property
    def text(self) -> str:
        shown = "is missing" if self.value is None else f"= {self.value}"
        direction = "raises" if self.effect > 0 else "lowers"
        return f"{self.field} {shown} {direction} the score"

    def to_dict(self) -> dict[str, Any]:
        return {"field": self.field, "value": self.value, "effect": self.effect, "text": self.text}


@dataclass(frozen=True, slots=True)
class Explanation:
    """All field effects of one lead, and its strongest reasons: raising first, then lowering,
    each strongest first. `base_value` plus every effect is the learner's raw score."""

    base_value: float
    fields: Sequence[str]
    field_effects: Sequence[float]
    reasons: list[Reason]

    @property
    def effects(self) -> dict[str, float]:
        return dict(zip(self.fields, self.field_effects, strict=True))

    @property
    def raw_score(self) -> float:
        return self.base_value + sum(self.field_effects)


def explain(
    model: LeadModel,
    records: Sequence[Mapping[str, Any]],
    matrix: np.ndarray,
    top: int = TOP_REASONS,
) -> list[Explanation]:
    """Explain leads already encoded into `matrix` (one row per record, encoder order)."""
    contributions = model.contributions(matrix)
    names = model.encoder.feature_names
    order = np.argsort(contributions[:, :-1], axis=1, kind="stable")
    explanations = []
    for record, row, ranked in zip(records, contributions.tolist(), order.tolist(), strict=True):
        raising = [j for j in reversed(ranked[-top:]) if row[j] > 0]
        lowering = [j for j in ranked[:top] if row[j] < 0]
        reasons = [Reason(names[j], _value(record, names[j]), row[j]) for j in raising + lowering]
        explanations.append(Explanation(row[-1], names, row[:-1], reasons))
    return explanations


def _value(record: Mapping[str, Any], name: str) -> Any:
    """The field's value as sent; a float NaN (a missing cell of a DataFrame) is missing."""
    value = record.get(name)
    return None if isinstance(value, float) and math.isnan(value) else value
