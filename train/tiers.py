"""Tiers A-D: score cut-offs that tell sales which leads to call first."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

TIER_NAMES = ("A", "B", "C", "D")
DEFAULT_TIER_SHARES = (0.10, 0.20, 0.30)  # A, B, C; D holds the rest


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
    tops = np.cumsum(shares)
    cutoffs = [int(np.ceil(np.quantile(scores, 1 - top))) for top in tops]
    for i in range(1, len(cutoffs)):
        cutoffs[i] = min(cutoffs[i], cutoffs[i - 1] - 1)
    return Tiers(tuple(cutoffs))
