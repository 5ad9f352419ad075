"""What the board should show, computed with pandas from the raw score log and outcome history
(not the narrow tables the board reads): each lead's first score by the serving version, with its
current outcome (the highest revision)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pandas as pd
import sqlalchemy as sa

MISSING = "(missing)"


def lead_rows(url: str, version: str = "1") -> pd.DataFrame:
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        scores = pd.read_sql("SELECT * FROM score_log", connection)
        history = pd.read_sql("SELECT * FROM outcomes", connection)
    engine.dispose()
    scores = scores[(scores["model_version"] == version) & scores["lead_id"].notna()]
    scores["scored_at"] = pd.to_datetime(scores["scored_at"])
    first = scores.sort_values(["scored_at", "id"]).groupby("lead_id", as_index=False).first()
    fields = [f if isinstance(f, dict) else json.loads(f) for f in first["fields"]]
    first["source"] = [f.get("lead_source") or MISSING for f in fields]
    current = history.sort_values("revision").groupby("lead_id").last()
    first = first.join(current[["outcome", "loss_reason", "value"]], on="lead_id")
    first["loss_reason"] = first["loss_reason"].where(first["loss_reason"].str.strip() != "")
    return first[
        ["lead_id", "scored_at", "probability", "tier", "expected_value", "source"]
        + ["outcome", "loss_reason", "value"]
    ]


def within(rows: pd.DataFrame, days: float, source: str | None = None, tier: str | None = None):
    now = datetime.now(UTC).replace(tzinfo=None)
    keep = rows["scored_at"] >= now - timedelta(days=days)
    if source:
        keep &= rows["source"] == source
    if tier:
        keep &= rows["tier"] == tier
    return rows[keep]
