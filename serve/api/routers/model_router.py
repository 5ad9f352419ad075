"""The process and the model: `/health`, `/ready` and `/v1/model`."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from serve.api.dependencies import Holder, ServingModel, require_api_key
from serve.api.model_holder import CACHE
from serve.api.routers import UNAUTHORIZED
from serve.api.schemas import ModelInfo
from serve.model.deal_value import DEFAULT_KEY

router = APIRouter(tags=["model"])


@router.get("/health")
async def health() -> dict[str, str]:
    """The process is alive."""
    return {"status": "ok"}


@router.get("/ready", responses={503: {"description": "no model, with the reason"}})
async def ready(holder: Holder) -> JSONResponse:
    """A model is loaded and scoring; 503 with the reason otherwise."""
    if holder.current is None:
        return JSONResponse({"ready": False, "reason": holder.problem}, status_code=503)
    answer = {"ready": True, "model_version": holder.current.version}
    if holder.source == CACHE:
        answer |= {"source": CACHE, "reason": holder.problem}
    return JSONResponse(answer)


@router.get("/v1/model", dependencies=[Depends(require_api_key)], responses=UNAUTHORIZED)
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
        trees=model.booster.num_trees(),
        source=holder.source or "registry",
        notice=holder.problem if holder.source == CACHE else None,
        refused=holder.refused,
    )
