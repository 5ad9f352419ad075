"""What the retraining job learns from: each lead as it looked when first scored (before
handoff to sales), joined with its current outcome, and how many outcomes have no scored lead."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import sqlalchemy as sa

from serve.store.tables import current_outcomes, score_log, scored_leads

OUTCOME_COLUMNS = ["outcome", "loss_reason", "value", "closed_at"]
SCORE_LOG_COLUMNS = ["lead_id", "scored_at", "model_version"]


@dataclass(frozen=True)
class Snapshots:
    """Row by row, aligned: the fields each lead was first scored with (as the CRM sent them,
    PII removed), its `lead_id`, `scored_at` and `model_version`, and its newest `outcome`,
    `loss_reason`, `value` and `closed_at` (times naive UTC). `unscored_outcomes` counts the
    outcomes whose lead was never scored: no snapshot to learn from."""

    fields: pd.DataFrame
    scores: pd.DataFrame
    outcomes: pd.DataFrame
    unscored_outcomes: int

    def __len__(self) -> int:
        return len(self.scores)


def training_snapshots(engine: sa.Engine) -> Snapshots:
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
    latest = current_outcomes
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
    scored = sa.select(scored_leads.c.lead_id).where(scored_leads.c.lead_id == latest.c.lead_id)
    unscored = sa.select(sa.func.count()).select_from(latest).where(~scored.exists())
    with engine.connect() as connection:
        rows = connection.execute(query).all()
        unscored_count = int(connection.execute(unscored).scalar() or 0)
    index = range(len(rows))
    known = pd.DataFrame(
        [tuple(row)[1:] for row in rows], columns=SCORE_LOG_COLUMNS + OUTCOME_COLUMNS, index=index
    )
    return Snapshots(
        fields=pd.DataFrame.from_records([row.fields for row in rows], index=index),
        scores=known[SCORE_LOG_COLUMNS],
        outcomes=known[OUTCOME_COLUMNS],
        unscored_outcomes=unscored_count,
    )
