"""The board's HTML: Jinja2 templates shipped in the package (`serve/api/templates`), with the
charts drawn here from the board's figures."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from insights.board_findings import KEPT, OVER, UNDER, money
from insights.findings import percent
from serve.api.board_charts import Bar, RangeBar, bar_chart, range_chart
from serve.api.board_view import WINDOWS, Board
from serve.model.tiers import TIER_NAMES

FIELDS_CHARTED = 10
SOURCES_CHARTED = 12


@cache
def _templates() -> Environment:
    environment = Environment(
        loader=PackageLoader("serve.api", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters.update(percent=percent, money=money, number=_number, day=_day)
    return environment


def render(name: str, **context: Any) -> str:
    return _templates().get_template(name).render(**context)


def board_html(board: Board, sign_out: bool, cache_seconds: float, csv_query: str) -> str:
    return render(
        "board.html",
        board=board,
        charts=_charts(board),
        windows=WINDOWS,
        tiers=TIER_NAMES,
        sign_out=sign_out,
        cache_seconds=cache_seconds,
        csv_query=csv_query,
        verdict_marks={OVER: "▲", UNDER: "▼", KEPT: "✓"},
        verdict_classes={OVER: "over", UNDER: "under", KEPT: "keeps"},
    )


def _charts(board: Board) -> dict[str, Markup]:
    fields = board.qualified.fields[:FIELDS_CHARTED]
    tiers = board.week.by_tier()
    sources = board.performance.segments
    reasons = board.losses.reasons()
    if board.losses.no_reason:
        no_reason_share = board.losses.no_reason_share or 0.0
        reasons_bars = [Bar("(no reason given)", no_reason_share, percent(no_reason_share), "warn")]
    else:
        reasons_bars = []
    return {
        "reliance": bar_chart(
            "share of what moves a score, per field",
            [Bar(f"{f.field} ({f.group})", f.share, percent(f.share), f.group) for f in fields],
        ),
        "week": bar_chart(
            "leads scored in the last 7 days, per tier",
            [Bar(f"tier {t.name}", t.leads, f"{t.leads:,}") for t in tiers],
        ),
        "handoff": range_chart(
            "realised conversion per tier (bar, 95 % interval) against predicted (diamond)",
            [
                RangeBar(
                    f"tier {p.tier}",
                    p.realised.estimate if p.realised else None,
                    p.realised.low if p.realised else None,
                    p.realised.high if p.realised else None,
                    p.predicted,
                    f"{percent(p.realised.estimate if p.realised else None)} "
                    f"vs {percent(p.predicted)}",
                    "warn" if p.verdict in (OVER, UNDER) else "plain",
                )
                for p in board.promises
            ],
        ),
        "sources": range_chart(
            "realised conversion per source (bar, 95 % interval)",
            [
                RangeBar(
                    s.value,
                    s.conversion.realised.estimate if s.conversion.realised else None,
                    s.conversion.realised.low if s.conversion.realised else None,
                    s.conversion.realised.high if s.conversion.realised else None,
                    None,
                    percent(s.conversion.realised.estimate if s.conversion.realised else None),
                )
                for s in sources
                if s.field == board.source_field
            ][:SOURCES_CHARTED],
        ),
        "losses": bar_chart(
            "share of lost deals per loss reason",
            [Bar(r.reason or "", r.share, percent(r.share), "lost") for r in reasons]
            + reasons_bars,
            scale=1.0 if not reasons and not reasons_bars else None,
        ),
    }


def _number(value: float | int | None, digits: int = 0) -> str:
    return "" if value is None else f"{value:,.{digits}f}"


def _day(moment: datetime | str | None) -> str:
    if moment is None:
        return ""
    return moment.strftime("%Y-%m-%d %H:%M") if isinstance(moment, datetime) else moment[:16]
