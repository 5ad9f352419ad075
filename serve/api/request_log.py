"""One log line and the metrics of every request, and its request id.

The id is the client's `X-Request-ID` when it sends a usable one (up to 128 letters, digits and
`-_.:/+=@`), else a new random one; the answer carries it back in `X-Request-ID`. The line names
the method, path (without the query), status, duration, request id and, where a route tells
(`note_request`), the model version and the number of leads; never a lead's content.

A plain ASGI middleware, not Starlette's `BaseHTTPMiddleware`: on the hot path it costs a few
microseconds.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from serve.api.prometheus import UNMATCHED, ServiceMetrics

log = logging.getLogger(__name__)

HEADER = b"x-request-id"
FACTS = "leadscore.request"  # the scope key routes find the request's facts under
USABLE_ID = re.compile(rb"[A-Za-z0-9_.:/+=@-]{1,128}")


@dataclass(slots=True)
class RequestFacts:
    """What the request log says of one request; routes fill in the model and lead count."""

    request_id: str
    model_version: str | None = None
    leads: int | None = None


def note_request(scope: MutableMapping[str, Any], model_version: str | None, leads: int) -> None:
    """Tell the request log which model version served the request and how many leads (or
    outcomes) it carried."""
    facts: RequestFacts | None = scope.get(FACTS)
    if facts is not None:
        facts.model_version, facts.leads = model_version, leads


class RequestLog:
    def __init__(self, app: ASGIApp, metrics: ServiceMetrics, log_requests: bool) -> None:
        self.app = app
        self.metrics = metrics
        self.log_requests = log_requests

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        facts = RequestFacts(_request_id(scope["headers"]))
        scope[FACTS] = facts
        id_header = (HEADER, facts.request_id.encode())
        status = 500  # what the client gets if the app fails before it answers

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), id_header]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", UNMATCHED)
            self.metrics.request(route, scope["method"], status, seconds)
            if self.log_requests:
                _log_line(scope, status, seconds, facts)


def _request_id(headers: list[tuple[bytes, bytes]]) -> str:
    for name, value in headers:
        if name == HEADER:
            if USABLE_ID.fullmatch(value):
                return value.decode()
            break
    return os.urandom(16).hex()


def _log_line(scope: Scope, status: int, seconds: float, facts: RequestFacts) -> None:
    """One INFO record, made directly: `log.info` would also walk the stack for the caller's
    file and line, which no line of this log shows, and that doubles the cost."""
    if not log.isEnabledFor(logging.INFO):
        return
    method, path = scope["method"], scope["path"]
    fields = {
        "method": method,
        "path": path,
        "status": status,
        "duration_ms": round(seconds * 1000, 3),
        "request_id": facts.request_id,
        "model_version": facts.model_version,
        "leads": facts.leads,
    }
    args = (method, path, status)
    record = log.makeRecord(log.name, logging.INFO, __file__, 0, "%s %s %d", args, None)
    record.fields = fields
    log.handle(record)
