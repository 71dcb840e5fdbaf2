"""The schema's history as Alembic revisions: a fresh upgrade is exactly the models, a database made
before Alembic is adopted without loss, and a failed upgrade stops start-up with one line.

Runs on SQLite, and on PostgreSQL under `make test-pg` (the same tests, a schema of their own).
"""
from __future__ import annotations

import logging
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from praatmee_site import campaigns
from praatmee_site.db import MIGRATIONS, Base, Database, SchemaError
from praatmee_site.staff.accounts import StaffDirectory, audit_log
from praatmee_site.web import services
from tests.conftest import database_url

SNAPSHOTS = Path(__file__).parent / "fixtures" / "snapshots"
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def fresh(tmp_path):
    made = []

    def make(name: str = "db") -> Database:
        database = Database(database_url(tmp_path, name))
        made.append(database)
        return database
    yield make
    for database in made:
        database.engine.dispose()


def head() -> str:
    return ScriptDirectory(str(MIGRATIONS)).get_current_head()


def test_a_fresh_upgrade_yields_exactly_the_models(fresh):
    database = fresh()
    applied = database.upgrade()
    assert applied[:3] == ["0001", "0002", "0003"] and applied[-1] == head()
    with database.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}),
                                       Base.metadata)
    assert differences == []


def test_upgrading_twice_applies_nothing_the_second_time(fresh):
    database = fresh()
    database.upgrade()
    assert database.upgrade() == []
    assert database.current_version() == head()


def test_the_site_starting_on_an_empty_database_applies_every_revision(make_app, tmp_path):
    # The other tests' apps start on a copy of a migrated database (tests/conftest.py): this one does not.
    app = make_app(DATABASE_URL=database_url(tmp_path, "empty"))
    database = app.extensions[services.DATABASE]
    assert database.current_version() == head()
    with database.engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []


def test_there_is_one_line_of_revisions_without_branches():
    script = ScriptDirectory(str(MIGRATIONS))
    assert len(script.get_heads()) == 1
    revisions = list(script.walk_revisions())
    assert all(not revision.is_merge_point for revision in revisions)
    assert [revision.revision for revision in reversed(revisions)][:3] == ["0001", "0002", "0003"]


def test_no_revision_builds_tables_from_the_current_models():
    # The trap that broke fresh databases: create_all on today's models inside an old revision.
    for path in (MIGRATIONS / "versions").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        assert ".create_all(" not in source and "import praatmee_site" not in source, path.name
        assert "from praatmee_site" not in source, path.name


def _load_snapshot(database: Database, dialect: str) -> None:
    dump = (SNAPSHOTS / f"v3-{dialect}.sql").read_text(encoding="utf-8")
    if dialect == "sqlite":
        connection = sqlite3.connect(database.engine.url.database)
        connection.executescript(dump)
        connection.close()
        return
    # pg_dump names the public schema; each test has a schema of its own (on the search path).
    schema = database.engine.url.query["application_name"]
    statements = [line for line in dump.splitlines()
                  if not line.startswith(("SELECT pg_catalog.set_config('search_path'", "--", "\\restrict",
                                          "\\unrestrict"))
                  and "OWNER TO" not in line]
    dump = "\n".join(statements).replace("public.", f'"{schema}".')
    copy_blocks = re.split(r"^(COPY .*? FROM stdin;\n.*?^\\\.$)", dump, flags=re.S | re.M)
    raw = database.engine.raw_connection()
    try:
        cursor = raw.cursor()
        for block in copy_blocks:
            if block.startswith("COPY "):
                header, _, rows = block.partition("\n")
                with cursor.copy(header.replace(" FROM stdin;", " FROM STDIN")) as copy:
                    copy.write(rows.rsplit("\\.", 1)[0])
            elif block.strip():
                cursor.execute(block)
        raw.commit()
    finally:
        raw.close()


@pytest.mark.parametrize("dialect", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_a_version_3_database_made_before_alembic_upgrades_without_loss(fresh, tmp_path, dialect, caplog):
    # The SQLite snapshot runs in both runs: a SQLite file needs no server.
    database = fresh("v3") if dialect == "postgresql" else Database(f"sqlite:///{tmp_path / 'v3.sqlite'}")
    _load_snapshot(database, dialect)
    caplog.set_level(logging.INFO, logger="praatmee_site.db")
    applied = database.upgrade()
    assert "stamped as revision 0003" in caplog.text
    assert "0001" not in applied and applied[-1:] in ([], [head()])
    assert database.current_version() == head()

    # Every row the old code wrote is still there, and the new code reads it.
    campaign = campaigns.get(database, "bieb-oost")
    assert campaign is not None and campaign.name == "OBA Oost" and campaign.cta_en == "Ask about the library"
    assert sum(count for _, count in campaigns.scans_per_day(database, campaign)) == 3
    staff = StaffDirectory(database)
    assert [member.email for member in staff.list()] == ["anna@amsterdam.nl"]
    assert staff.authenticate("anna@amsterdam.nl", "een lang wachtwoord 123") is not None
    assert any(entry.action == "staff.add" for entry in audit_log(database))
    with database.engine.connect() as connection:
        assert connection.scalar(text("SELECT count(*) FROM last_good")) == 1
        assert connection.scalar(text("SELECT replies FROM kpi_post_snapshots")) == 4
        assert connection.scalar(text("SELECT count(*) FROM kpi_repliers")) == 1
        assert inspect(connection).has_table("schema_version")  # left for the previous release to read
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert [d for d in differences if not (d[0] == "remove_table" and d[1].name == "schema_version")] == []
    database.engine.dispose()


def test_a_numbered_schema_this_release_does_not_know_is_refused_with_one_line(fresh):
    database = fresh()
    with database.engine.begin() as connection:
        connection.execute(text("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at TIMESTAMP)"))
        connection.execute(text("INSERT INTO schema_version VALUES (9, CURRENT_TIMESTAMP)"))
    with pytest.raises(SchemaError, match="schema_version 9"):
        database.upgrade()


def test_a_failing_upgrade_is_logged_at_error_and_stops_start_up_with_one_line(tmp_path):
    # A file where the database should be a folder: the upgrade cannot even open it.
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    env = {"PRAATMEE_DATABASE_URL": f"sqlite:///{blocker}/praatmee.sqlite", "PRAATMEE_DEMO": "1",
           "PRAATMEE_INSTANCE_PATH": str(tmp_path / "instance"), "PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "praatmee_site", "db", "upgrade"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("praatmee: could not upgrade the database schema: NotADirectoryError")
    assert "Traceback" not in last and len(last) < 300
    # The log (Python's last-resort handler here, the journal in production) has the whole story.
    assert result.stderr.count("could not upgrade the database schema") == 2
    assert "raced" not in result.stderr and "retrying" not in result.stderr


def test_the_cli_names_the_revision(runner):
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0
    assert result.output.strip() == f"Schema is at revision {head()}."
