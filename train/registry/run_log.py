"""What one training run records in MLflow: parameters, metrics with their intervals, tags that
say whether the model has usable signal, and the audit, joins, report and the (hashed) ids of the
leads it learnt from as artifacts."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd

from serve.model.lead_model import LeadModel
from serve.model.run_decision import CHAMPION_TAG, DECISION_TAG, RETRAIN_VERDICT_TAG, SIGNAL_TAG
from train.evaluate.challenge import TRAINED_LEADS_FILE, lead_id_hashes
from train.evaluate.gate import Decision
from train.results import ReportFiles, RetrainOutcome, TrainingSummary
from train.sources import TrainingData


def log_training(model: LeadModel, data: TrainingData, summary: TrainingSummary) -> None:
    """Log everything known before registering; the decision is logged by `log_decision`."""
    evaluation = summary.evaluation
    mlflow.log_params(
        {
            "data_path": data.source,
            "features": len(summary.features),
            "calibration": model.calibrator.method,
            "learner": summary.learner,
            "blend_weight": summary.candidates.weight,
            "trees": model.learner.trees,
            "keep_columns": json.dumps(summary.kept_columns),
            "tier_rule": summary.tier_rule,
            "tuned": json.dumps(summary.tuned_params),
        }
    )
    mlflow.log_metrics(evaluation.metrics)
    mlflow.log_metrics({f"baseline_{k}": v for k, v in evaluation.baseline_metrics.items()})
    mlflow.log_metric("base_rate_log_loss", evaluation.base_rate_log_loss)
    held_out = summary.candidates.held_out_losses()
    mlflow.log_metrics({f"candidate_{name}_log_loss": v for name, v in held_out.items()})
    for metric, spans in evaluation.intervals.items():
        named = (
            ("", spans.model),
            ("baseline_", spans.baseline),
            ("model_minus_baseline_", spans.model_minus_baseline),
        )
        for prefix, span in named:
            mlflow.log_metric(f"{prefix}{metric}_ci_low", span.low)
            mlflow.log_metric(f"{prefix}{metric}_ci_high", span.high)
    mlflow.set_tags(
        {
            "leadscore.data_sha256": data.file_sha256 or "",
            "leadscore.data_fingerprint": data.fingerprint,
            "leadscore.rows": json.dumps(summary.rows.to_json()),
            "leadscore.audit_excluded": json.dumps(summary.audit.excluded),
            "leadscore.kept_columns": json.dumps(summary.kept_columns),
            "leadscore.metrics_for": summary.metrics_for,
        }
    )
    mlflow.log_dict(model.contract.to_dict(), "contract.json")
    mlflow.log_dict({"audit": summary.audit.to_list()}, "audit.json")
    mlflow.log_dict({"joins": [join.to_dict() for join in summary.joins]}, "joins.json")
    if model.contract.id:
        _log_trained_leads(data.leads.frame[model.contract.id])


def _log_trained_leads(lead_ids: pd.Series) -> None:
    """The ids of every lead the registered model learnt from, hashed: a later retrain judges
    it only on leads it never trained on, even without created-at times."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / TRAINED_LEADS_FILE
        np.save(path, lead_id_hashes(lead_ids))
        mlflow.log_artifact(str(path))


def log_decision(decision: Decision) -> None:
    mlflow.set_tags(
        {
            CHAMPION_TAG: str(decision.champion).lower(),
            SIGNAL_TAG: "usable" if decision.usable_signal else "no usable signal",
            DECISION_TAG: decision.reason[:5000],
        }
    )


def log_report(report: ReportFiles) -> None:
    mlflow.log_artifact(str(report.html), "report")
    for png in report.plots:
        mlflow.log_artifact(str(png), "plots")


def log_retrain_decision(outcome: RetrainOutcome) -> None:
    """The retrain's decision as tags (seen in the run list) and the full outcome (both models'
    metrics with intervals, the reason, the drift report) as `decision.json`."""
    log_decision(outcome.decision)
    mlflow.set_tags(
        {
            RETRAIN_VERDICT_TAG: outcome.verdict,
            "leadscore.previous_champion": str(outcome.champion_version),
            "leadscore.drifted": json.dumps(outcome.drift.drifted if outcome.drift else []),
        }
    )
    mlflow.log_dict(outcome.to_json(), "decision.json")
    if outcome.drift:
        mlflow.log_dict(outcome.drift.to_json(), "drift.json")
