"""The board's own figures, summed in the database over the narrow `scored_leads` and
`current_outcomes` tables: leads by tier and source with their expected revenue, the tier-A
leads nobody has worked yet, and why deals were lost, by source and by tier.

Like live performance, each lead counts once for the model version that serves, as that version
first scored it, in a time window, with its current outcome; a lead logged before tiers were
kept gets the tier its score falls in. `source` is the first field performance is broken down
by (`reported_segments`). And the newest leads' fields, which the model's reliance is read from.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import pandas as pd
import sqlalchemy as sa

from serve.model.tiers import TIER_NAMES, Tiers
from serve.store.performance import LOST, MISSING_SEGMENT
from serve.store.tables import current_outcomes, score_log, scored_leads


@dataclass(frozen=True)
class LeadScope:
    """Which leads a figure covers: first scored by `model_version` in [since, until], of one
    source value and one tier when given. `source_field` None: the model has no source field."""

    model_version: str | None
    since: datetime
    until: datetime
    tiers: Tiers
    source_field: str | None = None
    source: str | None = None
    tier: str | None = None


@dataclass(frozen=True)
class LeadCount:
    tier: str
    source: str
    leads: int
    open: int
    expected_revenue: float


@dataclass(frozen=True)
class GroupCount:
    name: str
    leads: int
    open: int
    expected_revenue: float


@dataclass(frozen=True)
class LeadCounts:
    """Scored leads per tier and source; `expected_revenue` sums probability x deal value."""

    cells: list[LeadCount]

    @property
    def leads(self) -> int:
        return sum(cell.leads for cell in self.cells)

    @property
    def expected_revenue(self) -> float:
        return sum(cell.expected_revenue for cell in self.cells)

    def by_tier(self) -> list[GroupCount]:
        """Every tier, A to D, including those with no lead."""
        totals = _totals(self.cells, lambda cell: cell.tier)
        return [totals.get(name, GroupCount(name, 0, 0, 0.0)) for name in TIER_NAMES]

    def by_source(self) -> list[GroupCount]:
        """Sources with leads, most leads first."""
        totals = _totals(self.cells, lambda cell: cell.source)
        return sorted(totals.values(), key=lambda group: (-group.leads, group.name))


@dataclass(frozen=True)
class UnworkedLead:
    lead_id: str
    first_scored_at: datetime
    probability: float
    source: str
    expected_value: float | None


@dataclass(frozen=True)
class UnworkedLeads:
    """Leads of one tier with no outcome yet: how many, their expected revenue, the best few."""

    tier: str
    total: int
    expected_revenue: float
    leads: list[UnworkedLead]


@dataclass(frozen=True)
class LossCount:
    reason: str | None
    tier: str
    source: str
    lost: int


@dataclass(frozen=True)
class ReasonShare:
    reason: str | None
    lost: int
    share: float


@dataclass(frozen=True)
class GroupReasons:
    """One source's or tier's lost deals: how many, and the share of each reason."""

    name: str
    lost: int
    no_reason: int
    reasons: dict[str | None, int]

    @property
    def no_reason_share(self) -> float | None:
        return self.no_reason / self.lost if self.lost else None


@dataclass(frozen=True)
class LossReasons:
    """Lost deals per loss reason (None: none given), tier and source."""

    cells: list[LossCount]

    @property
    def lost(self) -> int:
        return sum(cell.lost for cell in self.cells)

    @property
    def no_reason(self) -> int:
        return sum(cell.lost for cell in self.cells if cell.reason is None)

    @property
    def no_reason_share(self) -> float | None:
        return self.no_reason / self.lost if self.lost else None

    def reasons(self) -> list[ReasonShare]:
        """Each reason given (not the missing one), most frequent first."""
        counts: dict[str, int] = defaultdict(int)
        for cell in self.cells:
            if cell.reason is not None:
                counts[cell.reason] += cell.lost
        ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        return [ReasonShare(reason, n, n / self.lost) for reason, n in ranked]

    def by_source(self) -> list[GroupReasons]:
        """Sources with lost deals, most first."""
        groups = self._grouped(lambda cell: cell.source)
        return sorted(groups, key=lambda group: (-group.lost, group.name))

    def by_tier(self) -> list[GroupReasons]:
        """Tiers with lost deals, A to D."""
        groups = {group.name: group for group in self._grouped(lambda cell: cell.tier)}
        return [groups[name] for name in TIER_NAMES if name in groups]

    def _grouped(self, key: Callable[[LossCount], str]) -> list[GroupReasons]:
        reasons: dict[str, dict[str | None, int]] = defaultdict(lambda: defaultdict(int))
        for cell in self.cells:
            reasons[key(cell)][cell.reason] += cell.lost
        return [
            GroupReasons(name, sum(counts.values()), counts.get(None, 0), dict(counts))
            for name, counts in reasons.items()
        ]


def lead_counts(engine: sa.Engine, scope: LeadScope) -> LeadCounts:
    """Leads, open leads and expected revenue per tier and source."""
    tier, source = _tier(scope.tiers), _source(scope.source_field)
    is_open = sa.case((current_outcomes.c.outcome.is_(None), 1), else_=0)
    query = (
        sa.select(
            tier,
            source,
            sa.func.count(),
            sa.func.sum(is_open),
            sa.func.sum(scored_leads.c.expected_value),
        )
        .select_from(_with_outcomes())
        .where(*_in_scope(scope))
        .group_by(tier, source)
    )
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    return LeadCounts(
        [
            LeadCount(t, s or MISSING_SEGMENT, int(n), int(o or 0), float(v or 0.0))
            for t, s, n, o, v in rows
        ]
    )


def unworked_leads(
    engine: sa.Engine, scope: LeadScope, tier: str = TIER_NAMES[0], limit: int = 10
) -> UnworkedLeads:
    """Leads scored in `tier` with no outcome yet: the `limit` most likely to convert first."""
    conditions = [
        *_in_scope(scope),
        _tier(scope.tiers) == tier,
        current_outcomes.c.outcome.is_(None),
    ]
    totals = (
        sa.select(sa.func.count(), sa.func.sum(scored_leads.c.expected_value))
        .select_from(_with_outcomes())
        .where(*conditions)
    )
    best = (
        sa.select(
            scored_leads.c.lead_id,
            scored_leads.c.first_scored_at,
            scored_leads.c.probability,
            _source(scope.source_field),
            scored_leads.c.expected_value,
        )
        .select_from(_with_outcomes())
        .where(*conditions)
        .order_by(scored_leads.c.probability.desc(), scored_leads.c.lead_id)
        .limit(limit)
    )
    with engine.connect() as connection:
        total, revenue = connection.execute(totals).one()
        rows = connection.execute(best).all()
    leads = [
        UnworkedLead(lead_id, at, float(p), source or MISSING_SEGMENT, value)
        for lead_id, at, p, source, value in rows
    ]
    return UnworkedLeads(tier, int(total or 0), float(revenue or 0.0), leads)


def loss_reasons(engine: sa.Engine, scope: LeadScope) -> LossReasons:
    """Lost deals per loss reason, tier and source."""
    tier, source = _tier(scope.tiers), _source(scope.source_field)
    reason = sa.func.nullif(sa.func.trim(current_outcomes.c.loss_reason), "")
    query = (
        sa.select(reason, tier, source, sa.func.count())
        .select_from(_with_outcomes())
        .where(*_in_scope(scope), current_outcomes.c.outcome == LOST)
        .group_by(reason, tier, source)
    )
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    return LossReasons([LossCount(r, t, s or MISSING_SEGMENT, int(n)) for r, t, s, n in rows])


def _with_outcomes() -> sa.Join:
    return scored_leads.join(
        current_outcomes, current_outcomes.c.lead_id == scored_leads.c.lead_id, isouter=True
    )


def _in_scope(scope: LeadScope) -> list[sa.ColumnElement[bool]]:
    conditions = [
        scored_leads.c.model_version == (scope.model_version or ""),
        scored_leads.c.first_scored_at >= scope.since,
        scored_leads.c.first_scored_at <= scope.until,
    ]
    if scope.source is not None and scope.source_field is not None:
        source = _source(scope.source_field)
        if scope.source == MISSING_SEGMENT:
            conditions.append(source.is_(None))
        else:
            conditions.append(source == scope.source)
    if scope.tier is not None:
        conditions.append(_tier(scope.tiers) == scope.tier)
    return conditions


def _tier(tiers: Tiers) -> sa.ColumnElement[str]:
    """The tier the lead was told; for a lead logged before tiers were kept, its score's."""
    score = sa.func.round(scored_leads.c.probability * 100)
    derived = sa.case(
        *((score >= cut, name) for name, cut in zip(TIER_NAMES, tiers.cutoffs, strict=False)),
        else_=TIER_NAMES[-1],
    )
    return sa.func.coalesce(scored_leads.c.tier, derived)


def _source(field: str | None) -> sa.ColumnElement[str | None]:
    if field is None:
        return sa.null().cast(sa.String)
    return scored_leads.c.segments[field].as_string()


def _totals(cells: list[LeadCount], key: Callable[[LeadCount], str]) -> dict[str, GroupCount]:
    sums: dict[str, list[float]] = defaultdict(lambda: [0, 0, 0.0])
    for cell in cells:
        total = sums[key(cell)]
        total[0] += cell.leads
        total[1] += cell.open
        total[2] += cell.expected_revenue
    return {name: GroupCount(name, int(n), int(o), v) for name, (n, o, v) in sums.items()}


def newest_fields(engine: sa.Engine, model_version: str | None, rows: int) -> pd.DataFrame:
    """The fields (as logged, PII removed) of the newest `rows` leads the version scored."""
    version_is = (
        score_log.c.model_version.is_(None)
        if model_version is None
        else score_log.c.model_version == model_version
    )
    query = sa.select(score_log.c.fields).where(version_is).order_by(score_log.c.id.desc())
    with engine.connect() as connection:
        records = connection.execute(query.limit(rows)).scalars().all()
    return pd.DataFrame.from_records(list(records), index=range(len(records)))
