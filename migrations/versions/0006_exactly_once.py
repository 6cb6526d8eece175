"""exactly-once answers: owners on pending answers, leases on event claims, call slots

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 14:25:00

Issue 29 points 3 and 4. pending_answers.owner names the process sending an answer, so
the orphan resumer never takes an answer from a live sender; slack_deliveries.lease_until
turns "received" into "being answered until": NULL means answered (rows from before this
revision were answered), a lapsed lease means the worker died and Slack's retry is
processed; slack_call_slots spaces out Slack methods limited to one call a minute.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("pending_answers") as batch:
        batch.add_column(sa.Column("owner", sa.String(length=80), nullable=True))
    with op.batch_alter_table("slack_deliveries") as batch:
        batch.add_column(sa.Column("lease_until", sa.DateTime(), nullable=True))
    op.create_table(
        "slack_call_slots",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("next_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_slack_call_slots")),
    )


def downgrade() -> None:
    op.drop_table("slack_call_slots")
    with op.batch_alter_table("slack_deliveries") as batch:
        batch.drop_column("lease_until")
    with op.batch_alter_table("pending_answers") as batch:
        batch.drop_column("owner")
