"""Checking an export against the contract and splitting it into won, lost and open leads."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from features.contract import LeadContract, label_set
from features.errors import DataError
from features.values import canonical_text, canonical_text_series, parse_datetimes

log = logging.getLogger(__name__)

MIN_LABELED_LEADS = 100
MIN_LEADS_PER_CLASS = 10
MAX_BAD_TIMES_SHARE = 0.05
# A created-at further ahead than this is a placeholder ('2099-12-31', '9999-01-01'), not a clock
# or a time zone set wrong, nor a test export dated ahead on purpose.
PLACEHOLDER_AHEAD = pd.DateOffset(years=5)
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
    """Labels are compared without regard to case ('True', 'true' and a boolean column's True
    are one label); unknown ones are named as the file spells them."""
    positive, negative = label_set(contract.positive), label_set(contract.negative)
    known = positive | negative | label_set(contract.open)
    folded = labels.str.casefold()
    if negative:
        unknown = labels[folded.notna() & ~folded.isin(known)]
        if len(unknown):
            counts = ", ".join(f"'{k}' ({v})" for k, v in unknown.value_counts().items())
            raise DataError(
                f"{source}: column '{contract.target}' has labels that are neither positive "
                f"nor negative: {counts}; add them with --negative, --positive or --open"
            )
    outcome = pd.Series(np.nan, index=labels.index)
    outcome[folded.isin(positive)] = 1.0
    is_negative = folded.isin(negative) if negative else folded.notna() & ~folded.isin(known)
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
    """Created-at in any common date format. Empty and unreadable values, and placeholders
    (dates more than PLACEHOLDER_AHEAD ahead, such as 2099-12-31), are unknown times (NaT),
    counted in a warning; more than MAX_BAD_TIMES_SHARE of values that are not dates, or no
    date at all, is an error."""
    raw = frame[column]
    parsed = parse_datetimes(raw).dt.tz_localize(None)
    unreadable = parsed.isna() & raw.notna()
    future = parsed > pd.Timestamp.now(tz="UTC").tz_localize(None) + PLACEHOLDER_AHEAD
    bad = unreadable | future
    if bad.mean() > MAX_BAD_TIMES_SHARE:
        raise DataError(
            f"{source}: time column '{column}' has {int(bad.sum())} values that are not dates "
            f"or are placeholders far ahead ({_examples(raw, bad)}){_numbers_hint(raw[bad])}; "
            "fix them or give another --time column"
        )
    times = parsed.mask(future)
    unknown = times.isna()
    if unknown.all():
        raise DataError(
            f"{source}: time column '{column}' holds no date in any lead; fill it in or give "
            "another --time column"
        )
    if unknown.any():
        log.warning(
            "%s: %d leads have no created-at time in '%s' that can be used (%d empty, %d not "
            "dates, %d more than five years ahead%s): they count as the oldest leads, never as "
            "the newest ones the model is evaluated on",
            source,
            int(unknown.sum()),
            column,
            int(raw.isna().sum()),
            int(unreadable.sum()),
            int(future.sum()),
            f"; {_examples(raw, bad)}" if bad.any() else "",
        )
    known = times.dropna()
    if len(known) > 1 and known.nunique() == 1:
        log.warning(
            "%s: every lead has the same created-at time in '%s' (%s): the split by time "
            "follows the rows' order; give the column that says when each lead came",
            source,
            column,
            known.iloc[0].isoformat(),
        )
    return times


def _examples(raw: pd.Series, bad: pd.Series) -> str:
    """Up to five of the bad values, as the file spells them, with their rows (counted from 1
    after the header)."""
    rows = bad.index[bad.to_numpy()][:5]
    return ", ".join(f"row {i + 1}: {canonical_text(raw[i])!r}" for i in rows)


def _numbers_hint(values: pd.Series) -> str:
    """When the bad values are all numbers: they may be Unix timestamps, which are ambiguous."""
    numeric = pd.to_numeric(values, errors="coerce").notna().all()
    if not numeric:
        return ""
    return (
        "; numbers are not read as dates (a Unix timestamp may count seconds or milliseconds): "
        "export the dates as text, e.g. 2024-05-01 or 2024-05-01T09:30:00Z"
    )
