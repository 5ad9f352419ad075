"""The promotion gate: tolerances and noise judged on paired intervals, floors, no signal."""

import numpy as np
import pandas as pd

from train.evaluate.challenge import compare, lead_id_hashes, unseen_by_champion
from train.evaluate.gate import PromotionRule, SignalCheck, decide_promotion

USABLE = SignalCheck(usable=True)
METRICS = {"roc_auc": 0.8, "log_loss": 0.45}


def scored_leads(rows: int = 2000, seed: int = 0):
    rng = np.random.default_rng(seed)
    truth = rng.normal(size=rows)
    y = (rng.random(rows) < 1 / (1 + np.exp(-2 * truth))).astype(int)
    return rng, truth, y


def probability(values: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-values))


def test_a_challenger_equal_within_noise_is_kept():
    rng, truth, y = scored_leads()
    champion_logit = 2 * truth + rng.normal(scale=0.8, size=len(y))
    champion = probability(champion_logit)
    challenger = probability(champion_logit + rng.normal(scale=0.05, size=len(y)))

    decision = decide_promotion(USABLE, METRICS, PromotionRule(), compare(y, challenger, champion))

    assert not decision.champion
    assert "not better than the champion beyond noise" in decision.reason


def test_a_clearly_better_challenger_is_promoted():
    rng, truth, y = scored_leads()
    champion = probability(truth + rng.normal(scale=2.0, size=len(y)))
    challenger = probability(2 * truth + rng.normal(scale=0.3, size=len(y)))

    decision = decide_promotion(USABLE, METRICS, PromotionRule(), compare(y, challenger, champion))

    assert decision.champion
    assert "ROC AUC higher" in decision.reason and "log loss lower" in decision.reason


def test_a_challenger_worse_on_one_metric_is_kept_although_better_on_the_other():
    rng, truth, y = scored_leads()
    champion = probability(2 * truth)
    overconfident = probability(6 * truth + rng.normal(scale=0.5, size=len(y)))

    decision = decide_promotion(
        USABLE, METRICS, PromotionRule(), compare(y, overconfident, champion)
    )

    assert not decision.champion
    assert "log loss may be higher" in decision.reason


def test_without_a_champion_the_floors_and_the_signal_decide():
    assert decide_promotion(USABLE, METRICS, PromotionRule(), None).champion
    floor = decide_promotion(USABLE, METRICS, PromotionRule(min_roc_auc=0.85), None)
    assert not floor.champion and "below the floor 0.85" in floor.reason
    no_signal = decide_promotion(
        SignalCheck(False, ["it ranks at chance"]), METRICS, PromotionRule(), None
    )
    assert not no_signal.champion and not no_signal.usable_signal
    assert "it ranks at chance" in no_signal.reason


def test_only_leads_newer_than_the_champions_training_are_compared():
    times = pd.Series(pd.to_datetime(["2025-01-01", "2025-03-01", "2025-06-01"]))
    assert unseen_by_champion(3, times, "2025-03-01T00:00:00").tolist() == [False, False, True]
    assert unseen_by_champion(3, None, "2025-03-01T00:00:00").tolist() == [True] * 3
    assert unseen_by_champion(3, times, None).tolist() == [True] * 3


def test_without_times_only_leads_whose_ids_the_champion_never_learnt_from_are_compared():
    times = pd.Series(pd.to_datetime(["2025-01-01", "2025-03-01", "2025-06-01"]))
    ids = pd.Series(["L1", "L2", "L3"])
    learnt = lead_id_hashes(pd.Series(["L3", "L0"]))
    assert unseen_by_champion(3, None, None, ids, learnt).tolist() == [True, True, False]
    # with times too, a lead must be newer than the champion's newest and not one it learnt
    # from: L3 is newer, but an export dated it anew
    newer = unseen_by_champion(3, times, "2025-03-01T00:00:00", ids, learnt)
    assert newer.tolist() == [False, False, False]
    other = unseen_by_champion(3, times, "2025-03-01T00:00:00", ids.replace("L3", "L4"), learnt)
    assert other.tolist() == [False, False, True]
