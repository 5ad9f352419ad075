"""Joining related tables: every lead stays one row, and what did not join cleanly is reported."""

import pandas as pd
import pytest

from features.contract import LeadContract, load_contract
from features.errors import ContractError, DataError
from features.joins import Lookup, read_export


def write_export(tmp_path, products: pd.DataFrame) -> LeadContract:
    leads = pd.DataFrame(
        {
            "lead": ["L1", "L2", "L3", "L4", "L5"],
            "product": ["GTXPro", "MG Special", "GTX Basic", None, "Unknown Box"],
            "outcome": ["won", "lost", "won", "lost", "won"],
        }
    )
    leads.to_csv(tmp_path / "leads.csv", index=False)
    products.to_csv(tmp_path / "products.csv", index=False)
    (tmp_path / "contract.toml").write_text(
        'target = "outcome"\npositive = ["won"]\n'
        '[tables.products]\npath = "products.csv"\non = "product"\n'
        'map = { GTXPro = "GTX Pro" }\n'
    )
    return load_contract(tmp_path / "contract.toml")


PRODUCTS = pd.DataFrame(
    {
        "product": ["GTX Pro", "MG Special", "GTX Basic"],
        "series": ["GTX", "MG", "GTX"],
        "outcome": ["a", "b", "c"],
    }
)


def test_join_maps_keys_and_reports_unmatched_and_missing(tmp_path):
    contract = write_export(tmp_path, PRODUCTS)
    frame, [report] = read_export(tmp_path / "leads.csv", contract)
    assert len(frame) == 5
    assert frame["series"].tolist()[:3] == ["GTX", "MG", "GTX"]
    assert frame["product"].iloc[0] == "GTXPro"  # the lead's own value is untouched
    assert frame["products_outcome"].iloc[0] == "a"  # a clashing name is prefixed
    assert (report.matched, report.unmatched, report.missing_key, report.remapped) == (3, 1, 1, 1)
    assert report.unmatched_examples == ["Unknown Box"]
    assert any("'Unknown Box'" in p for p in report.problems)


def test_join_that_would_multiply_rows_is_reported(tmp_path):
    doubled = pd.concat([PRODUCTS, PRODUCTS.iloc[[1, 1]].assign(series="MG2")])
    contract = write_export(tmp_path, doubled)
    frame, [report] = read_export(tmp_path / "leads.csv", contract)
    assert len(frame) == 5 and frame["lead"].is_unique
    assert frame.loc[frame["lead"] == "L2", "series"].item() == "MG"  # the first row is used
    assert report.duplicate_keys == 1 and report.multiplied_rows == 2
    assert any("2 extra lead rows" in p for p in report.problems)
    assert report.to_dict()["problems"] == report.problems


def test_contract_tables_round_trip_and_resolve_paths(tmp_path):
    contract = write_export(tmp_path, PRODUCTS)
    [table] = contract.tables
    assert table.path == str(tmp_path / "products.csv")
    assert (table.on, table.key, table.mapping) == ("product", "product", {"GTXPro": "GTX Pro"})
    assert LeadContract.from_dict(contract.to_dict()) == contract


def test_contract_without_tables_keeps_its_old_form():
    contract = LeadContract(target="y", positive=("1",))
    assert "tables" not in contract.to_dict()


def test_table_without_on_is_refused(tmp_path):
    (tmp_path / "c.toml").write_text('target = "y"\n[tables.accounts]\npath = "a.csv"\n')
    with pytest.raises(ContractError, match="table 'accounts' needs at least path and on"):
        load_contract(tmp_path / "c.toml")


def test_join_column_absent_is_named(tmp_path):
    contract = write_export(tmp_path, PRODUCTS.rename(columns={"product": "name"}))
    with pytest.raises(DataError, match="key column 'product' of table 'products'"):
        read_export(tmp_path / "leads.csv", contract)


def test_a_join_done_chunk_by_chunk_reports_what_the_whole_join_does(tmp_path):
    doubled = pd.concat([PRODUCTS, PRODUCTS.iloc[[1]]])
    contract = write_export(tmp_path, doubled)
    leads = pd.read_csv(tmp_path / "leads.csv")
    lookup = Lookup.read(contract.tables[0], contract.na_values)
    whole, report = lookup.join(leads, "leads.csv")
    first, second = lookup.join(leads[:2], "leads.csv"), lookup.join(leads[2:], "leads.csv")
    pd.testing.assert_frame_equal(pd.concat([first[0], second[0]]), whole)
    assert first[1] + second[1] == report
