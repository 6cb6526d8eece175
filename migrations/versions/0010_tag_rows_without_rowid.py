"""post tag and author rows: clustered on their keys, no tag index (issue 27 point 5)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 21:30:00

A post writes about five rows besides its own (its author, three or four hashtags), and
on SQLite each went into two B-trees: the rowid table and the index behind its
composite primary key. WITHOUT ROWID keeps those rows in the primary key's B-tree
alone (SQLite only; Postgres has no such option and keeps its tables as they are).
ix_post_hashtags_tag is dropped on both stores: nothing reads hashtags by tag (every
reader takes a post's rows by post_pk, the primary key's first column), and keeping it
cost every import a second B-tree of ~750k entries per 200k posts.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("post_authors", "post_hashtags")


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def upgrade() -> None:
    with op.batch_alter_table("post_hashtags", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_post_hashtags_tag"))
    if _sqlite():
        for table in TABLES:  # copied into a WITHOUT ROWID table of the same name
            with op.batch_alter_table(
                table, recreate="always", table_kwargs={"sqlite_with_rowid": False}
            ):
                pass


def downgrade() -> None:
    if _sqlite():
        for table in TABLES:
            with op.batch_alter_table(
                table, recreate="always", table_kwargs={"sqlite_with_rowid": True}
            ):
                pass
    with op.batch_alter_table("post_hashtags", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_post_hashtags_tag"), ["tag"], unique=False)
