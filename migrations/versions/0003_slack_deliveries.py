"""slack deliveries (event dedupe) and pending answers

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 09:20:00

Issue 15. Named 0003 because no other 0003 was visible on this branch; the lead may
renumber it (and its down_revision) at merge.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "slack_deliveries",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_slack_deliveries")),
    )
    op.create_index(
        op.f("ix_slack_deliveries_received_at"), "slack_deliveries", ["received_at"], unique=False
    )
    op.create_table(
        "pending_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("response_url", sa.Text(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("lease_until", sa.DateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pending_answers")),
    )
    op.create_index(
        op.f("ix_pending_answers_lease_until"), "pending_answers", ["lease_until"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_pending_answers_lease_until"), table_name="pending_answers")
    op.drop_table("pending_answers")
    op.drop_index(op.f("ix_slack_deliveries_received_at"), table_name="slack_deliveries")
    op.drop_table("slack_deliveries")
