"""Drift: how far the leads of today are from the leads a model learnt from.

At training, a profile of every encoded feature and of the score is stored in the model (bin
edges and shares); later, new leads are encoded with the same encoder and compared to it with the
population stability index (PSI). Missing values are a bin of their own, categories are their own
bins, numbers are cut at the training deciles.
"""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from features.encoder import LeadEncoder
from features.kinds import infer_kind

PSI_WARNING = 0.2
NUMERIC_BINS = 10
SHARE_FLOOR = 1e-4
SCORE = "score"


def profile(encoder: LeadEncoder, matrix: np.ndarray, scores: np.ndarray, base_rate: float) -> dict:
    """The reference a later drift check compares with (stored in the model's metadata)."""
    columns = {
        feature.name: _column_profile(matrix[:, j], feature.kind == "categorical")
        for j, feature in enumerate(encoder.features)
    }
    columns[SCORE] = _column_profile(np.asarray(scores, dtype=float), categorical=False)
    return {"columns": columns, "base_rate": base_rate}


def _column_profile(values: np.ndarray, categorical: bool) -> dict:
    present = values[~np.isnan(values)]
    if categorical or len(present) == 0:
        edges: list[float] = []
    else:
        quantiles = np.quantile(present, np.linspace(0, 1, NUMERIC_BINS + 1)[1:-1])
        edges = sorted(set(np.round(quantiles, 10).tolist()))
    return {
        "categorical": categorical,
        "edges": edges,
        "shares": _shares(values, categorical, edges),
    }


def _shares(values: np.ndarray, categorical: bool, edges: list[float]) -> dict[str, float]:
    """Share of values per bin; bin keys are category codes, numeric bin numbers, or 'missing'."""
    missing = np.isnan(values)
    present = values[~missing]
    keys = (
        present.astype(int).astype(str)
        if categorical
        else np.searchsorted(edges, present, side="right").astype(str)
    )
    counts = pd.Series(keys, dtype=object).value_counts()
    if missing.any():
        counts["missing"] = int(missing.sum())
    shares = counts / max(len(values), 1)
    return {str(key): float(share) for key, share in shares.items()}


def psi(expected: dict[str, float], actual: dict[str, float]) -> float:
    """Population stability index between two binned distributions."""
    total = 0.0
    for key in set(expected) | set(actual):
        e = max(expected.get(key, 0.0), SHARE_FLOOR)
        a = max(actual.get(key, 0.0), SHARE_FLOOR)
        total += (a - e) * np.log(a / e)
    return float(total)


@dataclass
class DriftReport:
    psi: dict[str, float]
    appeared: list[str] = field(default_factory=list)
    disappeared: list[str] = field(default_factory=list)
    kind_changed: dict[str, dict[str, str]] = field(default_factory=dict)
    base_rate: dict[str, float | None] = field(default_factory=dict)

    @property
    def drifted(self) -> list[str]:
        """Columns (and `score`) whose PSI is above the warning level, worst first."""
        high = [c for c, v in self.psi.items() if v > PSI_WARNING]
        return sorted(high, key=lambda c: -self.psi[c])

    def to_json(self) -> dict:
        return {
            "psi": self.psi,
            "drifted": self.drifted,
            "warning_level": PSI_WARNING,
            "appeared": self.appeared,
            "disappeared": self.disappeared,
            "kind_changed": self.kind_changed,
            "base_rate": self.base_rate,
        }


def drift_report(
    reference: dict,
    encoder: LeadEncoder,
    frame: pd.DataFrame,
    scores: np.ndarray,
    base_rate: float | None,
    ignored: AbstractSet[str] = frozenset(),
) -> DriftReport:
    """Compare new leads (raw frame and their scores) with a model's stored profile."""
    matrix = encoder.transform(frame)
    values = {f.name: matrix[:, j] for j, f in enumerate(encoder.features)}
    values[SCORE] = np.asarray(scores, dtype=float)
    result = {}
    for name, ref in reference["columns"].items():
        actual = _shares(values[name], ref["categorical"], ref["edges"])
        result[name] = round(psi(ref["shares"], actual), 6)
    expected = {f.name: f.kind for f in encoder.features}
    known = set(expected) | set(ignored)
    return DriftReport(
        psi=result,
        appeared=sorted(c for c in frame.columns if c not in known),
        disappeared=sorted(c for c in expected if c not in frame.columns),
        kind_changed=_kind_changes(frame, expected),
        base_rate={"training": reference.get("base_rate"), "new": base_rate},
    )


def _kind_changes(frame: pd.DataFrame, expected: dict[str, str]) -> dict[str, dict[str, str]]:
    changes = {}
    for name, kind in expected.items():
        if name in frame.columns and frame[name].notna().any():
            now = infer_kind(frame[name])
            if now != kind and not (kind == "categorical" and now in ("numeric", "boolean")):
                changes[name] = {"was": kind, "now": now}
    return changes
