"""`flask` commands. Thin: parse arguments, call the modules that own the rules, print the outcome."""
from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

db_cli = AppGroup("db", help="The database schema.")


@db_cli.command("upgrade")
def db_upgrade() -> None:
    """Create or upgrade the schema (safe to run again)."""
    from .db import current_db
    db = current_db()
    applied = db.upgrade()
    version = db.current_version()
    click.echo(f"Schema is at version {version}" + (f" (applied now: {', '.join(map(str, applied))})." if applied else "."))


def register_cli(app: Flask) -> None:
    app.cli.add_command(db_cli)
