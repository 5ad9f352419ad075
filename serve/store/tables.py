"""The store's tables. Changing them needs a new migration in `migrations/versions/`.

Times are naive UTC. `score_log.fields` is the lead as received, PII fields removed; `tier` and
`expected_value` are what the lead was told (empty for rows logged before they were kept).
`outcomes` keeps every change of a lead's outcome: revision 1, 2, ...; the highest is current.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

score_log = sa.Table(
    "score_log",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
    sa.Column("lead_id", sa.String(255), nullable=True, index=True),
    sa.Column("fields", sa.JSON(), nullable=False),
    sa.Column("probability", sa.Float(), nullable=False),
    sa.Column("model_version", sa.String(64), nullable=True),
    sa.Column("scored_at", sa.DateTime(), nullable=False, index=True),
    sa.Column("tier", sa.String(8), nullable=True),
    sa.Column("expected_value", sa.Float(), nullable=True),
)

outcomes = sa.Table(
    "outcomes",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
    sa.Column("lead_id", sa.String(255), nullable=False),
    sa.Column("revision", sa.Integer(), nullable=False),
    sa.Column("outcome", sa.String(8), nullable=False),
    sa.Column("loss_reason", sa.Text(), nullable=True),
    sa.Column("value", sa.Float(), nullable=True),
    sa.Column("closed_at", sa.DateTime(), nullable=True),
    sa.Column("received_at", sa.DateTime(), nullable=False),
    sa.UniqueConstraint("lead_id", "revision", name="uq_outcomes_lead_revision"),
)
