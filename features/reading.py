"""Reading exports (CSV or Parquet) into DataFrames, with missing-value sentinels applied.

One CSV reader for every way leads arrive: a training export, a file to score (chunk by chunk,
see `features.chunks`) and the CSV body of a scoring request all go through `csv_options` and
`read_csv_error`, so they read the same cells the same way and refuse the same files with the
same message.
"""

from __future__ import annotations

import hashlib
import io
import re
import shutil
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypedDict

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from features.csv_dialect import SAMPLE_BYTES, CsvDialect, not_utf8, sniff_csv
from features.errors import DataError
from features.values import parses_as_number

SUPPORTED_SUFFIXES = (".csv", ".parquet", ".pq")


class CsvMissing(TypedDict):
    """The `read_csv` options that say which cells are missing."""

    keep_default_na: bool
    na_values: list[str]


# pandas' own missing-value spellings, except "None": in CRM exports it is an answer ("budget:
# None"), not a gap. Other sentinels come from the contract's `na_values`.
CSV_MISSING: CsvMissing = {
    "keep_default_na": False,
    "na_values": [
        "",
        "#N/A",
        "#N/A N/A",
        "#NA",
        "-1.#IND",
        "-1.#QNAN",
        "-NaN",
        "-nan",
        "1.#IND",
        "1.#QNAN",
        "<NA>",
        "N/A",
        "NA",
        "NULL",
        "NaN",
        "n/a",
        "nan",
        "null",
    ],
}


def read_table(
    path: Path, na_values: tuple[str, ...] = (), text_columns: Collection[str] = ()
) -> pd.DataFrame:
    """Read one export; sentinel values (e.g. `Select`, `-1`) become missing. `text_columns`
    (the lead id) are read as text, so that `00123` or an id beyond 2**63 stays as written."""
    path = Path(path)
    check_input_file(path)
    source = str(path)
    try:
        if path.suffix.lower() == ".csv":
            with open(path, "rb") as handle:
                dialect = sniff_csv(handle.read(SAMPLE_BYTES), source)
            text = {name: str for name in text_columns if name in dialect.columns}
            frame = pd.read_csv(path, low_memory=False, dtype=text, **csv_options(dialect))
            frame = check_csv_frame(frame, source)
        else:
            frame = _read_parquet(path, source)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise read_csv_error(exc, source) from exc
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise DataError(f"{path} cannot be read: {_first_line(exc)}") from exc
    if frame.empty:
        raise DataError(f"{path} has a header but no rows: export at least one lead")
    frame.columns = [str(c).strip() for c in frame.columns]
    return mask_sentinels(frame, na_values)


def read_csv_body(body: bytes, source: str) -> pd.DataFrame:
    """CSV sent in a request, every cell as text (as typed, like a JSON string): the same
    dialects, missing values and refusals as an export."""
    dialect = sniff_csv(body[:SAMPLE_BYTES], source)
    try:
        frame = pd.read_csv(io.BytesIO(body), dtype="string", **csv_options(dialect))
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise read_csv_error(exc, source) from exc
    return check_csv_frame(frame, source)


def csv_options(dialect: CsvDialect) -> dict[str, Any]:
    """The `pandas.read_csv` options for a CSV of this dialect."""
    return {"encoding": dialect.encoding, "sep": dialect.delimiter} | dict(CSV_MISSING)


def check_csv_frame(frame: pd.DataFrame, source: str) -> pd.DataFrame:
    """`frame` as read, unless its lines hold one value more than the header names: pandas then
    silently takes the first value of each line as the row's name and shifts the rest."""
    if not isinstance(frame.index, pd.RangeIndex):
        raise DataError(
            f"{source}: line 2 has {len(frame.columns) + 1} values but the header names "
            f"{len(frame.columns)} fields; name every column in the header"
        )
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


_UNCLOSED_QUOTE = re.compile(r"EOF inside string starting at row (\d+)")
_FIELD_COUNT = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")


def read_csv_error(exc: Exception, source: str) -> DataError:
    """What pandas' CSV parser ran into, said as what is wrong in the file and how to fix it."""
    if isinstance(exc, UnicodeDecodeError):
        return not_utf8(source, exc)
    if isinstance(exc, pd.errors.EmptyDataError):
        return DataError(
            f"{source} is empty: give a first line naming the fields (a header row), then one "
            "lead per line"
        )
    text = str(exc)
    if match := _UNCLOSED_QUOTE.search(text):
        line = int(match.group(1)) + 1
        return DataError(
            f'{source}: the quote (") opened on line {line} is never closed, so every line after '
            'it would be read as one value; close it, or double a quote inside a value ("")'
        )
    if match := _FIELD_COUNT.search(text):
        header, row, seen = match.groups()
        return DataError(
            f"{source}: line {row} has {seen} values but the header names {header} fields; "
            "quote values that contain the delimiter"
        )
    return DataError(f"{source} cannot be read: {_first_line(exc)}")


