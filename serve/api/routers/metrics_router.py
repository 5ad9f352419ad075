"""`GET /metrics`: the Prometheus text exposition of the service's metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from serve.api.prometheus import CONTENT_TYPE
from serve.api.routers import UNAUTHORIZED

router = APIRouter(tags=["monitoring"])

EXAMPLE = """# HELP leadscore_leads_scored_total leads scored, by tier
# TYPE leadscore_leads_scored_total counter
leadscore_leads_scored_total{tier="A"} 1024.0
"""


@router.get(
    "/metrics",
    operation_id="metrics",
    response_class=Response,
    responses={
        200: {
            "content": {CONTENT_TYPE: {"schema": {"type": "string"}, "example": EXAMPLE}},
            "description": "Prometheus text format, every worker's values added up",
        },
        **UNAUTHORIZED,
    },
)
def metrics(request: Request) -> Response:
    """Requests, leads scored, outcomes, the score log, the model serving, and how it does live.
    Runs in the thread pool: with several workers it reads their files, and now and then it
    queries the store for the live gauges."""
    state = request.app.state
    state.live_gauges.refresh(state.holder.current, state.store)
    return Response(state.metrics.render(), media_type=CONTENT_TYPE)
