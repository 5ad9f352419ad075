"""What the ranking is worth on the evaluation leads: conversion per tier, and how much of the won
deal value the top of the list holds."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from serve.model.tiers import TIER_NAMES


@dataclass(frozen=True)
class TierRow:
    """How one tier did on the evaluation leads."""

    tier: str
    leads: int
    share_of_leads: float
    conversions: int
    conversion_rate: float
    share_of_conversions: float

    def to_dict(self) -> dict[str, str | int | float]:
        return asdict(self)


@dataclass(frozen=True)
class ValueRanking:
    """The share of the won deal value the top 10 % of leads holds, ranked two ways."""

    top_decile_won_value_share_by_expected_value: float
    top_decile_won_value_share_by_probability: float
    won_value: float

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


def tier_table(y: np.ndarray, tiers: np.ndarray) -> list[TierRow]:
    """Per tier: leads, share of leads, conversions, conversion rate, share of all conversions."""
    y = np.asarray(y)
    total_won = max(int(y.sum()), 1)
    rows = []
    for name in TIER_NAMES:
        members = tiers == name
        leads, won = int(members.sum()), int(y[members].sum())
        rows.append(
            TierRow(
                tier=name,
                leads=leads,
                share_of_leads=leads / len(y) if len(y) else 0.0,
                conversions=won,
                conversion_rate=won / leads if leads else 0.0,
                share_of_conversions=won / total_won,
            )
        )
    return rows


def value_ranking(
    y: np.ndarray, probability: np.ndarray, value: np.ndarray, fill_value: float
) -> ValueRanking:
    """What share of the won deal value the top 10 % of leads holds, ranked by expected value
    (probability x deal value; a missing value counts as `fill_value`) and by probability."""
    value = np.where(np.isnan(value), fill_value, value)
    won_value = np.where(np.asarray(y) == 1, value, 0.0)
    total = won_value.sum()
    top = max(1, int(round(len(y) * 0.1)))

    def share(ranking: np.ndarray) -> float:
        order = np.argsort(-ranking, kind="stable")[:top]
        return float(won_value[order].sum() / total) if total else 0.0

    return ValueRanking(
        top_decile_won_value_share_by_expected_value=share(probability * value),
        top_decile_won_value_share_by_probability=share(probability),
        won_value=float(total),
    )
