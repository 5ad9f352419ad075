"""What learning must do on small, imbalanced, weak and drifting exports: stop on every training
lead rather than one small slice, keep enough trees, never pin leads to the probability floor,
never lose to the logistic regression beyond noise. The exports are the benchmark's shapes."""

from __future__ import annotations

import tomllib

import numpy as np
import pytest

from benchmarks.shapes import Shape, campaign_file, small_funnel
from features.contract import LeadContract
from features.demo import CONTRACT_TOML, generate_leads
from features.labels import split_labeled
from features.reading import mask_sentinels
from serve.model.calibrator import PROBABILITY_FLOOR
from train.calibration import MIN_PER_CLASS, fit_calibrator
from train.evaluate.holdout import evaluate_holdout
from train.fit import MIN_TREES
from train.learn import learn_lead_model
from train.split import lead_order, split_rows

DEMO = LeadContract.from_dict(tomllib.loads(CONTRACT_TOML))


def demo_export(rows: int, seed: int) -> Shape:
    frame = mask_sentinels(generate_leads(rows, seed), DEMO.na_values)
    return Shape("demo", frame, DEMO, np.zeros(rows))


def learn_on_oldest(shape: Shape, tune_seconds: float = 0):
    """Learn on the oldest 80 % as `leadscore train` does; the leads and the split."""
    leads = split_labeled(shape.frame, shape.contract, "export")
    order = lead_order(leads, shape.contract)
    outer = split_rows(leads.y, order)
    learned = learn_lead_model(
        leads.frame.iloc[outer.train],
        leads.y[outer.train],
        None if order is None else order.iloc[outer.train],
        shape.contract,
        tune_seconds=tune_seconds,
    )
    return learned, leads, outer


@pytest.mark.parametrize("tune_seconds", [0, 10])
def test_a_small_imbalanced_funnel_keeps_enough_trees_and_no_lead_at_the_floor(tune_seconds):
    learned, leads, outer = learn_on_oldest(small_funnel(seed=1), tune_seconds)
    assert leads.y.mean() < 0.06
    # early stopping watched every training lead once, not the newest fifth of them
    assert len(learned.held_out.y) == len(outer.train)
    assert learned.recipe.trees.best_rounds >= MIN_TREES
    assert learned.trees.trees >= MIN_TREES
    newest = learned.model.encoder.transform(leads.frame.iloc[outer.evaluate])
    probability = learned.model.probabilities(newest)
    assert np.mean(probability <= 2 * PROBABILITY_FLOOR) == 0


def test_isotonic_steps_never_promise_zero_from_a_handful_of_leads():
    rng = np.random.default_rng(0)
    raw = rng.normal(size=4000)
    y = (rng.random(4000) < 1 / (1 + np.exp(-(2 * raw - 4)))).astype(int)  # few won, at the top
    calibrator = fit_calibrator(raw, y, method="isotonic")
    steps = np.unique(np.asarray(calibrator.y))
    assert calibrator.method == "isotonic" and len(steps) > 2
    assert min(calibrator.y) >= MIN_PER_CLASS / len(y)
    assert np.mean(calibrator.apply(raw) <= 2 * PROBABILITY_FLOOR) == 0


@pytest.mark.parametrize(
    "shape",
    [
        pytest.param(lambda: small_funnel(seed=0), id="small weak funnel"),
        pytest.param(lambda: campaign_file(seed=0, rows=8000), id="campaign file"),
        pytest.param(lambda: demo_export(3000, seed=33), id="interactions"),
    ],
)
def test_the_model_is_never_worse_than_the_baseline_beyond_noise(shape):
    learned, leads, outer = learn_on_oldest(shape())
    evaluation = evaluate_holdout(
        learned.model,
        learned.baseline,
        leads.frame.iloc[outer.train],
        leads.y[outer.train],
        leads.frame.iloc[outer.evaluate],
        leads.y[outer.evaluate],
    )
    loss = evaluation.intervals["log_loss"].model_minus_baseline
    auc = evaluation.intervals["roc_auc"].model_minus_baseline
    assert loss.low <= 0 and auc.high >= 0, (learned.choice.name, loss, auc)
