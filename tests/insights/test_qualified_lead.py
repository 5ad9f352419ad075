"""What a qualified lead is, read from a model fitted to demo leads whose truth is known."""

import tomllib

import pytest

from features.contract import LeadContract
from features.demo import CONTRACT_TOML, LEAD_FIELDS, generate_leads
from features.field_groups import ENGAGEMENT, FIT
from features.labels import split_labeled
from features.reading import mask_sentinels
from insights import reliance
from insights.funnel import MISSING
from insights.qualified_lead import qualified_lead
from train.learn import learn_lead_model

DEMO = LeadContract.from_dict(tomllib.loads(CONTRACT_TOML))


@pytest.fixture(scope="module")
def reliance_of_demo():
    frame = mask_sentinels(generate_leads(3000, seed=5), DEMO.na_values)
    leads = split_labeled(frame, DEMO, "demo")
    model = learn_lead_model(leads.frame, leads.y, None, DEMO).model
    sent = frame[list(LEAD_FIELDS)]
    return model, sent, qualified_lead(model, sent)


def test_shares_are_the_models_importance_grouped(reliance_of_demo):
    model, sent, found = reliance_of_demo
    importance = reliance.global_importance(reliance.contribution_frame(model, sent))
    assert found.leads == len(sent)
    assert [f.field for f in found.fields] == list(importance.index)
    for field in found.fields:
        assert field.share == pytest.approx(importance.loc[field.field, "share"])
    engagement = {"web_visits", "email_opens", "demo_requested"}
    assert {f.field for f in found.fields if f.group == ENGAGEMENT} == engagement
    assert found.group_shares[ENGAGEMENT] == pytest.approx(
        importance.loc[list(engagement), "share"].sum()
    )
    assert found.group_shares[FIT] + found.group_shares[ENGAGEMENT] == pytest.approx(1.0)


def test_values_that_raise_and_lower_are_the_known_truth(reliance_of_demo):
    _, _, found = reliance_of_demo
    fields = {f.field: f for f in found.fields}
    assert fields["budget_status"].raises[0].value == "Approved"
    assert fields["budget_status"].lowers[0].value == "No budget"
    assert fields["lead_source"].raises[0].value == "Referral"
    assert fields["lead_source"].lowers[0].value == "Cold Outbound"
    assert all(e.effect > 0 for e in fields["purchase_timeline"].raises)
    assert all(e.effect < 0 for e in fields["purchase_timeline"].lowers)


def test_a_value_is_the_mean_contribution_of_its_leads(reliance_of_demo):
    model, sent, found = reliance_of_demo
    contributions = reliance.contribution_frame(model, sent)
    pairs = reliance.dependence(model, sent, contributions, "job_title_level")
    expected = pairs.groupby("value")["contribution"].agg(["mean", "size"])
    best = next(f for f in found.fields if f.field == "job_title_level").raises[0]
    assert best.effect == pytest.approx(expected.loc[best.value, "mean"])
    assert best.leads == expected.loc[best.value, "size"]


def test_numbers_are_read_in_ranges(reliance_of_demo):
    _, _, found = reliance_of_demo
    visits = next(f for f in found.fields if f.field == "web_visits")
    labels = [e.value for e in visits.raises + visits.lowers]
    assert labels and all(" to " in label or label.replace(",", "").isdigit() for label in labels)


def test_no_leads_no_reliance(reliance_of_demo):
    model, sent, _ = reliance_of_demo
    found = qualified_lead(model, sent.iloc[:0])
    assert found.leads == 0 and found.fields == []


def test_a_number_no_lead_sent_reads_missing(reliance_of_demo):
    """Leads sent without email_opens showed 'email_opens = nan' on the board."""
    model, sent, _ = reliance_of_demo
    found = qualified_lead(model, sent.assign(email_opens=float("nan")))
    opens = next(f for f in found.fields if f.field == "email_opens")
    labels = [e.value for e in opens.raises + opens.lowers]
    assert "nan" not in labels and set(labels) <= {MISSING}
