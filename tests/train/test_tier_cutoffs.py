"""Tier cut-offs from scores, shares or sales capacity, and the tables the report shows."""

import numpy as np
import pandas as pd
import pytest

from features.errors import SettingError
from train.evaluate.ranking import tier_table, value_ranking
from train.tier_cutoffs import tiers_from_capacity, tiers_from_cutoffs, weekly_lead_volume


def test_explicit_cutoffs():
    tiers = tiers_from_cutoffs((70, 40, 20))
    assert list(tiers.assign(np.array([90, 70, 50, 25, 5]))) == ["A", "A", "B", "C", "D"]


@pytest.mark.parametrize("cutoffs", [(40, 70, 20), (70, 40), (170, 40, 20)])
def test_bad_cutoffs_are_refused(cutoffs):
    with pytest.raises(SettingError, match="--tier-cutoffs"):
        tiers_from_cutoffs(cutoffs)


def test_capacity_sets_the_share_of_tier_a():
    times = pd.Series(pd.date_range("2025-01-01", periods=1000, freq="7h"))
    volume = weekly_lead_volume(times)
    assert volume == pytest.approx(1000 / ((999 * 7 / 24) / 7), rel=1e-6)
    scores = np.random.default_rng(0).integers(0, 101, 20000)
    tiers = tiers_from_capacity(scores, capacity=12, weekly_volume=volume)
    share_a = np.mean(tiers.assign(scores) == "A")
    assert share_a == pytest.approx(12 / volume, abs=0.015)


def test_tier_table_counts_and_shares():
    y = np.array([1, 1, 0, 1, 0, 0, 0, 0])
    tiers = np.array(["A", "A", "B", "B", "C", "C", "D", "D"], dtype=object)
    table = {row.tier: row for row in tier_table(y, tiers)}
    assert table["A"].conversion_rate == 1.0 and table["A"].conversions == 2
    assert table["B"].share_of_conversions == pytest.approx(1 / 3)
    assert sum(row.leads for row in table.values()) == 8


def test_value_ranking_prefers_large_likely_deals():
    y = np.array([1] * 10 + [0] * 10)
    probability = np.r_[np.full(10, 0.6), np.full(10, 0.5)]
    value = np.r_[[1000.0, 10, 10, 10, 10, 10, 10, 10, 10, np.nan], np.full(10, 20.0)]
    ranking = value_ranking(y, probability, value, fill_value=10.0)
    assert ranking.won_value == pytest.approx(1000 + 9 * 10)
    # top decile = 2 leads: by expected value the 1,000 deal and a 20 lost deal (0.5 x 20 > 6)
    assert ranking.top_decile_won_value_share_by_expected_value == pytest.approx(1000 / 1090)
    assert ranking.top_decile_won_value_share_by_probability == pytest.approx(1010 / 1090)
