"""How sure an evaluation is: bootstrap 95 % intervals of metrics, and paired intervals of the
difference between two models scored on the same leads.

Each replicate draws the evaluation leads with replacement; a lead drawn k times weighs k. All
models and metrics share the same draws, so a difference between two models is judged on the
same leads (a paired bootstrap), which is much tighter than comparing two separate intervals.
Each probability vector is sorted once (`RankedScores`), and every batch of replicates reads
that order: on a large evaluation, sorting is the costly part.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np

from serve.model.metrics import Interval

REPLICATES = 1000
MIN_REPLICATES = 200
WORK_BUDGET = 10_000_000  # leads x replicates: 1,000 replicates up to 10,000 leads, fewer above
LEVEL = 0.95
BATCH_CELLS = 2_000_000
_CLIP = 1e-15
TOP_SHARE = 0.1  # lift at 10 %


class RankedScores:
    """One model's probabilities of the evaluation leads, with the leads' outcomes in the
    orders the ranking metrics read them: lowest score first (ties in a block of their own) and
    highest first."""

    def __init__(self, y: np.ndarray, probability: np.ndarray) -> None:
        self.y = y
        self.probability = probability
        self.ascending = np.argsort(probability, kind="stable")
        self.descending = np.argsort(-probability, kind="stable")
        rising = probability[self.ascending]
        self.tie_starts = np.flatnonzero(np.r_[True, rising[1:] != rising[:-1]])
        self.y_ascending, self.y_descending = y[self.ascending], y[self.descending]


WeightedMetric = Callable[[RankedScores, np.ndarray], np.ndarray]


class Bootstrap:
    """Replicate values of each metric of each named probability vector, on shared draws."""

    def __init__(
        self,
        y: np.ndarray,
        probabilities: Mapping[str, np.ndarray],
        metrics: Sequence[str] = ("roc_auc", "log_loss", "lift_at_10"),
        replicates: int | None = None,
        seed: int = 0,
    ) -> None:
        """`replicates`: by default 1,000, fewer (down to 200) on large evaluations, where the
        intervals are narrow anyway, to keep the cost bounded."""
        outcomes = np.asarray(y, dtype=float)
        self.ranked = {
            name: RankedScores(outcomes, np.asarray(p, dtype=float))
            for name, p in probabilities.items()
        }
        self.metrics = tuple(metrics)
        self._point = {
            (name, metric): float(WEIGHTED[metric](ranked, np.ones((1, len(outcomes))))[0])
            for name, ranked in self.ranked.items()
            for metric in self.metrics
        }
        if replicates is None:
            replicates = int(
                np.clip(WORK_BUDGET // max(len(outcomes), 1), MIN_REPLICATES, REPLICATES)
            )
        self._replicates = self._draw(len(outcomes), replicates, seed)

    def interval(self, name: str, metric: str, level: float = LEVEL) -> Interval:
        return _percentile_interval(
            self._point[name, metric], self._replicates[name, metric], level
        )

    def difference(self, first: str, second: str, metric: str, level: float = LEVEL) -> Interval:
        """Paired interval of metric(first) - metric(second)."""
        estimate = self._point[first, metric] - self._point[second, metric]
        spread = self._replicates[first, metric] - self._replicates[second, metric]
        return _percentile_interval(estimate, spread, level)

    def _draw(self, n: int, replicates: int, seed: int) -> dict[tuple[str, str], np.ndarray]:
        rng = np.random.default_rng(seed)
        batch = max(1, min(replicates, BATCH_CELLS // max(n, 1)))
        values: dict[tuple[str, str], list[np.ndarray]] = {key: [] for key in self._point}
        done = 0
        while done < replicates:
            size = min(batch, replicates - done)
            weights = np.stack(
                [np.bincount(rng.integers(0, n, n), minlength=n) for _ in range(size)]
            )
            for name, ranked in self.ranked.items():
                for metric in self.metrics:
                    values[name, metric].append(WEIGHTED[metric](ranked, weights))
            done += size
        return {key: np.concatenate(parts) for key, parts in values.items()}


def _percentile_interval(estimate: float, replicates: np.ndarray, level: float) -> Interval:
    tail = (1 - level) / 2 * 100
    finite = replicates[np.isfinite(replicates)]
    low, high = np.percentile(finite, [tail, 100 - tail])
    return Interval(float(estimate), float(low), float(high))


def weighted_roc_auc(scores: RankedScores, weights: np.ndarray) -> np.ndarray:
    """ROC AUC per row of `weights` (ties count one half)."""
    w = weights[:, scores.ascending]
    won = np.add.reduceat(w * scores.y_ascending, scores.tie_starts, axis=1)
    lost = np.add.reduceat(w * (1 - scores.y_ascending), scores.tie_starts, axis=1)
    lost_below = np.cumsum(lost, axis=1) - lost
    pairs = won.sum(axis=1) * lost.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (won * (lost_below + 0.5 * lost)).sum(axis=1) / pairs


def weighted_log_loss(scores: RankedScores, weights: np.ndarray) -> np.ndarray:
    p, y = np.clip(scores.probability, _CLIP, 1 - _CLIP), scores.y
    loss = -(y * np.log(p) + (1 - y) * np.log(1 - p))
    return weights @ loss / weights.sum(axis=1)


def weighted_lift_at_10(scores: RankedScores, weights: np.ndarray) -> np.ndarray:
    """Conversion rate of the top 10 % of (weighted) leads over the overall rate. The top is a
    prefix of the leads from the highest score down (at least the first lead), so only the
    first fifth of them is summed unless some replicate's top reaches beyond it."""
    total = weights.sum(axis=1)
    w = weights[:, scores.descending[: len(scores.y) // 5 + 1]]
    cumulative = np.cumsum(w, axis=1)
    if (cumulative[:, -1] < TOP_SHARE * total).any():
        w = weights[:, scores.descending]
        cumulative = np.cumsum(w, axis=1)
    won = np.cumsum(w * scores.y_descending[: w.shape[1]], axis=1)
    last = np.maximum((cumulative <= TOP_SHARE * total[:, None]).sum(axis=1), 1) - 1
    rows = np.arange(len(w))
    with np.errstate(invalid="ignore", divide="ignore"):
        return (won[rows, last] / cumulative[rows, last]) / (weights @ scores.y / total)


WEIGHTED: dict[str, WeightedMetric] = {
    "roc_auc": weighted_roc_auc,
    "log_loss": weighted_log_loss,
    "lift_at_10": weighted_lift_at_10,
}
