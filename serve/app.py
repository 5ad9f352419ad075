"""The FastAPI app: scores leads for the CRM with the model loaded once at start-up."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException, Request, status
from fastapi.responses import JSONResponse

from features.errors import InvalidLeadsError
from serve.model_holder import ModelHolder
from serve.schemas import LeadScoreOut, ModelInfo, ScoreRequest, ScoreResponse
from serve.settings import Settings
from train.registry import LoadedModel


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    holder = ModelHolder(settings.model_uri)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        holder.load()
        yield

    app = FastAPI(
        title="leadscore",
        version="1",
        lifespan=lifespan,
        description="Lead conversion scores for the CRM.",
    )
    app.state.settings = settings
    app.state.holder = holder
    _add_routes(app)
    return app


def _serving_model(request: Request) -> LoadedModel:
    holder: ModelHolder = request.app.state.holder
    if holder.current is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, f"no model: {holder.problem}")
    return holder.current


ServingModel = Annotated[LoadedModel, Depends(_serving_model)]


def _add_routes(app: FastAPI) -> None:
    @app.get("/health")
    def health() -> dict[str, str]:
        """The process is alive."""
        return {"status": "ok"}

    @app.get("/ready")
    def ready(request: Request) -> JSONResponse:
        """A model is loaded and scoring; 503 with the reason otherwise."""
        holder: ModelHolder = request.app.state.holder
        if holder.current is None:
            return JSONResponse({"ready": False, "reason": holder.problem}, status_code=503)
        return JSONResponse({"ready": True, "model_version": holder.current.version})

    @app.get("/v1/model")
    def model_info(loaded: ServingModel) -> ModelInfo:
        """Which model serves, how it did in evaluation, and which fields it reads."""
        meta = loaded.model.metadata
        return ModelInfo(
            name=loaded.name,
            version=loaded.version,
            uri=loaded.uri,
            trained_at=meta.get("trained_at"),
            metrics=meta.get("metrics", {}),
            expected_fields={f.name: f.kind for f in loaded.model.encoder.features},
            id_field=loaded.model.contract.id,
        )

    @app.post("/v1/score")
    def score(body: ScoreRequest, request: Request, loaded: ServingModel) -> ScoreResponse:
        """Score one or many leads, answered in input order."""
        limit = request.app.state.settings.max_leads_per_request
        if len(body.leads) > limit:
            raise HTTPException(
                status.HTTP_413_CONTENT_TOO_LARGE,
                f"{len(body.leads)} leads in one request; the limit is {limit}",
            )
        try:
            scores = loaded.model.score_records(body.leads)
        except InvalidLeadsError as exc:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, _field_errors(exc)) from exc
        return ScoreResponse(
            model_version=loaded.version,
            scores=[
                LeadScoreOut(
                    lead_id=s.lead_id, probability=s.probability, score=s.score, tier=s.tier
                )
                for s in scores
            ],
        )


def _field_errors(exc: InvalidLeadsError) -> list[dict]:
    return [
        {
            "loc": ["body", "leads", index, problem.field],
            "msg": str(problem),
            "type": "value_error",
            "input": problem.value,
        }
        for index, problem in exc.problems
    ]
