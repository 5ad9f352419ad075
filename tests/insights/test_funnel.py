"""The insight tables of insights.funnel on small handmade and generated leads."""

import tomllib

import numpy as np
import pandas as pd
import pytest

from features.contract import LeadContract
from features.demo import CONTRACT_TOML, generate_leads
from features.labels import outcome_names, parse_times
from features.reading import mask_sentinels
from insights import funnel
from serve.model.metrics import wilson_interval

DEMO = LeadContract.from_dict(tomllib.loads(CONTRACT_TOML))


@pytest.fixture(scope="module")
def demo() -> tuple[pd.DataFrame, pd.Series]:
    frame = mask_sentinels(generate_leads(3000, seed=5), DEMO.na_values)
    return frame, outcome_names(frame, DEMO, "demo")


def outcomes(*counts: tuple[str, int]) -> pd.Series:
    return pd.Series([name for name, n in counts for _ in range(n)])


def test_wilson_interval_matches_the_closed_form_at_zero_and_is_symmetric_at_half():
    low, high = wilson_interval(np.array([0, 50]), np.array([10, 100]))
    z = 1.959963984540054
    assert low[0] == pytest.approx(0.0, abs=1e-12)
    assert high[0] == pytest.approx(z**2 / (10 + z**2))
    assert 0.5 - low[1] == pytest.approx(high[1] - 0.5)


def test_wilson_interval_contains_the_rate_and_stays_in_bounds():
    rng = np.random.default_rng(1)
    trials = rng.integers(1, 200, 500)
    successes = rng.binomial(trials, rng.random(500))
    low, high = wilson_interval(successes, trials)
    rate = successes / trials
    assert np.all((low >= 0) & (high <= 1) & (low <= rate) & (rate <= high))
    assert np.isnan(wilson_interval(np.array([0]), np.array([0]))[0][0])


def test_conversion_counts_only_closed_leads():
    outcome = outcomes(("won", 3), ("lost", 1), ("open", 6))
    row = funnel.overall_conversion(outcome)
    assert (row["leads"], row["won"], row["lost"], row["open"]) == (10, 3, 1, 6)
    assert row["conversion"] == pytest.approx(0.75)
    stages = funnel.funnel(outcome)
    assert stages["count"].tolist() == [10, 3, 1, 6]
    assert stages.loc["open", "share_of_leads"] == pytest.approx(0.6)


def test_conversion_by_month_accounts_for_every_dated_lead(demo):
    frame, outcome = demo
    created_at = parse_times(frame, "created_at", "demo")
    monthly = funnel.conversion_by_month(outcome, created_at)
    assert monthly["leads"].sum() == created_at.notna().sum()
    assert list(monthly.index) == sorted(monthly.index)
    assert monthly.index[0] == "2024-01" and len(monthly) == 24


def test_segments_are_sorted_by_lost_leads_and_count_every_lost_lead(demo):
    frame, outcome = demo
    table = funnel.conversion_by_segment(frame, outcome, ["lead_source", "industry"], 30)
    assert table["lost"].is_monotonic_decreasing
    lost = int((outcome == "lost").sum())
    assert table.groupby("field")["lost"].sum().tolist() == [lost, lost]
    assert funnel.MISSING in table.loc[table["field"] == "industry", "value"].tolist()
    assert table["share_of_lost"].sum() == pytest.approx(2.0)


def test_small_segments_are_pooled_but_a_lone_small_one_is_kept():
    outcome = outcomes(("won", 40), ("lost", 40), ("won", 2), ("lost", 3), ("lost", 4))
    values = ["big"] * 80 + ["tiny"] * 5 + ["rare"] * 4
    segments = funnel.segments_of(pd.Series(values), outcome, min_leads=30)
    assert sorted(segments.unique()) == sorted(["big", funnel.SMALL_SEGMENTS])
    alone = funnel.segments_of(pd.Series(values[:85] + ["big"] * 4), outcome, min_leads=30)
    assert sorted(alone.unique()) == ["big", "tiny"]


