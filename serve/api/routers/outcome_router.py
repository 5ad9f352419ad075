"""`POST /v1/outcomes`: won or lost, posted back by the CRM, stored before the answer."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request, status

from serve.api.dependencies import AppSettings, Metrics, ScoreLogWriter, Store
from serve.api.leads_input import is_json
from serve.api.request_log import note_request
from serve.api.routers import UNAUTHORIZED
from serve.api.schemas import ErrorOut, OutcomesRequest, OutcomesResponse
from serve.store.outcomes import Outcome, record_outcomes, unscored_leads

router = APIRouter(tags=["outcomes"])


def json_body(request: Request) -> None:
    """Outcomes come as JSON only: another body type is a 415 saying so, not a 422 about the
    body's shape (checked before the body is read)."""
    content_type = request.headers.get("content-type")
    if not is_json(content_type):
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            f"Content-Type {content_type!r}: send the outcomes as application/json",
        )


@router.post(
    "/v1/outcomes",
    operation_id="postOutcomes",
    dependencies=[Depends(json_body)],
    responses={
        **UNAUTHORIZED,
        413: {"model": ErrorOut, "description": "too many outcomes or too large a body"},
        415: {"model": ErrorOut, "description": "a body that is not JSON"},
    },
)
def post_outcomes(
    request: Request,
    body: OutcomesRequest,
    settings: AppSettings,
    store: Store,
    score_log: ScoreLogWriter,
    metrics: Metrics,
) -> OutcomesResponse:
    """Store each outcome that is new or changed; re-posting one is harmless. Once this answers,
    the outcomes are committed to the database. `unmatched` counts the outcomes whose lead was
    never scored (by any server on this store, up to its last score-log write)."""
    note_request(request.scope, None, len(body.outcomes))
    limit = settings.max_leads_per_request
    if len(body.outcomes) > limit:
        raise HTTPException(
            status.HTTP_413_CONTENT_TOO_LARGE,
            f"{len(body.outcomes)} outcomes in one request; the limit is {limit}",
        )
    recorded = record_outcomes(
        store,
        [Outcome(**o.model_dump(), given=frozenset(o.model_fields_set)) for o in body.outcomes],
    )
    metrics.outcomes_received(recorded.stored, recorded.unchanged)
    score_log.flush()  # leads this process scored a moment ago count as scored
    unmatched = unscored_leads(store, [o.lead_id for o in body.outcomes])
    return OutcomesResponse(
        stored=recorded.stored, unchanged=recorded.unchanged, unmatched=len(unmatched)
    )
