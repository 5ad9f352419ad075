"""Narrow tables for the live figures: each lead's first score per model version, and each
lead's current outcome, filled from what the store already holds.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _id() -> sa.Column:
    return sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True)


def upgrade() -> None:
    op.create_table(
        "scored_leads",
        _id(),
        sa.Column("lead_id", sa.String(255), nullable=False),
        sa.Column("model_version", sa.String(64), nullable=False),
        sa.Column("first_scored_at", sa.DateTime(), nullable=False),
        sa.Column("probability", sa.Float(), nullable=False),
        sa.Column("tier", sa.String(8), nullable=True),
        sa.Column("expected_value", sa.Float(), nullable=True),
        sa.Column("segments", sa.JSON(), nullable=True),
        sa.UniqueConstraint("lead_id", "model_version", name="uq_scored_leads_lead_version"),
    )
    op.create_index("ix_scored_leads_lead_id", "scored_leads", ["lead_id"])
    op.create_table(
        "current_outcomes",
        sa.Column("lead_id", sa.String(255), primary_key=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(8), nullable=False),
        sa.Column("loss_reason", sa.Text(), nullable=True),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("received_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_current_outcomes_received_at", "current_outcomes", ["received_at"])
    op.execute(
        """
        INSERT INTO scored_leads
            (lead_id, model_version, first_scored_at, probability, tier, expected_value)
        SELECT lead_id, model_version, scored_at, probability, tier, expected_value
        FROM (
            SELECT lead_id, COALESCE(model_version, '') AS model_version, scored_at,
                   probability, tier, expected_value,
                   ROW_NUMBER() OVER (
                       PARTITION BY lead_id, COALESCE(model_version, '') ORDER BY scored_at, id
                   ) AS rank
            FROM score_log WHERE lead_id IS NOT NULL
        ) AS ranked
        WHERE rank = 1
        """
    )
    op.execute(
        """
        INSERT INTO current_outcomes
            (lead_id, revision, outcome, loss_reason, value, closed_at, received_at)
        SELECT lead_id, revision, outcome, loss_reason, value, closed_at, received_at
        FROM outcomes AS o
        WHERE revision = (SELECT MAX(revision) FROM outcomes AS n WHERE n.lead_id = o.lead_id)
        """
    )


def downgrade() -> None:
    op.drop_table("current_outcomes")
    op.drop_table("scored_leads")
