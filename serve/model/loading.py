"""Finding and loading a registered lead model: by URI, with an alias resolved to its version
first, so the version reported is the one loaded. `champion` is what the API serves; `previous`
is what a rollback returns to. A serving model is always found by alias, never by sorting runs.

Failures are told apart: the registry not answering (`RegistryUnreachableError`), the model not
being in it, or its files not loading (`ModelLoadError`). Credentials in URIs never appear in
the messages.
"""

from __future__ import annotations

from dataclasses import dataclass

import mlflow
import requests
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from features.errors import LeadscoreError
from serve.model.lead_model import LeadModel
from serve.model.redaction import redact_credentials
from serve.model.tracking import configure_tracking, tracking_uri

CHAMPION = "champion"
PREVIOUS = "previous"


class ModelLoadError(LeadscoreError):
    """The model URI names nothing that can be loaded."""


class RegistryUnreachableError(ModelLoadError):
    """The registry did not answer: the tracking server is down, unreachable or too slow."""


def alias_version(client: MlflowClient, name: str, alias: str) -> str | None:
    """The version an alias points at, or None when the alias (or the model) does not exist;
    RegistryUnreachableError when the registry did not answer."""
    try:
        return str(client.get_model_version_by_alias(name, alias).version)
    except MlflowException as exc:
        if is_unreachable(exc):
            raise unreachable_error(exc) from exc
        return None


@dataclass(frozen=True)
class ModelReference:
    """What a model URI names: its registered name and version (None outside the registry) and
    the URI that loads exactly that version."""

    name: str | None
    version: str | None
    location: str


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
    return load_reference(resolve_model(uri))


def resolve_model(uri: str) -> ModelReference:
    """The registered version a `models:/` URI names (an alias resolved); other URIs as they
    are. Raises RegistryUnreachableError or ModelLoadError."""
    client = configure_tracking()
    if not uri.startswith("models:/"):
        return ModelReference(None, None, uri)
    reference = uri.removeprefix("models:/")
    name, alias_sep, alias = reference.partition("@")
    try:
        if alias_sep:
            version = client.get_model_version_by_alias(name, alias).version
        else:
            name, _, version = reference.partition("/")
            client.get_model_version(name, version)
    except MlflowException as exc:
        if is_unreachable(exc):
            raise unreachable_error(exc) from exc
        if alias_sep and has_versions(client, name):
            raise ModelLoadError(
                f"model {uri}: '{name}' has versions but none is '{alias}' (a version without "
                f"usable signal never becomes champion); train again, or choose a version with "
                f"models:/{name}/N"
            ) from exc
        raise ModelLoadError(
            f"model {uri} is not in the registry at {redact_credentials(tracking_uri())}: "
            f"{_first_line(exc)}; train one with 'leadscore train' or set MLFLOW_TRACKING_URI"
        ) from exc
    return ModelReference(name, str(version), f"models:/{name}/{version}")


def load_reference(reference: ModelReference) -> LoadedModel:
    """Load the model a reference names; its files are checked before they are parsed."""
    try:
        pyfunc = mlflow.pyfunc.load_model(reference.location)
    except (MlflowException, OSError, LeadscoreError) as exc:
        if isinstance(exc, MlflowException) and is_unreachable(exc):
            raise RegistryUnreachableError(
                f"registry unreachable while loading {reference.location}: {_first_line(exc)}"
            ) from exc
        raise ModelLoadError(
            f"model {reference.location} cannot be loaded: {_first_line(exc)}"
        ) from exc
    model = pyfunc.unwrap_python_model().model
    return LoadedModel(model, reference.location, reference.name, reference.version)


def has_versions(client: MlflowClient, name: str) -> bool:
    """Whether the registry holds a version of the model `name` (False for a name it cannot
    search for); RegistryUnreachableError when it did not answer."""
    try:
        return bool(client.search_model_versions(f"name = '{name}'", max_results=1))
    except MlflowException as exc:
        if is_unreachable(exc):
            raise unreachable_error(exc) from exc
        return False


def unreachable_error(exc: MlflowException) -> RegistryUnreachableError:
    return RegistryUnreachableError(
        f"registry unreachable: {redact_credentials(tracking_uri())} did not answer "
        f"({_first_line(exc)}); check MLFLOW_TRACKING_URI and the tracking server"
    )


def is_unreachable(exc: BaseException) -> bool:
    """Whether an MLflow failure came from not reaching the registry (connection refused,
    timeout) rather than from what the registry answered."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, requests.RequestException | ConnectionError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _first_line(exc: Exception) -> str:
    text = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return redact_credentials(text)
