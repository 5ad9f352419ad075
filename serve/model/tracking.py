"""Where MLflow keeps runs and models: `MLFLOW_TRACKING_URI` when set, otherwise a SQLite file
and an artifact folder in the working directory."""

from __future__ import annotations

import os

import mlflow
from mlflow.tracking import MlflowClient

DEFAULT_TRACKING_URI = "sqlite:///mlflow.db"


def tracking_uri() -> str:
    return os.environ.get("MLFLOW_TRACKING_URI") or DEFAULT_TRACKING_URI


def configure_tracking() -> MlflowClient:
    """Point MLflow (tracking and registry) at the configured store and return a client."""
    uri = tracking_uri()
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    return MlflowClient(tracking_uri=uri, registry_uri=uri)
