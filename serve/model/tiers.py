"""Tiers A-D: score cut-offs that tell sales which leads to call first, and the 0-100 score.
How the cut-offs are chosen is training's job (`train.tier_cutoffs`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

TIER_NAMES = ("A", "B", "C", "D")


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
