"""`leadscore retrain`: a challenger trained with the same steps as `leadscore train`, judged
against the serving champion on leads neither trained on, promoted only when the gate says so.

Safety: everything happens under the registry lock, so two jobs never promote at once; the
challenger is fully registered before any alias moves, and `promote` moves `previous` before
`champion`, so a job killed at any point leaves `champion` where it was.
"""

from __future__ import annotations

import logging
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

import mlflow
import numpy as np
from mlflow.entities import RunStatus
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from features.contract import LeadContract
from serve.model.drift import PSI_WARNING, DriftReport, drift_report
from serve.model.lead_model import LeadModel
from serve.model.loading import CHAMPION, alias_version, load_lead_model
from serve.model.run_decision import JOB_TAG, RETRAIN_JOB
from serve.model.tracking import configure_tracking
from train.evaluate.challenge import (
    TRAINED_LEADS_FILE,
    Comparison,
    compare,
    enough_leads,
    unseen_by_champion,
)
from train.evaluate.gate import Decision, PromotionRule, decide_promotion
from train.job_options import JobOptions, TrainingOptions
from train.pipeline import (
    FINGERPRINT_TAG,
    Candidate,
    Progress,
    learn_candidate,
    register_candidate,
    training_result,
    write_run_report,
)
from train.registry.experiment import use_experiment
from train.registry.lock import registry_lock
from train.registry.run_log import log_retrain_decision
from train.registry.versions import promote
from train.results import RetrainOutcome
from train.sources import TrainingData, read_training_data, store_snapshots

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetrainOptions:
    training: TrainingOptions = TrainingOptions()
    rule: PromotionRule = PromotionRule()
    lock_wait: float = 0.0


def retrain_job(
    path: Path | None,
    database_url: str | None,
    options: JobOptions,
    rule: PromotionRule,
    lock_wait: float,
    progress: Progress = lambda step: None,
) -> RetrainOutcome:
    """`leadscore retrain`: read the export at `path` and/or the store at `database_url` (the
    score log joined with the outcomes), then `retrain` on them."""
    contract = options.contract()
    retrain_options = RetrainOptions(options.training(), rule, lock_wait)
    store = store_snapshots(database_url) if database_url is not None else None
    progress("reading, joining and validating")
    data = read_training_data(contract, path, store)
    return retrain(data, contract, retrain_options, progress)


def retrain(
    data: TrainingData,
    contract: LeadContract,
    options: RetrainOptions = RetrainOptions(),
    progress: Progress = lambda step: None,
) -> RetrainOutcome:
    """Train a challenger on `data` and promote it only if it beats the champion."""
    started = time.perf_counter()
    name = options.training.model_name
    client = configure_tracking()
    experiment_id = use_experiment(client, options.training.experiment)
    described = data.describe(contract)
    with registry_lock(client, name, options.lock_wait):
        fail_abandoned_runs(client, experiment_id)
        champion_version = alias_version(client, name, CHAMPION)
        if champion_version and _fingerprint(client, name, champion_version) == data.fingerprint:
            reason = (
                f"kept: the data is the same as champion version {champion_version} learnt "
                "from (same data fingerprint); nothing new to learn, nothing registered"
            )
            return RetrainOutcome(Decision(False, True, reason), described, champion_version)
        candidate = learn_candidate(data, contract, options.training, progress, started)
        progress("comparing with the champion")
        champion = _champion(client, name, champion_version) if champion_version else None
        decision, comparison = _decide(candidate, champion, options.rule)
        outcome = RetrainOutcome(
            decision,
            described,
            champion_version,
            comparison,
            _drift(candidate, champion.model if champion else None),
        )
        progress("logging to MLflow and registering")
        with mlflow.start_run(experiment_id=experiment_id, tags={JOB_TAG: RETRAIN_JOB}) as run:
            version = register_candidate(client, candidate, options.training)
            if decision.champion:
                promote(client, name, version.version)
            log_retrain_decision(outcome)
            progress("writing the report")
            report = write_run_report(candidate, options.training, version, decision)
        training = training_result(candidate, run.info.run_id, version, decision, report)
    return replace(outcome, training=training)


