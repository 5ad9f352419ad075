"""The store's tables. Changing them needs a new migration in `migrations/versions/`.

Times are naive UTC. `score_log.fields` is the lead as received, PII fields removed; `tier` and
`expected_value` are what the lead was told (empty for rows logged before they were kept).
`outcomes` keeps every change of a lead's outcome: revision 1, 2, ...; the highest is current.

Two narrow tables serve the live figures (performance, stalled leads, the board) without
scanning the wide score log: `scored_leads` holds each lead's first score by each model version
(written with the score log, in the same transaction; `segments` is the lead's values of the
fields performance is broken down by), `current_outcomes` each lead's current outcome (written
with the outcome history, in the same transaction).
"""

from __future__ import annotations

import sqlalchemy as sa

# The longest lead id the store keeps: the API refuses longer ones before anything is written.
LEAD_ID_MAX_LENGTH = 255

metadata = sa.MetaData()

score_log = sa.Table(
    "score_log",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
    sa.Column("lead_id", sa.String(LEAD_ID_MAX_LENGTH), nullable=True, index=True),
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
    sa.Column("lead_id", sa.String(LEAD_ID_MAX_LENGTH), nullable=False),
    sa.Column("revision", sa.Integer(), nullable=False),
    sa.Column("outcome", sa.String(8), nullable=False),
    sa.Column("loss_reason", sa.Text(), nullable=True),
    sa.Column("value", sa.Float(), nullable=True),
    sa.Column("closed_at", sa.DateTime(), nullable=True),
    sa.Column("received_at", sa.DateTime(), nullable=False),
    sa.UniqueConstraint("lead_id", "revision", name="uq_outcomes_lead_revision"),
)

scored_leads = sa.Table(
    "scored_leads",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
    sa.Column("lead_id", sa.String(LEAD_ID_MAX_LENGTH), nullable=False, index=True),
    sa.Column("model_version", sa.String(64), nullable=False),  # "" for an unversioned model
    # no index on the time: a window reads most of the table, which a scan does fastest
    sa.Column("first_scored_at", sa.DateTime(), nullable=False),
    sa.Column("probability", sa.Float(), nullable=False),
    sa.Column("tier", sa.String(8), nullable=True),
    sa.Column("expected_value", sa.Float(), nullable=True),
    sa.Column("segments", sa.JSON(), nullable=True),
    sa.UniqueConstraint("lead_id", "model_version", name="uq_scored_leads_lead_version"),
)

current_outcomes = sa.Table(
    "current_outcomes",
    metadata,
    sa.Column("lead_id", sa.String(LEAD_ID_MAX_LENGTH), primary_key=True),
    sa.Column("revision", sa.Integer(), nullable=False),
    sa.Column("outcome", sa.String(8), nullable=False),
    sa.Column("loss_reason", sa.Text(), nullable=True),
    sa.Column("value", sa.Float(), nullable=True),
    sa.Column("closed_at", sa.DateTime(), nullable=True),
    sa.Column("received_at", sa.DateTime(), nullable=False, index=True),
)
