"""What the training and retraining jobs produce, typed: the report, the MLflow run log and the
command line read these attributes, and `to_json()` is what `--report-json` writes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from features.audit import AuditResult
from features.joins import JoinReport
from serve.model.drift import DriftReport
from train.candidates import CandidateChoice
from train.evaluate.challenge import Comparison
from train.evaluate.gate import Decision
from train.evaluate.holdout import Evaluation
from train.sources import DataSummary

PROMOTED, KEPT = "promoted", "kept"


@dataclass(frozen=True)
class ClassCounts:
    won: int
    lost: int

    @property
    def total(self) -> int:
        return self.won + self.lost

    def to_json(self) -> dict[str, int]:
        return {"won": self.won, "lost": self.lost}


@dataclass(frozen=True)
class RowCounts:
    """Closed leads that trained and that judged the model, and open leads set aside."""

    train: ClassCounts
    evaluate: ClassCounts
    open: int

    def to_json(self) -> dict[str, dict[str, int]]:
        return {
            "train": self.train.to_json(),
            "evaluate": self.evaluate.to_json(),
            "open": {"open": self.open},
        }


@dataclass(frozen=True)
class TrainingSummary:
    """What a candidate model is and how it did on the evaluation leads, known before it is
    registered: the content of the report."""

    model_name: str
    rows: RowCounts
    split: str  # "time", "file order" or "id order" (the newest judged it), or "stratified"
    metrics_for: str  # which model the evaluation figures are for
    learner: str  # what the registered model scores with
    candidates: CandidateChoice
    features: list[str]
    audit: AuditResult
    kept_columns: list[str]
    joins: list[JoinReport]
    evaluation: Evaluation
    tier_cutoffs: tuple[int, int, int]
    tier_rule: str
    tuned_params: dict[str, Any]


@dataclass(frozen=True)
class ReportFiles:
    html: Path
    plots: list[Path]


@dataclass(frozen=True)
class TrainingResult:
    """A registered model version, whether it serves and why, and its summary."""

    run_id: str
    model_uri: str
    model_version: str
    decision: Decision
    summary: TrainingSummary
    report: ReportFiles
    trees: int | None
    calibration: str
    seconds: float

    @property
    def champion(self) -> bool:
        return self.decision.champion

    @property
    def usable_signal(self) -> bool:
        return self.decision.usable_signal

    def to_json(self) -> dict[str, Any]:
        summary, evaluation = self.summary, self.summary.evaluation
        return {
            "run_id": self.run_id,
            "model_uri": self.model_uri,
            "model_version": self.model_version,
            "champion": self.champion,
            "metrics": evaluation.metrics,
            "baseline_metrics": evaluation.baseline_metrics,
            "metrics_for": summary.metrics_for,
            "rows": summary.rows.to_json(),
            "learner": summary.learner,
            "candidates": summary.candidates.to_dict(),
            "trees": self.trees,
            "calibration": self.calibration,
            "split": summary.split,
            "seconds": self.seconds,
            "model_name": summary.model_name,
            "features": summary.features,
            "audit": summary.audit.to_list(),
            "missing_share": summary.audit.missing_share,
            "kept_columns": summary.kept_columns,
            "joins": [join.to_dict() for join in summary.joins],
            "intervals": {name: spans.to_dict() for name, spans in evaluation.intervals.items()},
            "base_rate_log_loss": evaluation.base_rate_log_loss,
            "signal": evaluation.signal.to_dict(),
            "tiers": {
                "cutoffs": list(summary.tier_cutoffs),
                "rule": summary.tier_rule,
                "table": [row.to_dict() for row in evaluation.tier_table],
            },
            "value": evaluation.value.to_dict() if evaluation.value else None,
            "top_features": [feature.to_dict() for feature in evaluation.top_features],
            "tuned_params": summary.tuned_params,
            "decision": self.decision.to_dict(),
            "report_html": str(self.report.html),
            "plots": [str(png) for png in self.report.plots],
        }


@dataclass(frozen=True)
class RetrainOutcome:
    """What the retraining job decided and why, against which champion, on what data; with the
    challenger's training result when one was registered."""

    decision: Decision
    data: DataSummary
    champion_version: str | None
    comparison: Comparison | None = None
    drift: DriftReport | None = None
    training: TrainingResult | None = None

    @property
    def verdict(self) -> str:
        return PROMOTED if self.decision.champion else KEPT

    @property
    def usable_signal(self) -> bool:
        return self.decision.usable_signal

    def to_json(self) -> dict[str, Any]:
        """The challenger's training result, if any, then the retrain's own fields (its
        `decision` is the verdict, `promoted` or `kept`)."""
        report = self.training.to_json() if self.training else {}
        report.update(
            decision=self.verdict,
            reason=self.decision.reason,
            data=self.data.to_json(),
            previous_champion=self.champion_version,
            usable_signal=self.usable_signal,
            comparison=self.comparison.to_dict() if self.comparison else None,
            drift=self.drift.to_json() if self.drift else None,
        )
        return report
