"""Tiers A-D: score cut-offs that tell sales which leads to call first.

The cut-offs come from shares of leads (A the top 10 %, B the next 20 %, C the next 30 % by
default), from explicit scores, or from sales capacity: how many leads sales can work a week,
against how many arrive a week, sets the share A holds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from features.errors import SettingError

TIER_NAMES = ("A", "B", "C", "D")
DEFAULT_TIER_SHARES = (0.10, 0.20, 0.30)  # A, B, C; D holds the rest
DAYS_PER_WEEK = 7


@dataclass(frozen=True)
class Tiers:
    """Minimum score of A, B and C (descending); anything lower is D."""

    cutoffs: tuple[int, int, int]

    def assign(self, scores: np.ndarray) -> np.ndarray:
        position = sum((scores < cut).astype(int) for cut in self.cutoffs)
        return np.array(TIER_NAMES, dtype=object)[position]

    def assign_one(self, score: int) -> str:
        for name, cut in zip(TIER_NAMES, self.cutoffs, strict=False):
            if score >= cut:
                return name
        return TIER_NAMES[-1]


def to_scores(probability: np.ndarray) -> np.ndarray:
    """Probability to the 0-100 score shown to sales."""
    return np.rint(np.asarray(probability) * 100).astype(int)


def tiers_from_shares(scores: np.ndarray, shares: tuple[float, ...] = DEFAULT_TIER_SHARES) -> Tiers:
    """Cut-offs so that A holds the top `shares[0]` of these scores, B the next, and so on."""
    tops = np.minimum(np.cumsum(shares), 1.0)
    cutoffs = [int(np.ceil(np.quantile(scores, 1 - top))) for top in tops]
    for i in range(1, len(cutoffs)):
        cutoffs[i] = min(cutoffs[i], cutoffs[i - 1] - 1)
    return Tiers(tuple(cutoffs))


def tiers_from_cutoffs(cutoffs: tuple[int, ...]) -> Tiers:
    """Explicit minimum scores of A, B and C, e.g. (70, 40, 20)."""
    if len(cutoffs) != 3 or not all(0 <= c <= 100 for c in cutoffs):
        raise SettingError(
            f"tier cut-offs {list(cutoffs)} must be three scores from 0 to 100 (A, B, C), "
            "e.g. --tier-cutoffs 70,40,20"
        )
    if not cutoffs[0] > cutoffs[1] > cutoffs[2]:
        raise SettingError(
            f"tier cut-offs {list(cutoffs)} must fall from A to C, e.g. --tier-cutoffs 70,40,20"
        )
    return Tiers((int(cutoffs[0]), int(cutoffs[1]), int(cutoffs[2])))


def weekly_lead_volume(created_at: pd.Series) -> float:
    """New leads per week over the time the export covers (all leads, open ones included)."""
    times = created_at.dropna()
    days = (times.max() - times.min()) / pd.Timedelta(days=1)
    return float(len(times) / max(days / DAYS_PER_WEEK, 1.0))


def tiers_from_capacity(scores: np.ndarray, capacity: int, weekly_volume: float) -> Tiers:
    """A holds as many leads as sales can work in a week; B and C the default shares after it."""
    if capacity <= 0:
        raise SettingError(f"--capacity {capacity}: give the leads sales can work per week (> 0)")
    share_a = min(capacity / weekly_volume, 1.0)
    return tiers_from_shares(scores, (share_a, *DEFAULT_TIER_SHARES[1:]))


def tier_table(y: np.ndarray, tiers: np.ndarray) -> list[dict]:
    """Per tier: leads, share of leads, conversions, conversion rate, share of all conversions."""
    y = np.asarray(y)
    total_won = max(int(y.sum()), 1)
    rows = []
    for name in TIER_NAMES:
        members = tiers == name
        leads, won = int(members.sum()), int(y[members].sum())
        rows.append(
            {
                "tier": name,
                "leads": leads,
                "share_of_leads": leads / len(y) if len(y) else 0.0,
                "conversions": won,
                "conversion_rate": won / leads if leads else 0.0,
                "share_of_conversions": won / total_won,
            }
        )
    return rows


def value_ranking(
    y: np.ndarray, probability: np.ndarray, value: np.ndarray, fill_value: float
) -> dict[str, float]:
    """What share of the won deal value the top 10 % of leads holds, ranked by expected value
    (probability x deal value; a missing value counts as `fill_value`) and by probability."""
    value = np.where(np.isnan(value), fill_value, value)
    won_value = np.where(np.asarray(y) == 1, value, 0.0)
    total = won_value.sum()
    top = max(1, int(round(len(y) * 0.1)))

    def share(ranking: np.ndarray) -> float:
        order = np.argsort(-ranking, kind="stable")[:top]
        return float(won_value[order].sum() / total) if total else 0.0

    return {
        "top_decile_won_value_share_by_expected_value": share(probability * value),
        "top_decile_won_value_share_by_probability": share(probability),
        "won_value": float(total),
    }
