"""The one way leads are scored: probability, 0-100 score, tier, expected value and, on demand,
the reasons. The API, `leadscore score`, Spark (through the pyfunc) and the pyfunc all call
`score_leads`, so a lead gets the same answer whichever way it arrives.

JSON leads (a list of dicts) take the encoder's per-record fast path; a DataFrame is encoded
column by column. Both refuse a value the model cannot read (`InvalidLeadsError`, naming the
lead and the field), unless `unreadable="missing"` asks to score such values as missing, which
batch scoring of exports does, as training did.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, cast

import numpy as np
import pandas as pd

from features.errors import InvalidLeadsError
from serve.model.deal_value import deal_values
from serve.model.lead_model import LeadModel
from serve.model.reasons import Explanation, explain
from serve.model.tiers import to_scores

log = logging.getLogger(__name__)

Leads = Sequence[Mapping[str, Any]] | pd.DataFrame
Unreadable = Literal["refuse", "missing"]
# The columns a scored file or DataFrame gets (`ScoredLeads.columns`); a scored file's own are
# replaced when it is scored again.
SCORE_COLUMNS = ("probability", "score", "tier", "expected_value")


@dataclass(frozen=True)
class ScoredLeads:
    """One entry per lead, in input order. `expected_value` is None for a model that knows no
    deal values (NaN for a lead with neither its own value nor a default); `explanations` is
    None unless reasons were asked for."""

    lead_ids: list[str | None]
    probability: np.ndarray
    score: np.ndarray
    tier: list[str]
    expected_value: np.ndarray | None
    explanations: list[Explanation] | None

    def __len__(self) -> int:
        return len(self.lead_ids)

    def columns(self) -> dict[str, np.ndarray]:
        """The columns a scored file or DataFrame gets: probability, score, tier and, for a
        model that knows deal values, expected_value."""
        columns = {
            "probability": self.probability,
            "score": self.score,
            "tier": np.asarray(self.tier, dtype=object),
        }
        if self.expected_value is not None:
            columns["expected_value"] = self.expected_value
        return columns

    def to_frame(self, index: pd.Index | None = None) -> pd.DataFrame:
        """The score columns as a DataFrame, on the leads' index when given."""
        return pd.DataFrame(self.columns(), index=index)


def score_leads(
    model: LeadModel,
    leads: Leads,
    *,
    reasons: bool = False,
    unreadable: Unreadable = "refuse",
) -> ScoredLeads:
    """Score leads given as JSON records or as a DataFrame (columns the model does not read are
    ignored; absent fields are missing)."""
    if isinstance(leads, pd.DataFrame):
        matrix = _encode_frame(model, leads, unreadable)
        value_column = model.contract.value
        values: pd.Series | list[Any] = leads[value_column] if value_column in leads.columns else []
        ids = _column(leads, model.contract.id)
    else:
        matrix = model.encoder.encode_records(leads)
        values = [lead.get(model.contract.value) for lead in leads] if model.contract.value else []
        ids = [lead.get(model.contract.id) for lead in leads] if model.contract.id else []
    probability = model.probabilities(matrix)
    score = to_scores(probability)
    expected = None
    if model.contract.value is not None:
        given = values if len(values) else [None] * len(probability)
        expected = probability * deal_values(model, given, refuse=unreadable == "refuse")
    return ScoredLeads(
        lead_ids=[None if v is None else str(v) for v in ids] or [None] * len(probability),
        probability=probability,
        score=score,
        tier=model.tiers.assign(score).tolist(),
        expected_value=expected,
        explanations=explain(model, _records(leads, model), matrix) if reasons else None,
    )


def _encode_frame(model: LeadModel, frame: pd.DataFrame, unreadable: Unreadable) -> np.ndarray:
    matrix = model.encoder.transform(frame)
    problems = model.encoder.unreadable_values(frame, matrix)
    if problems and unreadable == "refuse":
        raise InvalidLeadsError(problems)
    if problems:
        warn_of_unreadable_values(len(problems), {problem.field for _, problem in problems})
    return matrix


def warn_of_unreadable_values(count: int, fields: Collection[str]) -> None:
    log.warning(
        "%d values could not be read and were scored as missing (fields: %s)",
        count,
        ", ".join(sorted(fields)),
    )


def _column(frame: pd.DataFrame, name: str | None) -> list[Any]:
    """A column's values with missing ones as None; empty when the column is absent."""
    if name is None or name not in frame.columns:
        return []
    column = frame[name]
    return [
        None if missing else value for value, missing in zip(column, column.isna(), strict=True)
    ]


def _records(leads: Leads, model: LeadModel) -> Sequence[Mapping[str, Any]]:
    """The leads as records, for the reasons to quote each field's value."""
    if not isinstance(leads, pd.DataFrame):
        return leads
    fields = [name for name in model.encoder.feature_names if name in leads.columns]
    records = leads[fields].astype(object).where(leads[fields].notna(), None).to_dict("records")
    # pandas-stubs key records by Hashable; these keys are the encoder's field names.
    return cast(list[dict[str, Any]], records)
