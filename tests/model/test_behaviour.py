"""What the trained model must do, beyond running."""

import numpy as np

from features.demo import generate_leads
from serve.model.loading import load_lead_model
from serve.model.scorer import score_leads


def test_beats_the_logistic_baseline_on_log_loss(trained_model):
    report = trained_model.report
    assert report["metrics"]["log_loss"] < report["baseline_metrics"]["log_loss"]
    assert report["metrics"]["roc_auc"] > 0.7


def test_lead_id_and_personal_fields_do_not_change_a_score(use_trained_store):
    model = load_lead_model("models:/leadscore@champion").model
    leads = generate_leads(200, seed=11)
    before = score_leads(model, leads).probability
    changed = leads.assign(
        lead_id=[f"other-{i}" for i in range(len(leads))],
        contact_name="Somebody Else",
        contact_email=[f"x{i}@elsewhere.org" for i in range(len(leads))],
    )
    np.testing.assert_array_equal(before, score_leads(model, changed).probability)
    assert not set(model.encoder.feature_names) & {"lead_id", "contact_name", "contact_email"}


def test_probabilities_are_calibrated_on_average(trained_model, use_trained_store):
    model = load_lead_model("models:/leadscore@champion").model
    leads = generate_leads(20000, seed=12)
    closed = leads[leads["outcome"] != "open"]
    predicted = score_leads(model, closed).probability.mean()
    observed = (closed["outcome"] == "won").mean()
    assert abs(predicted - observed) < 0.05


def test_contributions_add_up_to_the_raw_score(use_trained_store):
    model = load_lead_model("models:/leadscore@champion").model
    matrix = model.encoder.transform(generate_leads(100, seed=13))
    contributions = model.contributions(matrix)
    assert contributions.shape == (100, len(model.encoder.features) + 1)
    np.testing.assert_allclose(contributions.sum(axis=1), model.raw_scores(matrix), atol=1e-9)
