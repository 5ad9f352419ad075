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


def bound_registry_requests(timeout_seconds: int) -> None:
    """Each request to a tracking server gives up after `timeout_seconds`, without MLflow's own
    retries (about four minutes by default), so that an unreachable registry is known as such
    quickly; the server retries on its own schedule. MLFLOW_HTTP_REQUEST_TIMEOUT and
    MLFLOW_HTTP_REQUEST_MAX_RETRIES, when set, win."""
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", str(timeout_seconds))
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
