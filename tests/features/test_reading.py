import pandas as pd
import pytest

from features.errors import DataError
from features.reading import read_table, write_table


def test_missing_file_is_named(tmp_path):
    with pytest.raises(DataError, match="nope.csv does not exist"):
        read_table(tmp_path / "nope.csv")


@pytest.mark.parametrize("content, message", [("", "is empty"), ("a,b\n", "no rows")])
def test_empty_file(tmp_path, content, message):
    path = tmp_path / "leads.csv"
    path.write_text(content)
    with pytest.raises(DataError, match=message):
        read_table(path)


def test_unsupported_suffix(tmp_path):
    path = tmp_path / "leads.xlsx"
    path.write_text("x")
    with pytest.raises(DataError, match="suffix '.xlsx'"):
        read_table(path)


def test_sentinels_become_missing_in_csv_and_parquet(tmp_path):
    frame = pd.DataFrame({"city": ["Select", "Paris", " Select"], "visits": [-1, 3, 4]})
    csv, parquet = tmp_path / "a.csv", tmp_path / "a.parquet"
    frame.to_csv(csv, index=False)
    frame.to_parquet(parquet)
    for path in (csv, parquet):
        read = read_table(path, ("Select", "-1"))
        assert read["city"].isna().tolist() == [True, False, True]
        assert read["visits"].isna().tolist() == [True, False, False]


def test_write_is_atomic_and_leaves_no_partial_file(tmp_path):
    out = tmp_path / "out" / "scored.parquet"
    write_table(pd.DataFrame({"a": [1]}), out)
    assert pd.read_parquet(out)["a"].tolist() == [1]
    assert [p.name for p in out.parent.iterdir()] == ["scored.parquet"]


def test_none_is_an_answer_and_empty_cells_are_missing(tmp_path):
    path = tmp_path / "leads.csv"
    path.write_text("budget,visits\nNone,1\n,2\nApproved,\nNULL,3\n")
    read = read_table(path)
    assert read["budget"].tolist()[0] == "None"
    assert read["budget"].isna().tolist() == [False, True, False, True]
    assert read["visits"].isna().tolist() == [False, False, True, False]
