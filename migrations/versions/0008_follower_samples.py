"""follower_samples: sampled followers of a creator (issue 25, the trust card)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 14:30:00

`python -m engine import followers FILE` writes a sample of a creator's followers with
the profile counts the fake-follower classifier reads; `/vet` turns them into the
audience's real share. Keyed by (creator, follower): a re-import updates in place.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "follower_samples",
        sa.Column("handle", sa.String(length=100), nullable=False),
        sa.Column("follower", sa.String(length=100), nullable=False),
        sa.Column("followers", sa.BigInteger(), nullable=False),
        sa.Column("following", sa.BigInteger(), nullable=False),
        sa.Column("posts", sa.Integer(), nullable=False),
        sa.Column("has_profile_pic", sa.Boolean(), nullable=False),
        sa.Column("is_private", sa.Boolean(), nullable=False),
        sa.Column("bio_length", sa.Integer(), nullable=False),
        sa.Column(
            "imported_at",
            sa.DateTime(),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("handle", "follower", name=op.f("pk_follower_samples")),
    )


def downgrade() -> None:
    op.drop_table("follower_samples")
