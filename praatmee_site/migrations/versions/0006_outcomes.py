"""Outcomes ("Je zei, wij deden", issue 16) and the residents' replies the city answered (its KPIs).

Revision ID: 0006
Revises: 0004
Created: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outcomes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("thread_url", sa.String(length=500), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("reason_nl", sa.Text(), nullable=False),
        sa.Column("reason_en", sa.Text(), nullable=False),
        sa.Column("title_nl", sa.String(length=200), nullable=False),
        sa.Column("title_en", sa.String(length=200), nullable=False),
        sa.Column("text_nl", sa.Text(), nullable=False),
        sa.Column("text_en", sa.Text(), nullable=False),
        sa.Column("happened_on", sa.Date(), nullable=False),
        sa.Column("decision_url", sa.String(length=500), nullable=False),
        sa.Column("posted_url", sa.String(length=500), nullable=False),
        sa.Column("posted_status_id", sa.String(length=40), nullable=False),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("publish_error", sa.String(length=40), nullable=False),
        sa.Column("publish_attempted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_outcomes_campaign_id", "outcomes", ["campaign_id"])
    op.create_index("ix_outcomes_happened_on", "outcomes", ["happened_on"])
    op.create_table(
        "kpi_replies",
        sa.Column("thread_id", sa.String(length=40), nullable=False),
        sa.Column("reply_key", sa.String(length=64), nullable=False),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("thread_id", "reply_key"),
    )
    op.create_index("ix_kpi_replies_posted_at", "kpi_replies", ["posted_at"])


def downgrade() -> None:
    raise NotImplementedError("praatmee does not downgrade; restore the backup made before the upgrade")
