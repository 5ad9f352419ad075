"""Scoring a request's leads with one model: probabilities, scores, tiers, expected values,
reasons and ranks, computed once for both the JSON and the CSV answer."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from serve.model.deal_value import deal_values, has_deal_value
from serve.model.lead_model import LeadModel
from serve.model.reasons import Explanation, explain
from serve.model.tiers import to_scores

SORT_KEYS = ("probability", "expected_value")


@dataclass
class ScoredLeads:
    lead_ids: list[str | None]
    probability: np.ndarray
    score: np.ndarray
    tier: list[str]
    expected_value: np.ndarray | None
    explanations: list[Explanation] | None
    order: list[int]
    ranked: bool


def score_leads(
    model: LeadModel,
    records: Sequence[Mapping[str, Any]],
    with_reasons: bool,
    sort: str | None = None,
) -> ScoredLeads:
    """Raises InvalidLeadsError naming each lead and field that cannot be read."""
    matrix = model.encoder.encode_records(records)
    values = deal_values(model, records) if has_deal_value(model) else None
    probability = model.probabilities(matrix)
    score = to_scores(probability)
    expected = None if values is None else probability * values
    ranked = sort is not None
    order = list(range(len(records)))
    if ranked:
        key = probability if sort == "probability" else np.nan_to_num(expected, nan=-1.0)
        order = np.argsort(-key, kind="stable").tolist()
    return ScoredLeads(
        lead_ids=[model.lead_id(record) for record in records],
        probability=probability,
        score=score,
        tier=[model.tiers.assign_one(s) for s in score.tolist()],
        expected_value=expected,
        explanations=explain(model, records, matrix) if with_reasons else None,
        order=order,
        ranked=ranked,
    )
