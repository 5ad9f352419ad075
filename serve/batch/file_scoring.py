"""Batch scoring of a file with a registered model, chunk by chunk: memory stays bounded by the
chunk size whatever the file's size, and the output appears under its name only when complete.

A model trained on joined tables (`[tables.*]` in its contract) gets them joined onto every
chunk, read once, with their columns named as in training."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pyarrow as pa

from features.chunks import DEFAULT_CHUNK_ROWS, read_chunks, write_chunks
from features.contract import RelatedTable
from features.errors import DataError
from features.field_names import near_misses
from features.joins import JOINED_COLUMNS_KEY, JoinReport, Lookup
from serve.model.lead_model import LeadModel
from serve.model.loading import load_lead_model
from serve.model.scorer import SCORE_COLUMNS, score_leads

log = logging.getLogger(__name__)

# Called after each chunk with the leads scored so far and the share of the file read.
ScoringProgress = Callable[[int, float], None]


def score_file(
    data: Path,
    out: Path,
    model_uri: str,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    progress: ScoringProgress = lambda rows, share: None,
    tables: Sequence[RelatedTable] | None = None,
) -> int:
    """Write every input column plus probability, score, tier and, for a model that knows deal
    values, expected value; return the number of leads.
    Columns named like the scores are replaced, so a scored file can be scored again.
    `tables`: the related tables to join (default: those the model was trained with)."""
    model = load_lead_model(model_uri).model
    if model.metadata.get("usable_signal") is False:
        log.warning(
            "%s showed no usable signal when it was trained: its scores may rank leads no "
            "better than chance",
            model_uri,
        )
    tables = model.contract.tables if tables is None else tables
    lookups = [Lookup.read(table, model.contract.na_values) for table in tables]
    joins: dict[str, JoinReport] = {}
    rows = write_chunks(_scored_chunks(model, data, chunk_rows, progress, lookups, joins), out)
    for name, report in joins.items():
        for problem in report.problems:
            log.warning("join of %s: %s", name, problem)
    return rows


def _scored_chunks(
    model: LeadModel,
    data: Path,
    chunk_rows: int,
    progress: ScoringProgress,
    lookups: list[Lookup],
    joins: dict[str, JoinReport],
) -> Iterator[pa.Table]:
    rows = 0
    ids = [model.contract.id] if model.contract.id else []
    for chunk in read_chunks(data, chunk_rows, text_columns=ids):
        if rows == 0:
            check_fields(model, chunk.table.column_names, lookups, str(data))
        scored, reports = score_table(model, chunk.table, lookups, source=str(data))
        for report in reports:
            joins[report.table] = joins[report.table] + report if report.table in joins else report
        rows += scored.num_rows
        yield scored
        progress(rows, chunk.share_read)


def check_fields(
    model: LeadModel, columns: list[str], lookups: Sequence[Lookup], source: str
) -> None:
    """The model's fields the file lacks are scored as missing for every lead: a warning names
    them; a file with none of them (another export, or another model's) is refused."""
    learnt = model.metadata.get(JOINED_COLUMNS_KEY, {})
    joined = {
        name
        for lookup in lookups
        for name in lookup.column_names(columns, learnt.get(lookup.table.name)).values()
    }
    fields = model.encoder.feature_names
    absent = [name for name in fields if name not in columns and name not in joined]
    misspelt = _misspelt_hint(absent, columns)
    if len(absent) == len(fields):
        raise DataError(
            f"{source}: none of the {len(fields)} fields the model reads is a column of the "
            f"file ({', '.join(fields[:5])}{', ...' if len(fields) > 5 else ''}); check that it "
            "is an export of the leads this model was trained on, or choose the model with "
            f"--model{misspelt}"
        )
    if absent:
        log.warning(
            "%s: %d of the %d fields the model reads are not in the file and are scored as "
            "missing for every lead: %s%s",
            source,
            len(absent),
            len(fields),
            ", ".join(absent),
            misspelt,
        )


def _misspelt_hint(absent: list[str], columns: list[str]) -> str:
    """Names the file's columns that differ from an absent field only in case, separators or
    Unicode spelling: the export tool wrote them otherwise, and they are not read as written."""
    misses = near_misses(absent, columns)
    if not misses:
        return ""
    pairs = ", ".join(f"'{column}' is not '{field}'" for field, column in misses.items())
    return f" (names differ only in case, spaces or accents: {pairs}; rename the columns)"


def score_table(
    model: LeadModel, table: pa.Table, lookups: Sequence[Lookup], source: str
) -> tuple[pa.Table, list[JoinReport]]:
    """The table with the score columns appended, and what each join did. The model reads only
    its fields, the deal value (and the keys of the tables it joins); a value it cannot read is
    scored as missing, as in training, and counted in a warning."""
    needed = set(model.encoder.feature_names) | {lookup.table.on for lookup in lookups}
    needed |= {name for name in (model.contract.value,) if name}
    frame = table.select([name for name in table.column_names if name in needed]).to_pandas()
    names = model.metadata.get(JOINED_COLUMNS_KEY, {})
    reports = []
    for lookup in lookups:
        frame, report = lookup.join(frame, source, names.get(lookup.table.name))
        reports.append(report)
    scores = score_leads(model, frame, unreadable="missing").columns()
    table = table.drop_columns([name for name in SCORE_COLUMNS if name in table.column_names])
    for name, values in scores.items():
        table = table.append_column(name, pa.array(values))
    return table, reports
