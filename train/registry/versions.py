"""New versions in the model registry, and moving the aliases that say which one serves:
`promote` a challenger, `rollback` to the `previous` version."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import mlflow
import pandas as pd
from mlflow.tracking import MlflowClient

from features.errors import LeadscoreError
from serve.model.lead_model import LeadModel
from serve.model.loading import CHAMPION, PREVIOUS, alias_version, has_versions
from serve.model.pyfunc import (
    ARTIFACT_KEY,
    ENTRY_FILE,
    RUNTIME_PACKAGES,
    input_example,
    signature_of,
    stage_runtime_code,
)
from serve.model.tracking import tracking_uri


@dataclass(frozen=True)
class RegisteredVersion:
    name: str
    version: str

    @property
    def uri(self) -> str:
        return f"models:/{self.name}/{self.version}"


def log_and_register(model: LeadModel, example_rows: pd.DataFrame, name: str) -> RegisteredVersion:
    """Log the model as a pyfunc artifact of the active run, with the code it runs and only
    published requirements, and register it as a new version."""
    with tempfile.TemporaryDirectory() as folder:
        model_folder = Path(folder) / "leadmodel"
        model.save(model_folder)
        info = mlflow.pyfunc.log_model(
            name="model",
            python_model=str(ENTRY_FILE),
            artifacts={ARTIFACT_KEY: str(model_folder)},
            code_paths=[str(p) for p in stage_runtime_code(Path(folder) / "code")],
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
    if previous is None and not has_versions(client, name):
        raise RollbackError(f"no model named '{name}' at {tracking_uri()}: check --model-name")
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


def _pip_requirements() -> list[str]:
    """The published packages the saved model's code imports, at the versions it was trained
    with (leadscore itself travels with the model as code)."""
    return [f"{p}=={metadata.version(p)}" for p in RUNTIME_PACKAGES]
