import math

import numpy as np
import pandas as pd
import pytest

from features.demo import generate_leads
from features.encoder import LeadEncoder
from features.errors import InvalidLeadsError
from features.reading import mask_sentinels

KINDS = {
    "industry": "categorical",
    "company_size": "categorical",
    "web_visits": "numeric",
    "email_opens": "numeric",
    "demo_requested": "boolean",
    "purchase_timeline": "categorical",
}
NA = ("Select", "-1")


@pytest.fixture(scope="module")
def encoder() -> LeadEncoder:
    return LeadEncoder.fit(mask_sentinels(generate_leads(2000, 1), NA), KINDS, NA)


def test_frame_and_records_are_encoded_identically(encoder):
    raw = generate_leads(300, 2)
    records = raw.to_dict("records")
    from_frame = encoder.transform(raw)
    from_records = encoder.encode_records(records)
    np.testing.assert_array_equal(from_frame, from_records)
    assert np.isnan(from_frame[raw["purchase_timeline"].eq("Select").to_numpy(), 5]).all()


def test_json_spellings_mean_the_same(encoder):
    rows = encoder.encode_records(
        [
            {"web_visits": 3, "email_opens": -1, "demo_requested": "yes", "industry": "Software"},
            {
                "web_visits": "3",
                "email_opens": "-1.0",
                "demo_requested": True,
                "industry": " Software ",
            },
        ]
    )
    np.testing.assert_array_equal(rows[0], rows[1])
    assert math.isnan(rows[0][3])


def test_unseen_categories_share_the_other_code(encoder):
    rows = encoder.encode_records([{"industry": "Space mining"}, {"industry": "Underwater"}])
    other = encoder.features[0].other_code
    assert rows[0][0] == rows[1][0] == other
    assert encoder.features[0].category_label(other) == "other"


def test_missing_fields_are_missing(encoder):
    assert np.isnan(encoder.encode_records([{}])).all()


def test_every_wrong_value_is_reported_with_lead_and_field(encoder):
    with pytest.raises(InvalidLeadsError) as error:
        encoder.encode_records(
            [
                {"web_visits": 2},
                {"web_visits": "many"},
                {"demo_requested": "perhaps", "email_opens": True},
            ]
        )
    problems = [(index, p.field) for index, p in error.value.problems]
    assert problems == [(1, "web_visits"), (2, "email_opens"), (2, "demo_requested")]
    assert "lead 1: field 'web_visits' must be a number, got 'many'" in str(error.value)


def test_encoder_round_trips(encoder):
    again = LeadEncoder.from_dict(encoder.to_dict())
    raw = generate_leads(50, 4)
    np.testing.assert_array_equal(encoder.transform(raw), again.transform(raw))


def test_rare_categories_are_not_kept():
    data = pd.DataFrame({"c": ["a"] * 10 + ["rare"] * 2})
    encoder = LeadEncoder.fit(data, {"c": "categorical"})
    assert encoder.features[0].categories == ["a"]


def test_frames_of_mixed_json_values_are_encoded_as_records_are(encoder):
    records = [
        {"web_visits": "3", "email_opens": 1, "demo_requested": True, "industry": " Software "},
        {"web_visits": 3.0, "email_opens": "-1", "demo_requested": 1, "industry": 1},
        {"web_visits": None, "email_opens": 2.5, "demo_requested": "No", "industry": "Select"},
        {"web_visits": 7, "demo_requested": False, "purchase_timeline": " 0-3 months"},
    ]
    frame = pd.DataFrame(records, dtype=object)
    np.testing.assert_array_equal(encoder.transform(frame), encoder.encode_records(records))


def test_values_spelled_as_the_encoder_spells_them_take_no_other_meaning(encoder):
    """JSON leads mostly send canonical text and plain numbers, which skip conversion; the
    result must be what the converted spelling gives."""
    exact = [
        {"industry": "Select", "demo_requested": "no", "web_visits": 2**60, "email_opens": -1},
        {"industry": "Software", "demo_requested": "Select", "web_visits": 2.5, "company_size": ""},
    ]
    spelled_otherwise = [
        {
            "industry": " Select",
            "demo_requested": "NO",
            "web_visits": str(2**60),
            "email_opens": "-1",
        },
        {"industry": "Software ", "demo_requested": " Select ", "web_visits": "2.5"},
    ]
    rows = encoder.encode_records(exact)
    np.testing.assert_array_equal(rows, encoder.encode_records(spelled_otherwise))
    assert np.isnan(rows[0, [0, 3]]).all() and rows[0, 4] == 0.0 and rows[0, 2] == float(2**60)
    assert np.isnan(rows[1, [1, 4]]).all()
