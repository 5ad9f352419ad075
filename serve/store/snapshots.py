"""What the retraining job learns from: each lead as it looked when first scored (before
handoff to sales), joined with its current outcome."""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from serve.store.outcomes import latest_outcomes
from serve.store.tables import score_log

OUTCOME_COLUMNS = ["outcome", "loss_reason", "value", "closed_at"]
SCORE_LOG_COLUMNS = ["lead_id", "scored_at", "model_version"]


def training_snapshots(engine: sa.Engine) -> pd.DataFrame:
    """One row per lead that was scored and has an outcome: the fields it was first scored
    with, then `lead_id`, `scored_at`, `model_version` and its newest `outcome`, `loss_reason`,
    `value` and `closed_at` (times naive UTC). These columns win over snapshot fields of the
    same name."""
    first = (
        sa.select(
            score_log,
            sa.func.row_number()
            .over(
                partition_by=score_log.c.lead_id,
                order_by=(score_log.c.scored_at, score_log.c.id),
            )
            .label("rank"),
        )
        .where(score_log.c.lead_id.is_not(None))
        .subquery()
    )
    latest = latest_outcomes()
    query = (
        sa.select(
            first.c.fields,
            *(first.c[c] for c in SCORE_LOG_COLUMNS),
            *(latest.c[c] for c in OUTCOME_COLUMNS),
        )
        .join(latest, latest.c.lead_id == first.c.lead_id)
        .where(first.c.rank == 1)
        .order_by(first.c.scored_at, first.c.lead_id)
    )
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    fixed = SCORE_LOG_COLUMNS + OUTCOME_COLUMNS
    fields = pd.DataFrame.from_records([row.fields for row in rows], index=range(len(rows)))
    known = pd.DataFrame([row[1:] for row in rows], columns=fixed, index=range(len(rows)))
    return pd.concat([fields.drop(columns=fixed, errors="ignore"), known], axis=1)
