"""Calibration error, bootstrap intervals and the no-signal check."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from serve.model.metrics import Interval, base_rate_log_loss, expected_calibration_error
from train.calibration import fit_calibrator, fit_platt
from train.evaluate.bootstrap import Bootstrap, RankedScores, weighted_lift_at_10, weighted_roc_auc
from train.evaluate.gate import check_signal, decide_champion


def test_ece_of_simple_cases():
    y = np.array([0, 1] * 50)
    assert expected_calibration_error(y, np.full(100, 0.5)) == pytest.approx(0.0)
    assert expected_calibration_error(y, np.full(100, 0.9)) == pytest.approx(0.4)


def test_calibration_lowers_ece_of_an_overconfident_score():
    rng = np.random.default_rng(0)
    truth = rng.normal(0, 1.2, 8000)
    y = (rng.random(8000) < 1 / (1 + np.exp(-truth))).astype(int)
    raw = 3 * truth + 1  # overconfident and shifted
    overconfident = 1 / (1 + np.exp(-raw))
    fit, check = slice(0, 4000), slice(4000, None)
    calibrator = fit_calibrator(raw[fit], y[fit])
    before = expected_calibration_error(y[check], overconfident[check])
    after = expected_calibration_error(y[check], calibrator.apply(raw[check]))
    assert before > 0.1
    assert after < before / 3


@pytest.mark.parametrize("leads", [300, 20_000])
def test_platt_fit_is_scikit_learns_logistic_regression_of_the_score(leads):
    rng = np.random.default_rng(4)
    raw = rng.normal(0, 2, leads)
    y = (rng.random(leads) < 1 / (1 + np.exp(-(0.8 * raw - 1)))).astype(int)
    weights = rng.uniform(0.25, 1.75, leads)
    reference = LogisticRegression(C=1e6, tol=1e-10, max_iter=1000)
    reference.fit(raw.reshape(-1, 1), y, sample_weight=weights)
    slope, intercept = fit_platt(raw, y, weights)
    assert slope == pytest.approx(reference.coef_[0, 0], abs=1e-4)
    assert intercept == pytest.approx(reference.intercept_[0], abs=1e-4)


def test_platt_fit_stays_finite_when_the_score_separates_the_classes():
    raw = np.r_[np.linspace(-3, -1, 50), np.linspace(1, 3, 50)]
    y = np.r_[np.zeros(50), np.ones(50)]
    slope, intercept = fit_platt(raw, y)
    assert 5 < slope < 1e4 and np.isfinite(intercept)


def test_weighted_auc_with_unit_weights_is_sklearns_auc_with_ties():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 500).astype(float)
    score = np.round(rng.random(500) + 0.3 * y, 1)
    ours = weighted_roc_auc(RankedScores(y, score), np.ones((1, 500)))[0]
    assert ours == pytest.approx(roc_auc_score(y, score))


def _lift_at_10_by_definition(y: np.ndarray, score: np.ndarray, weights: np.ndarray) -> float:
    """The leads from the highest score down while they hold at most a tenth of the weight
    (at least one lead): their conversion rate over everyone's."""
    order = np.argsort(-score, kind="stable")
    w, won = weights[order], y[order]
    top = np.cumsum(w) <= 0.1 * w.sum()
    top[0] = True
    return float((w * won)[top].sum() / w[top].sum() / ((w * won).sum() / w.sum()))


@pytest.mark.parametrize("weights_of", ["drawn", "top leads weigh nothing"])
def test_weighted_lift_is_the_rate_of_the_top_tenth_of_the_weight(weights_of):
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 1000).astype(float)
    score = rng.random(1000) + 0.5 * y
    weights = np.bincount(rng.integers(0, 1000, 1000), minlength=1000)
    if weights_of == "top leads weigh nothing":  # the top tenth lies beyond the first fifth
        weights[np.argsort(-score)[:400]] = 0
    ours = weighted_lift_at_10(RankedScores(y, score), weights[np.newaxis, :])[0]
    assert ours == pytest.approx(_lift_at_10_by_definition(y, score, weights))


def test_bootstrap_intervals_and_paired_difference():
    rng = np.random.default_rng(2)
    y = rng.integers(0, 2, 2000)
    good = np.clip(0.3 + 0.4 * y + rng.normal(0, 0.2, 2000), 0.01, 0.99)
    noise = rng.random(2000)
    boot = Bootstrap(y, {"good": good, "noise": noise}, replicates=300)
    interval = boot.interval("good", "roc_auc")
    assert interval.low < interval.estimate < interval.high
    assert interval.estimate == pytest.approx(roc_auc_score(y, good))
    assert boot.interval("noise", "roc_auc").contains(0.5)
    assert boot.difference("good", "noise", "roc_auc").low > 0.2
    same = boot.difference("good", "good", "log_loss")
    assert (same.low, same.high) == (0.0, 0.0)


def test_no_signal_gate():
    chance = Interval(0.51, 0.47, 0.55)
    better = Interval(0.80, 0.77, 0.83)
    assert not check_signal(chance, 0.60, 0.66).usable
    worse_than_base_rate = check_signal(better, 0.67, 0.66)
    assert not worse_than_base_rate.usable
    assert "overall conversion rate" in worse_than_base_rate.reasons[0]
    assert check_signal(better, 0.50, 0.66).usable


def test_champion_decision():
    usable = check_signal(Interval(0.8, 0.77, 0.83), 0.5, 0.66)
    useless = check_signal(Interval(0.5, 0.46, 0.54), 0.7, 0.66)
    assert decide_champion(usable, None).champion
    assert not decide_champion(usable, "3").champion
    refused = decide_champion(useless, None)
    assert not refused.champion and not refused.usable_signal
    assert "no usable signal" in refused.reason


def test_base_rate_log_loss():
    y = np.array([1, 0, 0, 0])
    assert base_rate_log_loss(y, 0.25) == pytest.approx(-(np.log(0.25) + 3 * np.log(0.75)) / 4)


def test_too_few_evaluation_leads_are_named_only_when_there_is_no_signal():
    chance, clear = Interval(0.55, 0.35, 0.75), Interval(0.9, 0.8, 0.97)
    few = np.array([1] * 6 + [0] * 24)
    check = check_signal(chance, 0.60, 0.66, few)
    assert not check.usable and check.too_few_leads
    assert "hold only 6 won and 24 lost ones" in check.reasons[-1]
    assert not check_signal(chance, 0.60, 0.66, np.array([1, 0] * 100)).too_few_leads
    assert check_signal(clear, 0.40, 0.66, few).usable
