"""Where state lives: SQLAlchemy 2 engine, tables and a small versioned migration list.

SQLite in the instance folder by default, PostgreSQL by URL, one code path. `upgrade()` is
idempotent and safe to run from several workers at once; it runs at start-up and from
`flask db upgrade`.
"""
from __future__ import annotations

import json
import logging
import time
from datetime import date, datetime, timezone
from typing import Any, Callable

from sqlalchemy import (Boolean, Date, DateTime, Float, ForeignKey, Integer, String, Text, create_engine, delete,
                        event, func, inspect, select, text)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker

log = logging.getLogger(__name__)


class Base(DeclarativeBase):
    pass


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class SchemaVersion(Base):
    __tablename__ = "schema_version"
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    applied_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class LastGood(Base):
    """The last good copy of an upstream answer, so a restart during an outage still has it."""

    __tablename__ = "last_good"
    key: Mapped[str] = mapped_column(String(500), primary_key=True)
    body: Mapped[str] = mapped_column(Text)
    fetched_at: Mapped[float] = mapped_column(Float)


class Campaign(Base):
    __tablename__ = "campaigns"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    place: Mapped[str] = mapped_column(String(20))
    cta_nl: Mapped[str] = mapped_column(String(300))
    cta_en: Mapped[str] = mapped_column(String(300), default="")
    thread_url: Mapped[str] = mapped_column(String(500), default="")
    invite_url: Mapped[str] = mapped_column(String(500), default="")
    input_text: Mapped[str] = mapped_column(Text, default="")
    starts_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    ends_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ScanCount(Base):
    """Scans per campaign per day: one number, nothing about who scanned."""

    __tablename__ = "scan_counts"
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


class StaffAccount(Base):
    __tablename__ = "staff_accounts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # Unix time: a staff session that started at or before it is over (logging out moves it on).
    sessions_valid_since: Mapped[float] = mapped_column(Float, default=0.0, server_default=text("0"))


class AuditEntry(Base):
    """Who changed what, when: staff actions and CLI changes, visible to staff."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    actor: Mapped[str] = mapped_column(String(320))
    action: Mapped[str] = mapped_column(String(60))
    subject: Mapped[str] = mapped_column(String(200))
    detail: Mapped[str] = mapped_column(Text, default="")


class KpiPostSnapshot(Base):
    """A post's public counts on one day (Europe/Amsterdam): one row per post per day, upserted.

    Collecting twice a day updates that day's row; earlier days stay, so trends survive.
    """

    __tablename__ = "kpi_post_snapshots"
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    status_id: Mapped[str] = mapped_column(String(40), primary_key=True, index=True)
    posted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)  # UTC
    url: Mapped[str] = mapped_column(String(500), default="")
    replies: Mapped[int] = mapped_column(Integer, default=0)
    favourites: Mapped[int] = mapped_column(Integer, default=0)
    reblogs: Mapped[int] = mapped_column(Integer, default=0)
    has_poll: Mapped[bool] = mapped_column(Boolean, default=False)
    has_question: Mapped[bool] = mapped_column(Boolean, default=False)
    is_campaign_thread: Mapped[bool] = mapped_column(Boolean, default=False)


class KpiReplier(Base):
    """An account that replied in a thread, pseudonymous: HMAC-SHA256(secret key, acct), never the handle."""

    __tablename__ = "kpi_repliers"
    thread_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    account_key: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)
    first_seen: Mapped[date] = mapped_column(Date)  # day of its earliest reply in the thread we saw


class KpiContext(Base):
    """The replies_count at which a thread's repliers were last read; unchanged means: skip it."""

    __tablename__ = "kpi_contexts"
    status_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    replies_read: Mapped[int] = mapped_column(Integer)
    read_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class KpiRun(Base):
    """One `kpi collect` (or "nu bijwerken"): when, how far it got, and why it stopped early if it did."""

    __tablename__ = "kpi_runs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    posts_seen: Mapped[int] = mapped_column(Integer, default=0)
    contexts_fetched: Mapped[int] = mapped_column(Integer, default=0)
    contexts_skipped: Mapped[int] = mapped_column(Integer, default=0)
    stop_reason: Mapped[str] = mapped_column(String(40), default="")


def _add_staff_sessions_valid_since(conn: Connection) -> None:
    # Migration 3 creates staff_accounts from the current model, so a fresh database has it already.
    if "sessions_valid_since" not in {column["name"] for column in inspect(conn).get_columns("staff_accounts")}:
        conn.execute(text("ALTER TABLE staff_accounts ADD COLUMN sessions_valid_since FLOAT NOT NULL DEFAULT 0"))


