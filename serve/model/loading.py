"""Finding and loading a registered lead model: by URI, with an alias resolved to its version
first, so the version reported is the one loaded. `champion` is what the API serves; `previous`
is what a rollback returns to. A serving model is always found by alias, never by sorting runs.
"""

from __future__ import annotations

from dataclasses import dataclass

import mlflow
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from features.errors import LeadscoreError
from serve.model.lead_model import LeadModel
from serve.model.tracking import configure_tracking, tracking_uri

CHAMPION = "champion"
PREVIOUS = "previous"


class ModelLoadError(LeadscoreError):
    """The model URI names nothing that can be loaded."""


def alias_version(client: MlflowClient, name: str, alias: str) -> str | None:
    """The version an alias points at, or None when the alias (or the model) does not exist."""
    try:
        return str(client.get_model_version_by_alias(name, alias).version)
    except MlflowException:
        return None


@dataclass(frozen=True)
class LoadedModel:
    """A lead model with where it came from; `version` is None for a model not in the registry."""

    model: LeadModel
    uri: str
    name: str | None
    version: str | None


def load_lead_model(uri: str) -> LoadedModel:
    """Load a lead model by URI; an alias is resolved to its version first, so the version
    reported is the one actually loaded."""
    client = configure_tracking()
    name, version = None, None
    if uri.startswith("models:/"):
        name, version, uri = _resolve_registered(client, uri)
    try:
        pyfunc = mlflow.pyfunc.load_model(uri)
    except (MlflowException, OSError) as exc:
        raise ModelLoadError(f"model {uri} cannot be loaded: {_first_line(exc)}") from exc
    return LoadedModel(pyfunc.unwrap_python_model().model, uri, name, version)


def _resolve_registered(client: MlflowClient, uri: str) -> tuple[str, str, str]:
    reference = uri.removeprefix("models:/")
    name, alias_sep, alias = reference.partition("@")
    try:
        if alias_sep:
            version = client.get_model_version_by_alias(name, alias).version
        else:
            name, _, version = reference.partition("/")
            client.get_model_version(name, version)
    except MlflowException as exc:
        raise ModelLoadError(
            f"model {uri} is not in the registry at {tracking_uri()}: {_first_line(exc)}; "
            "train one with 'leadscore train' or set MLFLOW_TRACKING_URI"
        ) from exc
    return name, str(version), f"models:/{name}/{version}"


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
