"""The process and the model: `/health`, `/ready` and `/v1/model`."""

from __future__ import annotations

import logging

import sqlalchemy as sa
from fastapi import APIRouter, Depends, status
from fastapi.responses import JSONResponse

from serve.api.dependencies import Holder, ServingModel, Store, require_api_key
from serve.api.model_holder import CACHE
from serve.api.routers import UNAUTHORIZED
from serve.api.schemas import HealthOut, ModelInfo, ReadyOut
from serve.model.deal_value import DEFAULT_KEY

log = logging.getLogger(__name__)

router = APIRouter(tags=["model"])


@router.get("/health", operation_id="health")
async def health() -> HealthOut:
    """Liveness: the process answers."""
    return HealthOut(status="ok")


@router.get(
    "/ready",
    operation_id="ready",
    response_model=ReadyOut,
    response_model_exclude_none=True,
    responses={503: {"model": ReadyOut, "description": "not ready, with the reason"}},
)
def ready(holder: Holder, store: Store) -> ReadyOut | JSONResponse:
    """Readiness: a model is loaded and the store answers; 503 with the reason otherwise."""
    loaded = holder.current
    if loaded is None:
        return _not_ready(holder.problem or "no model loaded")
    try:
        with store.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError as exc:
        log.warning("readiness: the store does not answer: %s", str(exc).splitlines()[0])
        return _not_ready(f"the store does not answer ({type(exc).__name__}); see the server log")
    if holder.source == CACHE:
        return ReadyOut(
            ready=True, model_version=loaded.version, source=CACHE, reason=holder.problem
        )
    return ReadyOut(ready=True, model_version=loaded.version)


def _not_ready(reason: str) -> JSONResponse:
    answer = ReadyOut(ready=False, reason=reason).model_dump(exclude_none=True)
    return JSONResponse(answer, status_code=status.HTTP_503_SERVICE_UNAVAILABLE)


@router.get(
    "/v1/model",
    operation_id="getModel",
    dependencies=[Depends(require_api_key)],
    responses=UNAUTHORIZED,
)
async def model_info(loaded: ServingModel, holder: Holder) -> ModelInfo:
    """Which model serves and from where, how it did in evaluation, and which fields it reads."""
    model = loaded.model
    meta = model.metadata
    return ModelInfo(
        name=loaded.name,
        version=loaded.version,
        uri=loaded.uri,
        trained_at=meta.get("trained_at"),
        metrics=meta.get("metrics", {}),
        expected_fields={f.name: f.kind for f in model.encoder.features},
        id_field=model.contract.id,
        value_field=model.contract.value,
        default_deal_value=meta.get(DEFAULT_KEY),
        learner=model.learner.describe(),
        metrics_for=meta.get("metrics_for"),
        trees=model.learner.trees,
        source=holder.served_from,
        notice=holder.cache_notice,
        refused=holder.refused,
    )
