"""The score log and the outcome history.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _id() -> sa.Column:
    return sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True)


def upgrade() -> None:
    op.create_table(
        "score_log",
        _id(),
        sa.Column("lead_id", sa.String(255), nullable=True),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("probability", sa.Float(), nullable=False),
        sa.Column("model_version", sa.String(64), nullable=True),
        sa.Column("scored_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_score_log_lead_id", "score_log", ["lead_id"])
    op.create_table(
        "outcomes",
        _id(),
        sa.Column("lead_id", sa.String(255), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(8), nullable=False),
        sa.Column("loss_reason", sa.Text(), nullable=True),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("lead_id", "revision", name="uq_outcomes_lead_revision"),
    )


def downgrade() -> None:
    op.drop_table("outcomes")
    op.drop_index("ix_score_log_lead_id", "score_log")
    op.drop_table("score_log")
