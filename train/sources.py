"""What a model learns from: an export (with its related tables joined), the score log joined
with the outcomes the CRM posted, or both, as one frame of leads, with what was read from where.

Store rows are the leads as they were when first scored, with their newest reported outcome;
a lead in both the export and the store keeps its store row (the newest outcome wins).
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from features.contract import LeadContract
from features.errors import DataError, SettingError
from features.joins import JoinReport, read_export
from features.labels import LOST, OPEN, WON, LabeledLeads, outcome_names, split_labeled
from features.reading import file_sha256
from serve.store.database import open_store
from serve.store.snapshots import Snapshots, training_snapshots

STORE = "store"
UNSCORED = "no scored lead"


@dataclass(frozen=True)
class OutcomeCounts:
    won: int
    lost: int
    open: int


@dataclass(frozen=True)
class TimeRange:
    first: str
    last: str


@dataclass(frozen=True)
class DataSummary:
    """Rows per source, per outcome, and the created-at range of what a job read; outcomes
    in the store it could not use, by reason."""

    sources: dict[str, int]
    duplicates_resolved: int
    classes: OutcomeCounts
    time_range: TimeRange | None
    unused_outcomes: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "sources": self.sources,
            "duplicates_resolved": self.duplicates_resolved,
            "classes": asdict(self.classes),
            "time_range": asdict(self.time_range) if self.time_range else None,
            "unused_outcomes": self.unused_outcomes,
        }


@dataclass
class TrainingData:
    """The leads to learn from, where they came from, and their labeled part."""

    frame: pd.DataFrame
    leads: LabeledLeads
    source: str
    sources: dict[str, int]
    path: Path | None = None
    joins: list[JoinReport] = field(default_factory=list)
    duplicates: int = 0
    unused_outcomes: dict[str, int] = field(default_factory=dict)

    @cached_property
    def file_sha256(self) -> str | None:
        return file_sha256(self.path) if self.path and not self.sources.get(STORE) else None

    @cached_property
    def fingerprint(self) -> str:
        """A content fingerprint of the labeled leads: the same leads with the same outcomes
        give the same fingerprint, whatever the file, row order or column order."""
        leads = self.leads.frame
        frame = pd.DataFrame({name: leads[name].astype(str) for name in sorted(leads.columns)})
        frame["__won"] = self.leads.y.astype(str)
        rows = np.sort(pd.util.hash_pandas_object(frame, index=False).to_numpy())
        digest = hashlib.sha256("\x1f".join(frame.columns).encode())
        digest.update(rows.tobytes())
        return digest.hexdigest()

    def describe(self, contract: LeadContract) -> DataSummary:
        """Rows per source, per class (won, lost, open) and the created-at range."""
        classes = outcome_names(self.frame, contract, self.source).value_counts()
        times = self.leads.created_at
        return DataSummary(
            sources=self.sources,
            duplicates_resolved=self.duplicates,
            unused_outcomes=self.unused_outcomes,
            classes=OutcomeCounts(
                won=int(classes.get(WON, 0)),
                lost=int(classes.get(LOST, 0)),
                open=int(classes.get(OPEN, 0)),
            ),
            time_range=None
            if times is None or times.isna().all()
            else TimeRange(times.min().isoformat(), times.max().isoformat()),
        )


def read_training_data(
    contract: LeadContract, path: Path | None = None, store: Snapshots | None = None
) -> TrainingData:
    """Read the export and/or the store snapshots, validate them against the contract and set
    the open leads aside."""
    contract.require_training_roles()
    if path is None and store is None:
        raise SettingError("no data: give an export file, --from-store, or both")
    frames: list[pd.DataFrame] = []
    sources: dict[str, int] = {}
    joins: list[JoinReport] = []
    if path is not None:
        frame, joins = read_export(path, contract)
        frames.append(frame)
        sources["export"] = len(frame)
    if store is not None:
        if path is None and not len(store):
            raise DataError(_empty_store_message(store))
        frames.append(store_as_export(store, contract))
        sources[STORE] = len(store)
    frame, duplicates = _combine(frames, contract)
    source = " + ".join(
        filter(None, [str(path) if path else None, "score log" if store is not None else None])
    )
    leads = split_labeled(frame, contract, source)
    unused = {UNSCORED: store.unscored_outcomes} if store and store.unscored_outcomes else {}
    return TrainingData(frame, leads, source, sources, path, joins, duplicates, unused)


def _empty_store_message(store: Snapshots) -> str:
    unscored = store.unscored_outcomes
    also = f" ({unscored} outcomes are for leads it never scored)" if unscored else ""
    return (
        f"score log: no lead was scored and then given an outcome yet{also}; post the won and "
        "lost outcomes of scored leads to /v1/outcomes first, or train on an export"
    )


def store_snapshots(database_url: str) -> Snapshots:
    """The score log joined with the outcomes, from the store the API writes."""
    engine = open_store(database_url, must_exist=True)
    try:
        return training_snapshots(engine)
    finally:
        engine.dispose()


def store_as_export(snapshots: Snapshots, contract: LeadContract) -> pd.DataFrame:
    """Store snapshots in the export's column names and labels, so one contract reads both.

    Where a field the CRM sent with the lead has the name of a column the outcome sets, the
    outcome posted back wins: its won/lost label, its deal value when one was reported (else
    the value sent at score time), its loss reason when one was given (never on a won lead).
    The created-at time the CRM sent wins over the time the lead was first scored, which stands
    in where none was sent. Contract columns the server never logged (PII, which it strips) are
    simply missing."""
    frame = snapshots.fields.copy()
    outcome = snapshots.outcomes
    won, lost = contract.positive[0], contract.negative[0] if contract.negative else "lost"
    reported = {
        contract.target: outcome["outcome"].map({"won": won, "lost": lost}),
        contract.value: outcome["value"],
        contract.loss_reason: outcome["loss_reason"],
    }
    for column, values in reported.items():
        if column is None:
            continue
        sent = frame[column] if column in frame.columns else None
        frame[column] = values if sent is None else values.astype(object).combine_first(sent)
    if contract.loss_reason:  # a reason sent at score time is no reason for a deal since won
        frame.loc[(outcome["outcome"] == "won").to_numpy(), contract.loss_reason] = None
    if contract.id:
        frame[contract.id] = snapshots.scores["lead_id"]
    if contract.time:
        scored_at = snapshots.scores["scored_at"].map(lambda t: t.isoformat(sep=" "))
        sent_time = frame[contract.time] if contract.time in frame.columns else None
        frame[contract.time] = scored_at if sent_time is None else sent_time.fillna(scored_at)
    for column in contract.named_columns():
        if column not in frame.columns:
            frame[column] = None
    return frame


def _combine(frames: list[pd.DataFrame], contract: LeadContract) -> tuple[pd.DataFrame, int]:
    frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    if len(frames) == 1 or not contract.id or contract.id not in frame.columns:
        return frame, 0
    keep = ~frame[contract.id].astype(str).duplicated(keep="last").to_numpy()
    return frame.loc[keep].reset_index(drop=True), int((~keep).sum())
