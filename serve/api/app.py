"""The FastAPI app: wires settings, the model holder, the store and the routers together.

Start-up (lifespan) migrates the store, starts the score-log writer, loads the model and starts
the registry poller; shutdown stops the poller and writes the score-log rows still queued.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI

from serve.api.auth import ApiKeys
from serve.api.dependencies import require_api_key
from serve.api.limits import BodySizeLimit
from serve.api.model_holder import ModelHolder
from serve.api.routers import model_router, monitoring_router, outcome_router, score_router
from serve.api.settings import Settings
from serve.model.cache import ModelCache
from serve.store.database import open_store
from serve.store.score_log import ScoreLog

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    api_keys = ApiKeys(settings.api_key_list)
    holder = ModelHolder(
        settings.model_uri, ModelCache(settings.model_cache_dir), settings.model_poll_seconds
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if not api_keys.required:
            log.warning("LEADSCORE_API_KEYS is empty: the API is open to anyone on this machine")
        store = open_store(settings.database_url)
        score_log = ScoreLog(store, settings.score_log_flush_seconds)
        score_log.start()
        app.state.store, app.state.score_log = store, score_log
        holder.load()
        holder.start_polling()
        gc.freeze()  # what start-up loaded lives for good: keep it out of every GC pass
        try:
            yield
        finally:
            holder.stop()
            score_log.close()
            store.dispose()

    app = FastAPI(
        title="leadscore",
        version="1",
        lifespan=lifespan,
        description="Lead conversion scores for the CRM, with reasons; outcomes back.",
    )
    app.state.settings = settings
    app.state.holder = holder
    app.state.api_keys = api_keys
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.include_router(model_router.router)
    authorized = [Depends(require_api_key)]
    app.include_router(score_router.router, dependencies=authorized)
    app.include_router(outcome_router.router, dependencies=authorized)
    app.include_router(monitoring_router.router, dependencies=authorized)
    _document_api_keys(app)
    return app


def _document_api_keys(app: FastAPI) -> None:
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
            if path.startswith("/v1/"):
                for operation in operations.values():
                    operation["security"] = [{"bearer": []}, {"apiKey": []}]
        return schema

    # FastAPI's documented way to extend the schema; its types declare `openapi` a plain method.
    app.openapi = openapi  # type: ignore[method-assign]