# Each migration is applied once, in order; append, never edit a released one.
MIGRATIONS: list[tuple[int, Callable[[Connection], None]]] = [
    (1, lambda conn: Base.metadata.create_all(
        conn, tables=[LastGood.__table__, Campaign.__table__, ScanCount.__table__])),
    (2, lambda conn: Base.metadata.create_all(conn, tables=[
        KpiPostSnapshot.__table__, KpiReplier.__table__, KpiContext.__table__, KpiRun.__table__])),
    (3, lambda conn: Base.metadata.create_all(conn, tables=[StaffAccount.__table__, AuditEntry.__table__])),
    (4, _add_staff_sessions_valid_since),
]


class Database:
    """One engine and session factory per app (see `init_app`); usable without Flask."""

    def __init__(self, url: str) -> None:
        kwargs: dict[str, Any] = {"future": True}
        if url.startswith("sqlite"):
            kwargs["connect_args"] = {"timeout": 30, "check_same_thread": False}
        else:
            kwargs.update(pool_pre_ping=True, pool_size=5, max_overflow=10)
        self.engine = create_engine(url, **kwargs)
        if url.startswith("sqlite"):
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self.Session = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.engine is not None and self.engine.dialect.name == "sqlite"

    def upgrade(self) -> list[int]:
        """Apply pending migrations; returns the versions applied now. Safe to race."""
        applied: list[int] = []
        for attempt in range(5):
            try:
                with self.engine.begin() as conn:
                    if conn.dialect.name == "postgresql":
                        conn.execute(text("SELECT pg_advisory_xact_lock(74657201)"))
                    SchemaVersion.__table__.create(conn, checkfirst=True)
                    done = set(conn.scalars(select(SchemaVersion.version)))
                    for version, migrate in sorted(MIGRATIONS, key=lambda m: m[0]):
                        if version not in done:
                            migrate(conn)
                            conn.execute(SchemaVersion.__table__.insert().values(version=version, applied_at=utcnow()))
                            applied.append(version)
                return applied
            except (IntegrityError, OperationalError, ProgrammingError) as exc:
                # Another worker got there first (or SQLite was busy): look again.
                log.info("schema upgrade raced, retrying: %s", exc.__class__.__name__)
                applied.clear()
                time.sleep(0.2 * (attempt + 1))
        raise RuntimeError("could not upgrade the database schema")

    def current_version(self) -> int:
        with self.engine.connect() as conn:
            try:
                return conn.scalar(select(func.max(SchemaVersion.version))) or 0
            except (OperationalError, ProgrammingError):
                return 0


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # With WAL, NORMAL survives a crashed process; only a power cut may lose the last commits.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def init_app(app) -> Database:
    """Bind a database to the app and bring its schema up to date (safe with many workers)."""
    database = Database(app.config["DATABASE_URL"])
    database.upgrade()
    app.extensions["praatmee_db"] = database
    return database


def current_db() -> Database:
    from flask import current_app
    return current_app.extensions["praatmee_db"]


class DatabaseLastGood:
    """The cache's persistent store: last good upstream JSON per key, shared by all workers."""

    def __init__(self, database: Database):
        self.database = database

    def load(self, key: str) -> tuple[Any, float] | None:
        try:
            with self.database.Session() as session:
                row = session.get(LastGood, key)
                return (json.loads(row.body), row.fetched_at) if row else None
        except Exception:  # noqa: BLE001 - the database is a fallback here, not a dependency
            log.warning("could not read the last good copy of %s", key, exc_info=True)
            return None

    def save(self, key: str, value: Any, fetched_at: float) -> None:
        # An upsert, not a read-then-write: workers and hosts saving the same key at once must not collide.
        table = LastGood.__table__
        insert = postgresql.insert if self.database.engine.dialect.name == "postgresql" else sqlite.insert
        statement = insert(table).values(key=key, body=json.dumps(value), fetched_at=fetched_at)
        statement = statement.on_conflict_do_update(index_elements=[table.c.key], set_={
            "body": statement.excluded.body, "fetched_at": statement.excluded.fetched_at})
        try:
            with self.database.engine.begin() as connection:
                connection.execute(statement)
        except Exception:  # noqa: BLE001
            log.warning("could not keep the last good copy of %s", key, exc_info=True)

    def forget_older_than(self, seconds: float, now: float) -> int:
        """Drop copies nobody refreshed for a while: threads no longer shown, with their replies."""
        try:
            with self.database.engine.begin() as connection:
                return connection.execute(delete(LastGood).where(LastGood.fetched_at < now - seconds)).rowcount
        except Exception:  # noqa: BLE001
            log.warning("could not forget old copies", exc_info=True)
            return 0
