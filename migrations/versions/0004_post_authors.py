"""post authors: collab posts have several authors under one post id

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 10:00:00

posts.influencer_id is kept as the primary (first imported) author, so the indexes and
queries that want one author per post keep working; post_authors lists every author,
the primary included (backfilled here), and is what training reads.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "post_authors",
        sa.Column("post_pk", sa.Integer(), nullable=False),
        sa.Column("influencer_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["influencer_id"],
            ["influencers.id"],
            name=op.f("fk_post_authors_influencer_id_influencers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["post_pk"],
            ["posts.id"],
            name=op.f("fk_post_authors_post_pk_posts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("post_pk", "influencer_id", name=op.f("pk_post_authors")),
    )
    with op.batch_alter_table("post_authors", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_post_authors_influencer_id"), ["influencer_id"], unique=False
        )
    op.execute(
        "INSERT INTO post_authors (post_pk, influencer_id) SELECT id, influencer_id FROM posts"
    )


def downgrade() -> None:
    with op.batch_alter_table("post_authors", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_post_authors_influencer_id"))
    op.drop_table("post_authors")
