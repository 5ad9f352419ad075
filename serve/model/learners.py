"""What turns an encoded lead into a raw score (log-odds, before calibration) and splits that
score exactly into one effect per input field, plus a base value: the learners a lead model
scores with.

- `TreeLearner`: a LightGBM booster; its effects are LightGBM's exact contributions.
- `LinearLearner`: a regularised logistic regression over one term per field (a weight per
  category, a clipped and scaled number with bends at its quartiles, a weight for missing). A
  field's effect is its term minus the term's mean over the training leads, so effects are
  exact and centred like the booster's.
- `BlendLearner`: w x trees + (1 - w) x linear, in log-odds; its effects are the same blend of
  both learners' effects, so they stay exact.

A linear learner is plain numbers (JSON); a booster is LightGBM's text file. Nothing here is
pickled, and nothing needs scikit-learn.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import lightgbm as lgb
import numpy as np

# Below this many rows LightGBM predicts on one thread: OpenMP's thread start and barrier cost
# more than they save, and on a busy machine they stall until every thread gets a core.
SINGLE_THREAD_ROWS = 256
LIGHTGBM, LINEAR, BLEND = "lightgbm", "linear", "blend"


class Learner(Protocol):
    """Raw scores and their exact split into per-field effects."""

    def raw_scores(self, matrix: np.ndarray) -> np.ndarray: ...

    def contributions(self, matrix: np.ndarray) -> np.ndarray:
        """One column per encoded field, then the base value; each row sums to the raw score."""
        ...

    @property
    def booster(self) -> lgb.Booster | None: ...

    @property
    def trees(self) -> int | None: ...

    def describe(self) -> str: ...

    def to_dict(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class TreeLearner:
    """LightGBM's booster."""

    tree_booster: lgb.Booster

    @property
    def booster(self) -> lgb.Booster:
        return self.tree_booster

    @property
    def trees(self) -> int:
        return self.tree_booster.num_trees()

    def raw_scores(self, matrix: np.ndarray) -> np.ndarray:
        return self._predict(matrix, raw_score=True)

    def contributions(self, matrix: np.ndarray) -> np.ndarray:
        return self._predict(matrix, pred_contrib=True)

    def _predict(self, matrix: np.ndarray, **kind: bool) -> np.ndarray:
        if len(matrix) == 0:  # LightGBM fails on no rows (it divides by their number)
            columns = self.tree_booster.num_feature() + 1
            return np.empty((0, columns)) if kind.get("pred_contrib") else np.empty(0)
        threads = 1 if len(matrix) < SINGLE_THREAD_ROWS else 0
        # A dense matrix in, a dense array out (LightGBM returns sparse only for sparse input).
        return np.asarray(self.tree_booster.predict(matrix, num_threads=threads, **kind))

    def describe(self) -> str:
        return f"LightGBM ({self.trees} trees)"

    def to_dict(self) -> dict[str, Any]:
        return {"kind": LIGHTGBM}


@dataclass(frozen=True)
class CategoryTerm:
    """A categorical field: one weight per category code, then the 'other' code, then missing."""

    field: str
    weights: tuple[float, ...]

    @property
    def slots(self) -> int:
        return len(self.weights)

    def to_dict(self) -> dict[str, Any]:
        return {"field": self.field, "kind": "category", "weights": list(self.weights)}


@dataclass(frozen=True)
class NumberTerm:
    """A numeric (or yes/no, or date) field: the value clipped to [low, high], centred and
    scaled, with a bend at each knot (the slope changes there), and a weight for missing."""

    field: str
    low: float
    high: float
    center: float
    scale: float
    knots: tuple[float, ...] = ()
    weights: tuple[float, ...] = (0.0,)  # the slope, then one per knot
    missing_weight: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "kind": "number",
            "low": self.low,
            "high": self.high,
            "center": self.center,
            "scale": self.scale,
            "knots": list(self.knots),
            "weights": list(self.weights),
            "missing_weight": self.missing_weight,
        }


Term = CategoryTerm | NumberTerm


@dataclass(frozen=True)
class NumberBasis:
    """The columns number terms' weights multiply, for all number fields at once: the scaled
    value (leads x fields), each bend (leads x fields x most knots), whether missing."""

    scaled: np.ndarray
    bends: np.ndarray
    missing: np.ndarray


