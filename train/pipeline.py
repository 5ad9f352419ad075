"""`leadscore train` end to end: read and join, validate, split, audit and fit, evaluate, log,
register, decide, report. Each step is a function of its own module; this one only runs them in
order, and `train.retrain` reuses the same steps for the retraining job."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import mlflow
import numpy as np
from mlflow.tracking import MlflowClient

from features.contract import LeadContract
from features.errors import SettingError
from features.joins import JOINED_COLUMNS_KEY, JoinReport
from features.labels import LabeledLeads, parse_times
from serve.model.deal_value import DEFAULT_KEY
from serve.model.drift import profile
from serve.model.lead_model import LeadModel
from serve.model.loading import CHAMPION, alias_version
from serve.model.tracking import configure_tracking
from train.evaluate.gate import decide_champion
from train.evaluate.holdout import Evaluation, evaluate_holdout
from train.learn import LearnedModel, TierRule, learn_lead_model
from train.model_metadata import default_deal_value
from train.registry.experiment import use_experiment
from train.registry.run_log import log_decision, log_report, log_training
from train.registry.versions import RegisteredVersion, log_and_register
from train.report.html_report import report_paths, write_report
from train.sources import TrainingData, read_training_data
from train.split import Split, split_rows
from train.tier_cutoffs import weekly_lead_volume

log = logging.getLogger(__name__)

Progress = Callable[[str], None]
STEPS = 5
FINGERPRINT_TAG = "leadscore.data_fingerprint"


@dataclass(frozen=True)
class TrainingOptions:
    """Everything about a training run that is not the contract."""

    model_name: str = "leadscore"
    experiment: str = "leadscore"
    tier_cutoffs: tuple[int, int, int] | None = None
    capacity: int | None = None
    tune_seconds: float = 0
    report_json: Path | None = None


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

    @property
    def usable_signal(self) -> bool:
        return self.extra["decision"]["usable_signal"]

    def to_json(self) -> dict:
        data = asdict(self)
        data.update(data.pop("extra"))
        return data


@dataclass
class Candidate:
    """A model learnt and evaluated but not yet logged: what both training and retraining
    register."""

    data: TrainingData
    learned: LearnedModel
    evaluation: Evaluation
    outer: Split
    summary: dict
    started: float

    @property
    def model(self) -> LeadModel:
        return self.learned.model

    @property
    def evaluation_rows(self) -> np.ndarray:
        return self.outer.evaluate


def train_from_file(
    path: Path,
    contract: LeadContract,
    options: TrainingOptions = TrainingOptions(),
    progress: Progress = lambda step: None,
) -> TrainingResult:
    """Train, evaluate and register one model version; it becomes champion only when it shows
    usable signal and no champion exists yet."""
    started = time.perf_counter()
    progress("reading, joining and validating")
    data = read_training_data(contract, path)
    client = configure_tracking()
    experiment_id = use_experiment(client, options.experiment)
    candidate = learn_candidate(data, contract, options, progress, started)

    progress("logging to MLflow and registering")
    with mlflow.start_run(experiment_id=experiment_id) as run:
        version = register_candidate(client, candidate, options)
        decision = decide_champion(
            candidate.evaluation.signal, alias_version(client, options.model_name, CHAMPION)
        )
        if decision.champion:
            client.set_registered_model_alias(options.model_name, CHAMPION, version.version)
        candidate.summary.update(decision=decision.to_dict())
        log_decision(candidate.summary)
        progress("writing the report")
        write_run_report(candidate, options, version)
    return training_result(candidate, run.info.run_id, version, decision.champion)


def learn_candidate(
    data: TrainingData,
    contract: LeadContract,
    options: TrainingOptions,
    progress: Progress,
    started: float,
) -> Candidate:
    """Split, audit, fit and evaluate on the newest leads; the model carries its metadata."""
    leads = data.leads
    tier_rule = _tier_rule(options, data, contract)
    progress("auditing and fitting the model")
    outer = split_rows(leads.y, leads.created_at)
    learned = _learn(leads, outer, contract, tier_rule, options, data.source)

    progress("evaluating against the baseline")
    evaluation = evaluate_holdout(
        learned.model,
        leads.frame.iloc[outer.train],
        leads.y[outer.train],
        leads.frame.iloc[outer.evaluate],
        leads.y[outer.evaluate],
    )
    learned.model.metadata = _metadata(learned, evaluation, data, outer)
    summary = _summary(options, learned, evaluation, data.joins, tier_rule, outer)
    return Candidate(data, learned, evaluation, outer, summary, started)


def register_candidate(
    client: MlflowClient, candidate: Candidate, options: TrainingOptions
) -> RegisteredVersion:
    """Log the candidate into the active run and register it as a new version (no alias)."""
    learned = candidate.learned
    log_training(
        learned.model,
        candidate.data.source,
        candidate.evaluation,
        candidate.summary,
        learned.tuned_params,
    )
    version = log_and_register(learned.model, candidate.data.leads.frame, options.model_name)
    usable = candidate.evaluation.signal.usable
    client.set_model_version_tag(
        options.model_name, version.version, "leadscore.usable_signal", str(usable).lower()
    )
    client.set_model_version_tag(
        options.model_name, version.version, FINGERPRINT_TAG, candidate.data.fingerprint
    )
    candidate.summary.update(model_version=version.version)
    return version


def write_run_report(
    candidate: Candidate, options: TrainingOptions, version: RegisteredVersion
) -> None:
    """The HTML report and plots, logged into the active run."""
    html_path, plots_folder = report_paths(options.report_json, options.model_name, version.version)
    pngs = write_report(candidate.summary, candidate.evaluation, html_path, plots_folder)
    log_report(html_path, pngs)
    candidate.summary.update(report_html=str(html_path), plots=[str(p) for p in pngs])


def training_result(
    candidate: Candidate, run_id: str, version: RegisteredVersion, champion: bool
) -> TrainingResult:
    model, evaluation = candidate.model, candidate.evaluation
    return TrainingResult(
        run_id=run_id,
        model_uri=version.uri,
        model_version=version.version,
        champion=champion,
        metrics=evaluation.metrics,
        baseline_metrics=evaluation.baseline_metrics,
        rows=model.metadata["rows"],
        trees=model.booster.num_trees(),
        calibration=model.calibrator.method,
        split="time" if candidate.outer.by_time else "stratified",
        seconds=round(time.perf_counter() - candidate.started, 2),
        extra={k: v for k, v in candidate.summary.items() if k not in _RESULT_FIELDS},
    )


def _learn(
    leads: LabeledLeads,
    outer: Split,
    contract: LeadContract,
    tier_rule: TierRule,
    options: TrainingOptions,
    source: str,
) -> LearnedModel:
    train_times = None if leads.created_at is None else leads.created_at.iloc[outer.train]
    return learn_lead_model(
        leads.frame.iloc[outer.train],
        leads.y[outer.train],
        train_times,
        contract,
        tier_rule,
        options.tune_seconds,
        source,
    )


def _tier_rule(options: TrainingOptions, data: TrainingData, contract: LeadContract) -> TierRule:
    """Capacity needs the weekly lead volume, which needs created-at times of all leads."""
    if options.capacity is not None and options.tier_cutoffs:
        raise SettingError("give either --capacity or --tier-cutoffs, not both")
    if options.capacity is None:
        return TierRule(cutoffs=options.tier_cutoffs)
    if not contract.time:
        raise SettingError(
            "--capacity needs the created-at column (--time COLUMN) to know how many leads "
            "arrive a week; without one, give --tier-cutoffs A,B,C instead"
        )
    volume = weekly_lead_volume(parse_times(data.frame, contract.time, data.source))
    return TierRule(capacity=options.capacity, weekly_volume=volume)


def _metadata(
    learned: LearnedModel, evaluation: Evaluation, data: TrainingData, outer: Split
) -> dict:
    """What the model carries: its evaluation, what it was trained on (content fingerprint and
    newest training lead, so a retrain compares on leads it never saw) and its drift reference."""
    leads, model = data.leads, learned.model
    train_frame, y_train = leads.frame.iloc[outer.train], leads.y[outer.train]
    train_matrix = model.encoder.transform(train_frame)
    metadata = {
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "data_sha256": data.file_sha256,
        "data_fingerprint": data.fingerprint,
        "trained_through": _newest(leads, outer.train),
        "metrics": evaluation.metrics,
        "baseline_metrics": evaluation.baseline_metrics,
        "rows": _row_counts(leads, outer.train, outer.evaluate),
        "features": model.encoder.feature_names,
        "trees": model.booster.num_trees(),
        "usable_signal": evaluation.signal.usable,
        "leaky_columns": learned.audit.excluded_as_leaks,
        "drift_profile": profile(
            model.encoder, train_matrix, model.probabilities(train_matrix), float(y_train.mean())
        ),
    }
    if data.joins:  # scoring joins the same tables and must name their columns alike
        metadata[JOINED_COLUMNS_KEY] = {join.table: join.columns for join in data.joins}
    value_column = model.contract.value
    if value_column:
        metadata[DEFAULT_KEY] = default_deal_value(train_frame[value_column], y_train)
    return metadata


def _newest(leads: LabeledLeads, rows: np.ndarray) -> str | None:
    if leads.created_at is None or len(rows) == 0:
        return None
    return leads.created_at.iloc[rows].max().isoformat()


def _summary(
    options: TrainingOptions,
    learned: LearnedModel,
    evaluation: Evaluation,
    joins: list[JoinReport],
    tier_rule: TierRule,
    outer: Split,
) -> dict:
    """The report's content, beyond the fields `TrainingResult` has always had."""
    model = learned.model
    return {
        "model_name": options.model_name,
        "metrics": evaluation.metrics,
        "baseline_metrics": evaluation.baseline_metrics,
        "rows": model.metadata["rows"],
        "split": "time" if outer.by_time else "stratified",
        "features": model.encoder.feature_names,
        "audit": learned.audit.to_list(),
        "missing_share": learned.audit.missing_share,
        "kept_columns": list(model.contract.keep),
        "joins": [j.to_dict() for j in joins],
        "intervals": evaluation.intervals,
        "base_rate_log_loss": evaluation.base_rate_log_loss,
        "signal": evaluation.signal.to_dict(),
        "tiers": {
            "cutoffs": list(model.tiers.cutoffs),
            "rule": tier_rule.describe(),
            "table": evaluation.tier_table,
        },
        "value": evaluation.value,
        "top_features": evaluation.top_features,
        "tuned_params": learned.tuned_params,
    }


_RESULT_FIELDS = {"metrics", "baseline_metrics", "rows", "split"}


def _row_counts(leads: LabeledLeads, train: np.ndarray, evaluate_rows: np.ndarray) -> dict:
    def counts(rows: np.ndarray) -> dict[str, int]:
        won = int(leads.y[rows].sum())
        return {"won": won, "lost": int(len(rows) - won)}

    return {
        "train": counts(train),
        "evaluate": counts(evaluate_rows),
        "open": {"open": leads.n_open},
    }