def check_parquet_schema(schema: pa.Schema, source: str) -> None:
    """Refuse repeated column names and nested columns (structs, lists, maps), which no lead
    field can hold: export them flattened."""
    refuse_repeated_names([name.strip() for name in schema.names], source)
    nested = [field.name for field in schema if pa.types.is_nested(field.type)]
    if nested:
        raise DataError(
            f"{source}: column(s) {', '.join(nested)} hold nested values (structs, lists or "
            "maps); export each as plain columns of text or numbers"
        )


def _read_parquet(path: Path, source: str) -> pd.DataFrame:
    """A Parquet export, its binary columns read as text by Arrow as it reads the file (see
    `binary_columns`); bytes that are not UTF-8 are refused naming their column."""
    schema = pq.read_schema(path)
    check_parquet_schema(schema, source)
    binary = binary_columns(schema)
    if not binary:
        return pd.read_parquet(path)
    as_text = pa.schema(
        [field.with_type(pa.string()) if field.name in binary else field for field in schema]
    )
    try:
        return pd.read_parquet(path, schema=as_text)
    except pa.ArrowInvalid:
        binary_as_text(pq.read_table(path, columns=binary), source)  # names the column
        raise


def binary_columns(schema: pa.Schema) -> list[str]:
    """Columns a Parquet writer stored as bytes rather than text: read as text (UTF-8), or each
    value would be a category no lead was trained on (b'Retail' is not 'Retail')."""
    return [
        field.name
        for field in schema
        if pa.types.is_binary(field.type) or pa.types.is_large_binary(field.type)
    ]


def binary_as_text(table: pa.Table, source: str) -> pa.Table:
    """`table` with its binary columns as text (see `binary_columns`)."""
    for name in binary_columns(table.schema):
        index = table.schema.get_field_index(name)
        try:
            text = table.column(index).cast(pa.string())
        except pa.ArrowInvalid as exc:
            raise DataError(
                f"{source}: column '{name.strip()}' holds bytes that are not UTF-8 text; export "
                "it as text (UTF-8)"
            ) from exc
        table = table.set_column(index, pa.field(name, pa.string()), text)
    return table


def refuse_repeated_names(names: list[str], source: str) -> None:
    """Refuse column names that repeat once trimmed: no field can be read from two columns."""
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise DataError(
            f"{source}: the column name(s) {', '.join(repeated)} are repeated; name every "
            "column once"
        )


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def check_input_file(path: Path) -> None:
    if not path.exists():
        raise DataError(f"{path} does not exist: check the path of the export")
    if path.is_dir():
        raise DataError(f"{path} is a folder: give the CSV or Parquet file inside it")
    if path.suffix.lower() not in SUPPORTED_SUFFIXES:
        raise DataError(
            f"{path} has suffix '{path.suffix}': export as one of {', '.join(SUPPORTED_SUFFIXES)}"
        )
    if path.stat().st_size == 0:
        raise DataError(f"{path} is empty (0 bytes): export the leads with a header row")


def mask_sentinels(frame: pd.DataFrame, na_values: tuple[str, ...]) -> pd.DataFrame:
    """Replace sentinel values with missing (in place): text compared without surrounding
    spaces, numbers by value, so `-1` and `-1.0` are both caught."""
    numeric_sentinels = [float(v) for v in na_values if parses_as_number(v)]
    for column in frame.columns if na_values else ():
        series = frame[column]
        if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
            if numeric_sentinels:
                frame[column] = series.mask(series.isin(numeric_sentinels))
        elif pd.api.types.is_object_dtype(series) or pd.api.types.is_string_dtype(series):
            frame[column] = series.mask(series.astype("str").str.strip().isin(na_values))
    return frame


def write_table(frame: pd.DataFrame, path: Path) -> None:
    """Write CSV or Parquet by the file's suffix, atomically (see `atomic_output`)."""
    with atomic_output(path) as partial:
        if Path(path).suffix.lower() == ".csv":
            frame.to_csv(partial, index=False)
        else:
            frame.to_parquet(partial, index=False)


@contextmanager
def atomic_output(path: Path) -> Iterator[Path]:
    """A temporary name beside `path`, renamed to `path` only when the block completes, so an
    interrupted write leaves nothing under the final name (and an older output there untouched).
    The block may write a file or a folder (Spark writes Parquet as a folder of parts)."""
    path = Path(path)
    _check_output_suffix(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    _remove(partial)
    try:
        yield partial
        if path.is_dir() or partial.is_dir():  # a rename replaces only a file with a file
            _remove(path)
        partial.replace(path)
    finally:
        _remove(partial)


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def _check_output_suffix(path: Path) -> None:
    if Path(path).suffix.lower() not in SUPPORTED_SUFFIXES:
        raise DataError(
            f"output {path} has suffix '{Path(path).suffix}': use one of "
            f"{', '.join(SUPPORTED_SUFFIXES)}"
        )


def file_sha256(path: Path) -> str:
    """The fingerprint of an export, so a model records exactly which file it learnt from."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
