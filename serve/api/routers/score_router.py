"""`POST /v1/score`: leads in (JSON or CSV), scores, expected values, reasons and ranks out."""

from __future__ import annotations

import asyncio
import math
import re
from collections.abc import Iterable
from concurrent.futures import Future
from datetime import datetime
from functools import partial
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from features.errors import InvalidLeadsError
from serve.api.answers import csv_answer, json_answer
from serve.api.dependencies import Scoring
from serve.api.failures import RETRY_AFTER_SECONDS
from serve.api.leads_input import CSV_TYPE, is_csv, is_json, read_csv_leads, read_json_leads
from serve.api.request_log import note_request
from serve.api.routers import UNAUTHORIZED
from serve.api.schemas import LEAD_EXAMPLE, ErrorOut, ScoreRequest, ScoreResponse
from serve.model.deal_value import has_deal_value
from serve.model.lead_model import LeadModel
from serve.model.scorer import score_leads
from serve.store.performance import reported_segments
from serve.store.score_log import ScoreLogError
from serve.store.tables import LEAD_ID_MAX_LENGTH

router = APIRouter(tags=["scoring"])

# Up to this many leads the work takes about a millisecond or less: done on the event loop.
# Larger requests go to the thread pool so that they do not hold up small ones.
INLINE_LEADS = 20
_CALENDAR_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(?:$|[T ])")

_REQUEST_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": ScoreRequest.model_json_schema(),
            "example": {"leads": [LEAD_EXAMPLE]},
        },
        CSV_TYPE: {
            "schema": {"type": "string"},
            "example": "lead_id,lead_source,web_visits\nL1,Referral,7\n",
        },
    },
}
_RESPONSES = {
    200: {
        "model": ScoreResponse,
        "content": {CSV_TYPE: {"schema": {"type": "string"}}},
        "description": "scores in input order, or best first with ?sort=",
    },
    **UNAUTHORIZED,
    413: {"model": ErrorOut, "description": "too many leads or too large a body"},
    415: {"model": ErrorOut, "description": "a body that is neither JSON nor CSV"},
    422: {"model": ErrorOut, "description": "a value that cannot be read, named by lead and field"},
    503: {
        "model": ErrorOut,
        "description": "no model loaded, or the store did not keep the leads (Retry-After)",
    },
}


@router.post(
    "/v1/score",
    operation_id="scoreLeads",
    response_class=Response,
    responses=_RESPONSES,
    openapi_extra={"requestBody": _REQUEST_BODY},
)
async def score(
    request: Request,
    context: Scoring,
    reasons: Annotated[
        bool | None,
        Query(
            description="explain each lead; default: on for requests of up to "
            "LEADSCORE_REASONS_MAX_LEADS leads"
        ),
    ] = None,
    sort: Annotated[
        Literal["probability", "expected_value"] | None,
        Query(description="answer best first, with a rank"),
    ] = None,
) -> Response:
    """Score one or many leads for the CRM."""
    loaded, settings = context.loaded, context.settings
    content_type = request.headers.get("content-type")
    records = await _read_leads(request, content_type)
    note_request(request.scope, loaded.version, len(records))
    limit = settings.max_leads_per_request
    if len(records) > limit:
        raise HTTPException(
            status.HTTP_413_CONTENT_TOO_LARGE,
            f"{len(records)} leads in one request; the limit is {limit}",
        )
    model = loaded.model
    if sort == "expected_value" and not has_deal_value(model):
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            f"model version {loaded.version} knows no deal values; use ?sort=probability",
        )
    with_reasons = len(records) <= settings.reasons_max_leads if reasons is None else reasons
    try:
        if len(records) <= INLINE_LEADS:
            scored = score_leads(model, records, reasons=with_reasons)
        else:
            scored = await run_in_threadpool(
                partial(score_leads, model, records, reasons=with_reasons)
            )
    except InvalidLeadsError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, _field_errors(exc)) from exc
    _refuse_long_lead_ids(scored.lead_ids, model.contract.id)
    _refuse_unreadable_times(records, model.contract.time)
    context.metrics.scored(scored.tier, with_reasons)
    committed = context.score_log.record(
        records,
        scored.lead_ids,
        scored.probability,
        loaded.version,
        model.contract.pii,
        scored.tier,
        scored.expected_value,
        reported_segments(model),
        kept_fields=kept_fields(model),
    )
    if committed is not None:
        await _committed(committed)
    if is_csv(content_type) or is_csv(request.headers.get("accept")):
        return Response(csv_answer(scored, loaded.version, sort), media_type=CSV_TYPE)
    return Response(json_answer(scored, loaded.version, sort), media_type="application/json")


