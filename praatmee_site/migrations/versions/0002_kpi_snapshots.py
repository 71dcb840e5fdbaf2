"""Schema version 2: KPI snapshots per post and day, pseudonymous repliers, context reads and runs.

Revision ID: 0002
Revises: 0001
Created: 2026-11-23 (as schema_version 2; written out as an Alembic revision on 2026-12-01)
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kpi_post_snapshots",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("status_id", sa.String(length=40), nullable=False),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("replies", sa.Integer(), nullable=False),
        sa.Column("favourites", sa.Integer(), nullable=False),
        sa.Column("reblogs", sa.Integer(), nullable=False),
        sa.Column("has_poll", sa.Boolean(), nullable=False),
        sa.Column("has_question", sa.Boolean(), nullable=False),
        sa.Column("is_campaign_thread", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("day", "status_id"),
    )
    op.create_index("ix_kpi_post_snapshots_posted_at", "kpi_post_snapshots", ["posted_at"], unique=False)
    op.create_index("ix_kpi_post_snapshots_status_id", "kpi_post_snapshots", ["status_id"], unique=False)
    op.create_table(
        "kpi_repliers",
        sa.Column("thread_id", sa.String(length=40), nullable=False),
        sa.Column("account_key", sa.String(length=64), nullable=False),
        sa.Column("first_seen", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("thread_id", "account_key"),
    )
    op.create_index("ix_kpi_repliers_account_key", "kpi_repliers", ["account_key"], unique=False)
    op.create_table(
        "kpi_contexts",
        sa.Column("status_id", sa.String(length=40), nullable=False),
        sa.Column("replies_read", sa.Integer(), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("status_id"),
    )
    op.create_table(
        "kpi_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("posts_seen", sa.Integer(), nullable=False),
        sa.Column("contexts_fetched", sa.Integer(), nullable=False),
        sa.Column("contexts_skipped", sa.Integer(), nullable=False),
        sa.Column("stop_reason", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_kpi_runs_started_at", "kpi_runs", ["started_at"], unique=False)


def downgrade() -> None:
    raise NotImplementedError("praatmee does not downgrade; restore the backup made before the upgrade")
