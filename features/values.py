"""One spelling for every raw value, so a CSV cell and a JSON field mean the same thing.

`1`, `1.0` and `" 1 "` all become the text `"1"`; missing values stay missing. Labels and
categories are compared in this form, in training and in serving alike.

Columns of leads repeat a few values many times, so the column helpers convert each distinct
value once and spread the results back with integer codes.
"""

from __future__ import annotations

import logging
import math
import re

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)

# Object columns whose distinct values can be grouped before converting them: in a column that
# mixes booleans with numbers, True and 1 are equal in Python yet spelled differently here.
_GROUPABLE_OBJECT_COLUMNS = frozenset(
    {"string", "empty", "integer", "floating", "mixed-integer-float", "boolean"}
)


def canonical_text(value: object) -> str | None:
    """The text form of one raw value, or None when it is missing."""
    if value is None:
        return None
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        if math.isnan(value):
            return None
        return str(int(value)) if float(value).is_integer() else repr(float(value))
    text = str(value).strip()
    return text or None


def canonical_codes(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """A column as (codes, texts): `texts[codes]` is the column in canonical form.

    `texts` holds the canonical text of each distinct raw value (two raw values may share one)
    and ends with None, so a missing value's code -1 picks None."""
    if isinstance(series.dtype, pd.StringDtype):
        codes, distinct = pd.factorize(series)
        stripped = pd.Series(distinct, dtype=series.dtype).str.strip()
        texts = np.concatenate([stripped.to_numpy(dtype=object), np.array([None], dtype=object)])
        texts[texts == ""] = None
        return codes, texts
    if pd.api.types.is_object_dtype(series.dtype) and (
        pd.api.types.infer_dtype(series, skipna=True) not in _GROUPABLE_OBJECT_COLUMNS
    ):
        series = series.map(canonical_text, na_action="ignore")
    codes, distinct = pd.factorize(series)
    return codes, np.array([canonical_text(v) for v in distinct] + [None], dtype=object)


def canonical_text_series(series: pd.Series) -> pd.Series:
    """The vectorised twin of `canonical_text` for a column (object dtype, None if missing)."""
    codes, texts = canonical_codes(series)
    return pd.Series(texts[codes], index=series.index, dtype=object)


NUMERIC_DATE = re.compile(r"^\s*(\d{1,2})[/.\-](\d{1,2})[/.\-]\d{2,4}")


def parse_datetimes(text: pd.Series) -> pd.Series:
    """Dates in any common format, each value read on its own (as UTC, unreadable ones NaT).

    A column already read as times is only put in UTC. Anything else is read as text, so a
    number is not a date (12345 is unreadable, not a moment in 1970). ISO 8601 values, what
    most exports hold, are read in one vectorised pass; only the others go through the slower
    per-value reader."""
    if pd.api.types.is_datetime64_any_dtype(text):
        return pd.to_datetime(text, utc=True)
    text = text.astype("str")
    parsed = pd.to_datetime(text, errors="coerce", format="ISO8601", utc=True)
    unread = parsed.isna() & text.notna()
    if unread.any():
        rest = text[unread]
        parsed[unread] = pd.to_datetime(
            rest, errors="coerce", format="mixed", dayfirst=_day_first(rest), utc=True
        )
    return parsed


def _day_first(text: pd.Series) -> bool:
    """Whether the dates written in numbers alone ('05/01/2024') put the day first: when some
    value's first number cannot be a month ('13/01/2024') and no value's second number is above
    12. One order for the column: read value by value, '05/01' and '13/01' would be months apart."""
    parts = text.str.extract(NUMERIC_DATE).dropna().astype(int)
    day_first, month_first = (parts[0] > 12).any(), (parts[1] > 12).any()
    if day_first and month_first:
        log.warning(
            "dates are written both day first and month first (%r and %r): each is read the "
            "way it can be, and one such as 05/01/2024 as month first; export ISO 8601 dates "
            "(2024-05-01)",
            text[parts.index[parts[0] > 12][0]],
            text[parts.index[parts[1] > 12][0]],
        )
    return bool(day_first and not month_first)


def parses_as_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
