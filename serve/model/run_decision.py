"""The last decision training took about the champion, read back from the MLflow runs: whether
the newest `leadscore train` or `leadscore retrain` run promoted its model, and why.

The tags are written by training (`train.registry.run_log`) and named here, where serving reads
them too. The runs searched are those of the experiment the serving version was trained in.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from mlflow.exceptions import MlflowException

from serve.model.redaction import redact_credentials
from serve.model.tracking import configure_tracking

log = logging.getLogger(__name__)

JOB_TAG = "leadscore.job"
RETRAIN_JOB = "retrain"
CHAMPION_TAG = "leadscore.champion"
SIGNAL_TAG = "leadscore.signal"
DECISION_TAG = "leadscore.decision"
RETRAIN_VERDICT_TAG = "leadscore.retrain_decision"


@dataclass(frozen=True)
class RunDecision:
    """`job`: train or retrain; `promoted`: whether its model became champion; `reason`: the
    decision as training wrote it."""

    job: str
    run_id: str
    started_at: datetime
    promoted: bool
    reason: str


@dataclass(frozen=True)
class DecisionLookup:
    """The newest decision, or None with the reason none could be read."""

    decision: RunDecision | None
    problem: str | None = None


def last_decision(model_name: str, version: str) -> DecisionLookup:
    """The decision of the newest run that took one, in the experiment of `version`'s run."""
    try:
        client = configure_tracking()
        run_id = client.get_model_version(model_name, version).run_id
        if run_id is None:
            return DecisionLookup(None, f"version {version} was not logged by a run")
        experiment = client.get_run(run_id).info.experiment_id
        runs = client.search_runs(
            [experiment],
            filter_string=f"tags.`{DECISION_TAG}` LIKE '%'",
            order_by=["attributes.start_time DESC"],
            max_results=1,
        )
    except (MlflowException, OSError) as exc:  # the board still shows, and says why
        problem = redact_credentials(str(exc).strip().splitlines()[0] if str(exc) else repr(exc))
        log.warning("cannot read the last training decision: %s", problem)
        return DecisionLookup(None, f"the registry did not answer: {problem}")
    if not runs:
        return DecisionLookup(None, "no training run has recorded a decision")
    run = runs[0]
    tags = run.data.tags
    return DecisionLookup(
        RunDecision(
            job=RETRAIN_JOB if tags.get(JOB_TAG) == RETRAIN_JOB else "train",
            run_id=run.info.run_id,
            started_at=datetime.fromtimestamp(run.info.start_time / 1000, UTC),
            promoted=tags.get(CHAMPION_TAG) == "true",
            reason=tags.get(DECISION_TAG, ""),
        )
    )
