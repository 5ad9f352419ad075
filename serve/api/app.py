"""The FastAPI app: wires settings, the model holder, the store and the routers together.

Start-up (lifespan) migrates the store, starts the score-log writer and starts loading the model
in the background (the server listens at once; `/ready` says when a model serves); shutdown stops
the model thread and writes the score-log rows still queued.
`create_app` is also the factory for uvicorn and its worker processes
(`uvicorn serve.api.app:create_app --factory`): each process builds its own app, model holder
and score-log writer from the `LEADSCORE_*` variables.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI

from serve.api.auth import ApiKeys
from serve.api.board_access import BoardAccess
from serve.api.board_cache import FiguresCache
from serve.api.board_warmer import BoardWarmer
from serve.api.dependencies import require_api_key, require_metrics_key
from serve.api.exposure import ExposureGuard
from serve.api.failures import install_failure_answers
from serve.api.limits import BodySizeLimit
from serve.api.live_gauges import LiveGauges
from serve.api.model_holder import ModelHolder
from serve.api.prometheus import ServiceMetrics
from serve.api.request_log import RequestLog
from serve.api.routers import (
    board_router,
    metrics_router,
    model_router,
    monitoring_router,
    outcome_router,
    score_router,
)
from serve.api.server_logs import ensure_logging
from serve.api.settings import Settings
from serve.model.cache import ModelCache
from serve.model.redaction import install_log_redaction
from serve.store.database import open_store
from serve.store.score_log import ScoreLog, ScoreLogPolicy

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    ensure_logging(settings.log_format)
    api_keys = ApiKeys(settings.api_key_list)
    metrics = ServiceMetrics()
    holder = ModelHolder(
        settings.model_uri,
        ModelCache(settings.model_cache_dir),
        settings.model_poll_seconds,
        observer=metrics.model_state,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        install_log_redaction()
        if not api_keys.required:
            log.warning("LEADSCORE_API_KEYS is empty: the API is open to anyone on this machine")
        elif not app.state.board_access.sessions_enabled:
            log.warning("LEADSCORE_SESSION_SECRET is empty: nobody can sign in to the board")
        store = open_store(settings.database_url, settings.store_busy_timeout_seconds)
        policy = ScoreLogPolicy(
            settings.score_log_wait_for_commit,
            settings.score_log_max_lead_bytes,
            settings.score_log_retention_days,
        )
        score_log = ScoreLog(store, settings.score_log_flush_seconds, metrics, policy)
        score_log.start()
        app.state.store, app.state.score_log = store, score_log
        holder.start()  # in the background: the server listens at once
        warmer = BoardWarmer(holder, store, app.state.board_cache)
        warmer.start()
        gc.freeze()  # what start-up loaded lives for good: keep it out of every GC pass
        try:
            yield
        finally:
            warmer.stop()
            holder.stop()
            score_log.close()
            store.dispose()
            metrics.close()

    app = FastAPI(
        title="leadscore",
        version="1",
        lifespan=lifespan,
        description="Lead conversion scores for the CRM, with reasons; outcomes back.",
    )
    install_failure_answers(app)
    app.state.settings = settings
    app.state.holder = holder
    app.state.api_keys = api_keys
    app.state.read_only_keys = ApiKeys(settings.read_only_key_list)
    app.state.board_access = BoardAccess(
        api_keys,
        app.state.read_only_keys,
        settings.session_secret.get_secret_value(),
        settings.session_hours,
    )
    app.state.board_cache = FiguresCache(settings.board_cache_seconds)
    app.state.metrics_keys = ApiKeys(
        settings.metrics_key_list if settings.metrics_require_key else []
    )
    app.state.metrics = metrics
    app.state.live_gauges = LiveGauges(metrics.owner, settings.metrics_live_seconds)
    # the last added runs first: the guard at start-up, then each request's log line and id
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestLog, metrics=metrics, log_requests=settings.access_log)
    app.add_middleware(ExposureGuard, keys_required=api_keys.required)
    app.include_router(model_router.router)
    authorized = [Depends(require_api_key)]
    app.include_router(score_router.router, dependencies=authorized)
    app.include_router(outcome_router.router, dependencies=authorized)
    app.include_router(monitoring_router.router, dependencies=authorized)
    app.include_router(metrics_router.router, dependencies=[Depends(require_metrics_key)])
    app.include_router(board_router.router)  # signs people in itself
    _document_api_keys(app, settings.metrics_require_key)
    return app


def _document_api_keys(app: FastAPI, metrics_need_key: bool) -> None:
    """Declare the two ways to send a key in the OpenAPI schema (and the docs' Authorize
    button); the check itself is `require_api_key`, which reads the headers directly."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = build()  # FastAPI keeps it as app.openapi_schema
        schema.setdefault("components", {})["securitySchemes"] = {
            "bearer": {"type": "http", "scheme": "bearer"},
            "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
        }
        for path, operations in schema["paths"].items():
            if path.startswith("/v1/") or (path == "/metrics" and metrics_need_key):
                for operation in operations.values():
                    operation["security"] = [{"bearer": []}, {"apiKey": []}]
        return schema

    # FastAPI's documented way to extend the schema; its types declare `openapi` a plain method.
    app.openapi = openapi  # type: ignore[method-assign]
