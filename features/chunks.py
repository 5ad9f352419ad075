"""Reading and writing exports chunk by chunk, so a file of any size is scored in bounded memory.

Chunks are Arrow tables: Parquet is read batch by batch as it is stored; CSV is parsed by pandas
(the reader training uses, so values are typed as in training) and every chunk is held to the
column types of the first one, so the output has one schema whatever the chunk size.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from features.csv_dialect import SAMPLE_BYTES, sniff_csv
from features.errors import DataError
from features.reading import (
    atomic_output,
    binary_as_text,
    check_csv_frame,
    check_input_file,
    check_parquet_schema,
    csv_options,
    read_csv_error,
)

DEFAULT_CHUNK_ROWS = 100_000
MAX_CHUNK_ROWS = 100_000_000  # beyond what any one process could hold
_CSV_ERRORS = (pd.errors.ParserError, UnicodeDecodeError)
_READ_ERRORS = (pa.ArrowException, OSError, ValueError)


@dataclass(frozen=True)
class Chunk:
    """Some consecutive rows of an export, and how much of the file has been read with them."""

    table: pa.Table
    share_read: float


def read_chunks(
    path: Path, chunk_rows: int = DEFAULT_CHUNK_ROWS, text_columns: Collection[str] = ()
) -> Iterator[Chunk]:
    """The export's rows, at most `chunk_rows` at a time, with column names stripped;
    `text_columns` (the lead id) read as text from a CSV."""
    path = Path(path)
    check_input_file(path)
    is_csv = path.suffix.lower() == ".csv"
    chunks = (
        _csv_chunks(path, chunk_rows, text_columns) if is_csv else _parquet_chunks(path, chunk_rows)
    )
    rows = 0
    try:
        for chunk in chunks:
            rows += chunk.table.num_rows
            yield chunk
    except (pd.errors.EmptyDataError, *_CSV_ERRORS) as exc:
        raise read_csv_error(exc, str(path)) from exc
    except _READ_ERRORS as exc:
        raise DataError(f"{path} cannot be read after row {rows}: {_first_line(exc)}") from exc
    if rows == 0:
        raise DataError(f"{path} has a header but no rows: export at least one lead")


def _parquet_chunks(path: Path, chunk_rows: int) -> Iterator[Chunk]:
    # Column chunks are streamed through a small buffer: with Arrow's default pre-buffering,
    # memory grows with every row group read, so with the file's size.
    file = pq.ParquetFile(path, pre_buffer=False, buffer_size=1 << 20)
    check_parquet_schema(file.schema_arrow, str(path))
    total, done = max(file.metadata.num_rows, 1), 0
    for batch in file.iter_batches(batch_size=chunk_rows):
        done += batch.num_rows
        table = binary_as_text(pa.Table.from_batches([batch]), str(path))
        yield Chunk(table.rename_columns([c.strip() for c in table.column_names]), done / total)


def _csv_chunks(path: Path, chunk_rows: int, text_columns: Collection[str]) -> Iterator[Chunk]:
    size, schema = path.stat().st_size, None
    with open(path, "rb") as handle:
        dialect = sniff_csv(handle.read(SAMPLE_BYTES), str(path))
        handle.seek(0)
        text = {name: str for name in text_columns if name in dialect.columns}
        with pd.read_csv(
            handle, chunksize=chunk_rows, dtype=text, **csv_options(dialect)
        ) as frames:
            for index, frame in enumerate(frames):
                table = _arrow_table(check_csv_frame(frame, str(path)))
                schema = schema or _first_schema(table)
                table = _held_to(table, schema, path, index * chunk_rows)
                yield Chunk(table, handle.tell() / size)


def _arrow_table(frame: pd.DataFrame) -> pa.Table:
    """A chunk as an Arrow table. A whole number beyond 64 bits (pandas keeps it as a Python
    int, which Arrow cannot hold) is read as a float, as training and the API read it."""
    try:
        table = pa.Table.from_pandas(frame, preserve_index=False)
    except (OverflowError, pa.ArrowInvalid):
        wide = [name for name in frame.columns if frame[name].dtype == object]
        frame = frame.assign(
            **{name: frame[name].map(lambda v: float(v) if type(v) is int else v) for name in wide}
        )
        table = pa.Table.from_pandas(frame, preserve_index=False)
    return table.replace_schema_metadata(None)


def _first_schema(table: pa.Table) -> pa.Schema:
    """The first chunk's column types, its empty columns as text: an empty column says nothing
    of what later chunks hold (a loss reason, empty for open leads), and text can hold anything."""
    return pa.schema(
        [
            field.with_type(pa.string()) if column.null_count == len(column) else field
            for field, column in zip(table.schema, table.columns, strict=True)
        ]
    )


def _held_to(table: pa.Table, schema: pa.Schema, path: Path, first_row: int) -> pa.Table:
    """A later CSV chunk in the first chunk's column types (pandas types each chunk anew)."""
    if table.schema == schema:
        return table
    columns = []
    for field in schema:
        column = table.column(field.name)
        try:
            columns.append(column.cast(field.type))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            row, value = _first_unreadable(column, field.type)
            where = f"from row {first_row + 1} on"
            if row is not None:
                where = f"at row {first_row + row + 1} ({value!r})"
            raise DataError(
                f"{path}: column '{field.name}' holds {_described(column.type)} {where} but "
                f"{_described(field.type)} before; score the file in larger chunks "
                "(--chunk-rows) or as Parquet"
            ) from exc
    return pa.Table.from_arrays(columns, schema=schema)


def _first_unreadable(
    column: pa.ChunkedArray, data_type: pa.DataType
) -> tuple[int | None, str | None]:
    """The first value (its place in the chunk, and its text) that is not a number where
    numbers were expected; (None, None) for other types."""
    if not (pa.types.is_integer(data_type) or pa.types.is_floating(data_type)):
        return None, None
    values = column.to_pandas()
    unreadable = values.notna() & pd.to_numeric(values, errors="coerce").isna()
    if not unreadable.any():
        return None, None
    row = int(np.argmax(unreadable.to_numpy()))
    return row, str(values.iloc[row])


def _described(data_type: pa.DataType) -> str:
    if pa.types.is_string(data_type) or pa.types.is_large_string(data_type):
        return "text"
    if pa.types.is_integer(data_type) or pa.types.is_floating(data_type):
        return "numbers"
    return f"{data_type} values"


def write_chunks(tables: Iterable[pa.Table], path: Path) -> int:
    """Write tables of one schema to CSV or Parquet (by suffix) atomically; return the rows."""
    rows = 0
    with atomic_output(path) as partial:
        writer = None
        try:
            for table in tables:
                writer = writer or _open_writer(partial, table.schema, Path(path).suffix)
                writer.write_table(table)
                rows += table.num_rows
        finally:
            if writer is not None:
                writer.close()
    return rows


def _open_writer(path: Path, schema: pa.Schema, suffix: str) -> pq.ParquetWriter | pa_csv.CSVWriter:
    if suffix.lower() == ".csv":
        return pa_csv.CSVWriter(path, schema)
    return pq.ParquetWriter(path, schema)


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
