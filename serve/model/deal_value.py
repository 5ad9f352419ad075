"""Deal values: what a won lead is worth, so leads can be ranked by expected value.

A lead's own deal value (the contract's `value` field, when the CRM sends it) wins; otherwise the
model's default, the median deal value of the won leads it was trained on.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Collection, Sequence
from typing import Any

import numpy as np
import pandas as pd

from features.encoder import is_plain_numeric
from features.errors import FieldValueError, InvalidLeadsError
from features.values import canonical_text
from serve.model.lead_model import LeadModel

log = logging.getLogger(__name__)

DEFAULT_KEY = "default_deal_value"
# A deal value above a trillion is a typo or a test value; unused, revenue sums stay finite.
MAX_DEAL_VALUE = 1e12
_USABLE = "a number from 0 to a trillion"


def has_deal_value(model: LeadModel) -> bool:
    """The model knows deal values when its contract names a value field."""
    return model.contract.value is not None


def deal_values(
    model: LeadModel, given: Sequence[Any] | pd.Series, refuse: bool = True
) -> np.ndarray:
    """Each lead's deal value: the one it was given (None or NaN: not given), else the model's
    default; NaN when neither exists. A given value that is not a number from 0 to a trillion is
    reported per lead, like any other wrong field, or with `refuse=False` counts as not given.
    A column of numbers is read in one pass (a file of a million leads)."""
    field = model.contract.value or "deal value"
    default = model.metadata.get(DEFAULT_KEY)
    values = np.full(len(given), math.nan if default is None else float(default))
    if isinstance(given, pd.Series) and is_plain_numeric(given):
        problems = _read_numbers(given, values, field, model.encoder.na_values)
    else:
        problems = _read_values(_as_values(given), values, field, model.encoder.na_values)
    if problems and refuse:
        raise InvalidLeadsError(problems)
    if problems:
        warn_of_unusable_deal_values(len(problems), field)
    return values


def warn_of_unusable_deal_values(count: int, field: str) -> None:
    log.warning(
        "%d values of %s are not numbers from 0 to a trillion; those leads got the default "
        "deal value",
        count,
        field,
    )


def _read_numbers(
    given: pd.Series, values: np.ndarray, field: str, na_values: Collection[str]
) -> list[tuple[int, FieldValueError]]:
    numbers = given.to_numpy(dtype=float, na_value=math.nan)
    not_given = np.isnan(numbers) | np.isin(numbers, _numbers_among(na_values))
    readable = np.isfinite(numbers) & (numbers >= 0) & (numbers <= MAX_DEAL_VALUE)
    values[readable & ~not_given] = numbers[readable & ~not_given]
    wrong = np.flatnonzero(~readable & ~not_given)
    return [(int(i), FieldValueError(field, given.iloc[i], _USABLE)) for i in wrong]


def _read_values(
    given: Sequence[Any], values: np.ndarray, field: str, na_values: Collection[str]
) -> list[tuple[int, FieldValueError]]:
    problems: list[tuple[int, FieldValueError]] = []
    for i, value in enumerate(given):
        text = canonical_text(value)
        if text is None or text in na_values:
            continue
        try:
            number = float(text)
        except ValueError:
            problems.append((i, FieldValueError(field, value, "a number")))
            continue
        if math.isfinite(number) and 0 <= number <= MAX_DEAL_VALUE:
            values[i] = number
        else:
            problems.append((i, FieldValueError(field, value, _USABLE)))
    return problems


def _as_values(given: Sequence[Any] | pd.Series) -> Sequence[Any]:
    """A column's values with its missing ones (NaN, pd.NA, NaT) as None."""
    if not isinstance(given, pd.Series):
        return given
    return given.astype(object).where(given.notna(), None).tolist()


def _numbers_among(na_values: Collection[str]) -> list[float]:
    """The missing-value spellings that are numbers (such as "-1"), as numbers."""
    numbers = []
    for text in na_values:
        try:
            numbers.append(float(text))
        except ValueError:
            continue
    return numbers
