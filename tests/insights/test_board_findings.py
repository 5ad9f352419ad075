"""The board's headlines and the over/under-promise flag, from hand-made figures."""

from datetime import datetime

import pytest

from insights.board_findings import (
    KEPT,
    OVER,
    UNDER,
    UNKNOWN,
    handoff_headline,
    losses_headline,
    money,
    tier_promises,
)
from serve.model.metrics import Interval
from serve.store.board_figures import LossCount, LossReasons
from serve.store.performance import (
    Conversion,
    Discrimination,
    LivePerformance,
    TierConversion,
)


def conversion(won, lost, predicted, low, high):
    closed = won + lost
    realised = Interval(won / closed, low, high) if closed else None
    return Conversion(closed + 10, won, lost, 10, predicted, realised, 1000.0 * won, 50.0)


def performance(*tiers):
    overall = conversion(
        sum(t.conversion.won for t in tiers), sum(t.conversion.lost for t in tiers), 0.3, 0.2, 0.4
    )
    return LivePerformance(
        "1",
        90,
        datetime(2026, 1, 1),
        datetime(2026, 4, 1),
        overall,
        list(tiers),
        [],
        Discrimination(None, None, "few"),
        [],
        None,
    )


def test_a_predicted_rate_outside_the_interval_is_flagged_each_way():
    found = performance(
        TierConversion("A", conversion(40, 60, 0.62, 0.31, 0.50)),  # predicted above
        TierConversion("B", conversion(30, 70, 0.31, 0.22, 0.40)),  # inside
        TierConversion("C", conversion(30, 70, 0.10, 0.22, 0.40)),  # predicted below
        TierConversion("D", conversion(2, 3, 0.9, 0.1, 0.8)),  # too few closed to judge
    )
    assert [p.verdict for p in tier_promises(found)] == [OVER, KEPT, UNDER, UNKNOWN]
    headline = handoff_headline(found, tier_promises(found))
    assert "the model over-promises in tier A: it predicted 62.0 %, and 40.0 % were won" in headline
    assert headline.startswith("Of the leads scored in the last 90 days, 305 have closed")


def test_a_model_that_keeps_its_promise_says_so():
    found = performance(TierConversion("A", conversion(40, 60, 0.41, 0.31, 0.50)))
    assert "the model keeps its promise" in handoff_headline(found, tier_promises(found))


def test_losses_name_the_top_reason_and_the_source_that_gives_none_most():
    losses = LossReasons(
        [
            LossCount("Price", "A", "Referral", 30),
            LossCount("Timing", "B", "Referral", 10),
            LossCount(None, "B", "Referral", 10),
            LossCount(None, "C", "Cold Outbound", 20),
            LossCount("Price", "C", "Cold Outbound", 30),
        ]
    )
    assert losses.no_reason_share == pytest.approx(0.3)
    assert losses_headline(losses) == (
        "Of 100 lost deals, the most common reason is Price (60.0 %), and 30.0 % came with no "
        "reason at all (most often from Cold Outbound: 40.0 %)."
    )
    assert [g.name for g in losses.by_tier()] == ["A", "B", "C"]
    assert (
        losses_headline(LossReasons([])) == "No deal scored in this window has been reported lost."
    )


def test_money_reads_at_a_glance():
    assert [money(v) for v in (950, 12_345, 2_500_000)] == ["950", "12 k", "2.5 M"]
