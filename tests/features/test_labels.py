import numpy as np
import pandas as pd
import pytest

from features.contract import LeadContract
from features.errors import DataError
from features.labels import split_labeled


def leads(labels: list, **columns) -> pd.DataFrame:
    n = len(labels)
    rng = np.random.default_rng(0)
    return pd.DataFrame({"stage": labels, "visits": rng.integers(0, 9, n), **columns})


CONTRACT = LeadContract(target="stage", positive=("won",), negative=("lost",))


def test_won_lost_and_open_leads():
    frame = leads(["won"] * 60 + ["lost"] * 60 + [None] * 5)
    split = split_labeled(frame, LeadContract(target="stage", positive=("won",)), "leads.csv")
    assert split.y.tolist() == [1] * 60 + [0] * 60
    assert split.n_open == 5


def test_declared_open_labels_are_not_trained_on():
    frame = leads(["won"] * 60 + ["lost"] * 60 + ["Engaging"] * 7)
    contract = LeadContract(
        target="stage", positive=("won",), negative=("lost",), open=("Engaging",)
    )
    split = split_labeled(frame, contract, "x")
    assert split.n_open == 7 and len(split.y) == 120


def test_without_negative_labels_every_other_label_is_lost():
    frame = leads([1] * 60 + [0] * 60)
    split = split_labeled(frame, LeadContract(target="stage", positive=("1",)), "x")
    assert split.y.sum() == 60


def test_target_column_absent_lists_the_columns():
    frame = leads(["won"] * 120)
    with pytest.raises(DataError) as error:
        split_labeled(frame, LeadContract(target="outcome", positive=("won",)), "leads.csv")
    assert "leads.csv: target column 'outcome' is not in the file" in str(error.value)
    assert "stage, visits" in str(error.value)


def test_unknown_labels_are_listed_with_counts():
    frame = leads(["won"] * 60 + ["lost"] * 57 + ["Lost "] * 0 + ["Closed Lost"] * 3)
    with pytest.raises(DataError) as error:
        split_labeled(frame, CONTRACT, "leads.csv")
    assert "'Closed Lost' (3)" in str(error.value)
    assert "--negative" in str(error.value)


def test_only_one_class():
    with pytest.raises(DataError, match=r"only one class present \(120 won, 0 lost"):
        split_labeled(leads(["won"] * 120), CONTRACT, "x")


def test_too_few_leads():
    with pytest.raises(DataError, match="too few leads to learn from"):
        split_labeled(leads(["won"] * 30 + ["lost"] * 30), CONTRACT, "x")
    with pytest.raises(DataError, match="too few leads"):
        split_labeled(leads(["won"] * 5 + ["lost"] * 200), CONTRACT, "x")


def test_times_in_mixed_formats_are_read():
    times = ["2024-01-05", "05/02/2024 10:00", "2024-03-01T08:00:00Z"] * 40
    frame = leads(["won", "lost"] * 60, created=times)
    contract = LeadContract(target="stage", positive=("won",), time="created")
    split = split_labeled(frame, contract, "x")
    assert split.created_at.notna().all()


def test_unreadable_times_name_rows():
    times = ["2024-01-05"] * 100 + ["soon"] * 20
    frame = leads(["won", "lost"] * 60, created=times)
    contract = LeadContract(target="stage", positive=("won",), time="created")
    with pytest.raises(
        DataError,
        match=r"20 values that are not dates or are placeholders far ahead \(row 101: 'soon'",
    ):
        split_labeled(frame, contract, "x")


def test_a_named_column_must_exist():
    frame = leads(["won", "lost"] * 60)
    contract = LeadContract(target="stage", positive=("won",), pii=("email",))
    with pytest.raises(DataError, match="pii column 'email' is not in the file"):
        split_labeled(frame, contract, "x")


def test_numbers_as_created_at_are_refused_with_a_hint_in_plain_numbers():
    frame = leads(["won", "lost"] * 60, created=[1704073440 + i for i in range(120)])
    contract = LeadContract(target="stage", positive=("won",), time="created")
    with pytest.raises(DataError) as error:
        split_labeled(frame, contract, "x")
    assert "row 1: '1704073440'" in str(error.value) and "np." not in str(error.value)
    assert "Unix timestamp" in str(error.value)


def test_outcome_labels_are_compared_without_regard_to_case():
    frame = leads(["True", "false"] * 60)
    contract = LeadContract(target="stage", positive=("true",), negative=("FALSE",))
    assert split_labeled(frame, contract, "x").y.sum() == 60


def test_one_created_at_for_every_lead_is_named_in_a_warning(caplog):
    """A created-at column holding one date split "by time" without a word."""
    frame = leads(["won", "lost"] * 60, created=["2024-05-01"] * 120)
    contract = LeadContract(target="stage", positive=("won",), time="created")
    split_labeled(frame, contract, "x")
    assert "every lead has the same created-at time in 'created' (2024-05-01T00:00:00)" in (
        caplog.text
    )
