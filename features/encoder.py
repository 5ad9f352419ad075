"""The encoder: raw lead fields to the numeric matrix LightGBM reads, fitted once, frozen into
the model, and used unchanged by training, batch scoring and the API.

Each feature becomes exactly one column, so a model contribution maps back to one input field.
Categories become integer codes (LightGBM splits on them natively); categories too rare to learn
from, and categories never seen in training, share one "other" code; missing stays NaN.
`transform` encodes a DataFrame; `encode_records` is the fast path for JSON leads and gives the
same numbers.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from features.errors import FieldValueError, InvalidLeadsError
from features.kinds import BOOLEAN_FALSE, BOOLEAN_TRUE
from features.values import (
    canonical_codes,
    canonical_text,
    canonical_text_series,
    parse_datetimes,
    parses_as_number,
)

MIN_CATEGORY_COUNT = 5
MAX_CATEGORIES = 250
_EPOCH = pd.Timestamp("1970-01-01")
_BOOLEAN_CODES = {**dict.fromkeys(BOOLEAN_TRUE, 1.0), **dict.fromkeys(BOOLEAN_FALSE, 0.0)}


@dataclass
class EncodedFeature:
    """One input field and how it is encoded."""

    name: str
    kind: str
    categories: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._codes = {c: float(i) for i, c in enumerate(self.categories)}
        self._other_code = float(len(self.categories))

    @property
    def other_code(self) -> float:
        return self._other_code

    def category_label(self, code: float) -> str | None:
        """The category an encoded value stands for (None for missing, 'other' for the rest)."""
        if math.isnan(code):
            return None
        index = int(code)
        return self.categories[index] if index < len(self.categories) else "other"


class LeadEncoder:
    """Fit on training leads, then encode frames or single records identically."""

    def __init__(self, features: Sequence[EncodedFeature], na_values: Sequence[str] = ()) -> None:
        self.features = list(features)
        self.na_values = frozenset(str(v) for v in na_values)
        self._numeric_sentinels = frozenset(float(v) for v in self.na_values if parses_as_number(v))
        self._exact_codes = [self._exact_codes_of(f) for f in self.features]

    @classmethod
    def fit(
        cls, frame: pd.DataFrame, kinds: Mapping[str, str], na_values: Sequence[str] = ()
    ) -> LeadEncoder:
        features = []
        for name, kind in kinds.items():
            categories = (
                _frequent_categories(frame[name], na_values) if kind == "categorical" else []
            )
            features.append(EncodedFeature(name, kind, categories))
        return cls(features, na_values)

    @property
    def feature_names(self) -> list[str]:
        return [f.name for f in self.features]

    @property
    def categorical_indices(self) -> list[int]:
        return [i for i, f in enumerate(self.features) if f.kind == "categorical"]

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        """Encode a DataFrame; absent columns are missing, unreadable values become missing."""
        matrix = np.full((len(frame), len(self.features)), np.nan)
        for j, feature in enumerate(self.features):
            if feature.name in frame.columns:
                matrix[:, j] = self._encode_column(frame[feature.name], feature)
        return matrix

    def unreadable_values(
        self, frame: pd.DataFrame, matrix: np.ndarray
    ) -> list[tuple[int, FieldValueError]]:
        """The values `transform` turned into missing although they were present and not a
        missing-value spelling (row position, problem): what `encode_records` would refuse."""
        problems: list[tuple[int, FieldValueError]] = []
        for j, feature in enumerate(self.features):
            if feature.kind == "categorical" or feature.name not in frame.columns:
                continue
            column = frame[feature.name]
            suspects = np.flatnonzero(np.isnan(matrix[:, j]) & column.notna().to_numpy())
            for row in suspects.tolist():
                try:
                    self._encode_value(column.iloc[row], feature)
                except FieldValueError as problem:
                    problems.append((row, problem))
        return sorted(problems, key=lambda item: item[0])

    def encode_records(self, records: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """Encode many JSON leads; every wrong value of every lead is reported at once."""
        matrix = np.empty((len(records), len(self.features)))
        problems: list[tuple[int, FieldValueError]] = []
        features = list(zip(self.features, self._exact_codes, strict=True))
        for i, record in enumerate(records):
            row = matrix[i]
            for j, (feature, exact_codes) in enumerate(features):
                value = record.get(feature.name)
                code = exact_codes.get(value) if type(value) is str else None
                if code is not None:
                    row[j] = code
                    continue
                try:
                    row[j] = self._encode_value(value, feature)
                except FieldValueError as problem:
                    problems.append((i, problem))
        if problems:
            raise InvalidLeadsError(problems)
        return matrix

    def _encode_column(self, series: pd.Series, feature: EncodedFeature) -> np.ndarray:
        """Numbers are encoded as they are; anything else is encoded once per distinct value."""
        if feature.kind == "numeric" and is_plain_numeric(series):
            return self._numbers(series.to_numpy(dtype=float, na_value=np.nan))
        codes, texts = canonical_codes(series)
        return self._encode_texts(pd.Series(texts, dtype=object), feature)[codes]

    def _encode_texts(self, text: pd.Series, feature: EncodedFeature) -> np.ndarray:
        text = text.mask(text.isin(self.na_values))
        if feature.kind == "categorical":
            codes = text.map(feature._codes)
            return codes.where(text.isna() | codes.notna(), feature.other_code).to_numpy(float)
        if feature.kind == "boolean":
            return text.str.lower().map(_BOOLEAN_CODES).to_numpy(float)
        if feature.kind == "datetime":
            times = parse_datetimes(text)
            return ((times.dt.tz_localize(None) - _EPOCH) / pd.Timedelta(days=1)).to_numpy(float)
        return self._numbers(pd.to_numeric(text, errors="coerce").to_numpy(float))

    def _numbers(self, numbers: np.ndarray) -> np.ndarray:
        """Numbers with the stand-ins for missing and the infinities (an export's overflow or
        division by zero, no lead's real value) as NaN."""
        missing = np.isin(numbers, list(self._numeric_sentinels)) | ~np.isfinite(numbers)
        return np.where(missing, np.nan, numbers)

    def _exact_codes_of(self, feature: EncodedFeature) -> dict[str, float]:
        """The code of each text a JSON lead most often sends, already spelled as the encoder
        spells it: the API's fast path, one lookup instead of converting the value first."""
        known = {}
        if feature.kind == "categorical":
            known = dict(feature._codes)
        elif feature.kind == "boolean":
            known = dict(_BOOLEAN_CODES)
        known.update(dict.fromkeys(self.na_values, math.nan))  # missing wins, as in _encode_value
        return {text: code for text, code in known.items() if canonical_text(text) == text}

    def _encode_value(self, value: Any, feature: EncodedFeature) -> float:
        if feature.kind == "numeric" and _is_exact_number(value):
            return self._number(float(value), feature)
        text = canonical_text(value)
        if text is None or text in self.na_values:
            return math.nan
        if feature.kind == "categorical":
            return feature._codes.get(text, feature.other_code)
        if feature.kind == "boolean":
            code = _BOOLEAN_CODES.get(text.lower())
            if code is None:
                raise FieldValueError(feature.name, value, "yes/no, true/false or 1/0")
            return code
        if feature.kind == "datetime":
            try:
                return (pd.Timestamp(text).tz_localize(None) - _EPOCH) / pd.Timedelta(days=1)
            except ValueError as exc:
                raise FieldValueError(feature.name, value, "a date") from exc
        if isinstance(value, bool):
            raise FieldValueError(feature.name, value, "a number")
        try:
            number = float(text)
        except ValueError as exc:
            raise FieldValueError(feature.name, value, "a number") from exc
        return self._number(number, feature)

    def _number(self, number: float, feature: EncodedFeature) -> float:
        """One value as `_numbers` reads a column of them, except that an infinity is refused
        (FieldValueError): a JSON lead gets a 422, and a file's are counted in a warning."""
        if math.isinf(number):
            raise FieldValueError(feature.name, number, "a finite number")
        return math.nan if math.isnan(number) or number in self._numeric_sentinels else number

    def to_dict(self) -> dict[str, Any]:
        return {
            "na_values": sorted(self.na_values),
            "features": [
                {"name": f.name, "kind": f.kind, "categories": f.categories} for f in self.features
            ],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LeadEncoder:
        return cls([EncodedFeature(**f) for f in data["features"]], data["na_values"])


def _frequent_categories(series: pd.Series, na_values: Sequence[str]) -> list[str]:
    text = canonical_text_series(series)
    counts = text.mask(text.isin(list(na_values))).value_counts()
    frequent = counts[counts >= MIN_CATEGORY_COUNT].head(MAX_CATEGORIES)
    return [str(c) for c in frequent.index]


def _is_exact_number(value: Any) -> bool:
    """A JSON number that converts to float exactly as its text would (booleans excluded)."""
    return type(value) is float or (type(value) is int and -(2**53) <= value <= 2**53)


def is_plain_numeric(series: pd.Series) -> bool:
    """Numbers stored as numbers (booleans are not: `True` is no number to the encoder)."""
    return pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(
        series.dtype
    )
