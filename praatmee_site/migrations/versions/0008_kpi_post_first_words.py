"""The KPI page names a post by its first words: the snapshots keep them.

Revision ID: 0008
Revises: 0007
Created: 2026-12-03

The city's own public posts only (never a reply or an account). Snapshots collected before this
revision have "" and are named by their date until the next collection fills them in.
"""
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("kpi_post_snapshots") as table:
        table.add_column(sa.Column("first_words", sa.String(length=120), nullable=False, server_default=""))


def downgrade() -> None:
    raise NotImplementedError("praatmee does not downgrade; restore the backup made before the upgrade")
