"""shortlists and thread contexts (issue 26)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 16:45:00

Shortlists a workspace collects creators into (`/list`, the 'Add to list' button),
their members with who added each and why, each person's current list, and the context
of each answer in a Slack thread (its command and results, until it expires) that a
reply in the thread acts on.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "shortlists",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shortlists")),
        sa.UniqueConstraint("team_id", "name", name="uq_shortlists_team_name"),
    )
    op.create_table(
        "shortlist_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.Column("handle", sa.String(length=100), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=True),
        sa.Column("added_by", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("facts", sa.JSON(), nullable=True),
        sa.Column("added_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["list_id"],
            ["shortlists.id"],
            name=op.f("fk_shortlist_members_list_id_shortlists"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shortlist_members")),
        sa.UniqueConstraint("list_id", "handle", name="uq_shortlist_members_list_handle"),
    )
    op.create_table(
        "shortlist_current",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["list_id"],
            ["shortlists.id"],
            name=op.f("fk_shortlist_current_list_id_shortlists"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("team_id", "user_id", name=op.f("pk_shortlist_current")),
    )
    op.create_table(
        "thread_contexts",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("thread_ts", sa.String(length=32), nullable=False),
        sa.Column("command", sa.String(length=32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("result_ids", sa.JSON(), nullable=True),
        sa.Column("result_whys", sa.JSON(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint(
            "team_id", "channel_id", "thread_ts", name=op.f("pk_thread_contexts")
        ),
    )
    with op.batch_alter_table("thread_contexts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_thread_contexts_expires_at"), ["expires_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("thread_contexts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_thread_contexts_expires_at"))

    op.drop_table("thread_contexts")
    op.drop_table("shortlist_current")
    op.drop_table("shortlist_members")
    op.drop_table("shortlists")