def test_nearly_constant_fields_are_not_informative():
    outcome = outcomes(("won", 50), ("lost", 50))
    frame = pd.DataFrame({"flag": ["No"] * 99 + ["Yes"], "source": ["a", "b"] * 50})
    table = funnel.conversion_by_segment(frame, outcome, ["flag", "source"], min_leads=1)
    assert set(funnel.informative_segments(table)["field"]) == {"source"}


def test_a_field_without_effect_spreads_less_than_one_with(demo):
    frame, outcome = demo
    table = funnel.conversion_by_segment(frame, outcome, ["country", "budget_status"], 30)
    spread = funnel.segment_spread(table)
    assert spread["field"].tolist() == ["budget_status", "country"]
    assert spread.loc[0, "spread"] > 2 * spread.loc[1, "spread"]


def test_loss_reason_shares_overall_and_per_group(demo):
    frame, outcome = demo
    reasons = funnel.lost_reasons(frame, outcome, "loss_reason")
    assert len(reasons) == (outcome == "lost").sum()
    overall = funnel.loss_reason_shares(reasons)
    assert overall["share"].sum() == pytest.approx(1.0)
    assert overall["lost"].sum() == len(reasons)
    by_source = funnel.loss_reason_shares(reasons, frame["lead_source"])
    assert by_source.drop(columns="lost").sum(axis=1).to_numpy() == pytest.approx(1.0)
    cold = by_source.loc["Cold Outbound", "No response"]
    assert cold > by_source.drop(index="Cold Outbound")["No response"].max()


def test_rare_reasons_are_pooled():
    reasons = pd.Series(["a"] * 5 + ["b"] * 3 + ["c", "d"])
    shares = funnel.loss_reason_shares(reasons, top=2)
    assert shares.index.tolist() == ["a", "b", funnel.OTHER_REASONS]


def test_high_and_low_score_reasons_compared_without_missing_ones():
    reasons = pd.Series(["Price"] * 40 + ["Timing"] * 40 + [funnel.MISSING] * 10)
    high = pd.Series([True] * 35 + [False] * 5 + [False] * 35 + [True] * 5 + [True] * 10)
    comparison = funnel.compare_loss_reasons(reasons, high)
    assert set(comparison.index) == {"Price", "Timing"}
    assert comparison.loc["Price", "difference_points"] == pytest.approx(100 * (35 / 40 - 5 / 40))
    assert funnel.reasons_differ_p_value(comparison) < 1e-6
    same = funnel.compare_loss_reasons(reasons[:80], pd.Series([True, False] * 40))
    assert funnel.reasons_differ_p_value(same) > 0.5


def test_stalled_open_leads_are_much_older_than_the_typical_open_lead():
    created_at = pd.to_datetime(["2025-01-01", "2025-06-01", "2025-12-01", "2025-12-21"] * 2)
    outcome = pd.Series(["open"] * 4 + ["lost"] * 4)
    ages = funnel.open_lead_ages(outcome, pd.Series(created_at), factor=3.0)
    assert ages["age_days"].iloc[3] == 0 and ages["age_days"].iloc[0] == 354
    assert funnel.typical_open_age(ages["age_days"], outcome) == pytest.approx((20 + 203) / 2)
    assert ages["stalled"].tolist() == [True] + [False] * 7


def test_without_created_at_nothing_is_stalled():
    outcome = pd.Series(["open", "won"])
    ages = funnel.open_lead_ages(outcome, None)
    assert ages["stalled"].tolist() == [False, False] and ages["age_days"].isna().all()


def test_lead_ids_come_from_the_id_column_or_the_row():
    frame = pd.DataFrame({"lead_id": ["A1", None], "x": [1, 2]})
    assert funnel.lead_ids(frame, LeadContract(id="lead_id")).tolist() == ["A1", "(missing)"]
    assert funnel.lead_ids(frame, LeadContract()).tolist() == ["row 1", "row 2"]
