"""The board's plain-language headlines, one sentence per section, each computed from the
section's numbers, and the judgement behind the handoff section's flag: whether the model
over- or under-promises in a tier (its predicted rate falls outside the realised rate's 95 %
interval)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from features.field_groups import ENGAGEMENT, FIT
from insights.findings import percent
from insights.qualified_lead import FieldReliance, QualifiedLead, ValueEffect
from insights.stalled import StalledLeads
from serve.model.metrics import Interval
from serve.model.run_decision import RunDecision
from serve.store.board_figures import LeadCounts, LossReasons, UnworkedLeads
from serve.store.performance import DriftSummary, LivePerformance

MIN_CLOSED_TO_JUDGE = 20
OVER, UNDER, KEPT, UNKNOWN = "over-promises", "under-promises", "keeps its promise", "too early"


@dataclass(frozen=True)
class TierPromise:
    """A tier's predicted conversion against the realised one, and the verdict."""

    tier: str
    closed: int
    predicted: float | None
    realised: Interval | None
    verdict: str

    @property
    def gap(self) -> float:
        """How far the predicted rate is from the realised one (0 when either is unknown)."""
        if self.predicted is None or self.realised is None:
            return 0.0
        return abs(self.predicted - self.realised.estimate)


def money(value: float) -> str:
    if abs(value) >= 1e6:
        return f"{value / 1e6:,.1f} M"
    if abs(value) >= 1e4:
        return f"{value / 1e3:,.0f} k"
    return f"{value:,.0f}"


def tier_promises(performance: LivePerformance) -> list[TierPromise]:
    promises = []
    for row in performance.tiers:
        part = row.conversion
        verdict = UNKNOWN
        if part.closed >= MIN_CLOSED_TO_JUDGE and part.realised and part.predicted is not None:
            if part.predicted > part.realised.high:
                verdict = OVER
            elif part.predicted < part.realised.low:
                verdict = UNDER
            else:
                verdict = KEPT
        promises.append(TierPromise(row.tier, part.closed, part.predicted, part.realised, verdict))
    return promises


def qualified_headline(found: QualifiedLead) -> str:
    if not found.fields:
        return "No lead has been scored yet, so there is nothing to read the model's reliance from."
    raising = _strongest(found.fields, positive=True)
    lowering = _strongest(found.fields, positive=False)
    text = (
        f"Fit (who the lead is) carries {percent(found.group_shares[FIT])} of what moves a score "
        f"and engagement (what the lead did) {percent(found.group_shares[ENGAGEMENT])}"
    )
    if raising:
        text += f"; a qualified lead has {_values(raising)}"
    if lowering:
        text += f", while {_values(lowering)} count against it most"
    return text + "."


def _strongest(
    fields: list[FieldReliance], positive: bool, count: int = 3
) -> list[tuple[str, ValueEffect]]:
    effects = [
        (field.field, effect)
        for field in fields
        for effect in (field.raises if positive else field.lowers)[:1]
    ]
    effects.sort(key=lambda pair: -abs(pair[1].effect))
    return effects[:count]


def _values(pairs: list[tuple[str, ValueEffect]]) -> str:
    named = [f"{field} = {effect.value}" for field, effect in pairs]
    return named[0] if len(named) == 1 else ", ".join(named[:-1]) + " and " + named[-1]


def week_headline(counts: LeadCounts, unworked: UnworkedLeads, days: int) -> str:
    if counts.leads == 0:
        return f"No lead was scored in the last {days} days."
    top = next((group for group in counts.by_tier() if group.name == unworked.tier), None)
    text = (
        f"{counts.leads:,} leads were scored in the last {days} days, worth "
        f"{money(counts.expected_revenue)} in expected revenue"
    )
    if top is None or top.leads == 0:
        return text + f"; none of them is in tier {unworked.tier}."
    return text + (
        f"; {top.leads:,} are in tier {unworked.tier}, and {unworked.total:,} of those have no "
        f"outcome yet ({money(unworked.expected_revenue)} expected): call them first."
    )


