"""`leadscore train` end to end: read and join, validate, split, audit and fit, evaluate, log,
register, decide, report. Each step is a function of its own module; this one only runs them in
order, and `train.retrain` reuses the same steps for the retraining job."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
from mlflow.tracking import MlflowClient

from features.contract import LeadContract
from features.errors import SettingError
from features.labels import LabeledLeads, parse_times
from serve.model.lead_model import LeadModel
from serve.model.loading import CHAMPION, alias_version
from serve.model.tracking import configure_tracking
from train.evaluate.gate import Decision, decide_champion
from train.evaluate.holdout import Evaluation, evaluate_holdout
from train.job_options import JobOptions, TrainingOptions
from train.learn import LearnedModel, TierRule, learn_lead_model, refit_lead_model
from train.model_metadata import metrics_scope, model_metadata, row_counts
from train.registry.experiment import use_experiment
from train.registry.run_log import log_decision, log_report, log_training
from train.registry.versions import RegisteredVersion, log_and_register
from train.report.html_report import report_paths, write_report
from train.results import ReportFiles, RowCounts, TrainingResult, TrainingSummary
from train.sources import TrainingData, read_training_data
from train.split import Split, check_both_outcomes, lead_order, split_name, split_rows
from train.tier_cutoffs import warn_of_capacity_beyond_volume, weekly_lead_volume

Progress = Callable[[str], None]
FINGERPRINT_TAG = "leadscore.data_fingerprint"
DEFAULT_OPTIONS = TrainingOptions()


@dataclass
class Candidate:
    """A model learnt and evaluated but not yet logged: what both training and retraining
    register. `learned` is the model evaluated (it never saw the evaluation leads); `model`,
    the one registered, is the same recipe refitted on every labeled lead."""

    data: TrainingData
    learned: LearnedModel
    model: LeadModel
    outer: Split
    summary: TrainingSummary
    started: float

    @property
    def evaluation(self) -> Evaluation:
        return self.summary.evaluation

    @property
    def evaluation_rows(self) -> np.ndarray:
        return self.outer.evaluate


def train_job(
    path: Path, options: JobOptions, progress: Progress = lambda step: None
) -> TrainingResult:
    """`leadscore train`: the contract and training options from the command line's options,
    then `train_from_file`."""
    return train_from_file(path, options.contract(), options.training(), progress)


def train_from_file(
    path: Path,
    contract: LeadContract,
    options: TrainingOptions = DEFAULT_OPTIONS,
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
        log_decision(decision)
        progress("writing the report")
        report = write_run_report(candidate, options, version, decision)
    return training_result(candidate, run.info.run_id, version, decision, report)


def learn_candidate(
    data: TrainingData,
    contract: LeadContract,
    options: TrainingOptions,
    progress: Progress,
    started: float,
) -> Candidate:
    """Split, audit, fit and evaluate on the newest leads, then refit the same recipe on every
    labeled lead for serving; the served model carries its metadata."""
    leads = data.leads
    tier_rule = _tier_rule(options, data, contract)
    progress("auditing and fitting the model")
    order = lead_order(leads, contract)
    outer = split_rows(leads.y, order)
    if outer.by_time:
        check_both_outcomes(leads.y, outer, data.source)
    learned = _learn(leads, order, outer, contract, tier_rule, options, data.source)

    progress("evaluating against the baseline")
    evaluation_frame, evaluation_y = leads.frame.iloc[outer.evaluate], leads.y[outer.evaluate]
    evaluation = evaluate_holdout(
        learned.model,
        learned.baseline,
        leads.frame.iloc[outer.train],
        leads.y[outer.train],
        evaluation_frame,
        evaluation_y,
    )
    progress("refitting on every labeled lead")
    evaluation_order = None if order is None else order.iloc[outer.evaluate]
    unseen = learned.candidate_scores(evaluation_frame, evaluation_y, evaluation_order)
    model = refit_lead_model(learned, leads.frame, leads.y, unseen, tier_rule)
    rows = row_counts(leads, outer.train, outer.evaluate)
    model.metadata = model_metadata(learned, model, evaluation, data, outer, rows)
    summary = _summary(options, learned, model, evaluation, data, tier_rule, outer, rows)
    return Candidate(data, learned, model, outer, summary, started)


def register_candidate(
    client: MlflowClient, candidate: Candidate, options: TrainingOptions
) -> RegisteredVersion:
    """Log the candidate into the active run and register it as a new version (no alias)."""
    log_training(candidate.model, candidate.data, candidate.summary)
    version = log_and_register(candidate.model, candidate.data.leads.frame, options.model_name)
    usable = candidate.evaluation.signal.usable
    client.set_model_version_tag(
        options.model_name, version.version, "leadscore.usable_signal", str(usable).lower()
    )
    client.set_model_version_tag(
        options.model_name, version.version, FINGERPRINT_TAG, candidate.data.fingerprint
    )
    return version


def write_run_report(
    candidate: Candidate, options: TrainingOptions, version: RegisteredVersion, decision: Decision
) -> ReportFiles:
    """The HTML report and plots, logged into the active run."""
    html_path, plots_folder = report_paths(options.report_json, options.model_name, version.version)
    report = write_report(candidate.summary, version.version, decision, html_path, plots_folder)
    log_report(report)
    return report


def training_result(
    candidate: Candidate,
    run_id: str,
    version: RegisteredVersion,
    decision: Decision,
    report: ReportFiles,
) -> TrainingResult:
    model = candidate.model
    return TrainingResult(
        run_id=run_id,
        model_uri=version.uri,
        model_version=version.version,
        decision=decision,
        summary=candidate.summary,
        report=report,
        trees=model.learner.trees,
        calibration=model.calibrator.method,
        seconds=round(time.perf_counter() - candidate.started, 2),
    )


def _learn(
    leads: LabeledLeads,
    order: pd.Series | None,
    outer: Split,
    contract: LeadContract,
    tier_rule: TierRule,
    options: TrainingOptions,
    source: str,
) -> LearnedModel:
    return learn_lead_model(
        leads.frame.iloc[outer.train],
        leads.y[outer.train],
        None if order is None else order.iloc[outer.train],
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
    warn_of_capacity_beyond_volume(options.capacity, volume)
    return TierRule(capacity=options.capacity, weekly_volume=volume)


def _summary(
    options: TrainingOptions,
    learned: LearnedModel,
    model: LeadModel,
    evaluation: Evaluation,
    data: TrainingData,
    tier_rule: TierRule,
    outer: Split,
    rows: RowCounts,
) -> TrainingSummary:
    return TrainingSummary(
        model_name=options.model_name,
        rows=rows,
        split=split_name(model.contract, outer),
        metrics_for=metrics_scope(outer, rows),
        learner=model.learner.describe(),
        candidates=learned.choice,
        features=model.encoder.feature_names,
        audit=learned.audit,
        kept_columns=list(model.contract.keep),
        joins=data.joins,
        evaluation=evaluation,
        tier_cutoffs=model.tiers.cutoffs,
        tier_rule=tier_rule.describe(),
        tuned_params=learned.tuned_params,
    )