def kept_fields(model: LeadModel) -> list[str]:
    """What the score log keeps of a lead over its size limit: the fields the model reads."""
    roles = [name for name in (model.contract.id, model.contract.value) if name]
    return [*model.encoder.feature_names, *roles]


async def _committed(committed: Future[None]) -> None:
    """Wait until the request's leads are in the score log; 503 if the store did not keep
    them (the client retries: nothing of the request was stored)."""
    try:
        await asyncio.wrap_future(committed)
    except ScoreLogError as exc:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            f"{exc}; nothing was stored, retry shortly",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        ) from exc


async def _read_leads(request: Request, content_type: str | None) -> list[dict]:
    body = await request.body()
    if is_csv(content_type):
        return read_csv_leads(body)
    if is_json(content_type):
        return read_json_leads(body)
    raise HTTPException(
        status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
        f"Content-Type {content_type!r}: send application/json or {CSV_TYPE}",
    )


def _refuse_long_lead_ids(lead_ids: list[str | None], id_field: str | None) -> None:
    """A 422 for lead ids the store cannot keep (checked before anything is written: in a
    shared write they would fail every other lead's log entry too)."""
    _refuse_located(
        (
            index,
            id_field,
            f"a lead id has at most {LEAD_ID_MAX_LENGTH} characters; this one has {len(lead_id)}",
            "string_too_long",
        )
        for index, lead_id in enumerate(lead_ids)
        if lead_id is not None and len(lead_id) > LEAD_ID_MAX_LENGTH
    )


def _refuse_unreadable_times(records: list[dict], time_field: str | None) -> None:
    """A 422 for created-at values that are not ISO 8601 calendar dates (checked before anything
    is written: retraining from the store reads them as the leads' times). Anything else is
    ambiguous once stored: 01/02/2024 would be read day first or month first depending on the
    other leads, and 23:59 as today whenever the retrain runs."""
    if not time_field:
        return
    _refuse_located(
        (
            index,
            time_field,
            f"{value!r} is not an ISO 8601 date: send e.g. 2024-05-01T09:30:00Z (or 2024-05-01), "
            "or leave it out",
            "value_error",
        )
        for index, record in enumerate(records)
        if (value := record.get(time_field)) is not None and not _is_blank_or_iso_date(value)
    )


def _refuse_located(problems: Iterable[tuple[Any, str | None, str, str]]) -> None:
    """A 422 listing each (lead index, field, message, type), located in the body as request
    validation locates its errors; nothing when there is none."""
    located = [
        {"loc": ["body", "leads", index, field], "msg": message, "type": kind}
        for index, field, message, kind in problems
    ]
    if located:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, located)


def _is_blank_or_iso_date(value: object) -> bool:
    """Blank text is a missing time; else a calendar date (YYYY-MM-DD), with or without a time
    of day and a zone, as Python and pandas both read it (not ISO week dates, say)."""
    if not isinstance(value, str):
        return False
    text = value.strip()
    if not text:
        return True
    if not _CALENDAR_DATE.match(text):
        return False
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


def _field_errors(exc: InvalidLeadsError) -> list[dict]:
    return [
        {
            "loc": ["body", "leads", index, problem.field],
            "msg": str(problem),
            "type": "value_error",
            "input": _json_safe(problem.value),
        }
        for index, problem in exc.problems
    ]


def _json_safe(value: object) -> object:
    """A value as JSON can carry it: an infinity or NaN (read from a CSV body) as its text."""
    return str(value) if isinstance(value, float) and not math.isfinite(value) else value
