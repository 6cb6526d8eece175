"""posts.views: plays as the export counts them

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 14:40:00

Issue 23 (a real TikTok scrape): on TikTok and YouTube engagement follows views, not
followers, so the engagement rate there is per view where the views are known. Nullable:
Instagram photo exports and older imports have none.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("posts") as batch:
        batch.add_column(sa.Column("views", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("posts") as batch:
        batch.drop_column("views")
