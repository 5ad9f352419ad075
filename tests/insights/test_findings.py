"""The conclusions are written from the tables' numbers, and say why when a section cannot run."""

import pandas as pd
import pytest

from insights import findings, funnel
from insights.model_view import WITH_LEAKY, WITHOUT_LEAKY


def outcomes(won: int, lost: int, open_: int = 0) -> pd.Series:
    return pd.Series(["won"] * won + ["lost"] * lost + ["open"] * open_)


def test_funnel_finding_quotes_the_counts_and_the_rate():
    overall = funnel.overall_conversion(outcomes(1234, 3702, 64))
    text = findings.funnel_finding(overall, None)
    assert "**5,000** leads, 1,234 were won, 3,702 lost and 64 are still open" in text
    assert "**25.0 %**" in text
    assert "no created-at column" in text


def test_funnel_finding_follows_months_with_enough_closed_leads():
    outcome = outcomes(40, 60).pipe(lambda s: pd.concat([s, outcomes(10, 90)], ignore_index=True))
    created = pd.Series(pd.to_datetime(["2025-01-15"] * 100 + ["2025-02-15"] * 100))
    monthly = funnel.conversion_by_month(outcome, created)
    text = findings.funnel_finding(funnel.overall_conversion(outcome), monthly)
    assert "from 10.0 % (2025-02) to 40.0 % (2025-01)" in text
    assert "40.0 % in the first 1 of these months (2025-01) and 10.0 % in the last 1" in text


def test_segments_finding_names_the_biggest_pool_and_the_biggest_excess_of_losses():
    outcome = pd.concat([outcomes(100, 100), outcomes(20, 180), outcomes(1, 9)], ignore_index=True)
    frame = pd.DataFrame({"source": ["Referral"] * 200 + ["Cold call"] * 200 + ["Fair"] * 10})
    table = funnel.conversion_by_segment(frame, outcome, ["source"], min_leads=5)
    spread = funnel.segment_spread(table)
    text = findings.segments_finding(table, spread, funnel.overall_conversion(outcome))
    overall = 121 / 410
    assert f"against {findings.percent(overall)} overall" in text
    assert f"**source = Cold call**: 180 lost leads ({findings.percent(180 / 289)} of all" in text
    assert f"loses the most: {180 - 200 * (1 - overall):,.0f} more lost leads" in text
    assert "from 10.0 % (Cold call, 200 leads) to 50.0 % (Referral, 200 leads)" in text


def test_loss_reasons_finding_without_a_loss_reason_column_says_why():
    text = findings.loss_reasons_finding(None, None, None, float("nan"))
    assert "names no loss-reason column" in text and "loss_reason" in text


def test_loss_reasons_finding_names_reasons_and_the_verdict():
    reasons = pd.Series(["Price"] * 60 + ["Timing"] * 30 + [funnel.MISSING] * 10)
    high = pd.Series([True] * 50 + [False] * 10 + [False] * 30 + [True] * 10)
    comparison = funnel.compare_loss_reasons(reasons, high)
    p_value = funnel.reasons_differ_p_value(comparison)
    tiers = pd.Series(["A"] * 45 + ["D"] * 45 + ["A"] * 2 + ["D"] * 8)
    by_tier = funnel.loss_reason_shares(reasons, tiers)
    text = findings.loss_reasons_finding(
        "reason", funnel.loss_reason_shares(reasons), comparison, p_value, by_tier
    )
    assert "10.0 % have no reason recorded: 4.3 % of lost tier-A leads against 15.1 %" in text
    assert "Among 100 lost leads, the most common loss reason is **Price** (60.0 %)" in text
    assert "then Timing (30.0 %)" in text
    assert "lost for different reasons" in text and f"p = {p_value:.3g}" in text


def test_reliance_finding_quotes_the_top_shares():
    importance = pd.DataFrame(
        {"mean_abs_contribution": [0.5, 0.3, 0.1, 0.1], "share": [0.5, 0.3, 0.1, 0.1]},
        index=pd.Index(["budget", "timeline", "size", "country"], name="field"),
    )
    text = findings.reliance_finding(importance)
    assert "**budget** (50.0 %), **timeline** (30.0 %), **size** (10.0 %)" in text
    assert "carry 90.0 %" in text and "remaining 1 fields" in text


def test_stalled_finding_explains_missing_times_and_counts_candidates():
    assert "no created-at column" in findings.stalled_finding(
        None, pd.Series([], dtype=object), pd.DataFrame(), 3.0, pd.DataFrame(), None
    )
    outcome = pd.Series(["open"] * 4 + ["won"])
    ages = pd.DataFrame(
        {"age_days": [10.0, 20.0, 30.0, 200.0, 5.0], "stalled": [False] * 3 + [True, False]}
    )
    text = findings.stalled_finding(
        "created_at", outcome, ages, 3.0, pd.DataFrame({"lead": ["L1"]}), "out.csv"
    )
    assert "typical open lead is 25 days old; **1** open leads are older than 3 times" in text
    assert "(75 days)" in text and "saved to `out.csv`" in text


def test_leakage_finding_without_and_with_leaky_fields():
    empty = pd.DataFrame(columns=["field", "in_export", "contract_role", "model_reads_it"])
    assert "`leaky_columns` is empty" in findings.leakage_finding(empty, None)
    status = pd.DataFrame(
        {
            "field": ["Tags", "Score"],
            "in_export": [True, True],
            "contract_role": ["loss reason", "not excluded"],
            "model_reads_it": [False, True],
        }
    )
    comparison = pd.DataFrame(
        {"roc_auc": [0.8771, 0.9843], "leaky_share": [0.0, 0.634]},
        index=[WITHOUT_LEAKY, WITH_LEAKY],
    )
    text = findings.leakage_finding(status, comparison)
    assert "**The model reads Score**" in text
    assert "**0.984** with them against **0.877** without" in text and "63.4 %" in text


@pytest.mark.parametrize("rate, text", [(0.1234, "12.3 %"), (float("nan"), "n/a")])
def test_percent(rate, text):
    assert findings.percent(rate) == text
