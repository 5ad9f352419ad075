"""The MLflow experiment a training run is logged into."""

from __future__ import annotations

from pathlib import Path

from mlflow.tracking import MlflowClient

from serve.model.tracking import tracking_uri

DEFAULT_EXPERIMENT = "leadscore"


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
