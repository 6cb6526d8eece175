"""watchlist, source state and history snapshots (issue 23)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 14:14:15

What the daily sync needs: the creators each workspace watches and when each is due,
each source's token, budget and errors between runs, and dated snapshots of creator
and post counts (pruned past SCOUT_HISTORY_DAYS) that growth and trends read.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "creator_snapshots",
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("handle", sa.String(length=100), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("followers", sa.BigInteger(), nullable=True),
        sa.Column("following", sa.BigInteger(), nullable=True),
        sa.Column("media_count", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("platform", "handle", "day", name=op.f("pk_creator_snapshots")),
    )
    with op.batch_alter_table("creator_snapshots", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_creator_snapshots_day"), ["day"], unique=False)

    op.create_table(
        "post_snapshots",
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("post_id", sa.String(length=100), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("likes", sa.BigInteger(), nullable=True),
        sa.Column("comments", sa.BigInteger(), nullable=True),
        sa.Column("views", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("platform", "post_id", "day", name=op.f("pk_post_snapshots")),
    )
    with op.batch_alter_table("post_snapshots", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_post_snapshots_day"), ["day"], unique=False)

    op.create_table(
        "source_state",
        sa.Column("source", sa.String(length=50), nullable=False),
        sa.Column("token_state", sa.String(length=16), nullable=False),
        sa.Column("token_message", sa.Text(), nullable=True),
        sa.Column("day", sa.Date(), nullable=True),
        sa.Column("calls_today", sa.Integer(), nullable=False),
        sa.Column("quota_used", sa.Integer(), nullable=False),
        sa.Column("errors", sa.JSON(), nullable=True),
        sa.Column("counters", sa.JSON(), nullable=True),
        sa.Column("last_sync_started_at", sa.DateTime(), nullable=True),
        sa.Column("last_sync_finished_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("source", name=op.f("pk_source_state")),
    )
    op.create_table(
        "watchlist",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("handle", sa.String(length=100), nullable=False),
        sa.Column("added_by", sa.String(length=64), nullable=True),
        sa.Column("origin", sa.String(length=140), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("added_at", sa.DateTime(), nullable=False),
        sa.Column("last_synced_at", sa.DateTime(), nullable=True),
        sa.Column("next_due_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_watchlist")),
        sa.UniqueConstraint(
            "team_id", "platform", "handle", name="uq_watchlist_team_platform_handle"
        ),
    )
    with op.batch_alter_table("watchlist", schema=None) as batch_op:
        batch_op.create_index("ix_watchlist_due", ["platform", "next_due_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("watchlist", schema=None) as batch_op:
        batch_op.drop_index("ix_watchlist_due")

    op.drop_table("watchlist")
    op.drop_table("source_state")
    with op.batch_alter_table("post_snapshots", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_post_snapshots_day"))

    op.drop_table("post_snapshots")
    with op.batch_alter_table("creator_snapshots", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_creator_snapshots_day"))

    op.drop_table("creator_snapshots")
