"""`leadscore train` end to end: read, validate, split, fit, evaluate, log, register."""

from __future__ import annotations

import hashlib
import json
import logging
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import mlflow
import numpy as np

from features.contract import LeadContract
from features.encoder import LeadEncoder
from features.kinds import feature_kinds
from features.labels import LabeledLeads, split_labeled
from features.reading import read_table
from train.deal_value import DEFAULT_KEY, default_deal_value
from train.fit import fit_baseline, fit_booster
from train.metrics import evaluate
from train.model import LeadModel
from train.plots import calibration_plot, roc_plot
from train.registry import CHAMPION, alias_version, log_and_register
from train.split import split_rows
from train.tiers import tiers_from_shares, to_scores
from train.tracking import configure_tracking, use_experiment

log = logging.getLogger(__name__)

Progress = Callable[[str], None]


@dataclass
class TrainingResult:
    """What `--report-json` writes."""

    run_id: str
    model_uri: str
    model_version: str
    champion: bool
    metrics: dict[str, float]
    baseline_metrics: dict[str, float]
    rows: dict[str, dict[str, int]]
    trees: int
    calibration: str
    split: str
    seconds: float
    extra: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        data = asdict(self)
        data.update(data.pop("extra"))
        return data


def train_from_file(
    path: Path,
    contract: LeadContract,
    model_name: str = "leadscore",
    experiment: str = "leadscore",
    progress: Progress = lambda step: None,
) -> TrainingResult:
    """Train, evaluate and register one model version; the first version becomes champion."""
    started = time.perf_counter()
    progress("reading and validating the export")
    source = str(path)
    contract.require_training_roles()
    frame = read_table(path, contract.na_values)
    leads = split_labeled(frame, contract, source)
    kinds = feature_kinds(leads.frame, contract, source)
    client = configure_tracking()
    experiment_id = use_experiment(client, experiment)

    progress("fitting the model")
    outer = split_rows(leads.y, leads.created_at)
    train_frame = leads.frame.iloc[outer.train]
    encoder = LeadEncoder.fit(train_frame, kinds, contract.na_values)
    matrix = encoder.transform(leads.frame)
    train_times = None if leads.created_at is None else leads.created_at.iloc[outer.train]
    inner = split_rows(leads.y[outer.train], train_times)
    fitted = fit_booster(matrix[outer.train], leads.y[outer.train], encoder, inner)
    validation_probability = fitted.calibrator.apply(
        fitted.booster.predict(matrix[outer.train][inner.evaluate], raw_score=True)
    )
    tiers = tiers_from_shares(to_scores(validation_probability))

    progress("evaluating against the baseline")
    y_eval = leads.y[outer.evaluate]
    model = LeadModel(contract, encoder, fitted.booster, fitted.calibrator, tiers)
    probability = model.probabilities(matrix[outer.evaluate])
    baseline = fit_baseline(matrix[outer.train], leads.y[outer.train], encoder)
    baseline_probability = baseline.predict_proba(matrix[outer.evaluate])[:, 1]
    metrics, baseline_metrics = (
        evaluate(y_eval, probability),
        evaluate(y_eval, baseline_probability),
    )
    rows = _row_counts(leads, outer.train, outer.evaluate)
    model.metadata = {
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "data_sha256": file_sha256(path),
        "metrics": metrics,
        "baseline_metrics": baseline_metrics,
        "rows": rows,
        "features": encoder.feature_names,
        "trees": fitted.booster.num_trees(),
    }
    if contract.value:
        model.metadata[DEFAULT_KEY] = default_deal_value(
            train_frame[contract.value], leads.y[outer.train]
        )

    progress("logging to MLflow and registering")
    with mlflow.start_run(experiment_id=experiment_id) as run:
        _log_run(model, path, {"model": probability, "baseline": baseline_probability}, y_eval)
        version = log_and_register(model, leads.frame, model_name)
        is_champion = alias_version(client, model_name, CHAMPION) is None
        if is_champion:
            client.set_registered_model_alias(model_name, CHAMPION, version.version)
        mlflow.set_tag("leadscore.champion", str(is_champion).lower())
    return TrainingResult(
        run_id=run.info.run_id,
        model_uri=version.uri,
        model_version=version.version,
        champion=is_champion,
        metrics=metrics,
        baseline_metrics=baseline_metrics,
        rows=rows,
        trees=fitted.booster.num_trees(),
        calibration=fitted.calibrator.method,
        split="time" if outer.by_time else "stratified",
        seconds=round(time.perf_counter() - started, 2),
    )


def _log_run(model: LeadModel, path: Path, curves: dict[str, np.ndarray], y: np.ndarray) -> None:
    meta = model.metadata
    mlflow.log_params(
        {
            "data_path": str(path),
            "features": len(meta["features"]),
            "calibration": model.calibrator.method,
            "trees": meta["trees"],
        }
    )
    mlflow.log_metrics(meta["metrics"])
    mlflow.log_metrics({f"baseline_{k}": v for k, v in meta["baseline_metrics"].items()})
    mlflow.set_tags(
        {"leadscore.data_sha256": meta["data_sha256"], "leadscore.rows": json.dumps(meta["rows"])}
    )
    mlflow.log_dict(model.contract.to_dict(), "contract.json")
    with tempfile.TemporaryDirectory() as folder:
        roc_plot(y, curves, Path(folder) / "roc.png")
        calibration_plot(y, curves, Path(folder) / "calibration.png")
        mlflow.log_artifacts(folder, "plots")


def _row_counts(leads: LabeledLeads, train: np.ndarray, evaluate_rows: np.ndarray) -> dict:
    def counts(rows: np.ndarray) -> dict[str, int]:
        won = int(leads.y[rows].sum())
        return {"won": won, "lost": int(len(rows) - won)}

    return {
        "train": counts(train),
        "evaluate": counts(evaluate_rows),
        "open": {"open": leads.n_open},
    }


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
