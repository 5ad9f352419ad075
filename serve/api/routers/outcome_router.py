"""`POST /v1/outcomes`: won or lost, posted back by the CRM, stored before the answer."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status

from serve.api.dependencies import AppSettings, Store
from serve.api.routers import UNAUTHORIZED
from serve.api.schemas import ErrorOut, OutcomesRequest, OutcomesResponse
from serve.store.outcomes import Outcome, record_outcomes

router = APIRouter(tags=["outcomes"])


@router.post(
    "/v1/outcomes",
    responses={
        **UNAUTHORIZED,
        413: {"model": ErrorOut, "description": "too many outcomes or too large a body"},
    },
)
def post_outcomes(body: OutcomesRequest, settings: AppSettings, store: Store) -> OutcomesResponse:
    """Store each outcome that is new or changed; re-posting one is harmless. Once this answers,
    the outcomes are committed to the database."""
    limit = settings.max_leads_per_request
    if len(body.outcomes) > limit:
        raise HTTPException(
            status.HTTP_413_CONTENT_TOO_LARGE,
            f"{len(body.outcomes)} outcomes in one request; the limit is {limit}",
        )
    recorded = record_outcomes(store, [Outcome(**o.model_dump()) for o in body.outcomes])
    return OutcomesResponse(stored=recorded.stored, unchanged=recorded.unchanged)
