"""How the serving model does live, and the stalled leads that go back to marketing:
`GET /v1/performance` and `GET /v1/leads/stalled` (JSON, or CSV for marketing automation)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from insights.stalled import StalledLeads, stalled_leads
from serve.api.dependencies import ServingModel, Store
from serve.api.leads_input import CSV_TYPE, is_csv
from serve.api.routers import UNAUTHORIZED
from serve.store.bounds import (
    DEFAULT_STALL_FACTOR,
    DEFAULT_STALLED_LIMIT,
    DEFAULT_WINDOW_DAYS,
    MAX_STALL_FACTOR,
    MAX_STALLED_DAYS,
    MAX_STALLED_LIMIT,
    MAX_WINDOW_DAYS,
)
from serve.store.performance import LivePerformance, live_performance

router = APIRouter(tags=["monitoring"])


@router.get("/v1/performance", operation_id="getPerformance", responses=UNAUTHORIZED)
def performance(
    loaded: ServingModel,
    store: Store,
    days: Annotated[
        float, Query(gt=0, le=MAX_WINDOW_DAYS, description="window: the last N days")
    ] = DEFAULT_WINDOW_DAYS,
) -> LivePerformance:
    """Realised conversion per tier and segment against the predicted, ROC AUC and log loss on
    closed leads, calibration, drift against the training profile and revenue, for the leads
    the serving model version scored in the window."""
    return live_performance(store, loaded.model, loaded.version, days)


@router.get(
    "/v1/leads/stalled",
    operation_id="getStalledLeads",
    response_model=StalledLeads,
    responses={**UNAUTHORIZED, 200: {"content": {CSV_TYPE: {"schema": {"type": "string"}}}}},
)
def stalled(
    request: Request,
    loaded: ServingModel,
    store: Store,
    factor: Annotated[
        float,
        Query(
            gt=0,
            le=MAX_STALL_FACTOR,
            description="stalled after this many times the typical time to close",
        ),
    ] = DEFAULT_STALL_FACTOR,
    after_days: Annotated[
        float | None,
        Query(
            gt=0, le=MAX_STALLED_DAYS, description="stalled after this many days (overrides factor)"
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_STALLED_LIMIT)] = DEFAULT_STALLED_LIMIT,
) -> StalledLeads | Response:
    """Scored leads with no outcome for longer than the typical time to close allows, rescored
    by the serving model, most promising first; `Accept: text/csv` for a CSV import."""
    found = stalled_leads(store, loaded.model, factor, after_days, limit)
    if is_csv(request.headers.get("accept")):
        return Response(found.csv(), media_type=CSV_TYPE)
    return found
