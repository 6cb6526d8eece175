"""posts: only the indexes reads use (issue 27 point 5)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 21:45:00

ix_posts_posted_at is dropped: no query filters or orders posts by date in the
database (training reads every post by id and windows dates in memory; per-creator
dates have ix_posts_influencer_posted), and an import of 200k posts spent 0.08 s
building it. ix_posts_song_id becomes partial, WHERE song_id IS NOT NULL: its readers
ask for posts with a song (the trending join, `song_id = ?` when a song is deleted), and
most posts have none, so the NULL entries were index weight nobody looks up.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HAS_SONG = sa.text("song_id IS NOT NULL")


def upgrade() -> None:
    op.drop_index("ix_posts_posted_at", table_name="posts")
    op.drop_index("ix_posts_song_id", table_name="posts")
    op.create_index(
        "ix_posts_song_id",
        "posts",
        ["song_id"],
        unique=False,
        sqlite_where=HAS_SONG,
        postgresql_where=HAS_SONG,
    )


def downgrade() -> None:
    op.drop_index("ix_posts_song_id", table_name="posts")
    op.create_index("ix_posts_song_id", "posts", ["song_id"], unique=False)
    op.create_index("ix_posts_posted_at", "posts", ["posted_at"], unique=False)
