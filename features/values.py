"""One spelling for every raw value, so a CSV cell and a JSON field mean the same thing.

`1`, `1.0` and `" 1 "` all become the text `"1"`; missing values stay missing. Labels and
categories are compared in this form, in training and in serving alike.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd


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


def canonical_text_series(series: pd.Series) -> pd.Series:
    """The vectorised twin of `canonical_text` for a whole column (object dtype, NaN if missing)."""
    if pd.api.types.is_bool_dtype(series):
        out = series.map({True: "true", False: "false"})
        return out.astype(object).where(series.notna(), None)
    if pd.api.types.is_numeric_dtype(series):
        values = series.astype("float64").to_numpy()
        present = ~np.isnan(values)
        with np.errstate(invalid="ignore"):
            whole = present & (np.mod(values, 1) == 0)
        small = whole & (np.abs(values) < 2**62)
        text = np.full(len(values), None, dtype=object)
        text[small] = values[small].astype(np.int64).astype(str).astype(object)
        text[whole & ~small] = [str(int(v)) for v in values[whole & ~small]]
        text[present & ~whole] = [repr(float(v)) for v in values[present & ~whole]]
        return pd.Series(text, index=series.index, dtype=object)
    values = series.astype(object)
    if pd.api.types.infer_dtype(values, skipna=True) == "string":
        codes, uniques = pd.factorize(values)
        stripped = np.array([u.strip() or None for u in uniques] + [None], dtype=object)
        return pd.Series(stripped[codes], index=series.index, dtype=object)
    return values.map(canonical_text, na_action="ignore")


def parses_as_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
