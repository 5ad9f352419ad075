"""Checking an export against the contract and splitting it into won, lost and open leads."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from features.contract import LeadContract
from features.errors import DataError
from features.values import canonical_text_series, parse_datetimes

MIN_LABELED_LEADS = 100
MIN_LEADS_PER_CLASS = 10
MAX_BAD_TIMES_SHARE = 0.05
WON, LOST, OPEN = "won", "lost", "open"


@dataclass(frozen=True)
class LabeledLeads:
    """The leads with a known outcome (y: 1 won, 0 lost), their created-at times, and the count
    of open leads left out of training."""

    frame: pd.DataFrame
    y: np.ndarray
    created_at: pd.Series | None
    n_open: int


def check_columns(frame: pd.DataFrame, contract: LeadContract, source: str) -> None:
    """Every column the contract names must be in the export."""
    for role, columns in contract.columns_by_role().items():
        for column in columns:
            if column not in frame.columns:
                raise DataError(
                    f"{source}: {role} column '{column}' is not in the file; the columns are: "
                    f"{', '.join(map(str, frame.columns))}"
                )


def split_labeled(frame: pd.DataFrame, contract: LeadContract, source: str) -> LabeledLeads:
    """Keep won and lost leads for training; open leads are counted and set aside."""
    outcome = outcome_per_row(frame, contract, source)
    labeled = outcome.notna().to_numpy()
    y = outcome[labeled].astype(int).to_numpy()
    _check_classes(y, source, contract)
    kept = frame.loc[labeled]
    created_at = parse_times(kept, contract.time, source) if contract.time else None
    return LabeledLeads(kept, y, created_at, n_open=int((~labeled).sum()))


def outcome_per_row(frame: pd.DataFrame, contract: LeadContract, source: str) -> pd.Series:
    """1.0 for a won lead, 0.0 for a lost one, NaN for an open one; unknown labels are an error."""
    contract.require_training_roles()
    check_columns(frame, contract, source)
    return _outcome_of_labels(canonical_text_series(frame[contract.target]), contract, source)


def outcome_names(frame: pd.DataFrame, contract: LeadContract, source: str) -> pd.Series:
    """'won', 'lost' or 'open' for every lead, the words reports use."""
    outcome = outcome_per_row(frame, contract, source)
    names = np.select([outcome == 1, outcome == 0], [WON, LOST], OPEN)
    return pd.Series(names, index=frame.index, name="outcome", dtype=object)


def _outcome_of_labels(labels: pd.Series, contract: LeadContract, source: str) -> pd.Series:
    positive, negative, open_ = set(contract.positive), set(contract.negative), set(contract.open)
    known = positive | negative | open_
    if negative:
        unknown = labels[labels.notna() & ~labels.isin(known)]
        if len(unknown):
            counts = ", ".join(f"'{k}' ({v})" for k, v in unknown.value_counts().items())
            raise DataError(
                f"{source}: column '{contract.target}' has labels that are neither positive "
                f"nor negative: {counts}; add them with --negative, --positive or --open"
            )
    outcome = pd.Series(np.nan, index=labels.index)
    outcome[labels.isin(positive)] = 1.0
    is_negative = labels.isin(negative) if negative else labels.notna() & ~labels.isin(known)
    outcome[is_negative] = 0.0
    return outcome


def _check_classes(y: np.ndarray, source: str, contract: LeadContract) -> None:
    won, lost = int(y.sum()), int(len(y) - y.sum())
    if won == 0 or lost == 0:
        raise DataError(
            f"{source}: only one class present ({won} won, {lost} lost in column "
            f"'{contract.target}' with positive labels {list(contract.positive)}); "
            "a model needs both won and lost leads: check --positive and --negative"
        )
    if len(y) < MIN_LABELED_LEADS or min(won, lost) < MIN_LEADS_PER_CLASS:
        raise DataError(
            f"{source}: too few leads to learn from ({won} won, {lost} lost); need at least "
            f"{MIN_LABELED_LEADS} won and lost leads with at least {MIN_LEADS_PER_CLASS} of each"
        )


def parse_times(frame: pd.DataFrame, column: str, source: str) -> pd.Series:
    """Created-at in any common date format; too many unreadable dates is an error."""
    raw = frame[column]
    parsed = parse_datetimes(raw).dt.tz_localize(None)
    bad = parsed.isna() & raw.notna()
    if bad.mean() > MAX_BAD_TIMES_SHARE:
        examples = ", ".join(f"row {i + 1}: {raw[i]!r}" for i in bad[bad].index[:5])
        raise DataError(
            f"{source}: time column '{column}' has {int(bad.sum())} values that are not dates "
            f"({examples}); fix them or give another --time column"
        )
    return parsed
