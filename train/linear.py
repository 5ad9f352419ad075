"""Fitting the linear learner (`serve.model.learners.LinearLearner`): a regularised logistic
regression over one term per field. It is one of the candidates for the served model and the
baseline every model is judged against.

Each number is clipped to its 0.5 % and 99.5 % quantiles (one odd value cannot dominate a
lead's score) and bends at its quartiles, so that "more visits help, up to a point" fits; each
category gets its own weight, and missing gets its own weight in every field.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

import numpy as np
from scipy import sparse
from sklearn.linear_model import LogisticRegression

from features.encoder import EncodedFeature, LeadEncoder
from serve.model.learners import CategoryTerm, LinearLearner, NumberTerm, Term, TermArrays
from train.split import Split

log = logging.getLogger(__name__)

# A random sample this large estimates the weights well, and keeps the fit from dominating
# training on millions of leads.
LINEAR_MAX_ROWS = 200_000
CLIP_QUANTILES = (0.005, 0.995)
KNOT_QUANTILES = (0.25, 0.5, 0.75)
MIN_DISTINCT_FOR_KNOTS = 10
REGULARISATION_C = 1.0


def fit_linear(
    matrix: np.ndarray, y: np.ndarray, encoder: LeadEncoder, max_rows: int = LINEAR_MAX_ROWS
) -> LinearLearner:
    """Fit on the encoded leads (a random sample of `max_rows` when there are more)."""
    if len(y) > max_rows:
        log.info("linear model fitted on a random sample of %d of %d leads", max_rows, len(y))
        rows = np.sort(np.random.default_rng(0).choice(len(y), max_rows, replace=False))
        matrix, y = matrix[rows], y[rows]
    terms = tuple(_unfitted(feature, matrix[:, j]) for j, feature in enumerate(encoder.features))
    arrays = TermArrays(terms)
    regression = LogisticRegression(C=REGULARISATION_C, max_iter=5000)
    regression.fit(design_matrix(arrays, matrix), y)
    fitted = _with_weights(terms, arrays, regression.coef_[0])
    offsets = tuple(float(v) for v in TermArrays(fitted).values(matrix).mean(axis=0))
    return LinearLearner(float(regression.intercept_[0]), fitted, offsets)


def design_matrix(arrays: TermArrays, matrix: np.ndarray) -> sparse.csr_matrix:
    """The columns the regression fits a weight to: one per category slot of every category
    field (one-hot), then the number fields' scaled values, their bends, whether missing."""
    rows = len(matrix)
    slots = arrays.slots_of(matrix)
    total = int(arrays.slot_count.sum())
    onehot = (np.ones(slots.size), (np.repeat(np.arange(rows), slots.shape[1]), slots.ravel()))
    basis = arrays.number_basis(matrix)
    numbers = np.hstack([basis.scaled, basis.bends.reshape(rows, -1), basis.missing])
    return sparse.hstack(
        [sparse.csr_matrix(onehot, shape=(rows, total)), sparse.csr_matrix(numbers)], format="csr"
    )


def _unfitted(feature: EncodedFeature, column: np.ndarray) -> Term:
    """The term of one field with its scaling set from the data and all weights zero."""
    if feature.kind == "categorical":
        return CategoryTerm(feature.name, (0.0,) * (len(feature.categories) + 2))
    present = column[~np.isnan(column)]
    if len(present) == 0:
        return NumberTerm(feature.name, 0.0, 0.0, 0.0, 1.0)
    low, high = (float(v) for v in np.quantile(present, CLIP_QUANTILES))
    clipped = np.clip(present, low, high)
    center = float(np.median(clipped))
    scale = float(clipped.std()) or 1.0
    knots: tuple[float, ...] = ()
    if len(np.unique(clipped)) >= MIN_DISTINCT_FOR_KNOTS:
        inner = np.unique(np.quantile(clipped, KNOT_QUANTILES))
        knots = tuple(float(k) for k in inner if low < k < high)
    return NumberTerm(feature.name, low, high, center, scale, knots, (0.0,) * (len(knots) + 1))


def _with_weights(
    terms: tuple[Term, ...], arrays: TermArrays, coefficients: np.ndarray
) -> tuple[Term, ...]:
    """The terms with the regression's coefficients, read off in the design's column order."""
    total = int(arrays.slot_count.sum())
    categories = iter(np.split(coefficients[:total], np.cumsum(arrays.slot_count)[:-1]))
    count, most = arrays.knots.shape
    slopes = coefficients[total : total + count]
    bends = coefficients[total + count : total + count + count * most].reshape(count, most)
    missing = coefficients[total + count + count * most :]
    fitted: list[Term] = []
    number = 0
    for term in terms:
        if isinstance(term, CategoryTerm):
            fitted.append(replace(term, weights=tuple(float(w) for w in next(categories))))
            continue
        knots = len(term.knots)
        weights = (float(slopes[number]), *(float(w) for w in bends[number, :knots]))
        fitted.append(replace(term, weights=weights, missing_weight=float(missing[number])))
        number += 1
    return tuple(fitted)


@dataclass(frozen=True)
class FittedLinear:
    """The regression on all the leads, and each lead's raw score by a regression that did not
    train on it (NaN for leads no fold held out)."""

    learner: LinearLearner
    held_out_raw: np.ndarray


def cross_fit_linear(
    matrix: np.ndarray, y: np.ndarray, encoder: LeadEncoder, folds: list[Split]
) -> FittedLinear:
    """One regression per fold for the held-out scores, then one on all the leads."""
    held_out = np.full(len(y), np.nan)
    for fold in folds:
        fold_learner = fit_linear(matrix[fold.train], y[fold.train], encoder)
        held_out[fold.evaluate] = fold_learner.raw_scores(matrix[fold.evaluate])
    return FittedLinear(fit_linear(matrix, y, encoder), held_out)
