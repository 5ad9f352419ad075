"""Reading exports (CSV or Parquet) into DataFrames, with missing-value sentinels applied."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypedDict

import pandas as pd

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


def read_table(path: Path, na_values: tuple[str, ...] = ()) -> pd.DataFrame:
    """Read one export; sentinel values (e.g. `Select`, `-1`) become missing."""
    path = Path(path)
    check_input_file(path)
    try:
        if path.suffix.lower() == ".csv":
            frame = pd.read_csv(path, low_memory=False, **CSV_MISSING)
        else:
            frame = pd.read_parquet(path)
    except pd.errors.EmptyDataError as exc:
        raise DataError(f"{path} is empty: export the leads with a header row") from exc
    except (pd.errors.ParserError, UnicodeDecodeError, OSError, ValueError) as exc:
        first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DataError(f"{path} cannot be read: {first_line}") from exc
    if frame.empty:
        raise DataError(f"{path} has a header but no rows: export at least one lead")
    frame.columns = [str(c).strip() for c in frame.columns]
    return mask_sentinels(frame, na_values)


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
