"""Train/evaluation splits that do not let the future leak into the past, and the folds a
model's early stopping, blending and calibration learn from."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedKFold, train_test_split

from features.contract import LeadContract
from features.errors import DataError
from features.labels import LabeledLeads

log = logging.getLogger(__name__)

FOLDS = 5
# Up to this many leads every lead is held out once (five folds); above it one slice of a fifth
# holds enough leads to stop and calibrate on, and five fits would cost too much.
CROSS_FIT_MAX_ROWS = 100_000


@dataclass(frozen=True)
class Split:
    """Row positions of each part; `by_time` says whether the order is chronological."""

    train: np.ndarray
    evaluate: np.ndarray
    by_time: bool


def lead_order(leads: LabeledLeads, contract: LeadContract) -> pd.Series | None:
    """When each lead came, as far as the export says: its created-at time, else its row in the
    file (`order = "file"`) or its id (`order = "id"`); None when nothing says."""
    if leads.created_at is not None:  # unknown times (see `parse_times`) count as the oldest
        return leads.created_at.fillna(leads.created_at.min())
    if contract.order == "file":
        return pd.Series(np.arange(len(leads.y)), index=leads.frame.index)
    if contract.order == "id" and contract.id:
        return id_order(leads.frame[contract.id])
    return None


def id_order(ids: pd.Series) -> pd.Series:
    """Ids as something that sorts the way they were handed out: numbers as numbers; text ids by
    the number they end with when all have one ('L-99' before 'L-100'); else as text."""
    numbers = pd.to_numeric(ids, errors="coerce")
    if numbers.notna().all():
        return numbers.astype(float)
    text = ids.astype(str)
    trailing = pd.to_numeric(text.str.extract(r"(\d+)\D*$")[0], errors="coerce")
    if trailing.notna().all():
        return trailing.astype(float)
    return text.rank(method="first")


def split_name(contract: LeadContract, split: Split) -> str:
    """How the evaluation leads were chosen: "time", "file order", "id order" or "stratified"."""
    if not split.by_time:
        return "stratified"
    return "time" if contract.time else f"{contract.order} order"


def split_rows(
    y: np.ndarray, order: pd.Series | None, evaluate_share: float = 0.2, seed: int = 0
) -> Split:
    """Oldest (1 - share) to train, newest share to evaluate; stratified when nothing orders
    the leads (`order`: created-at times, or any key that sorts the leads as they came)."""
    if order is not None:
        positions = np.argsort(order.to_numpy(), kind="stable")
        cut = int(round(len(y) * (1 - evaluate_share)))
        return Split(np.sort(positions[:cut]), np.sort(positions[cut:]), by_time=True)
    log.warning(
        "no created-at column in the contract: splitting at random (stratified), so the "
        "evaluation does not show how the model ages; give --time COLUMN if the export has one, "
        'or order = "file" (or "id") in the contract if its rows (ids) follow creation'
    )
    return stratified_split(y, evaluate_share, seed)


def check_both_outcomes(y: np.ndarray, split: Split, source: str) -> None:
    """A split by time whose training or evaluation part holds only won or only lost leads
    cannot train or judge a model: DataError naming the part and what to do."""
    for part, rows in (
        ("oldest 80 % (training)", split.train),
        ("newest 20 % (evaluation)", split.evaluate),
    ):
        won = int(y[rows].sum())
        if won in (0, len(rows)):
            missing = "won" if won == 0 else "lost"
            raise DataError(
                f"{source}: the {part} of the {len(y)} closed leads holds no {missing} leads, "
                f"so it cannot {'train' if rows is split.train else 'judge'} a model; check the "
                "outcomes of that period, or split at random by leaving out the created-at "
                "column (--time '') and the contract's order"
            )


def stratified_split(y: np.ndarray, evaluate_share: float = 0.2, seed: int = 0) -> Split:
    """A random split that keeps the share of won leads equal on both sides."""
    positions = np.arange(len(y))
    train, evaluate = train_test_split(
        positions, test_size=evaluate_share, stratify=y, random_state=seed
    )
    return Split(np.sort(train), np.sort(evaluate), by_time=False)


def validation_folds(
    y: np.ndarray, order: pd.Series | None, max_rows: int = CROSS_FIT_MAX_ROWS
) -> list[Split]:
    """The folds a model is checked on while it learns. Up to `max_rows` leads, five folds that
    hold every lead out once: consecutive stretches of time when the leads are ordered, random
    and stratified otherwise (or when one stretch holds every won or every lost lead, which
    would leave a fold nothing to learn that class from), so that no decision rests on one
    small slice. Above, one fold: the newest fifth (or a stratified fifth) held out."""
    if len(y) > max_rows:
        return [split_rows(y, order) if order is not None else stratified_split(y)]
    if order is None:
        splitter = StratifiedKFold(n_splits=FOLDS, shuffle=True, random_state=0)
        return [Split(fit, held, False) for fit, held in splitter.split(np.zeros(len(y)), y)]
    positions = np.argsort(order.to_numpy(), kind="stable")
    everything = np.arange(len(y))
    folds = [
        Split(np.setdiff1d(everything, block), np.sort(block), True)
        for block in np.array_split(positions, FOLDS)
    ]
    if all(len(np.unique(y[fold.train])) == 2 for fold in folds):
        return folds
    log.warning(
        "the won (or lost) leads are bunched in one stretch of time: checking on random, "
        "stratified folds instead of stretches of time"
    )
    return validation_folds(y, None, max_rows)
