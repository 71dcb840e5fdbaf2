"""Staff sessions end on the server: a session that started at or before this moment is refused.

Revision ID: 0004
Revises: 0003
Created: 2026-12-01

"Uitloggen" moves it to the start of the session that logs out, "Overal uitloggen" to now (epoch
seconds; 0 for every account that exists, so no session ends by this upgrade).
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("staff_accounts") as table:
        table.add_column(sa.Column("sessions_valid_since", sa.Float(), nullable=False, server_default=sa.text("0")))


def downgrade() -> None:
    raise NotImplementedError("praatmee does not downgrade; restore the backup made before the upgrade")
