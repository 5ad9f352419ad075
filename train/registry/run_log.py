"""What one training run records in MLflow: parameters, metrics with their intervals, tags that
say whether the model has usable signal, and the audit, joins and report as artifacts."""

from __future__ import annotations

import json
from pathlib import Path

import mlflow

from serve.model.lead_model import LeadModel
from train.evaluate.holdout import Evaluation


def log_training(
    model: LeadModel, source: str, evaluation: Evaluation, summary: dict, tuned: dict
) -> None:
    """Log everything known before registering; the decision is logged by `log_decision`."""
    meta = model.metadata
    mlflow.log_params(
        {
            "data_path": source,
            "features": len(meta["features"]),
            "calibration": model.calibrator.method,
            "trees": meta["trees"],
            "keep_columns": json.dumps(list(model.contract.keep)),
            "tier_rule": summary["tiers"]["rule"],
            "tuned": json.dumps(tuned),
        }
    )
    mlflow.log_metrics(evaluation.metrics)
    mlflow.log_metrics({f"baseline_{k}": v for k, v in evaluation.baseline_metrics.items()})
    mlflow.log_metric("base_rate_log_loss", evaluation.base_rate_log_loss)
    for metric, spans in evaluation.intervals.items():
        for name, span in spans.items():
            prefix = {"model": "", "baseline": "baseline_"}.get(name, f"{name}_")
            mlflow.log_metric(f"{prefix}{metric}_ci_low", span["low"])
            mlflow.log_metric(f"{prefix}{metric}_ci_high", span["high"])
    excluded = [f["column"] for f in summary["audit"] if f["excluded"] and f["column"]]
    mlflow.set_tags(
        {
            "leadscore.data_sha256": meta["data_sha256"] or "",
            "leadscore.data_fingerprint": meta["data_fingerprint"],
            "leadscore.rows": json.dumps(meta["rows"]),
            "leadscore.audit_excluded": json.dumps(excluded),
            "leadscore.kept_columns": json.dumps(list(model.contract.keep)),
        }
    )
    mlflow.log_dict(model.contract.to_dict(), "contract.json")
    mlflow.log_dict({"audit": summary["audit"]}, "audit.json")
    mlflow.log_dict({"joins": summary["joins"]}, "joins.json")


def log_decision(summary: dict) -> None:
    decision = summary["decision"]
    mlflow.set_tags(
        {
            "leadscore.champion": str(decision["champion"]).lower(),
            "leadscore.signal": "usable" if decision["usable_signal"] else "no usable signal",
            "leadscore.decision": decision["reason"][:5000],
        }
    )


def log_report(html_path: Path, pngs: list[Path]) -> None:
    mlflow.log_artifact(str(html_path), "report")
    for png in pngs:
        mlflow.log_artifact(str(png), "plots")


def log_retrain_decision(summary: dict, outcome: dict) -> None:
    """The retrain's decision as tags (seen in the run list) and the full outcome (both models'
    metrics with intervals, the reason, the drift report) as `decision.json`."""
    log_decision(summary)
    drifted = (outcome.get("drift") or {}).get("drifted", [])
    mlflow.set_tags(
        {
            "leadscore.retrain_decision": outcome["decision"],
            "leadscore.previous_champion": str(outcome["previous_champion"]),
            "leadscore.drifted": json.dumps(drifted),
        }
    )
    mlflow.log_dict(outcome, "decision.json")
    if outcome.get("drift"):
        mlflow.log_dict(outcome["drift"], "drift.json")