def fail_abandoned_runs(client: MlflowClient, experiment_id: str) -> list[str]:
    """Mark retraining runs still RUNNING as FAILED: with the lock held, no live job owns them,
    so they were left by a job that died."""
    runs = client.search_runs(
        [experiment_id],
        filter_string=f"tags.`{JOB_TAG}` = '{RETRAIN_JOB}' and attributes.status = 'RUNNING'",
    )
    for run in runs:
        log.warning(
            "marking run %s, left running by a retrain that died, as failed", run.info.run_id
        )
        client.set_terminated(run.info.run_id, RunStatus.to_string(RunStatus.FAILED))
    return [run.info.run_id for run in runs]


def _fingerprint(client: MlflowClient, name: str, version: str) -> str | None:
    return client.get_model_version(name, version).tags.get(FINGERPRINT_TAG)


@dataclass(frozen=True)
class Champion:
    """The serving champion, and the lead ids it learnt from (see `lead_id_hashes`; None for a
    version trained before they were kept, or from leads without an id column)."""

    model: LeadModel
    trained_leads: np.ndarray | None


def _champion(client: MlflowClient, name: str, version: str) -> Champion:
    model = load_lead_model(f"models:/{name}/{version}").model
    run_id = client.get_model_version(name, version).run_id
    with tempfile.TemporaryDirectory() as folder:
        try:
            path = mlflow.artifacts.download_artifacts(
                run_id=run_id, artifact_path=TRAINED_LEADS_FILE, dst_path=folder
            )
        except MlflowException:
            return Champion(model, None)
        return Champion(model, np.load(path))


def _decide(
    candidate: Candidate, champion: Champion | None, rule: PromotionRule
) -> tuple[Decision, Comparison | None]:
    """Whether the challenger is promoted, with the comparison that decided it (none without a
    champion, or with too few leads the champion never trained on: then it is kept)."""
    comparison, too_few = _compare(candidate, champion)
    evaluation = candidate.evaluation
    if too_few:
        return Decision(False, evaluation.signal.usable, too_few), None
    return decide_promotion(evaluation.signal, evaluation.metrics, rule, comparison), comparison


def _compare(
    candidate: Candidate, champion: Champion | None
) -> tuple[Comparison | None, str | None]:
    """The comparison on the evaluation leads the champion never trained on, or why there is
    none (too few such leads)."""
    if champion is None:
        return None, None
    leads, rows = candidate.data.leads, candidate.evaluation_rows
    model, id_column = champion.model, champion.model.contract.id
    times = None if leads.created_at is None else leads.created_at.iloc[rows]
    ids = leads.frame[id_column].iloc[rows] if id_column in leads.frame.columns else None
    trained_through = model.metadata.get("trained_through")
    unseen = unseen_by_champion(len(rows), times, trained_through, ids, champion.trained_leads)
    by_time = times is not None and trained_through is not None
    by_ids = ids is not None and champion.trained_leads is not None
    if not by_time and not by_ids:
        log.warning(
            "no created-at column and no record of the leads the champion learnt from: it may "
            "have trained on some evaluation leads, which flatters it; give --time COLUMN"
        )
    y = leads.y[rows][unseen]
    if not enough_leads(y):
        rules = []
        if by_time:
            rules.append(f"newer than the champion's training data (through {trained_through})")
        if by_ids:
            rules.append("not among the leads it learnt from")
        which = " and ".join(rules)
        return None, (
            f"kept: only {len(y)} evaluation leads are {which}; retrain when more outcomes have "
            "come in"
        )
    frame = leads.frame.iloc[rows][unseen]
    challenger = candidate.evaluation.probability[unseen]
    serving = model.probabilities(model.encoder.transform(frame))
    return compare(y, challenger, serving), None


def _drift(candidate: Candidate, champion: LeadModel | None) -> DriftReport | None:
    """The champion's training leads against the new leads (all of them), or None without a
    champion or a stored profile."""
    if champion is None or "drift_profile" not in champion.metadata:
        return None
    leads = candidate.data.leads
    scores = champion.probabilities(champion.encoder.transform(leads.frame))
    report = drift_report(
        champion.metadata["drift_profile"],
        champion.encoder,
        leads.frame,
        scores,
        float(np.mean(leads.y)),
        ignored=champion.contract.excluded_columns,
    )
    if report.drifted:
        log.warning(
            "drift: population stability index above %s for %s",
            PSI_WARNING,
            ", ".join(report.drifted),
        )
    return report
