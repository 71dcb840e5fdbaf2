"""What only a real PostgreSQL can show: migrations racing for real, the scan upsert, aware timestamps.

Runs under `make test-pg` (PRAATMEE_TEST_DATABASE_URL names the throw-away cluster); skipped on SQLite,
where the rest of the suite covers the same code.
"""
from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest
from sqlalchemy import select

from praatmee_site import campaigns
from praatmee_site.db import MIGRATIONS, Database, SchemaVersion
from praatmee_site.staff_accounts import StaffDirectory, audit_log
from tests.conftest import HOME, POSTGRES_SCHEMAS, database_url

pytestmark = pytest.mark.skipif(POSTGRES_SCHEMAS is None, reason="needs PostgreSQL: run `make test-pg`")


@pytest.fixture
def fresh(tmp_path):
    databases = []

    def make(name: str = "db") -> Database:
        database = Database(database_url(tmp_path, name))
        databases.append(database)
        return database
    yield make
    for database in databases:
        database.engine.dispose()


def test_eight_instances_starting_at_once_apply_each_migration_exactly_once(fresh, caplog):
    caplog.set_level(logging.INFO, logger="praatmee_site.db")
    instances = [fresh("race") for _ in range(8)]  # eight engines, eight connections, one empty schema
    start = threading.Barrier(len(instances))

    def start_up(database: Database) -> list[int]:
        start.wait()
        return database.upgrade()

    with ThreadPoolExecutor(max_workers=len(instances)) as pool:
        applied = list(pool.map(start_up, instances))
    every = sorted(version for version, _migrate in MIGRATIONS)
    assert sorted(version for versions in applied for version in versions) == every
    assert applied.count([]) == 7  # the advisory lock made the others wait, then find nothing to do
    assert not [r for r in caplog.records if "raced" in r.getMessage()]  # no retry was needed
    with instances[0].Session() as session:
        assert list(session.scalars(select(SchemaVersion.version).order_by(SchemaVersion.version))) == every


def test_the_database_is_really_postgresql(fresh):
    database = fresh()
    database.upgrade()
    assert database.engine.dialect.name == "postgresql" and database.engine.dialect.driver == "psycopg"


def test_scans_from_many_connections_add_up_in_one_statement(fresh):
    database = fresh()
    database.upgrade()
    campaign = campaigns.create(database, "markt-oost", home_url=HOME, name="Markt Oost", place="evenement",
                                cta_nl="Praat mee over de markt")
    start = threading.Barrier(32)

    def scan(index: int) -> None:
        if index < 32:
            start.wait()
        campaigns.count_scan(database, campaign.id, date(2026, 11, 25))

    with ThreadPoolExecutor(max_workers=32) as pool:
        list(pool.map(scan, range(640)))
    assert campaigns.scans_per_day(database, campaign) == [(date(2026, 11, 25), 640)]


def test_timestamps_come_back_with_their_zone(fresh):
    database = fresh()
    database.upgrade()
    StaffDirectory(database).add("medewerker@amsterdam.nl", "een lang wachtwoord")
    [entry] = audit_log(database)
    assert entry.at.tzinfo is not None and entry.at.utcoffset() is not None