class TermArrays:
    """The terms as arrays, so that every field is evaluated at once: one lead costs a handful
    of array operations whatever the number of fields. Training builds its design matrix from
    the same `slots_of` and `number_basis`, so what is fitted is what is scored."""

    def __init__(self, terms: tuple[Term, ...]) -> None:
        categories = [(j, t) for j, t in enumerate(terms) if isinstance(t, CategoryTerm)]
        numbers = [(j, t) for j, t in enumerate(terms) if isinstance(t, NumberTerm)]
        self.fields = len(terms)
        self.categories = np.array([j for j, _ in categories], dtype=np.intp)
        self.slot_count = np.array([t.slots for _, t in categories], dtype=np.intp)
        self.slot_start = np.cumsum(self.slot_count) - self.slot_count
        self.category_weights = np.array([w for _, t in categories for w in t.weights], float)
        self.numbers = np.array([j for j, _ in numbers], dtype=np.intp)
        self.low = np.array([t.low for _, t in numbers], float)
        self.high = np.array([t.high for _, t in numbers], float)
        self.center = np.array([t.center for _, t in numbers], float)
        self.scale = np.array([t.scale for _, t in numbers], float)
        most = max((len(t.knots) for _, t in numbers), default=0)
        self.knots = np.full((len(numbers), most), np.inf)  # a bend at infinity is always zero
        self.bend_weights = np.zeros((len(numbers), most))
        for i, (_, term) in enumerate(numbers):
            self.knots[i, : len(term.knots)] = term.knots
            self.bend_weights[i, : len(term.knots)] = term.weights[1:]
        self.slopes = np.array([t.weights[0] for _, t in numbers], float)
        self.missing_weights = np.array([t.missing_weight for _, t in numbers], float)

    def slots_of(self, matrix: np.ndarray) -> np.ndarray:
        """For each lead and category field, which of all category weights it takes: its code's,
        'other' for codes past the known ones, or missing's."""
        codes = matrix[:, self.categories]
        missing = np.isnan(codes)
        known = np.clip(np.where(missing, 0, codes), 0, self.slot_count - 2).astype(np.intp)
        return self.slot_start + np.where(missing, self.slot_count - 1, known)

    def number_basis(self, matrix: np.ndarray) -> NumberBasis:
        values = matrix[:, self.numbers]
        missing = np.isnan(values)
        clipped = np.clip(np.where(missing, self.center, values), self.low, self.high)
        bends = np.maximum(clipped[:, :, None] - self.knots, 0.0) / self.scale[:, None]
        return NumberBasis((clipped - self.center) / self.scale, bends, missing.astype(float))

    def values(self, matrix: np.ndarray) -> np.ndarray:
        """Each field's term for each lead."""
        values = np.empty((len(matrix), self.fields))
        values[:, self.categories] = self.category_weights[self.slots_of(matrix)]
        basis = self.number_basis(matrix)
        values[:, self.numbers] = (
            basis.scaled * self.slopes
            + (basis.bends * self.bend_weights).sum(axis=2)
            + basis.missing * self.missing_weights
        )
        return values


@dataclass(frozen=True)
class LinearLearner:
    """Logistic regression over one term per encoded field (in encoder order); `offsets` are
    each term's mean over the training leads, so an effect says how far a lead's value moves it
    from a typical lead."""

    intercept: float
    terms: tuple[Term, ...]
    offsets: tuple[float, ...]
    arrays: TermArrays = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "arrays", TermArrays(self.terms))

    @property
    def booster(self) -> None:
        return None

    @property
    def trees(self) -> None:
        return None

    @property
    def base_value(self) -> float:
        return self.intercept + sum(self.offsets)

    def raw_scores(self, matrix: np.ndarray) -> np.ndarray:
        return self.intercept + self.arrays.values(matrix).sum(axis=1)

    def contributions(self, matrix: np.ndarray) -> np.ndarray:
        effects = self.arrays.values(matrix) - np.asarray(self.offsets)
        base = np.full((len(matrix), 1), self.base_value)
        return np.hstack([effects, base])

    def describe(self) -> str:
        return "logistic regression"

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": LINEAR,
            "intercept": self.intercept,
            "terms": [term.to_dict() for term in self.terms],
            "offsets": list(self.offsets),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LinearLearner:
        return cls(
            intercept=float(data["intercept"]),
            terms=tuple(_term_from_dict(term) for term in data["terms"]),
            offsets=tuple(float(v) for v in data["offsets"]),
        )


@dataclass(frozen=True)
class BlendLearner:
    """`weight` x the trees' raw score + (1 - weight) x the linear one, and so their effects."""

    trees_part: TreeLearner
    linear_part: LinearLearner
    weight: float

    @property
    def booster(self) -> lgb.Booster:
        return self.trees_part.booster

    @property
    def trees(self) -> int:
        return self.trees_part.trees

    def raw_scores(self, matrix: np.ndarray) -> np.ndarray:
        trees, linear = self.trees_part.raw_scores(matrix), self.linear_part.raw_scores(matrix)
        return self.weight * trees + (1 - self.weight) * linear

    def contributions(self, matrix: np.ndarray) -> np.ndarray:
        trees = self.trees_part.contributions(matrix)
        linear = self.linear_part.contributions(matrix)
        return self.weight * trees + (1 - self.weight) * linear

    def describe(self) -> str:
        return (
            f"blend: {self.weight:.2f} x {self.trees_part.describe()} + "
            f"{1 - self.weight:.2f} x {self.linear_part.describe()}"
        )

    def to_dict(self) -> dict[str, Any]:
        return {"kind": BLEND, "weight": self.weight, "linear": self.linear_part.to_dict()}


def learner_from_dict(data: dict[str, Any], booster_text: str | None) -> Learner:
    """The learner a saved model describes; `booster_text` is its booster file, if it has one."""
    kind = data.get("kind")
    if kind == LINEAR:
        return LinearLearner.from_dict(data)
    if booster_text is None:
        raise ValueError(f"a {kind} learner needs its booster file")
    trees = TreeLearner(lgb.Booster(model_str=booster_text))
    if kind == LIGHTGBM:
        return trees
    if kind == BLEND:
        return BlendLearner(trees, LinearLearner.from_dict(data["linear"]), float(data["weight"]))
    raise ValueError(f"unknown learner kind {kind!r}")


def needs_booster(data: dict[str, Any]) -> bool:
    return data.get("kind") != LINEAR


def _term_from_dict(data: dict[str, Any]) -> Term:
    if data["kind"] == "category":
        return CategoryTerm(data["field"], tuple(float(w) for w in data["weights"]))
    return NumberTerm(
        field=data["field"],
        low=float(data["low"]),
        high=float(data["high"]),
        center=float(data["center"]),
        scale=float(data["scale"]),
        knots=tuple(float(k) for k in data["knots"]),
        weights=tuple(float(w) for w in data["weights"]),
        missing_weight=float(data["missing_weight"]),
    )
