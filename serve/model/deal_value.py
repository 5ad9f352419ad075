"""Deal values: what a won lead is worth, so leads can be ranked by expected value.

A lead's own deal value (the contract's `value` field, when the CRM sends it) wins; otherwise the
model's default, the median deal value of the won leads it was trained on.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from features.errors import FieldValueError, InvalidLeadsError
from features.values import canonical_text
from serve.model.lead_model import LeadModel

DEFAULT_KEY = "default_deal_value"


def has_deal_value(model: LeadModel) -> bool:
    """The model knows deal values when its contract names a value field."""
    return model.contract.value is not None


def deal_values(model: LeadModel, given: Sequence[Any], refuse: bool = True) -> np.ndarray:
    """Each lead's deal value: the one it was given (None: not given), else the model's
    default; NaN when neither exists. A given value that is not a number of 0 or more is
    reported per lead, like any other wrong field, or with `refuse=False` counts as not given."""
    field = model.contract.value or "deal value"
    default = model.metadata.get(DEFAULT_KEY)
    values = np.full(len(given), math.nan if default is None else float(default))
    problems: list[tuple[int, FieldValueError]] = []
    for i, value in enumerate(given):
        text = canonical_text(value)
        if text is None or text in model.encoder.na_values:
            continue
        try:
            number = float(text)
        except ValueError:
            problems.append((i, FieldValueError(field, value, "a number")))
            continue
        if math.isfinite(number) and number >= 0:
            values[i] = number
        else:
            problems.append((i, FieldValueError(field, value, "a number of 0 or more")))
    if problems and refuse:
        raise InvalidLeadsError(problems)
    return values
