"""Staff accounts and the audit log: who may use /beheer, and who changed what, when.

Passwords are hashed with scrypt (memory-hard, Werkzeug's default). Checking a password costs the
same for an unknown address, so a login form cannot tell which accounts exist. No Flask here.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from ..db import AuditEntry, Database, StaffAccount, record, utcnow
from .audit_sentences import CLI_ACTOR

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024  # scrypt of a megabyte would be a denial of service
HASH_METHOD = "scrypt"
_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]{1,255}\.[^@\s]{2,63}")
# Compared against when the address is unknown, so both paths do one scrypt.
_DUMMY_HASH = generate_password_hash("not a real password, only for timing", method=HASH_METHOD)


class StaffError(ValueError):
    """A rule was broken; `code` is for messages: bad_email, exists, unknown, short_password, long_password."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Staff:
    id: int
    email: str
    created_at: datetime
    last_login_at: datetime | None
    # Changes with the password: a session made before a new password stops working.
    password_stamp: str = ""
    # Unix time: sessions that started at or before it have ended (logging out moves it on).
    sessions_valid_since: float = 0.0


def normalise_email(email: str) -> str:
    email = (email or "").strip().lower()
    if not _EMAIL.fullmatch(email):
        raise StaffError("bad_email", f"{email!r} is not an email address.")
    return email


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise StaffError("short_password", f"The password needs at least {MIN_PASSWORD_LENGTH} characters.")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise StaffError("long_password", f"The password may have at most {MAX_PASSWORD_LENGTH} characters.")


def _staff(row: StaffAccount) -> Staff:
    stamp = hashlib.sha256(row.password_hash.encode()).hexdigest()[:16]
    return Staff(row.id, row.email, row.created_at, row.last_login_at, stamp, row.sessions_valid_since or 0.0)


class StaffDirectory:
    def __init__(self, database: Database):
        self.database = database

    def add(self, email: str, password: str, *, actor: str = CLI_ACTOR) -> Staff:
        email = normalise_email(email)
        check_password_rules(password)
        try:
            with self.database.Session.begin() as session:
                row = StaffAccount(email=email, password_hash=generate_password_hash(password, method=HASH_METHOD),
                                   created_at=utcnow())
                session.add(row)
                session.flush()
                record(session, actor, "staff.add", email)
                return _staff(row)
        except IntegrityError:
            raise StaffError("exists", f"There is already a staff account for {email}.") from None

    def list(self) -> list[Staff]:
        with self.database.Session() as session:
            return [_staff(r) for r in session.scalars(select(StaffAccount).order_by(StaffAccount.email))]

    def get(self, staff_id: int) -> Staff | None:
        with self.database.Session() as session:
            row = session.get(StaffAccount, staff_id)
            return _staff(row) if row else None

    def remove(self, email: str, *, actor: str = CLI_ACTOR) -> None:
        email = normalise_email(email)
        with self.database.Session.begin() as session:
            if session.execute(delete(StaffAccount).where(StaffAccount.email == email)).rowcount == 0:
                raise StaffError("unknown", f"There is no staff account for {email}.")
            record(session, actor, "staff.remove", email)

    def set_password(self, email: str, password: str, *, actor: str = CLI_ACTOR) -> None:
        email = normalise_email(email)
        check_password_rules(password)
        with self.database.Session.begin() as session:
            row = session.scalar(select(StaffAccount).where(StaffAccount.email == email))
            if row is None:
                raise StaffError("unknown", f"There is no staff account for {email}.")
            row.password_hash = generate_password_hash(password, method=HASH_METHOD)
            record(session, actor, "staff.password", email)

    def end_sessions(self, staff_id: int, *, started_until: float) -> None:
        """Sessions of this account that started at or before `started_until` stop working (never undone)."""
        with self.database.Session.begin() as session:
            session.execute(update(StaffAccount)
                            .where(StaffAccount.id == staff_id, StaffAccount.sessions_valid_since < started_until)
                            .values(sessions_valid_since=started_until))

    def authenticate(self, email: str, password: str) -> Staff | None:
        """The account for these credentials, or None — the same answer and cost for every failure."""
        try:
            email = normalise_email(email)
        except StaffError:
            email = ""
        password = (password or "")[:MAX_PASSWORD_LENGTH]
        with self.database.Session.begin() as session:
            row = session.scalar(select(StaffAccount).where(StaffAccount.email == email)) if email else None
            if row is None:
                check_password_hash(_DUMMY_HASH, password)
                return None
            if not check_password_hash(row.password_hash, password):
                return None
            row.last_login_at = utcnow()
            record(session, email, "staff.login", email)
            return _staff(row)


# --- the audit log ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Audit:
    at: datetime
    actor: str
    action: str
    subject: str
    detail: str


# `record(session, actor, action, subject, detail)`, imported above, adds an entry inside the caller's
# transaction, so a change and its record land together; it lives in `db` so that moderation, below
# this package, records its actions the same way. Every `action` needs a sentence in
# `audit_sentences.SENTENCES` (a test checks the code for it).


def log_action(database: Database, actor: str, action: str, subject: str, detail: str = "") -> None:
    """`record` in a transaction of its own, for changes made by a module that keeps no audit log itself."""
    with database.Session.begin() as session:
        record(session, actor, action, subject, detail)


def audit_log(database: Database, *, limit: int | None = 200) -> list[Audit]:
    """The newest entries first; `limit=None`: all of them (the export)."""
    with database.Session() as session:
        query = select(AuditEntry).order_by(AuditEntry.id.desc())
        rows = session.scalars(query if limit is None else query.limit(limit))
        return [Audit(r.at if r.at.tzinfo else r.at.replace(tzinfo=timezone.utc), r.actor, r.action, r.subject,
                      r.detail) for r in rows]
