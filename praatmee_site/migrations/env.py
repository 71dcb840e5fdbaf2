"""Alembic's environment for praatmee: always run from `Database.upgrade()`, on its connection.

There is no alembic.ini: `db.alembic_config()` builds the configuration in code and hands over the
connection (inside the upgrade lock), so the app, the CLI and the tests all run the same path.
"""
from alembic import context

from praatmee_site.db import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only `Database.upgrade()` runs migrations
    raise RuntimeError("run migrations with `flask --app praatmee_site db upgrade`, not the alembic command")

# render_as_batch: SQLite cannot ALTER most things in place; batch mode copies the table instead.
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True,
                  compare_type=True)
with context.begin_transaction():
    context.run_migrations()