def handoff_headline(performance: LivePerformance, promises: list[TierPromise]) -> str:
    overall = performance.overall
    days = f"{performance.window_days:g}"
    if overall.closed == 0:
        return (
            f"None of the {overall.scored:,} leads scored in the last {days} days has an outcome "
            "yet, so realised conversion is not known."
        )
    text = (
        f"Of the leads scored in the last {days} days, {overall.closed:,} have closed and "
        f"{percent(overall.realised.estimate if overall.realised else None)} of them were won "
        f"({money(overall.won_revenue)} won)"
    )
    off = [p for p in promises if p.verdict in (OVER, UNDER)]
    judged = [p for p in promises if p.verdict != UNKNOWN]
    if off:
        worst = max(off, key=lambda p: p.gap)
        realised = worst.realised.estimate if worst.realised else None
        return text + (
            f"; the model {worst.verdict} in tier {worst.tier}: it predicted "
            f"{percent(worst.predicted)}, and {percent(realised)} were won (95 % interval "
            f"{_span(worst.realised)})."
        )
    if judged:
        return text + (
            f"; in every tier with {MIN_CLOSED_TO_JUDGE} closed leads or more the predicted rate "
            "lies inside the realised rate's 95 % interval: the model keeps its promise."
        )
    return text + f"; no tier has {MIN_CLOSED_TO_JUDGE} closed leads yet to judge the model by."


def _span(interval: Interval | None) -> str:
    if interval is None:
        return "n/a"
    return f"{percent(interval.low)} to {percent(interval.high)}"


def losses_headline(losses: LossReasons) -> str:
    if losses.lost == 0:
        return "No deal scored in this window has been reported lost."
    reasons = losses.reasons()
    text = f"Of {losses.lost:,} lost deals, "
    if reasons:
        text += f"the most common reason is {reasons[0].reason} ({percent(reasons[0].share)})"
    else:
        text += "none came with a reason"
    if losses.no_reason and reasons:
        text += f", and {percent(losses.no_reason_share)} came with no reason at all"
        worst = max(losses.by_source(), key=lambda g: (g.no_reason_share or 0, g.lost))
        if worst.no_reason:
            text += f" (most often from {worst.name}: {percent(worst.no_reason_share)})"
    return text + "."


def stalled_headline(stalled: StalledLeads, shown: int) -> str:
    if stalled.threshold_days is None or stalled.typical_days_to_close is None:
        return stalled.note or "The typical time to close is not known yet."
    if stalled.total == 0:
        return (
            f"No lead has gone without an outcome for more than {stalled.threshold_days:.0f} days "
            f"({stalled.factor:g} times the typical {stalled.typical_days_to_close:.0f} days to "
            "close)."
        )
    high = sum(1 for lead in stalled.leads if lead.tier in ("A", "B"))
    return (
        f"{stalled.total:,} leads have had no outcome for more than "
        f"{stalled.threshold_days:.0f} days ({stalled.factor:g} times the typical "
        f"{stalled.typical_days_to_close:.0f} days to close); of the {len(stalled.leads):,} most "
        f"promising, {high:,} still score in tier A or B: hand them to marketing to nurture "
        f"(the {min(shown, len(stalled.leads))} best are listed)."
    )


def health_headline(
    version: str | None,
    trained_at: str | None,
    evaluation_auc: float | None,
    live_auc: Interval | None,
    drift: DriftSummary | None,
    decision: RunDecision | None,
) -> str:
    text = f"Version {version or '(unregistered)'} serves"
    if trained_at:
        text += f", trained {trained_at[:10]}"
    if evaluation_auc is not None:
        text += f"; ROC AUC {evaluation_auc:.3f} in evaluation"
        if live_auc is not None:
            text += f" and {live_auc.estimate:.3f} on leads closed since"
    if drift is not None:
        text += (
            f"; {len(drift.drifted)} of {len(drift.psi)} measures drifted"
            if drift.drifted
            else "; nothing drifted"
        )
    if decision is not None:
        verdict = "promoted its model" if decision.promoted else "kept the champion"
        text += f"; the last {decision.job} ({_day(decision.started_at)}) {verdict}"
    return text + "."


def _day(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d")
