"""Schema version 1: the last good copies of Mastodon answers, campaigns and their scan counts.

Revision ID: 0001
Revises:
Created: 2026-11-20 (as schema_version 1; written out as an Alembic revision on 2026-12-01)

Every revision spells its tables out as they were at that version, never `create_all` on the
current models, so a column added later is added by its own revision, also on a fresh database.
"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "last_good",
        sa.Column("key", sa.String(length=500), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("fetched_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "campaigns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("place", sa.String(length=20), nullable=False),
        sa.Column("cta_nl", sa.String(length=300), nullable=False),
        sa.Column("cta_en", sa.String(length=300), nullable=False),
        sa.Column("thread_url", sa.String(length=500), nullable=False),
        sa.Column("invite_url", sa.String(length=500), nullable=False),
        sa.Column("input_text", sa.Text(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=True),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("slug"),
    )
    op.create_table(
        "scan_counts",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("campaign_id", "day"),
    )


def downgrade() -> None:
    raise NotImplementedError("praatmee does not downgrade; restore the backup made before the upgrade")
