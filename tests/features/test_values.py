import numpy as np
import pandas as pd
import pytest

from features.values import canonical_text, canonical_text_series, parse_datetimes

COLUMNS = {
    "text with spaces and blanks": pd.Series(
        [" a", "a ", None, "", "  ", "b", np.nan], dtype=object
    ),
    "string dtype": pd.Series([" a", "a ", None, "", "b"], dtype="str"),
    "integers": pd.Series([1, 2, -1, 3, 2]),
    "floats": pd.Series([1.0, 2.5, np.nan, -0.0, 1e20, 0.1]),
    "booleans": pd.Series([True, False, True]),
    "booleans with gaps": pd.Series([True, None, False], dtype=object),
    "booleans mixed with numbers": pd.Series([True, 1, 1.0, "1", None, " x ", False, 0]),
    "integers and floats": pd.Series([1, 1.0, np.nan, 2], dtype=object),
    "nullable integers": pd.Series([1, None, 3], dtype="Int64"),
    "all missing": pd.Series([None, None], dtype=object),
}


@pytest.mark.parametrize("column", COLUMNS.values(), ids=COLUMNS.keys())
def test_column_helper_spells_every_value_as_the_single_value_helper(column):
    expected = [canonical_text(v) if not pd.isna(v) else None for v in column]
    assert canonical_text_series(column).tolist() == expected


def test_dates_are_read_one_by_one_in_any_common_format():
    text = pd.Series(["2024-03-01 10:00", "2024-03-01T12:00:00+02:00", "03/01/2024", "junk", None])
    parsed = parse_datetimes(text)
    assert parsed[0] == parsed[1] == pd.Timestamp("2024-03-01 10:00", tz="UTC")
    assert parsed[2] == pd.Timestamp("2024-03-01", tz="UTC")
    assert parsed[3:].isna().all()


def test_numbers_are_not_dates():
    """A number among the created-at values (a JSON lead's, or a column of them) stopped the
    parse with a TypeError, and an epoch number was read as a moment in 1970."""
    mixed = pd.Series(["2024-03-01 10:00", 12345, 1.5e9, True, None], dtype=object)
    parsed = parse_datetimes(mixed)
    assert parsed[0] == pd.Timestamp("2024-03-01 10:00", tz="UTC")
    assert parsed[1:].isna().all()
    assert parse_datetimes(pd.Series([1_700_000_000, 1_700_000_100])).isna().all()


def test_a_column_already_read_as_times_is_kept_as_it_is():
    times = pd.Series(pd.to_datetime(["2024-03-01 10:00", None]))
    parsed = parse_datetimes(times)
    assert parsed[0] == pd.Timestamp("2024-03-01 10:00", tz="UTC") and pd.isna(parsed[1])


def test_numeric_dates_are_read_in_one_order_for_the_whole_column():
    """Each value was read on its own: '05/01/2024' as 1 May but '13/01/2024' as 13 January, so
    a day-first export's leads were put out of order, silently."""
    day_first = parse_datetimes(pd.Series(["05/01/2024 10:00", "13/01/2024 09:00", None]))
    assert day_first[:2].tolist() == [
        pd.Timestamp("2024-01-05 10:00", tz="UTC"),
        pd.Timestamp("2024-01-13 09:00", tz="UTC"),
    ]
    month_first = parse_datetimes(pd.Series(["05/01/2024", "12/25/2024"]))
    assert month_first.tolist() == [
        pd.Timestamp("2024-05-01", tz="UTC"),
        pd.Timestamp("2024-12-25", tz="UTC"),
    ]


def test_dates_written_in_both_orders_are_named_in_a_warning(caplog):
    """A column holding 12/31/2024 and 31/12/2024 was read value by value without a word."""
    parsed = parse_datetimes(pd.Series(["12/31/2024", "31/12/2024", "05/01/2024"]))
    assert parsed[:2].tolist() == [pd.Timestamp("2024-12-31", tz="UTC")] * 2
    assert "both day first and month first ('31/12/2024' and '12/31/2024')" in caplog.text
    parse_datetimes(pd.Series(["05/01/2024", "13/01/2024"]))
    assert caplog.text.count("both day first") == 1
