"""Where MLflow keeps runs and models: `MLFLOW_TRACKING_URI` when set, otherwise a SQLite file
and an artifact folder in the working directory."""

from __future__ import annotations

import os
from pathlib import Path

import mlflow
from mlflow.tracking import MlflowClient

DEFAULT_TRACKING_URI = "sqlite:///mlflow.db"
DEFAULT_EXPERIMENT = "leadscore"


def tracking_uri() -> str:
    return os.environ.get("MLFLOW_TRACKING_URI") or DEFAULT_TRACKING_URI


def configure_tracking() -> MlflowClient:
    """Point MLflow (tracking and registry) at the configured store and return a client."""
    uri = tracking_uri()
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def use_experiment(client: MlflowClient, name: str = DEFAULT_EXPERIMENT) -> str:
    """The experiment's id; created on first use, with artifacts beside a local SQLite store."""
    experiment = client.get_experiment_by_name(name)
    if experiment is not None:
        return experiment.experiment_id
    return client.create_experiment(name, artifact_location=_local_artifact_root())


def _local_artifact_root() -> str | None:
    """For `sqlite:///path/mlflow.db`, artifacts go to `path/mlartifacts`; a server decides
    for itself."""
    uri = tracking_uri()
    if not uri.startswith("sqlite:///"):
        return None
    database = Path(uri.removeprefix("sqlite:///")).resolve()
    return (database.parent / "mlartifacts").as_uri()
