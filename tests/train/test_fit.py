"""The candidates as fitted: the regression scores what it fitted, on a bounded sample; LightGBM
stops on the folds' mean and keeps a floor of trees."""

import json

import numpy as np

from features.demo import generate_leads
from features.encoder import LeadEncoder
from features.reading import mask_sentinels
from serve.model.learners import LinearLearner
from train.fit import MIN_TREES, fit_trees
from train.linear import fit_linear
from train.split import validation_folds

NA = ("Select", "-1")
KINDS = {
    "industry": "categorical",
    "web_visits": "numeric",
    "email_opens": "numeric",
    "demo_requested": "boolean",
}


def demo(rows: int, seed: int = 3) -> tuple[np.ndarray, np.ndarray, LeadEncoder]:
    leads = mask_sentinels(generate_leads(rows, seed), NA)
    leads = leads[leads["outcome"] != "open"]
    encoder = LeadEncoder.fit(leads, KINDS, NA)
    return encoder.transform(leads), (leads["outcome"] == "won").to_numpy(int), encoder


def test_the_regression_is_fitted_on_a_bounded_sample():
    matrix, y, encoder = demo(1500)
    rows = np.sort(np.random.default_rng(0).choice(len(y), 500, replace=False))
    sampled = fit_linear(matrix, y, encoder, max_rows=500)
    on_the_sample = fit_linear(matrix[rows], y[rows], encoder)
    whole = fit_linear(matrix, y, encoder)
    np.testing.assert_allclose(sampled.raw_scores(matrix), on_the_sample.raw_scores(matrix))
    assert not np.allclose(sampled.raw_scores(matrix), whole.raw_scores(matrix))


def test_the_regression_s_effects_are_exact_centred_and_survive_json():
    matrix, y, encoder = demo(2000)
    learner = fit_linear(matrix, y, encoder)
    contributions = learner.contributions(matrix)
    assert contributions.shape == (len(y), len(KINDS) + 1)
    np.testing.assert_allclose(contributions.sum(axis=1), learner.raw_scores(matrix), atol=1e-9)
    np.testing.assert_allclose(contributions[:, :-1].mean(axis=0), 0, atol=1e-9)
    again = LinearLearner.from_dict(json.loads(json.dumps(learner.to_dict())))
    np.testing.assert_array_equal(again.contributions(matrix), contributions)
    # more web visits raise the score up to a point, then matter less (the demo's truth)
    visits = np.full((3, len(KINDS)), np.nan)
    visits[:, 1] = [0, 8, 40]
    effect = learner.contributions(visits)[:, 1]
    assert effect[1] > effect[0] and effect[1] > effect[2]


def test_early_stopping_keeps_a_floor_of_trees_and_scores_every_lead_held_out():
    matrix, y, encoder = demo(600, seed=5)
    noise = np.random.default_rng(0).permutation(y)  # nothing to learn: stops at once
    fitted = fit_trees(matrix, noise, encoder, validation_folds(noise, None))
    assert fitted.recipe.best_rounds == MIN_TREES
    assert not np.isnan(fitted.held_out_raw).any()
    assert fitted.learner.trees == fitted.recipe.rounds_for(len(noise))
