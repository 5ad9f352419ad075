import numpy as np
import pandas as pd
import pytest

from features.contract import LeadContract
from features.errors import DataError
from features.kinds import feature_kinds

N = 50


def frame() -> pd.DataFrame:
    rng = np.random.default_rng(1)
    return pd.DataFrame(
        {
            "lead_no": np.arange(N),
            "email": [f"a{i}@x.com" for i in range(N)],
            "visits": rng.integers(0, 5, N),
            "spend": rng.random(N),
            "amount_text": [str(v) for v in rng.integers(0, 100, N)],
            "demo": rng.choice(["Yes", "No"], N),
            "source": rng.choice(["web", "referral", "event"], N),
            "empty": [None] * N,
            "y": rng.choice(["won", "lost"], N),
        }
    )


def test_kinds_are_inferred_and_identifiers_left_out():
    kinds = feature_kinds(frame(), LeadContract(target="y", positive=("won",)), "x")
    assert kinds == {
        "visits": "numeric",
        "spend": "numeric",
        "amount_text": "numeric",
        "demo": "boolean",
        "source": "categorical",
    }


def test_overrides_win_and_pii_is_excluded():
    contract = LeadContract(
        target="y", positive=("won",), pii=("email",), kinds={"visits": "categorical"}
    )
    kinds = feature_kinds(frame(), contract, "x")
    assert kinds["visits"] == "categorical"
    assert "email" not in kinds


def test_override_that_does_not_parse_names_rows():
    data = frame()
    data.loc[[3, 7], "source"] = "web"
    contract = LeadContract(target="y", positive=("won",), kinds={"source": "numeric"})
    with pytest.raises(DataError) as error:
        feature_kinds(data, contract, "leads.csv")
    message = str(error.value)
    assert "column 'source' is declared numeric" in message
    assert "row 1:" in message and "declare the column with another kind" in message


def test_no_features_left():
    data = frame()[["lead_no", "y"]]
    with pytest.raises(DataError, match="no feature columns left"):
        feature_kinds(data, LeadContract(target="y", positive=("won",)), "x")


def test_numbers_written_with_separators_are_named_in_a_warning(caplog):
    """'9,5' visits and '1.250' spend were read as categories without a word: their order lost."""
    leads = frame()
    leads["visits"] = [f"{v % 7},5" for v in range(N)]
    leads["spend"] = [f"{v % 5 + 1}.250,00" if v % 2 else f"{v % 5 + 1}00,00" for v in range(N)]
    kinds = feature_kinds(leads, LeadContract(target="y", positive=("won",)), "x")
    assert kinds["source"] == "categorical" and kinds["visits"] == "categorical"
    warned = [r.getMessage() for r in caplog.records if "thousands separators" in r.getMessage()]
    assert len(warned) == 2 and "'0,5'" in warned[0] and "'100,00'" in warned[1], warned


def test_numbers_written_with_a_unit_are_named_in_a_warning(caplog):
    """'6 visits', '$49.7k' and '45%' were read as categories without a word; a handful of
    labels that hold a digit ('Q1' to 'Q4') are categories and say nothing."""
    leads = frame()
    leads["visits"] = [f"{v % 40} visits" for v in range(N)]
    leads["budget"] = [f"${v % 30 + 0.5}k" for v in range(N)]
    leads["quarter"] = [f"Q{v % 4 + 1}" for v in range(N)]
    kinds = feature_kinds(leads, LeadContract(target="y", positive=("won",)), "x")
    assert kinds["visits"] == kinds["budget"] == kinds["quarter"] == "categorical"
    warned = [r.getMessage() for r in caplog.records if "with a unit" in r.getMessage()]
    assert len(warned) == 2, warned
    assert "visits" in warned[0] and "'0 visits'" in warned[0]
    assert "budget" in warned[1] and "'$0.5k'" in warned[1]
