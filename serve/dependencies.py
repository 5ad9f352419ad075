"""What the routes need from the app, as `Annotated` dependencies. All are `async def`: they
only read app state, and a sync dependency would cost a trip through the thread pool."""

from __future__ import annotations

from typing import Annotated

import sqlalchemy as sa
from fastapi import Depends, HTTPException, Request, status
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from serve.auth import ApiKeys
from serve.model_holder import ModelHolder
from serve.settings import Settings
from serve.store.score_log import ScoreLog
from train.registry import LoadedModel


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


async def _store(request: Request) -> sa.Engine:
    return request.app.state.store


async def _score_log(request: Request) -> ScoreLog:
    return request.app.state.score_log


_bearer = HTTPBearer(auto_error=False, description="Authorization: Bearer KEY")
_api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="X-API-Key: KEY")


async def require_api_key(
    request: Request,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    header_key: Annotated[str | None, Depends(_api_key_header)],
) -> None:
    """401 unless the request carries a configured key (or no keys are configured)."""
    keys: ApiKeys = request.app.state.api_keys
    if not keys.accepts(bearer.credentials if bearer else header_key):
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
