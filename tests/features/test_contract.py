from pathlib import Path

import pytest

from features.contract import LeadContract, load_contract, parse_kind_overrides
from features.errors import ContractError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "contract.toml"
    path.write_text(text)
    return path


def test_file_is_read_and_flags_win(tmp_path):
    path = write(
        tmp_path,
        'target = "stage"\npositive = ["Won"]\nna_values = ["Select"]\n'
        '[kinds]\nzip = "categorical"\n',
    )
    contract = load_contract(
        path, {"positive": ["Closed Won"], "id": "lead", "kinds": {"x": "numeric"}}
    )
    assert contract.target == "stage"
    assert contract.positive == ("Closed Won",)
    assert contract.id == "lead"
    assert contract.na_values == ("Select",)
    assert contract.kinds == {"zip": "categorical", "x": "numeric"}


def test_flags_alone_are_enough():
    contract = load_contract(None, {"target": "Converted", "positive": ["1"]})
    contract.require_training_roles()
    assert contract.excluded_columns == {"Converted"}


def test_single_value_for_a_list_key_is_accepted(tmp_path):
    contract = load_contract(write(tmp_path, 'target = "y"\npositive = "yes"\n'))
    assert contract.positive == ("yes",)


@pytest.mark.parametrize(
    "text, message",
    [
        ('target = "y"\ncolour = "red"\n', "unknown key(s) ['colour']"),
        ('target = "y"\n[kinds]\nage = "number"\n', "kind of column 'age' is 'number'"),
        ("target = [\n", "is not valid TOML"),
    ],
)
def test_bad_contract_file_is_named(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(ContractError) as error:
        load_contract(path)
    assert message in str(error.value)


def test_missing_contract_file(tmp_path):
    with pytest.raises(ContractError, match="does not exist"):
        load_contract(tmp_path / "nope.toml")


@pytest.mark.parametrize(
    "contract, message",
    [
        (LeadContract(positive=("won",)), "--target"),
        (LeadContract(target="y"), "--positive"),
        (LeadContract(target="y", positive=("a",), negative=("a",)), "one meaning"),
        (LeadContract(target="y", positive=("Won",), open=("won ",)), "one meaning"),
        (LeadContract(target="y", positive=("a",), id="y"), "'y' is given as target and as id"),
        (LeadContract(target="y", positive=("a",), time="t", value="t"), "as time and as value"),
        (LeadContract(target="y", positive=("a",), drop=("y",)), "as target and as drop"),
        (LeadContract(target="y", positive=("a",), pii=("y",)), "as target and as pii"),
    ],
)
def test_training_roles_are_required(contract, message):
    with pytest.raises(ContractError, match=message):
        contract.require_training_roles()


def test_pii_drop_and_roles_are_never_features():
    contract = LeadContract(
        target="y",
        positive=("1",),
        id="id",
        time="t",
        value="v",
        loss_reason="why",
        drop=("notes",),
        pii=("email",),
    )
    assert contract.excluded_columns == {"y", "id", "t", "v", "why", "notes", "email"}


def test_contract_round_trips_through_dict():
    contract = LeadContract(target="y", positive=("1",), kinds={"a": "numeric"}, pii=("e",))
    assert LeadContract.from_dict(contract.to_dict()) == contract


def test_kind_flags():
    assert parse_kind_overrides(["visits=numeric", " zip = categorical"]) == {
        "visits": "numeric",
        "zip": "categorical",
    }
    with pytest.raises(ContractError, match="COLUMN=KIND"):
        parse_kind_overrides(["visits"])


def test_order_says_how_leads_without_a_created_at_column_are_ordered(tmp_path):
    contract = load_contract(write(tmp_path, 'target = "t"\npositive = ["1"]\norder = "file"\n'))
    assert contract.order == "file"
    with pytest.raises(ContractError, match=r"order is 'date'; use \"file\""):
        load_contract(write(tmp_path, 'target = "t"\npositive = ["1"]\norder = "date"\n'))
    with pytest.raises(ContractError, match=r"order = \"id\" needs the id column"):
        load_contract(write(tmp_path, 'target = "t"\npositive = ["1"]\norder = "id"\n'))


def test_a_model_saved_with_a_column_in_two_roles_still_loads():
    """The one-role-per-column rule is a training rule: contracts frozen into models before it
    must still load, so they can serve and be rolled back."""
    contract = LeadContract(target="y", positive=("a",), id="y")
    assert LeadContract.from_dict(contract.to_dict()) == contract
