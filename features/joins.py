"""Joining the related tables a CRM export comes with (accounts, products, teams) onto the leads.

Every lead stays exactly one row: a join is a lookup. What a join could silently get wrong is
counted and reported instead: leads whose key finds no row (their joined fields are missing),
leads with no key at all, and keys that occur on several rows of the related table (a plain
join would multiply those leads; the first row of each key is used).
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import pandas as pd

from features.contract import LeadContract, RelatedTable
from features.errors import DataError
from features.reading import read_table
from features.values import canonical_text_series

log = logging.getLogger(__name__)

EXAMPLES = 5
# Where a model keeps, per joined table, the name each table column had in its training leads.
JOINED_COLUMNS_KEY = "joined_columns"


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
    columns: dict[str, str] = field(default_factory=dict)  # table column -> name in the leads
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

    def __add__(self, other: JoinReport) -> JoinReport:
        """The report of one join done in two parts (chunks of the same leads file)."""
        counted = ("leads", "matched", "unmatched", "missing_key", "remapped", "multiplied_rows")
        examples = list(dict.fromkeys(self.unmatched_examples + other.unmatched_examples))
        return replace(
            self,
            **{name: getattr(self, name) + getattr(other, name) for name in counted},
            unmatched_examples=examples[:EXAMPLES],
        )


def read_export(path: Path, contract: LeadContract) -> tuple[pd.DataFrame, list[JoinReport]]:
    """The leads file with every related table of the contract joined on, and what each join
    did. Sentinels (`na_values`) are masked in every table."""
    frame = read_table(path, contract.na_values, [contract.id] if contract.id else [])
    reports = []
    for table in contract.tables:
        frame, report = Lookup.read(table, contract.na_values).join(frame, source=str(path))
        reports.append(report)
        for problem in report.problems:
            log.warning("join of %s: %s", table.name, problem)
    return frame, reports


@dataclass
class Lookup:
    """A related table read once and indexed by its key, to join onto the leads at once or onto
    one chunk of them after another."""

    table: RelatedTable
    rows: pd.DataFrame  # one row per key (the first), indexed by the key's canonical text
    table_rows: int
    extra_rows_per_key: pd.Series  # keys on several rows: how many rows beyond the first

    @classmethod
    def read(cls, table: RelatedTable, na_values: tuple[str, ...]) -> Lookup:
        related = read_table(Path(table.path), na_values)
        if table.key not in related.columns:
            raise DataError(
                f"{table.path}: key column '{table.key}' of table '{table.name}' is not in the "
                f"file; the columns are: {', '.join(map(str, related.columns))}; "
                'set key = "COLUMN"'
            )
        keys = canonical_text_series(related[table.key])
        duplicated = keys.duplicated(keep="first") & keys.notna()
        rows_per_key = keys[keys.notna()].value_counts()
        rows = related.loc[~duplicated & keys.notna()].drop(columns=[table.key])
        rows.index = keys[rows.index].to_numpy()
        return cls(table, rows, len(related), (rows_per_key - 1)[rows_per_key > 1])

    def column_names(
        self, lead_columns: Collection[str], names: dict[str, str] | None = None
    ) -> dict[str, str]:
        """Table column -> the name it is added under: `names` (as a model learnt them) for
        the columns the table has, else every column, prefixed with the table's name where a
        lead column has the same name."""
        if names is None:
            table = self.table.name
            return {c: f"{table}_{c}" if c in lead_columns else c for c in self.rows.columns}
        return {c: name for c, name in names.items() if c in self.rows.columns}

    def join(
        self, leads: pd.DataFrame, source: str, names: dict[str, str] | None = None
    ) -> tuple[pd.DataFrame, JoinReport]:
        """Look up each lead's row; the leads keep their order, index and count. With `names`
        (table column -> name, as a model learnt them) only those columns are added; otherwise
        all, those clashing with a lead column prefixed with the table's name."""
        table = self.table
        if table.on not in leads.columns:
            raise DataError(
                f"{source}: table '{table.name}' joins on '{table.on}', which is not a column of "
                f"the leads; the columns are: {', '.join(map(str, leads.columns))}"
            )
        names = self.column_names(leads.columns, names)
        lead_keys = canonical_text_series(leads[table.on])
        remapped = int(lead_keys.isin(list(table.mapping)).sum())
        lead_keys = lead_keys.replace(table.mapping)
        added = self.rows[list(names)].rename(columns=names).reindex(lead_keys.to_numpy())
        added.index = leads.index
        has_key = lead_keys.notna()
        found = has_key & lead_keys.isin(self.rows.index)
        unmatched = has_key & ~found
        report = JoinReport(
            table=table.name,
            on=table.on,
            key=table.key,
            leads=len(leads),
            table_rows=self.table_rows,
            matched=int(found.sum()),
            unmatched=int(unmatched.sum()),
            missing_key=int((~has_key).sum()),
            remapped=remapped,
            duplicate_keys=len(self.extra_rows_per_key),
            multiplied_rows=int(lead_keys.map(self.extra_rows_per_key).fillna(0).sum()),
            columns=names,
            unmatched_examples=[str(v) for v in lead_keys[unmatched].unique()[:EXAMPLES]],
        )
        return pd.concat([leads, added], axis=1), report
