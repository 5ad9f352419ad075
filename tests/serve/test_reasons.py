"""Reasons: exact per-field effects that add up to the raw score, the strongest ones in words."""

import json
import logging

import numpy as np
import pandas as pd
import pytest

from features.demo import LEAD_FIELDS, generate_leads
from features.errors import InvalidLeadsError
from serve.model.deal_value import DEFAULT_KEY, deal_values
from serve.model.loading import load_lead_model
from serve.model.reasons import Reason, explain
from train.model_metadata import default_deal_value

FIELDS = list(LEAD_FIELDS)


@pytest.fixture
def model(use_trained_store):
    return load_lead_model("models:/leadscore@champion").model


def json_leads(n: int, seed: int) -> list[dict]:
    return json.loads(generate_leads(n, seed=seed)[FIELDS].to_json(orient="records"))


def test_effects_and_base_value_add_up_to_the_raw_score(model):
    leads = json_leads(200, seed=21)
    matrix = model.encoder.encode_records(leads)
    raw = model.raw_scores(matrix)
    explanations = explain(model, leads, matrix)
    assert set(explanations[0].effects) == set(model.encoder.feature_names)
    np.testing.assert_allclose([e.raw_score for e in explanations], raw, rtol=0, atol=1e-9)


def test_reasons_are_the_strongest_effects_raising_then_lowering(model):
    leads = json_leads(100, seed=22)
    for lead, explanation in zip(
        leads, explain(model, leads, model.encoder.encode_records(leads)), strict=True
    ):
        effects = explanation.effects
        raising = [r for r in explanation.reasons if r.effect > 0]
        lowering = [r for r in explanation.reasons if r.effect < 0]
        assert explanation.reasons == raising + lowering
        expected_up = sorted((v for v in effects.values() if v > 0), reverse=True)[:3]
        expected_down = sorted(v for v in effects.values() if v < 0)[:3]
        assert [r.effect for r in raising] == expected_up
        assert [r.effect for r in lowering] == expected_down
        for reason in explanation.reasons:
            assert effects[reason.field] == reason.effect
            assert reason.value == lead.get(reason.field)


def test_a_strong_lead_names_its_approved_budget_as_a_reason(model):
    lead = {
        "lead_source": "Referral",
        "budget_status": "Approved",
        "purchase_timeline": "0-3 months",
        "demo_requested": "yes",
        "company_size": "1000+",
    }
    explanation = explain(model, [lead], model.encoder.encode_records([lead]))[0]
    texts = [r.text for r in explanation.reasons if r.effect > 0]
    assert "budget_status = Approved raises the score" in texts


def test_reason_sentences():
    assert Reason("lead_source", "Referral", 0.4).text == "lead_source = Referral raises the score"
    assert Reason("web_visits", None, -0.2).text == "web_visits is missing lowers the score"


def test_default_deal_value_is_the_median_of_won_leads():
    values = pd.Series([100.0, 300.0, 5000.0, None, 200.0])
    won = np.array([1, 1, 0, 1, 1])
    assert default_deal_value(values, won) == 200.0
    assert default_deal_value(pd.Series([None, None]), np.array([1, 1])) is None


def test_a_lead_s_own_deal_value_wins_over_the_default(model):
    assert model.contract.value == "deal_value"
    default = model.metadata[DEFAULT_KEY]
    demo = generate_leads(4000, seed=3)
    assert default == pytest.approx(demo.loc[demo["outcome"] == "won", "deal_value"].median(), 0.2)
    values = deal_values(model, [1234, None, "99.5"])
    np.testing.assert_array_equal(values, [1234.0, default, 99.5])
    with pytest.raises(InvalidLeadsError, match="deal_value"):
        deal_values(model, [None, "a lot"])
    with pytest.raises(InvalidLeadsError, match="from 0 to a trillion"):
        deal_values(model, [-5])


@pytest.mark.parametrize("as_numbers", [True, False], ids=["number column", "text column"])
def test_a_column_of_deal_values_reads_as_its_values_one_by_one(model, as_numbers, caplog):
    """A file's numeric column takes one pass; it must agree with the values read one by one:
    missing and the contract's "-1" are not given, a negative value is named."""
    default = model.metadata[DEFAULT_KEY]
    column = pd.Series([1234.0, None, -1.0, 0.0, 99.5])
    given = column if as_numbers else pd.Series(["1234", None, "-1", "0", "99.5"])
    expected = [1234.0, default, default, 0.0, 99.5]
    np.testing.assert_array_equal(deal_values(model, given), expected)
    np.testing.assert_array_equal(deal_values(model, column.tolist()), expected)
    wrong = pd.Series([5.0, -3.0, np.inf]) if as_numbers else pd.Series(["5", "-3", "inf"])
    with pytest.raises(InvalidLeadsError) as refused:
        deal_values(model, wrong)
    assert [row for row, _ in refused.value.problems] == [1, 2]
    assert "from 0 to a trillion" in str(refused.value)
    with caplog.at_level(logging.WARNING, logger="serve.model.deal_value"):
        values = deal_values(model, wrong, refuse=False)
    np.testing.assert_array_equal(values, [5.0, default, default])
    assert "2 values of deal_value are not numbers from 0 to a trillion" in caplog.text


def test_deal_values_that_are_not_plain_numbers_are_named_in_a_warning(caplog):
    """'1,670,000.00' deal values counted as missing in training, silently."""
    values = pd.Series(["1,670,000.00", "25000", None, "2,500.00"], name="deal_value")
    assert default_deal_value(values, np.array([1, 1, 1, 0])) == 25000.0
    assert "2 deal values of deal_value are not numbers (e.g. '1,670,000.00')" in caplog.text
