"""Train/evaluation splits that do not let the future leak into the past."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Split:
    """Row positions of each part; `by_time` says whether the order is chronological."""

    train: np.ndarray
    evaluate: np.ndarray
    by_time: bool


def split_rows(
    y: np.ndarray, created_at: pd.Series | None, evaluate_share: float = 0.2, seed: int = 0
) -> Split:
    """Oldest (1 - share) to train, newest share to evaluate; stratified when there is no time."""
    if created_at is not None:
        order = np.argsort(created_at.to_numpy(), kind="stable")
        cut = int(round(len(y) * (1 - evaluate_share)))
        return Split(order[:cut], order[cut:], by_time=True)
    log.warning(
        "no created-at column in the contract: splitting at random (stratified), so the "
        "evaluation does not show how the model ages; give --time COLUMN if the export has one"
    )
    return stratified_split(y, evaluate_share, seed)


def stratified_split(y: np.ndarray, evaluate_share: float = 0.2, seed: int = 0) -> Split:
    """A random split that keeps the share of won leads equal on both sides."""
    positions = np.arange(len(y))
    train, evaluate = train_test_split(
        positions, test_size=evaluate_share, stratify=y, random_state=seed
    )
    return Split(np.sort(train), np.sort(evaluate), by_time=False)
