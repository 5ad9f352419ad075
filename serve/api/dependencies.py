"""What the routes need from the app, as `Annotated` dependencies. All are `async def`: they
only read app state, and a sync dependency would cost a trip through the thread pool."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import sqlalchemy as sa
from fastapi import Depends, HTTPException, Request, status

from serve.api.auth import ApiKeys, presented_key
from serve.api.model_holder import ModelHolder
from serve.api.prometheus import ServiceMetrics
from serve.api.settings import Settings
from serve.model.loading import LoadedModel
from serve.store.score_log import ScoreLog

READ_METHODS = frozenset({"GET", "HEAD"})


async def _settings(request: Request) -> Settings:
    return request.app.state.settings


async def _holder(request: Request) -> ModelHolder:
    return request.app.state.holder


async def _serving_model(request: Request) -> LoadedModel:
    """The model at the start of the request; a swap during the request does not change it."""
    holder: ModelHolder = request.app.state.holder
    loaded = holder.current
    if loaded is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, f"no model: {holder.problem}")
    return loaded


@dataclass(frozen=True)
class ScoringContext:
    """What a scoring request needs, fetched as one dependency: on the hot path each
    dependency FastAPI resolves costs a noticeable share of scoring one lead."""

    loaded: LoadedModel
    settings: Settings
    score_log: ScoreLog
    metrics: ServiceMetrics


async def _scoring_context(request: Request) -> ScoringContext:
    state = request.app.state
    return ScoringContext(
        await _serving_model(request), state.settings, state.score_log, state.metrics
    )


async def _metrics(request: Request) -> ServiceMetrics:
    return request.app.state.metrics


async def _score_log(request: Request) -> ScoreLog:
    return request.app.state.score_log


async def _store(request: Request) -> sa.Engine:
    return request.app.state.store


async def require_api_key(request: Request) -> None:
    """401 unless the request carries a configured key (or no keys are configured); a read-only
    key (LEADSCORE_READ_ONLY_KEYS) may GET, and gets 403 for anything else. Reads the headers
    itself: one dependency instead of a security scheme per header keeps it cheap."""
    read_only: ApiKeys = request.app.state.read_only_keys
    presented = presented_key(request.headers)
    if read_only.required and presented is not None and read_only.accepts(presented):
        if request.method in READ_METHODS:
            return
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            "this key is read-only (LEADSCORE_READ_ONLY_KEYS): it may read, not post; "
            "use a key from LEADSCORE_API_KEYS",
        )
    _check_key(request.app.state.api_keys, request)


async def require_metrics_key(request: Request) -> None:
    """401 unless the request carries an API key or a metrics key, when `/metrics` needs one
    (LEADSCORE_METRICS_REQUIRE_KEY) and any is configured."""
    _check_key(request.app.state.metrics_keys, request)


def _check_key(keys: ApiKeys, request: Request) -> None:
    if not keys.accepts(presented_key(request.headers)):
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "missing or wrong API key: send 'Authorization: Bearer KEY' or 'X-API-Key: KEY'",
            headers={"WWW-Authenticate": "Bearer"},
        )


AppSettings = Annotated[Settings, Depends(_settings)]
Holder = Annotated[ModelHolder, Depends(_holder)]
ServingModel = Annotated[LoadedModel, Depends(_serving_model)]
Store = Annotated[sa.Engine, Depends(_store)]
ScoreLogWriter = Annotated[ScoreLog, Depends(_score_log)]
Scoring = Annotated[ScoringContext, Depends(_scoring_context)]
Metrics = Annotated[ServiceMetrics, Depends(_metrics)]
