"""Where state lives: SQLAlchemy 2 engine, tables, and the Alembic revisions in `migrations/`.

SQLite in the instance folder by default, PostgreSQL by URL, one code path. `upgrade()` is
idempotent and safe to run from several workers and hosts at once (one lock); it runs at start-up
and from `flask db upgrade`. The models here are the schema's truth: a test checks that a fresh
upgrade yields exactly `Base.metadata`.
"""
from __future__ import annotations

import functools
import json
import logging
from contextlib import contextmanager
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Iterator

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    delete,
    event,
    inspect,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker

try:
    import fcntl
except ImportError:  # pragma: no cover - not on Linux or BSD
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)


class Base(DeclarativeBase):
    pass


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


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
    # "Stuur PRAATMEE BIEB": the campaign's own word by SMS or WhatsApp, upper case; None for none.
    keyword: Mapped[str | None] = mapped_column(String(20), nullable=True, unique=True, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ScanCount(Base):
    """Scans per campaign per day: one number, nothing about who scanned."""

    __tablename__ = "scan_counts"
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


class KeywordCount(Base):
    """Keyword messages (SMS, WhatsApp) per campaign per channel per day: one number, no phone number.

    `campaign_id` 0 is "algemeen": PRAATMEE without a campaign word, or with a word we do not know.
    No foreign key, because of that 0; campaigns are never deleted.
    """

    __tablename__ = "keyword_counts"
    campaign_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    channel: Mapped[str] = mapped_column(String(20), primary_key=True)
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


def record(session, actor: str, action: str, subject: str, detail: str = "") -> None:
    """Add an audit entry inside the caller's transaction, so a change and its record land together."""
    session.add(AuditEntry(at=utcnow(), actor=actor[:320], action=action[:60], subject=subject[:200],
                           detail=detail[:2000]))


class KpiPostSnapshot(Base):
    """A post's public counts on one day (Europe/Amsterdam): one row per post per day, upserted.

    Collecting twice a day updates that day's row; earlier days stay, so trends survive.
    """

    __tablename__ = "kpi_post_snapshots"
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    status_id: Mapped[str] = mapped_column(String(40), primary_key=True, index=True)
    posted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)  # UTC
    url: Mapped[str] = mapped_column(String(500), default="")
    # The post's first words (its content warning if it has one), so staff recognise it: see figures.first_words.
    first_words: Mapped[str] = mapped_column(String(120), default="", server_default="")
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


class ModerationHide(Base):
    """One reply, one account or one whole server hidden from our pages: what, why, by whom, when.

    `target` is the reply's status id on the home server, the account as user@domain, or the domain.
    Nothing of the reply itself (its text, the author's name) is kept: the URL says where it is.
    """

    __tablename__ = "moderation_hides"
    __table_args__ = (UniqueConstraint("kind", "target"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # post, account, domain
    target: Mapped[str] = mapped_column(String(320))
    url: Mapped[str] = mapped_column(String(500), default="")
    reason: Mapped[str] = mapped_column(String(500))
    rule_id: Mapped[str] = mapped_column(String(40), default="")  # the home server's rule; "" for own words
    staff: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ModerationApproval(Base):
    """A reply staff approved: it may be shown on kiosks (and, when held for a new account, anywhere)."""

    __tablename__ = "moderation_approvals"
    status_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    url: Mapped[str] = mapped_column(String(500), default="")
    staff: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ModerationState(Base):
    """One row whose `version` changes with every moderation action: every worker compares it."""

    __tablename__ = "moderation_state"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[str] = mapped_column(String(40))
class Outcome(Base):
    """What came of residents' input: one step of a campaign's or a thread's timeline (issue 16).

    It belongs to a campaign (`campaign_id`) or to a thread on the home server (`thread_url`), never
    both. `posted_*` is set once the city account replied with it in the thread; `publish_error` is
    the last failed attempt's code (cleared by a success), so staff see why and can retry.
    """

    __tablename__ = "outcomes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), nullable=True,
                                                    index=True)
    thread_url: Mapped[str] = mapped_column(String(500), default="")
    status: Mapped[str] = mapped_column(String(20))
    reason_nl: Mapped[str] = mapped_column(Text, default="")
    reason_en: Mapped[str] = mapped_column(Text, default="")
    title_nl: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200), default="")
    text_nl: Mapped[str] = mapped_column(Text)
    text_en: Mapped[str] = mapped_column(Text, default="")
    happened_on: Mapped[date] = mapped_column(Date, index=True)
    decision_url: Mapped[str] = mapped_column(String(500), default="")
    posted_url: Mapped[str] = mapped_column(String(500), default="")
    posted_status_id: Mapped[str] = mapped_column(String(40), default="")
    posted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    publish_error: Mapped[str] = mapped_column(String(40), default="")
    publish_attempted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class KpiReply(Base):
    """A resident's public reply in a collected thread, by key only: when it came, and when the city
    account first answered it. The key is HMAC-SHA256(secret key, status id): no handle, no text."""

    __tablename__ = "kpi_replies"
    thread_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    reply_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    posted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)  # UTC
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)  # UTC


