"""Everything the board shows, gathered from the computations that own each figure: live
performance (`serve.store.performance`), the board's aggregates (`serve.store.board_figures`),
stalled leads (`insights.stalled`), the model's reliance (`insights.qualified_lead`) and the
last training decision (`serve.model.run_decision`), each kept in the figures cache; and the
headlines written from them (`insights.board_findings`).

Lead ids and the fields the model reads are all that reaches the page: the contract's PII
fields are never features, never a source breakdown, and are removed from the score log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from insights import board_findings as findings
from insights.qualified_lead import QualifiedLead, qualified_lead
from insights.stalled import StalledLeads, stalled_leads
from serve.api.board_cache import Cached, FiguresCache
from serve.model.loading import LoadedModel
from serve.model.metrics import Interval
from serve.model.run_decision import DecisionLookup, last_decision
from serve.model.tiers import TIER_NAMES
from serve.store import board_figures as figures
from serve.store.performance import LivePerformance, live_performance, reported_segments
from serve.store.times import utc_now

WINDOWS = (30, 90, 365)
WEEK_DAYS = 7
RELIANCE_SAMPLE = 2000
UNWORKED_SHOWN = 10
STALLED_SHOWN = 15


@dataclass(frozen=True)
class BoardFilter:
    """The filters a person picks: window (days), source value and tier, None meaning all."""

    window_days: int = 90
    source: str | None = None
    tier: str | None = None


@dataclass(frozen=True)
class TierRange:
    tier: str
    low: int
    high: int | None  # None: up to 100
    share: float | None  # of the leads scored in the window


@dataclass(frozen=True)
class ModelHealth:
    name: str | None
    version: str | None
    served_from: str
    notice: str | None
    trained_at: str | None
    trained_through: str | None
    rows: dict[str, Any]
    metrics: dict[str, float]
    live_roc_auc: Interval | None
    decision: DecisionLookup


@dataclass(frozen=True)
class Headlines:
    qualified: str
    week: str
    handoff: str
    losses: str
    stalled: str
    health: str


@dataclass(frozen=True)
class Board:
    filter: BoardFilter
    as_of: datetime  # naive UTC: the oldest figure's time
    source_field: str | None
    sources: list[str]
    qualified: QualifiedLead
    tier_ranges: list[TierRange]
    week: figures.LeadCounts
    unworked: figures.UnworkedLeads
    performance: LivePerformance
    promises: list[findings.TierPromise]
    losses: figures.LossReasons
    stalled: StalledLeads
    stalled_shown: int
    health: ModelHealth
    headlines: Headlines


def build_board(
    engine: sa.Engine,
    loaded: LoadedModel,
    served_from: str,
    notice: str | None,
    chosen: BoardFilter,
    cache: FiguresCache,
) -> Board:
    """The board for one filter, from cached figures where they are fresh enough."""
    model, version = loaded.model, loaded.version
    source_field = _source_field(loaded)
    now = utc_now()
    window = _scope(loaded, source_field, chosen, now, chosen.window_days)
    week = _scope(loaded, source_field, chosen, now, WEEK_DAYS)
    unworked_tier = chosen.tier or TIER_NAMES[0]
    key = (version, chosen)
    parts: list[Cached[Any]] = [
        cache.get(
            ("performance", version, chosen.window_days),
            lambda: live_performance(engine, model, version, chosen.window_days),
        ),
        cache.get(("week", key), lambda: figures.lead_counts(engine, week)),
        cache.get(
            ("unworked", key),
            lambda: figures.unworked_leads(engine, week, unworked_tier, UNWORKED_SHOWN),
        ),
        cache.get(("losses", key), lambda: figures.loss_reasons(engine, window)),
        _stalled(engine, loaded, cache),
        cache.get(
            ("qualified", version),
            lambda: qualified_lead(model, figures.newest_fields(engine, version, RELIANCE_SAMPLE)),
        ),
        cache.get(("decision", loaded.name, version), lambda: _decision(loaded)),
    ]
    performance, week_counts, unworked, losses, stalled, qualified, decision = (
        part.value for part in parts
    )
    promises = findings.tier_promises(performance)
    health = _health(loaded, served_from, notice, performance, decision)
    return Board(
        filter=chosen,
        as_of=min(part.built_at for part in parts),
        source_field=source_field,
        sources=_sources(performance, source_field),
        qualified=qualified,
        tier_ranges=_tier_ranges(loaded, performance),
        week=week_counts,
        unworked=unworked,
        performance=performance,
        promises=promises,
        losses=losses,
        stalled=stalled,
        stalled_shown=STALLED_SHOWN,
        health=health,
        headlines=Headlines(
            qualified=findings.qualified_headline(qualified),
            week=findings.week_headline(week_counts, unworked, WEEK_DAYS),
            handoff=findings.handoff_headline(performance, promises),
            losses=findings.losses_headline(losses),
            stalled=findings.stalled_headline(stalled, STALLED_SHOWN),
            health=_health_headline(health, performance),
        ),
    )


def _health_headline(health: ModelHealth, performance: LivePerformance) -> str:
    return findings.health_headline(
        health.version,
        health.trained_at,
        health.metrics.get("roc_auc"),
        health.live_roc_auc,
        performance.drift,
        health.decision.decision,
    )


def cached_stalled(engine: sa.Engine, loaded: LoadedModel, cache: FiguresCache) -> StalledLeads:
    """The stalled leads the board lists (all of them, for the CSV download)."""
    return _stalled(engine, loaded, cache).value


def _stalled(engine: sa.Engine, loaded: LoadedModel, cache: FiguresCache) -> Cached[StalledLeads]:
    return cache.get(("stalled", loaded.version), lambda: stalled_leads(engine, loaded.model))


def _source_field(loaded: LoadedModel) -> str | None:
    """The field sources are told apart by, unless it is personal."""
    segments = reported_segments(loaded.model)
    if not segments or segments[0] in loaded.model.contract.pii:
        return None
    return segments[0]


def _scope(
    loaded: LoadedModel, source_field: str | None, chosen: BoardFilter, now: datetime, days: int
) -> figures.LeadScope:
    return figures.LeadScope(
        model_version=loaded.version,
        since=now - timedelta(days=days),
        until=now,
        tiers=loaded.model.tiers,
        source_field=source_field,
        source=chosen.source,
        tier=chosen.tier,
    )


def _sources(performance: LivePerformance, source_field: str | None) -> list[str]:
    return sorted(
        segment.value for segment in performance.segments if segment.field == source_field
    )


def known_source(loaded: LoadedModel, board: Board, source: str) -> bool:
    """Whether a source filter names a value of the source field: one of the window's leads
    have, or one the model learnt (so a link stays valid in a window without such leads)."""
    features = {feature.name: feature for feature in loaded.model.encoder.features}
    learnt = features[board.source_field].categories if board.source_field in features else []
    return source in board.sources or source in learnt


def _tier_ranges(loaded: LoadedModel, performance: LivePerformance) -> list[TierRange]:
    cutoffs = loaded.model.tiers.cutoffs
    lows = [*cutoffs, 0]
    highs: list[int | None] = [None, *(cut - 1 for cut in cutoffs)]
    total = performance.overall.scored
    scored = {row.tier: row.conversion.scored for row in performance.tiers}
    return [
        TierRange(name, low, high, scored.get(name, 0) / total if total else None)
        for name, low, high in zip(TIER_NAMES, lows, highs, strict=True)
    ]


def _decision(loaded: LoadedModel) -> DecisionLookup:
    if loaded.name is None or loaded.version is None:
        return DecisionLookup(None, "the model is not from the registry")
    return last_decision(loaded.name, loaded.version)


def _health(
    loaded: LoadedModel,
    served_from: str,
    notice: str | None,
    performance: LivePerformance,
    decision: DecisionLookup,
) -> ModelHealth:
    meta = loaded.model.metadata
    return ModelHealth(
        name=loaded.name,
        version=loaded.version,
        served_from=served_from,
        notice=notice,
        trained_at=meta.get("trained_at"),
        trained_through=meta.get("trained_through"),
        rows=meta.get("rows") or {},
        metrics={k: float(v) for k, v in (meta.get("metrics") or {}).items()},
        live_roc_auc=performance.discrimination.roc_auc,
        decision=decision,
    )
