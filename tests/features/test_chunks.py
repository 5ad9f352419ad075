"""Reading and writing exports chunk by chunk: the chunk size never changes what is written."""

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from features.chunks import read_chunks, write_chunks
from features.demo import generate_leads
from features.errors import DataError
from features.reading import read_table


def rewrite(source, out, chunk_rows: int) -> list[int]:
    """Copy `source` to `out` through the chunk reader and writer; the rows of each chunk."""
    sizes = []

    def tables():
        for chunk in read_chunks(source, chunk_rows):
            sizes.append(chunk.table.num_rows)
            yield chunk.table

    write_chunks(tables(), out)
    return sizes


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_the_chunk_size_does_not_change_the_output(tmp_path, suffix):
    leads = generate_leads(1000, 5)
    leads.loc[700:, "web_visits"] = None  # whole numbers at first, gaps only in later chunks
    source = tmp_path / "leads.csv"
    leads.to_csv(source, index=False)
    sizes = rewrite(source, tmp_path / f"chunked{suffix}", chunk_rows=300)
    assert sizes == [300, 300, 300, 100]
    rewrite(source, tmp_path / f"whole{suffix}", chunk_rows=10_000)
    chunked = (tmp_path / f"chunked{suffix}").read_bytes()
    if suffix == ".csv":
        assert chunked == (tmp_path / f"whole{suffix}").read_bytes()
    else:
        pd.testing.assert_frame_equal(
            pd.read_parquet(tmp_path / f"chunked{suffix}"),
            pd.read_parquet(tmp_path / f"whole{suffix}"),
        )


def test_parquet_is_read_in_chunks_smaller_than_its_row_groups(tmp_path):
    source = tmp_path / "leads.parquet"
    generate_leads(2500, 6).to_parquet(source, index=False, row_group_size=2500)
    assert pq.ParquetFile(source).metadata.num_row_groups == 1
    chunks = list(read_chunks(source, chunk_rows=1000))
    assert [c.table.num_rows for c in chunks] == [1000, 1000, 500]
    assert [round(c.share_read, 2) for c in chunks] == [0.4, 0.8, 1.0]


def test_a_column_that_turns_to_text_later_is_named(tmp_path):
    source = tmp_path / "leads.csv"
    pd.DataFrame({"visits": ["1", "2", "3", "many"]}).to_csv(source, index=False)
    with pytest.raises(
        DataError, match=r"column 'visits' holds text at row 4 \('many'\) but numbers before"
    ):
        rewrite(source, tmp_path / "out.csv", chunk_rows=2)
    assert not (tmp_path / "out.csv").exists()


def test_a_column_empty_in_the_first_chunk_may_hold_anything_later(tmp_path):
    """An empty first chunk fixed the column as numbers, and the text after it was refused as
    'numbers before' (a loss reason, empty for open leads, filled far down the file)."""
    source = tmp_path / "leads.csv"
    frame = pd.DataFrame(
        {"lead_id": ["a", "b", "c", "d"], "loss_reason": [None, None, "Price", None]}
    )
    frame["visits"] = [None, None, 3, 4]
    frame.to_csv(source, index=False)
    rewrite(source, tmp_path / "out.csv", chunk_rows=2)
    written = pd.read_csv(tmp_path / "out.csv")
    assert written["loss_reason"].tolist()[2] == "Price"
    assert written["visits"].tolist()[2:] == [3, 4]


def test_whole_numbers_beyond_64_bits_are_read_as_numbers(tmp_path):
    """Arrow holds no integer beyond 64 bits: pandas' Python ints made reading fail (exit 1)."""
    source = tmp_path / "leads.csv"
    source.write_text("lead_id,visits\nX1,99999999999999999999999\nX2,-9223372036854775809\n")
    (chunk,) = read_chunks(source)
    assert chunk.table.column("visits").to_pylist() == [1e23, -9223372036854775809.0]


def test_header_without_rows_is_refused(tmp_path):
    source = tmp_path / "leads.csv"
    source.write_text("lead_id,industry\n")
    with pytest.raises(DataError, match="has a header but no rows"):
        list(read_chunks(source))


def test_an_interrupted_write_leaves_the_older_output_untouched(tmp_path):
    source, out = tmp_path / "leads.parquet", tmp_path / "scored.parquet"
    generate_leads(300, 7).to_parquet(source, index=False)
    out.write_text("yesterday's scores")

    def interrupted():
        for chunk in read_chunks(source, chunk_rows=100):
            yield chunk.table
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_chunks(interrupted(), out)
    assert out.read_text() == "yesterday's scores"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["leads.parquet", "scored.parquet"]


def test_text_stored_as_bytes_in_parquet_is_read_as_text(tmp_path):
    """A writer that stores text as Parquet `binary` made every value an unseen category
    (b'Retail' is not 'Retail'), without a word; bytes that are not UTF-8 are refused."""
    frame = pd.DataFrame(
        {"lead_id": ["a", "b", None], "industry": [b"Retail", None, b"Caf\xc3\xa9"]}
    )
    source = tmp_path / "leads.parquet"
    frame.to_parquet(source, index=False)
    assert pq.read_schema(source).field("industry").type == pa.binary()
    expected = ["Retail", None, "Café"]
    (chunk,) = read_chunks(source)
    assert chunk.table.column("industry").to_pylist() == expected
    read = read_table(source)
    assert [None if pd.isna(v) else v for v in read["industry"]] == expected
    frame.loc[0, "industry"] = b"\xff\xfe"
    frame.to_parquet(source, index=False)
    for reading in (lambda: list(read_chunks(source)), lambda: read_table(source)):
        with pytest.raises(DataError, match="column 'industry' holds bytes that are not UTF-8"):
            reading()
