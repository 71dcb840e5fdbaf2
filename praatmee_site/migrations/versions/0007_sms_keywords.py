"""Stuur PRAATMEE: a campaign's own keyword, and keyword messages counted per campaign, channel and day.

Revision ID: 0007
Revises: 0006
Created: 2026-12-02

Counts only: no table holds a phone number (the limits on senders live in memory or Redis).
"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("campaigns") as table:
        table.add_column(sa.Column("keyword", sa.String(length=20), nullable=True))
    op.create_index("ix_campaigns_keyword", "campaigns", ["keyword"], unique=True)
    op.create_table(
        "keyword_counts",
        sa.Column("campaign_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("campaign_id", "day", "channel"),
    )


def downgrade() -> None:
    raise NotImplementedError("praatmee does not downgrade; restore the backup made before the upgrade")