MIGRATIONS = Path(__file__).parent / "migrations"
# The numbered migrations before Alembic, recorded in `schema_version`: a database that has them is
# stamped with the matching revision once, then upgraded like any other.
REVISION_OF_SCHEMA_VERSION = {1: "0001", 2: "0002", 3: "0003"}
_ADVISORY_LOCK = 74657201  # PostgreSQL: one upgrade at a time over every host


class SchemaError(RuntimeError):
    """The schema could not be brought up to date; the message is one line for the operator."""


@functools.cache
def _revisions() -> ScriptDirectory:
    """The revisions this release ships, read once per process (Alembic executes every revision file)."""
    return ScriptDirectory(str(MIGRATIONS))


def alembic_config(connection: Connection) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


class Database:
    """One engine and session factory per app (see `init_app`); usable without Flask."""

    def __init__(self, url: str) -> None:
        kwargs: dict[str, Any] = {}
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

    def upgrade(self) -> list[str]:
        """Apply pending revisions; returns the revisions applied now, oldest first.

        One upgrade at a time: PostgreSQL takes a transaction-level advisory lock (every host), a
        SQLite file an exclusive lock on a file beside it (every process on this machine). With
        the lock held there is no race left to retry, so any error is real: it is logged at ERROR
        and raised as `SchemaError`, which stops start-up with one line.
        """
        try:
            with self._file_lock(), self.engine.begin() as connection:
                if connection.dialect.name == "postgresql":
                    connection.execute(text(f"SELECT pg_advisory_xact_lock({_ADVISORY_LOCK})"))
                before = _current_revision(connection)
                if before is None:
                    before = self._adopt_numbered_schema(connection)
                if before == _revisions().get_current_head():
                    return []  # up to date: the usual start, without Alembic's environment
                config = alembic_config(connection)
                command.upgrade(config, "head")
                after = _current_revision(connection)
        except SchemaError:
            raise
        except Exception as exc:  # noqa: BLE001 - one line for the operator, the traceback in the log
            log.error("could not upgrade the database schema", exc_info=True)
            raise SchemaError(f"could not upgrade the database schema: {exc.__class__.__name__}: "
                              f"{str(exc).splitlines()[0] if str(exc) else ''}") from exc
        applied = [rev.revision for rev in _revisions().iterate_revisions(after, before)] if after != before else []
        return list(reversed(applied))

    def current_version(self) -> str | None:
        """The schema's Alembic revision, or None for an empty database. Raises when it cannot connect."""
        with self.engine.connect() as connection:
            return _current_revision(connection)

    def _adopt_numbered_schema(self, connection: Connection) -> str | None:
        """Stamp a database made before Alembic with the revision of its last numbered migration."""
        if not inspect(connection).has_table("schema_version"):
            return None
        version = connection.scalar(text("SELECT max(version) FROM schema_version"))
        if version is None:
            return None
        revision = REVISION_OF_SCHEMA_VERSION.get(int(version))
        if revision is None:
            raise SchemaError(f"the database is at schema_version {version}, which this release does not know: "
                              "install the release that made it, or a newer one")
        command.stamp(alembic_config(connection), revision)
        log.info("database made before Alembic (schema_version %s) stamped as revision %s", version, revision)
        return revision

    @contextmanager
    def _file_lock(self) -> Iterator[None]:
        database = self.engine.url.database if self.is_sqlite else None
        if not database or database == ":memory:" or fcntl is None:
            yield
            return
        with open(f"{database}.upgrade-lock", "a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


def _current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def upsert(dialect: str, table):
    """``INSERT … ON CONFLICT`` for ``table``: the one place where SQLite and PostgreSQL differ.

    Both spell the statement the same way (``.on_conflict_do_update(index_elements=…, set_=…)``);
    only the insert construct comes from the dialect. The database resolves the conflict, so there
    is no read-then-write race between workers.
    """
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # With WAL, NORMAL survives a crashed process; only a power cut may lose the last commits.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


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
        statement = upsert(self.database.engine.dialect.name, table).values(
            key=key, body=json.dumps(value), fetched_at=fetched_at)
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
