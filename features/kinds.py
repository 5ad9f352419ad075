"""Which columns are features, and of what kind: from the contract where it says, inferred
where not.

Identifier-like columns (a different value on every row) are never features: a model can only
memorise them.
"""

from __future__ import annotations

import logging
import re

import numpy as np
import pandas as pd

from features.contract import LeadContract
from features.errors import DataError
from features.values import canonical_codes, canonical_text_series, parse_datetimes

log = logging.getLogger(__name__)

BOOLEAN_TRUE = frozenset({"1", "true", "yes", "y", "t"})
BOOLEAN_FALSE = frozenset({"0", "false", "no", "n", "f"})
IDENTIFIER_UNIQUE_SHARE = 0.95
MIN_ROWS_FOR_IDENTIFIER = 20
NUMERIC_TEXT_SHARE = 0.98
# Digits in groups of three set apart by ',', '.', "'" or a space, or a decimal comma.
FORMATTED_NUMBER = re.compile(r"[-+]?(\d{1,3}([,.' ]\d{3})+|\d+)([.,]\d+)?")
# A number with a short unit before or after it ('$49.7k', '6 visits', '45%'), at least one.
NUMBER_WITH_UNIT = re.compile(
    r"(?=\D*\d)(?:[^\d\s.,+-]{1,3}\s?[-+]?\d[\d,.]*(?:\s?[^\d\s][^\d]{0,11})?"
    r"|[-+]?\d[\d,.]*\s?[^\d\s][^\d]{0,11})"
)
MIN_DISTINCT_NUMBERS = 10


def feature_kinds(frame: pd.DataFrame, contract: LeadContract, source: str) -> dict[str, str]:
    """Map every feature column to its kind; overrides are checked to parse."""
    kinds: dict[str, str] = {}
    for column in frame.columns:
        if column in contract.excluded_columns:
            continue
        series = frame[column]
        if column in contract.kinds:
            kind = contract.kinds[column]
            _check_override_parses(series, column, kind, source)
        elif series.notna().sum() == 0:
            log.info("column %s is empty and is not used", column)
            continue
        elif is_identifier_like(series):
            log.info("column %s has a different value on every row: not used as a feature", column)
            continue
        else:
            kind = infer_kind(series)
            if kind == "categorical":
                _warn_of_written_numbers(series, column)
        kinds[column] = kind
    if not kinds:
        raise DataError(
            f"{source}: no feature columns left after excluding id, target, time, value, "
            "loss reason, drop and PII columns; the export needs lead attributes to learn from"
        )
    return kinds


def is_identifier_like(series: pd.Series) -> bool:
    values = series.dropna()
    if len(values) < MIN_ROWS_FOR_IDENTIFIER:
        return False
    if pd.api.types.is_float_dtype(values) or pd.api.types.is_bool_dtype(values):
        return False
    if pd.api.types.is_integer_dtype(values):
        return values.is_unique
    return values.nunique() >= IDENTIFIER_UNIQUE_SHARE * len(values)


def infer_kind(series: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(series):
        return "boolean"
    if pd.api.types.is_numeric_dtype(series):
        return "numeric"
    if pd.api.types.is_datetime64_any_dtype(series):
        return "datetime"
    texts, rows_per_text = _distinct_texts(series)
    present = pd.Series(texts[rows_per_text > 0], dtype=object).dropna()
    lowered = set(present.str.lower())
    if lowered and lowered <= (BOOLEAN_TRUE | BOOLEAN_FALSE) and len(lowered) <= 2:
        return "boolean"
    numeric = pd.to_numeric(pd.Series(texts, dtype=object), errors="coerce").notna().to_numpy()
    rows = rows_per_text.sum()
    if rows and rows_per_text[numeric].sum() >= NUMERIC_TEXT_SHARE * rows:
        return "numeric"
    return "categorical"


def formatted_number(series: pd.Series) -> str | None:
    """A value of the column when nearly all its values are numbers written as spreadsheets in
    many languages export them ('1,670,000.00', '1.250,00', '9,5'), and some of them are not
    plain numbers; else None. Each distinct value is looked at once."""
    texts, rows = _distinct_texts(series)
    distinct = pd.Series(texts, dtype=object)
    seen = (rows > 0) & distinct.notna().to_numpy()
    text = distinct.where(seen, "").astype("str")
    written = text.str.fullmatch(FORMATTED_NUMBER).to_numpy(bool) & seen
    formatted = written & pd.to_numeric(text, errors="coerce").isna().to_numpy()
    present = rows[seen].sum()
    if not present or rows[written].sum() < NUMERIC_TEXT_SHARE * present or not formatted.any():
        return None
    return str(text[formatted].iloc[0])


def number_with_unit(series: pd.Series) -> str | None:
    """A value of the column when nearly all its values are numbers written with a unit ('6
    visits', '$49.7k', '45%') and they take many values (not a handful of labels such as
    'Q1'); else None."""
    texts, rows = _distinct_texts(series)
    distinct = pd.Series(texts, dtype=object)
    seen = (rows > 0) & distinct.notna().to_numpy()
    parts = distinct.where(seen, "").astype("str").str.fullmatch(NUMBER_WITH_UNIT)
    written = parts.to_numpy(bool) & seen
    present = rows[seen].sum()
    if not present or rows[written].sum() < NUMERIC_TEXT_SHARE * present:
        return None
    if written.sum() < MIN_DISTINCT_NUMBERS:
        return None
    return str(distinct[written].iloc[0])


def _warn_of_written_numbers(series: pd.Series, column: str) -> None:
    """A categorical column whose values are numbers written for people loses their order:
    say so, and how to export them."""
    if example := formatted_number(series):
        how = "with thousands separators or a decimal comma"
    elif example := number_with_unit(series):
        how = "with a unit"
    else:
        return
    log.warning(
        "column %s holds numbers written %s (e.g. %r): read as categories, which loses their "
        "order; export plain numbers (1670000.5) to use it as a number",
        column,
        how,
        example,
    )


def _distinct_texts(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Each distinct value's canonical text (None last, for missing) and how many rows hold it."""
    codes, texts = canonical_codes(series)
    return texts, np.bincount(codes[codes >= 0], minlength=len(texts))


def _check_override_parses(series: pd.Series, column: str, kind: str, source: str) -> None:
    text = canonical_text_series(series)
    present = text.notna()
    if kind == "numeric":
        bad = present & pd.to_numeric(text, errors="coerce").isna()
    elif kind == "boolean":
        bad = present & ~text.str.lower().isin(BOOLEAN_TRUE | BOOLEAN_FALSE)
    elif kind == "datetime":
        parsed = parse_datetimes(text)
        bad = present & parsed.isna()
    else:
        return
    if bad.any():
        rows = ", ".join(f"row {i + 1}: {text[i]!r}" for i in bad[bad].index[:5])
        raise DataError(
            f"{source}: column '{column}' is declared {kind} but {int(bad.sum())} values do not "
            f"parse ({rows}); fix those rows or declare the column with another kind"
        )
