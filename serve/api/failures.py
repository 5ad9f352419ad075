"""Answers to failures a client can cause, so that none is a 500 and none leaks what it sent.

A 422 names each problem by location and says what is wrong; it echoes the offending value only
when that value is a plain one JSON can carry (never NaN, an infinity or a lone surrogate,
which made FastAPI's own answer a 500 with every value of the request in the server log) and
never when the field is personal (the model's PII fields, case and separators ignored). A store
that is busy (another writer holds SQLite beyond its busy timeout) or away answers 503 with
`Retry-After`; its transaction is rolled back, so nothing of the request is stored.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError

from features.field_names import matching_names
from serve.api.model_holder import ModelHolder

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 2


def install_failure_answers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _invalid_request)  # type: ignore[arg-type]
    app.add_exception_handler(OperationalError, _store_unavailable)  # type: ignore[arg-type]


async def _invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
    personal = _personal_fields(request.app.state.holder)
    detail = [_safe_error(error, personal) for error in exc.errors()]
    return JSONResponse({"detail": detail}, status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)


async def _store_unavailable(request: Request, exc: OperationalError) -> JSONResponse:
    # the driver's own message ("database is locked"): never the statement or its values
    log.warning(
        "%s %s: the store did not answer: %s",
        request.method,
        request.url.path,
        str(exc.orig).splitlines()[0] if exc.orig else type(exc).__name__,
    )
    return JSONResponse(
        {"detail": "the store is busy or unreachable; nothing was stored, retry shortly"},
        status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def _personal_fields(holder: ModelHolder) -> tuple[str, ...]:
    loaded = holder.current
    return loaded.model.contract.pii if loaded is not None else ()


def _safe_error(error: dict[str, Any], personal: tuple[str, ...]) -> dict[str, Any]:
    location = list(error.get("loc", ()))
    safe = {"type": error["type"], "loc": location, "msg": error["msg"]}
    names = [part for part in location if isinstance(part, str)]
    if "input" in error and _plain(error["input"]) and not matching_names(names, personal):
        safe["input"] = error["input"]
    return safe


def _plain(value: Any) -> bool:
    """A value JSON carries as is: a finite number, valid Unicode text, true, false or null."""
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return False
        return True
    return value is None or isinstance(value, bool | int)
