"""`leadscore train` end to end: read and join, validate, split, audit and fit, evaluate, log,
register, decide, report. Each step is a function of its own module; this one only runs them in
order."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import mlflow
import numpy as np

from features.contract import LeadContract
from features.errors import SettingError
from features.joins import JoinReport, read_export
from features.labels import LabeledLeads, parse_times, split_labeled
from features.reading import file_sha256
from train.deal_value import DEFAULT_KEY, default_deal_value
from train.evaluation import Evaluation, evaluate_holdout
from train.gate import decide_champion
from train.learn import LearnedModel, TierRule, learn_lead_model
from train.registry import CHAMPION, alias_version, log_and_register
from train.report import report_paths, write_report
from train.run_log import log_decision, log_report, log_training
from train.split import Split, split_rows
from train.tiers import weekly_lead_volume
from train.tracking import configure_tracking, use_experiment

log = logging.getLogger(__name__)

Progress = Callable[[str], None]
STEPS = 5


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
    contract.require_training_roles()
    frame, joins = read_export(path, contract)
    leads = split_labeled(frame, contract, str(path))
    tier_rule = _tier_rule(options, frame, contract, str(path))
    client = configure_tracking()
    experiment_id = use_experiment(client, options.experiment)

    progress("auditing and fitting the model")
    outer = split_rows(leads.y, leads.created_at)
    learned = _learn(leads, outer, contract, tier_rule, options, str(path))

    progress("evaluating against the baseline")
    evaluation = evaluate_holdout(
        learned.model,
        leads.frame.iloc[outer.train],
        leads.y[outer.train],
        leads.frame.iloc[outer.evaluate],
        leads.y[outer.evaluate],
    )
    learned.model.metadata = _metadata(learned, evaluation, leads, outer, path)
    summary = _summary(options, learned, evaluation, joins, tier_rule, outer)

    progress("logging to MLflow and registering")
    with mlflow.start_run(experiment_id=experiment_id) as run:
        log_training(learned.model, path, evaluation, summary, learned.tuned_params)
        version = log_and_register(learned.model, leads.frame, options.model_name)
        decision = decide_champion(
            evaluation.signal, alias_version(client, options.model_name, CHAMPION)
        )
        if decision.champion:
            client.set_registered_model_alias(options.model_name, CHAMPION, version.version)
        client.set_model_version_tag(
            options.model_name,
            version.version,
            "leadscore.usable_signal",
            str(decision.usable_signal).lower(),
        )
        summary.update(model_version=version.version, decision=decision.to_dict())
        log_decision(summary)

        progress("writing the report")
        html_path, plots_folder = report_paths(
            options.report_json, options.model_name, version.version
        )
        pngs = write_report(summary, evaluation, html_path, plots_folder)
        log_report(html_path, pngs)
    summary.update(report_html=str(html_path), plots=[str(p) for p in pngs])
    return TrainingResult(
        run_id=run.info.run_id,
        model_uri=version.uri,
        model_version=version.version,
        champion=decision.champion,
        metrics=evaluation.metrics,
        baseline_metrics=evaluation.baseline_metrics,
        rows=learned.model.metadata["rows"],
        trees=learned.model.booster.num_trees(),
        calibration=learned.model.calibrator.method,
        split="time" if outer.by_time else "stratified",
        seconds=round(time.perf_counter() - started, 2),
        extra={k: v for k, v in summary.items() if k not in _RESULT_FIELDS},
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


def _tier_rule(options: TrainingOptions, frame, contract: LeadContract, source: str) -> TierRule:
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
    volume = weekly_lead_volume(parse_times(frame, contract.time, source))
    return TierRule(capacity=options.capacity, weekly_volume=volume)


def _metadata(
    learned: LearnedModel, evaluation: Evaluation, leads: LabeledLeads, outer: Split, path: Path
) -> dict:
    metadata = {
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "data_sha256": file_sha256(path),
        "metrics": evaluation.metrics,
        "baseline_metrics": evaluation.baseline_metrics,
        "rows": _row_counts(leads, outer.train, outer.evaluate),
        "features": learned.model.encoder.feature_names,
        "trees": learned.model.booster.num_trees(),
        "usable_signal": evaluation.signal.usable,
    }
    value_column = learned.model.contract.value
    if value_column:
        metadata[DEFAULT_KEY] = default_deal_value(
            leads.frame[value_column].iloc[outer.train], leads.y[outer.train]
        )
    return metadata


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
