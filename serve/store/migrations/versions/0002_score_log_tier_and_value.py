"""The score log keeps each lead's tier and expected value, and is searchable by time.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("score_log") as table:
        table.add_column(sa.Column("tier", sa.String(8), nullable=True))
        table.add_column(sa.Column("expected_value", sa.Float(), nullable=True))
    op.create_index("ix_score_log_scored_at", "score_log", ["scored_at"])


def downgrade() -> None:
    op.drop_index("ix_score_log_scored_at", "score_log")
    with op.batch_alter_table("score_log") as table:
        table.drop_column("expected_value")
        table.drop_column("tier")
