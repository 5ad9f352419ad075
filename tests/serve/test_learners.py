"""The learners a saved lead model can hold: LightGBM, the logistic regression (coefficients as
JSON, no booster file) and their blend; each splits its raw score exactly into per-field
effects, survives saving and loading, and a model saved before learners existed still loads."""

from __future__ import annotations

import hashlib
import json
import tomllib
from pathlib import Path

import numpy as np
import pytest

from features.contract import LeadContract
from features.demo import CONTRACT_TOML, generate_leads
from features.encoder import LeadEncoder
from features.labels import split_labeled
from features.reading import mask_sentinels
from serve.model.calibrator import Calibrator
from serve.model.lead_model import BOOSTER_FILE, CHECKSUM_FILE, MODEL_FILE, LeadModel
from serve.model.learners import BlendLearner, LinearLearner, TreeLearner
from serve.model.reasons import explain
from serve.model.scorer import score_leads
from serve.model.tiers import Tiers
from train.fit import fit_trees
from train.linear import fit_linear
from train.split import validation_folds

DEMO = LeadContract.from_dict(tomllib.loads(CONTRACT_TOML))
KINDS = {
    "industry": "categorical",
    "lead_source": "categorical",
    "budget_status": "categorical",
    "web_visits": "numeric",
    "email_opens": "numeric",
    "demo_requested": "boolean",
}


@pytest.fixture(scope="module")
def fitted() -> tuple[np.ndarray, LeadEncoder, TreeLearner, LinearLearner]:
    frame = mask_sentinels(generate_leads(2000, seed=41), DEMO.na_values)
    leads = split_labeled(frame, DEMO, "demo")
    encoder = LeadEncoder.fit(leads.frame, KINDS, DEMO.na_values)
    matrix = encoder.transform(leads.frame)
    trees = fit_trees(matrix, leads.y, encoder, validation_folds(leads.y, None)).learner
    return matrix, encoder, trees, fit_linear(matrix, leads.y, encoder)


def model_with(learner, encoder: LeadEncoder) -> LeadModel:
    return LeadModel(DEMO, encoder, learner, Calibrator("sigmoid"), Tiers((70, 40, 20)))


@pytest.mark.parametrize("kind", ["lightgbm", "linear", "blend"])
def test_effects_add_up_to_the_raw_score_and_survive_saving(fitted, kind, tmp_path):
    matrix, encoder, trees, linear = fitted
    learner = {"lightgbm": trees, "linear": linear, "blend": BlendLearner(trees, linear, 0.6)}
    model = model_with(learner[kind], encoder)
    contributions = model.contributions(matrix)
    assert contributions.shape == (len(matrix), len(KINDS) + 1)
    np.testing.assert_allclose(contributions.sum(axis=1), model.raw_scores(matrix), atol=1e-9)
    model.save(tmp_path)
    assert (tmp_path / BOOSTER_FILE).exists() == (kind != "linear")
    again = LeadModel.load(tmp_path)
    np.testing.assert_array_equal(again.probabilities(matrix), model.probabilities(matrix))
    np.testing.assert_array_equal(again.contributions(matrix), contributions)
    assert again.learner.describe() == model.learner.describe()


def test_a_blend_is_the_weighted_sum_of_its_parts_in_log_odds(fitted):
    matrix, encoder, trees, linear = fitted
    blend = BlendLearner(trees, linear, 0.3)
    expected = 0.3 * trees.raw_scores(matrix) + 0.7 * linear.raw_scores(matrix)
    np.testing.assert_allclose(blend.raw_scores(matrix), expected)
    assert (
        blend.describe()
        == f"blend: 0.30 x LightGBM ({trees.trees} trees) + 0.70 x logistic regression"
    )


def test_the_linear_learner_reads_one_lead_as_it_reads_many(fitted):
    matrix, encoder, _, linear = fitted
    model = model_with(linear, encoder)
    leads = json.loads(generate_leads(20, seed=42)[list(KINDS)].to_json(orient="records"))
    together = score_leads(model, leads, reasons=True)
    for i, lead in enumerate(leads):
        alone = score_leads(model, [lead], reasons=True)
        assert alone.probability[0] == pytest.approx(together.probability[i], abs=1e-12)
        assert alone.explanations[0].reasons == together.explanations[i].reasons
    strong = explain(
        model,
        [{"budget_status": "Approved"}],
        encoder.encode_records([{"budget_status": "Approved"}]),
    )
    assert strong[0].effects["budget_status"] > 0


def test_a_model_saved_before_learners_existed_loads_as_lightgbm(fitted, tmp_path):
    matrix, encoder, trees, _ = fitted
    model = model_with(trees, encoder)
    model.save(tmp_path)
    # the layout of earlier versions: the same files, no "learner" entry in leadmodel.json
    description = json.loads((tmp_path / MODEL_FILE).read_text())
    del description["learner"]
    (tmp_path / MODEL_FILE).write_text(json.dumps(description))
    checksums = json.loads((tmp_path / CHECKSUM_FILE).read_text())
    checksums[MODEL_FILE] = hashlib.sha256((tmp_path / MODEL_FILE).read_bytes()).hexdigest()
    (tmp_path / CHECKSUM_FILE).write_text(json.dumps(checksums))
    loaded = LeadModel.load(Path(tmp_path))
    assert isinstance(loaded.learner, TreeLearner)
    np.testing.assert_array_equal(loaded.probabilities(matrix), model.probabilities(matrix))
