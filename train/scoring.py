"""Batch scoring of a file with a registered model, chunk by chunk: memory stays bounded by the
chunk size whatever the file's size, and the output appears under its name only when complete."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pyarrow as pa

from features.chunks import DEFAULT_CHUNK_ROWS, read_chunks, write_chunks
from train.model import LeadModel
from train.registry import load_lead_model

SCORE_COLUMNS = ("probability", "score", "tier")

# Called after each chunk with the leads scored so far and the share of the file read.
ScoringProgress = Callable[[int, float], None]


def score_file(
    data: Path,
    out: Path,
    model_uri: str,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    progress: ScoringProgress = lambda rows, share: None,
) -> int:
    """Write every input column plus probability, score and tier; return the number of leads.
    Columns named like the scores are replaced, so a scored file can be scored again."""
    model = load_lead_model(model_uri).model
    return write_chunks(_scored_chunks(model, data, chunk_rows, progress), out)


def _scored_chunks(
    model: LeadModel, data: Path, chunk_rows: int, progress: ScoringProgress
) -> Iterator[pa.Table]:
    rows = 0
    for chunk in read_chunks(data, chunk_rows):
        scored = score_table(model, chunk.table)
        rows += scored.num_rows
        yield scored
        progress(rows, chunk.share_read)


def score_table(model: LeadModel, table: pa.Table) -> pa.Table:
    """The table with probability, score and tier appended (the model reads only its fields)."""
    fields = [name for name in model.encoder.feature_names if name in table.column_names]
    scores = model.predict_frame(table.select(fields).to_pandas())
    table = table.drop_columns([name for name in SCORE_COLUMNS if name in table.column_names])
    for name in SCORE_COLUMNS:
        table = table.append_column(name, pa.array(scores[name].to_numpy()))
    return table
