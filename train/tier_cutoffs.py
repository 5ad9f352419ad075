"""Choosing the tier cut-offs: from shares of leads (A the top 10 %, B the next 20 %, C the next
30 % by default), from explicit scores, or from sales capacity: how many leads sales can work a
week, against how many arrive a week, sets the share A holds.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from features.errors import SettingError
from serve.model.tiers import Tiers

log = logging.getLogger(__name__)

DEFAULT_TIER_SHARES = (0.10, 0.20, 0.30)  # A, B, C; D holds the rest
DAYS_PER_WEEK = 7


def tiers_from_shares(
    scores: np.ndarray, shares: tuple[float, float, float] = DEFAULT_TIER_SHARES
) -> Tiers:
    """Cut-offs so that A holds the top `shares[0]` of these scores, B the next, and so on."""
    tops = np.minimum(np.cumsum(shares), 1.0)
    cutoffs = [int(np.ceil(np.quantile(scores, 1 - top))) for top in tops]
    for i in range(1, len(cutoffs)):
        cutoffs[i] = min(cutoffs[i], cutoffs[i - 1] - 1)
    return Tiers((cutoffs[0], cutoffs[1], cutoffs[2]))


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


def warn_of_capacity_beyond_volume(capacity: int, weekly_volume: float) -> None:
    """Said once per training, where the capacity is read (both fits set tiers from it)."""
    if capacity >= weekly_volume:
        log.warning(
            "--capacity %d is at least the %.0f new leads a week: every lead is tier A, so the "
            "tiers say nothing about which to call first; give the capacity sales really has",
            capacity,
            weekly_volume,
        )


def tiers_from_capacity(scores: np.ndarray, capacity: int, weekly_volume: float) -> Tiers:
    """A holds as many leads as sales can work in a week; B and C the default shares after it."""
    if capacity <= 0:
        raise SettingError(f"--capacity {capacity}: give the leads sales can work per week (> 0)")
    share_a = min(capacity / weekly_volume, 1.0)
    return tiers_from_shares(scores, (share_a, *DEFAULT_TIER_SHARES[1:]))
