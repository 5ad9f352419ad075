"""The board for sales and marketing managers: `GET /board` (HTML), the stalled leads as CSV,
and signing in and out with a key. Not part of the API's schema: it is for people."""

from __future__ import annotations

import logging
from typing import Annotated, Literal
from urllib.parse import parse_qs, urlencode

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from serve.api.board_access import SESSION_COOKIE, SESSION_PATH, BoardAccess, Viewer
from serve.api.board_page import board_html, render
from serve.api.board_view import Board, BoardFilter, build_board, cached_stalled, known_source
from serve.api.leads_input import CSV_TYPE

log = logging.getLogger(__name__)

router = APIRouter(include_in_schema=False)

SIGN_IN = "/board/sign-in"
Window = Literal["30", "90", "365"]
Tier = Literal["", "A", "B", "C", "D"]  # serve.model.tiers.TIER_NAMES, or all


@router.get("/board", response_class=HTMLResponse)
async def board(
    request: Request,
    window: Annotated[Window, Query(description="the last 30, 90 or 365 days")] = "90",
    source: Annotated[str, Query(max_length=255)] = "",
    tier: Annotated[Tier, Query()] = "",
) -> Response:
    """The board, for the filters chosen."""
    viewer = _viewer(request)
    if viewer is None:
        return _to_sign_in()
    chosen = BoardFilter(int(window), source or None, tier or None)
    built = await run_in_threadpool(_board, request, chosen)
    if isinstance(built, str):
        return HTMLResponse(
            render("unavailable.html", problem=built), status.HTTP_503_SERVICE_UNAVAILABLE
        )
    loaded = request.app.state.holder.current
    if chosen.source is not None and not known_source(loaded, built, chosen.source):
        return _unknown_source(chosen.source, built.sources)
    csv_query = urlencode({k: v for k, v in request.query_params.items() if v})
    html = board_html(
        built, viewer.signed_in, request.app.state.settings.board_cache_seconds, csv_query
    )
    return HTMLResponse(html, headers=_private())


@router.get("/board/stalled.csv")
async def stalled_csv(request: Request) -> Response:
    """The stalled leads the board lists, for a marketing-automation import."""
    if _viewer(request) is None:
        return _to_sign_in()
    state = request.app.state
    loaded = state.holder.current
    if loaded is None:
        return Response(_no_model(request), status.HTTP_503_SERVICE_UNAVAILABLE)
    found = await run_in_threadpool(cached_stalled, state.store, loaded, state.board_cache)
    headers = {**_private(), "Content-Disposition": 'attachment; filename="stalled-leads.csv"'}
    return Response(found.csv(), media_type=CSV_TYPE, headers=headers)


@router.get(SIGN_IN, response_class=HTMLResponse)
async def sign_in_page(request: Request) -> Response:
    access: BoardAccess = request.app.state.board_access
    if not access.required:
        return RedirectResponse("/board", status.HTTP_303_SEE_OTHER)
    return _sign_in_form(access, None, status.HTTP_200_OK)


@router.post(SIGN_IN, response_class=HTMLResponse)
async def sign_in(request: Request) -> Response:
    """Check the key once; a good one gets a session cookie and goes on to the board."""
    access: BoardAccess = request.app.state.board_access
    if not access.required:
        return RedirectResponse("/board", status.HTTP_303_SEE_OTHER)
    if not access.sessions_enabled:
        return _sign_in_form(access, None, status.HTTP_503_SERVICE_UNAVAILABLE)
    form = parse_qs((await request.body()).decode("utf-8", errors="replace"))
    key = (form.get("key") or [""])[0].strip()
    if access.role_of_key(key) is None:
        log.info("board sign-in refused: wrong key")
        return _sign_in_form(access, "That key is not accepted.", status.HTTP_401_UNAUTHORIZED)
    answer = RedirectResponse("/board", status.HTTP_303_SEE_OTHER)
    answer.set_cookie(
        SESSION_COOKIE,
        access.session_cookie(key),
        max_age=access.max_age,
        path=SESSION_PATH,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    return answer


@router.post("/board/sign-out")
async def sign_out(request: Request) -> Response:
    answer = RedirectResponse(SIGN_IN, status.HTTP_303_SEE_OTHER)
    answer.delete_cookie(
        SESSION_COOKIE,
        path=SESSION_PATH,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    return answer


def _viewer(request: Request) -> Viewer | None:
    access: BoardAccess = request.app.state.board_access
    return access.viewer(request)


def _board(request: Request, chosen: BoardFilter) -> Board | str:
    """The board, or why there is none (no model serves yet)."""
    state = request.app.state
    holder = state.holder
    loaded = holder.current
    if loaded is None:
        return _no_model(request)
    return build_board(
        state.store, loaded, holder.served_from, holder.cache_notice, chosen, state.board_cache
    )


def _unknown_source(source: str, sources: list[str]) -> JSONResponse:
    """A 422 located as FastAPI locates a query value outside its choices."""
    problem = {
        "loc": ["query", "source"],
        "msg": f"{source!r} is not a source of the leads scored: use one of "
        f"{', '.join(map(repr, sources)) or 'none yet'}, or none for every source",
        "type": "enum",
        "input": source,
    }
    return JSONResponse({"detail": [problem]}, status.HTTP_422_UNPROCESSABLE_CONTENT)


def _no_model(request: Request) -> str:
    return f"No model serves yet: {request.app.state.holder.problem}"


def _to_sign_in() -> Response:
    return RedirectResponse(SIGN_IN, status.HTTP_303_SEE_OTHER)


def _sign_in_form(access: BoardAccess, problem: str | None, code: int) -> Response:
    html = render("sign_in.html", problem=problem, sessions_enabled=access.sessions_enabled)
    return HTMLResponse(html, code, headers=_private())


def _private() -> dict[str, str]:
    """Figures and sign-in pages are for the viewer alone, never kept by a shared cache; the
    page loads nothing from anywhere (its styles and charts are inline)."""
    return {
        "Cache-Control": "no-store",
        "Content-Security-Policy": (
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
            "frame-ancestors 'none'; base-uri 'none'"
        ),
        "Referrer-Policy": "no-referrer",
    }
