"""The model registry: versions of a named model and the aliases that say which one serves.

`champion` is what the API serves; `previous` is what a rollback returns to. A serving model is
always found by alias, never by sorting runs.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import mlflow
import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from features.errors import LeadscoreError
from train.model import LeadModel
from train.pyfunc import ARTIFACT_KEY, ENTRY_FILE, input_example, signature_of
from train.tracking import configure_tracking, tracking_uri

CHAMPION = "champion"
PREVIOUS = "previous"


class ModelLoadError(LeadscoreError):
    """The model URI names nothing that can be loaded."""


@dataclass(frozen=True)
class RegisteredVersion:
    name: str
    version: str

    @property
    def uri(self) -> str:
        return f"models:/{self.name}/{self.version}"


def log_and_register(model: LeadModel, example_rows: pd.DataFrame, name: str) -> RegisteredVersion:
    """Log the model as a pyfunc artifact of the active run and register it as a new version."""
    with tempfile.TemporaryDirectory() as folder:
        model_folder = Path(folder) / "leadmodel"
        model.save(model_folder)
        info = mlflow.pyfunc.log_model(
            name="model",
            python_model=str(ENTRY_FILE),
            artifacts={ARTIFACT_KEY: str(model_folder)},
            signature=signature_of(model),
            input_example=input_example(model, example_rows),
            pip_requirements=_pip_requirements(),
            registered_model_name=name,
        )
    return RegisteredVersion(name, str(info.registered_model_version))


class RollbackError(LeadscoreError):
    """There is nothing to roll back to."""


def promote(client: MlflowClient, name: str, version: str) -> str | None:
    """Make `version` the champion and the old champion `previous`; return the old champion.

    `previous` is set first: a crash in between leaves the champion where it was.
    """
    old = alias_version(client, name, CHAMPION)
    if old is not None and old != version:
        client.set_registered_model_alias(name, PREVIOUS, old)
    client.set_registered_model_alias(name, CHAMPION, version)
    return old


def rollback(client: MlflowClient, name: str) -> tuple[str | None, str]:
    """Move `champion` back to `previous` (and `previous` to the version rolled back from, so a
    second rollback undoes the first); return (rolled back from, now champion)."""
    previous = alias_version(client, name, PREVIOUS)
    if previous is None:
        raise RollbackError(
            f"model '{name}' has no 'previous' version at {tracking_uri()}: nothing to roll back "
            "to (a version becomes 'previous' when a retrain promotes a new champion)"
        )
    champion = alias_version(client, name, CHAMPION)
    client.set_registered_model_alias(name, CHAMPION, previous)
    if champion is not None:
        client.set_registered_model_alias(name, PREVIOUS, champion)
    return champion, previous


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


def _pip_requirements() -> list[str]:
    """The libraries the saved model needs, at the versions it was trained with."""
    from importlib.metadata import version

    packages = ("leadscore", "lightgbm", "numpy", "pandas", "scikit-learn", "mlflow")
    return [f"{p}=={version(p)}" for p in packages]
