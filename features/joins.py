"""Joining the related tables a CRM export comes with (accounts, products, teams) onto the leads.

Every lead stays exactly one row: a join is a lookup. What a join could silently get wrong is
counted and reported instead: leads whose key finds no row (their joined fields are missing),
leads with no key at all, and keys that occur on several rows of the related table (a plain
join would multiply those leads; the first row of each key is used).
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd

from features.contract import LeadContract, RelatedTable
from features.errors import DataError
from features.reading import read_table
from features.values import canonical_text_series

log = logging.getLogger(__name__)

EXAMPLES = 5


@dataclass(frozen=True)
class JoinReport:
    """What one join did, in numbers."""

    table: str
    on: str
    key: str
    leads: int
    table_rows: int
    matched: int
    unmatched: int
    missing_key: int
    remapped: int
    duplicate_keys: int
    multiplied_rows: int
    columns_added: list[str] = field(default_factory=list)
    unmatched_examples: list[str] = field(default_factory=list)

    @property
    def problems(self) -> list[str]:
        """Plain sentences for everything that did not join cleanly."""
        notes = []
        if self.unmatched:
            examples = ", ".join(repr(e) for e in self.unmatched_examples)
            notes.append(
                f"{self.unmatched:,} of {self.leads:,} leads have a '{self.on}' that is not in "
                f"{self.table} (e.g. {examples}); their {self.table} fields are missing; add the "
                f"spelling to [tables.{self.table}.map] if it is the same thing"
            )
        if self.missing_key:
            notes.append(
                f"{self.missing_key:,} of {self.leads:,} leads have no '{self.on}'; their "
                f"{self.table} fields are missing"
            )
        if self.duplicate_keys:
            notes.append(
                f"{self.duplicate_keys:,} values of '{self.key}' occur on several rows of "
                f"{self.table}: a plain join would have made {self.multiplied_rows:,} extra lead "
                "rows; the first row of each was used"
            )
        return notes

    def to_dict(self) -> dict:
        return {**asdict(self), "problems": self.problems}


def read_export(path: Path, contract: LeadContract) -> tuple[pd.DataFrame, list[JoinReport]]:
    """The leads file with every related table of the contract joined on, and what each join
    did. Sentinels (`na_values`) are masked in every table."""
    frame = read_table(path, contract.na_values)
    reports = []
    for table in contract.tables:
        frame, report = join_table(frame, table, contract.na_values, source=str(path))
        reports.append(report)
        for problem in report.problems:
            log.warning("join of %s: %s", table.name, problem)
    return frame, reports


def join_table(
    leads: pd.DataFrame, table: RelatedTable, na_values: tuple[str, ...], source: str
) -> tuple[pd.DataFrame, JoinReport]:
    """Look up each lead's row of `table`; the leads keep their order, index and count."""
    related = read_table(Path(table.path), na_values)
    _check_join_columns(leads, related, table, source)
    lead_keys = canonical_text_series(leads[table.on])
    remapped = int(lead_keys.isin(list(table.mapping)).sum())
    lead_keys = lead_keys.replace(table.mapping)
    table_keys = canonical_text_series(related[table.key])
    duplicated = table_keys.duplicated(keep="first") & table_keys.notna()
    rows_per_key = table_keys[table_keys.notna()].value_counts()
    extra_per_key = (rows_per_key - 1)[rows_per_key > 1]
    lookup = related.loc[~duplicated & table_keys.notna()].drop(columns=[table.key])
    lookup.index = table_keys[lookup.index].to_numpy()
    renamed = {c: c if c not in leads.columns else f"{table.name}_{c}" for c in lookup.columns}
    lookup = lookup.rename(columns=renamed)
    added = lookup.reindex(lead_keys.to_numpy())
    added.index = leads.index
    has_key = lead_keys.notna()
    found = has_key & lead_keys.isin(lookup.index)
    unmatched = has_key & ~found
    report = JoinReport(
        table=table.name,
        on=table.on,
        key=table.key,
        leads=len(leads),
        table_rows=len(related),
        matched=int(found.sum()),
        unmatched=int(unmatched.sum()),
        missing_key=int((~has_key).sum()),
        remapped=remapped,
        duplicate_keys=len(extra_per_key),
        multiplied_rows=int(lead_keys.map(extra_per_key).fillna(0).sum()),
        columns_added=list(lookup.columns),
        unmatched_examples=[str(v) for v in lead_keys[unmatched].unique()[:EXAMPLES]],
    )
    return pd.concat([leads, added], axis=1), report


def _check_join_columns(
    leads: pd.DataFrame, related: pd.DataFrame, table: RelatedTable, source: str
) -> None:
    if table.on not in leads.columns:
        raise DataError(
            f"{source}: table '{table.name}' joins on '{table.on}', which is not a column of the "
            f"leads; the columns are: {', '.join(map(str, leads.columns))}"
        )
    if table.key not in related.columns:
        raise DataError(
            f"{table.path}: key column '{table.key}' of table '{table.name}' is not in the file; "
            f'the columns are: {", ".join(map(str, related.columns))}; set key = "COLUMN"'
        )
