"""Fit and engagement: the contract decides, the name guesses the rest."""

import pytest

from features.contract import LeadContract, load_contract
from features.demo import LEAD_FIELDS
from features.errors import ContractError
from features.field_groups import ENGAGEMENT, FIT, field_groups, guessed_group

DEMO_FIELDS = [name for name in LEAD_FIELDS if name != "lead_id"]


def test_the_demo_fields_are_guessed_as_a_person_would():
    groups = field_groups(LeadContract(), DEMO_FIELDS)
    assert [f for f in DEMO_FIELDS if groups[f] == ENGAGEMENT] == [
        "web_visits",
        "email_opens",
        "demo_requested",
    ]


@pytest.mark.parametrize(
    ("name", "group"),
    [
        ("TotalVisits", ENGAGEMENT),
        ("Page Views Per Visit", ENGAGEMENT),
        ("Total Time Spent on Website", ENGAGEMENT),
        ("Last Notable Activity", ENGAGEMENT),
        ("clicked_pricing", ENGAGEMENT),
        ("demographics_segment", FIT),
        ("platform", FIT),
        ("Lead Source", FIT),
        ("annual_revenue", FIT),
    ],
)
def test_words_of_behaviour_mean_engagement(name, group):
    assert guessed_group(name) == group


def test_the_contract_wins_over_the_guess(tmp_path):
    path = tmp_path / "contract.toml"
    path.write_text(
        'target = "y"\npositive = ["1"]\nfit = ["web_visits"]\nengagement = ["country"]\n'
    )
    groups = field_groups(load_contract(path), DEMO_FIELDS)
    assert groups["web_visits"] == FIT
    assert groups["country"] == ENGAGEMENT
    assert groups["email_opens"] == ENGAGEMENT  # guessed: both lists given
    assert groups["industry"] == FIT


def test_one_list_alone_puts_every_other_field_in_the_other_group():
    groups = field_groups(LeadContract(engagement=("country",)), DEMO_FIELDS)
    assert groups["country"] == ENGAGEMENT
    assert groups["web_visits"] == FIT
    groups = field_groups(LeadContract(fit=("industry",)), DEMO_FIELDS)
    assert {f for f, g in groups.items() if g == FIT} == {"industry"}


def test_a_field_in_both_lists_is_refused():
    with pytest.raises(ContractError, match=r"\['country'\] listed under both fit and engagement"):
        LeadContract.from_dict({"fit": ["country"], "engagement": ["country", "web_visits"]})


def test_the_lists_survive_the_model_artifact_round_trip():
    contract = LeadContract(fit=("industry",), engagement=("web_visits",))
    again = LeadContract.from_dict(contract.to_dict())
    assert (again.fit, again.engagement) == (("industry",), ("web_visits",))
