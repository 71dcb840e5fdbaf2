"""Moderation as stored: hide, show again, approve, withdraw, list; and the rules every worker holds.

Each action is one transaction: the change, its audit entry, and a new version in
`moderation_state`. A worker holds the rules in `CurrentRules` and asks the database whether the
version moved at most every `CHECK_SECONDS` (one row, by its primary key), so a hide reaches every
worker of every instance, and every copy keyed by the version, within that time. No Flask in this module.
"""
from __future__ import annotations

import logging
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import timezone

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from ..db import Database, ModerationApproval, ModerationHide, ModerationState, record, upsert, utcnow
from ..mastodon import Status
from .rules import Approval, Hide, Reason, Rules, Target, refuse

log = logging.getLogger(__name__)

CHECK_SECONDS = 0.25  # how often a worker asks whether the rules changed (one row by its key)
RETRY_SECONDS = 5.0  # after the database did not answer


def _utc(value):
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)  # SQLite drops the zone


def _hide(row: ModerationHide) -> Hide:
    return Hide(row.id, row.kind, row.target, row.url, row.reason, row.rule_id, row.staff, _utc(row.created_at))


def _approval(row: ModerationApproval) -> Approval:
    return Approval(row.status_id, row.url, row.staff, _utc(row.created_at))


@dataclass(frozen=True)
class Done:
    """What an action did: `changed` is False when it was already so (nothing written, nothing logged)."""

    changed: bool
    hide: Hide | None = None
    approval: Approval | None = None


class ModerationStore:
    def __init__(self, database: Database):
        self.database = database

    # -- reading ------------------------------------------------------------------------------
    def version(self) -> str:
        with self.database.engine.connect() as connection:
            value = connection.scalar(select(ModerationState.version).where(ModerationState.id == 1))
        return value or "0"

    def load(self) -> Rules:
        """The version first, then the decisions: a change in between makes the version look old,
        so the next check loads again (never new version, old decisions)."""
        version = self.version()
        with self.database.Session() as session:
            hides = tuple(_hide(r) for r in session.scalars(select(ModerationHide).order_by(ModerationHide.id)))
            approvals = tuple(_approval(r) for r in session.scalars(
                select(ModerationApproval).order_by(ModerationApproval.created_at)))
        return Rules(version, hides, approvals)

    def hides(self) -> list[Hide]:
        """Newest first: what staff see under "Verborgen"."""
        return sorted(self.load().hides, key=lambda hide: (hide.at, hide.id), reverse=True)

    # -- changing -----------------------------------------------------------------------------
    def _bump(self, session) -> None:
        table = ModerationState.__table__
        statement = upsert(self.database.engine.dialect.name, table).values(id=1, version=uuid.uuid4().hex)
        session.execute(statement.on_conflict_do_update(index_elements=[table.c.id],
                                                        set_={"version": statement.excluded.version}))

    def hide(self, target: Target, reason: Reason, *, staff: str) -> Done:
        try:
            return self._hide(target, reason, staff=staff)
        except IntegrityError:  # hidden by someone else at the same moment
            with self.database.Session() as session:
                existing = session.scalar(select(ModerationHide).where(
                    ModerationHide.kind == target.kind, ModerationHide.target == target.key))
                return Done(False, _hide(existing) if existing is not None else None)

    def _hide(self, target: Target, reason: Reason, *, staff: str) -> Done:
        with self.database.Session.begin() as session:
            existing = session.scalar(select(ModerationHide).where(
                ModerationHide.kind == target.kind, ModerationHide.target == target.key))
            if existing is not None:
                return Done(False, _hide(existing))
            row = ModerationHide(kind=target.kind, target=target.key, url=target.url[:500], reason=reason.text[:500],
                                 rule_id=reason.rule_id[:40], staff=staff[:320], created_at=utcnow())
            session.add(row)
            session.flush()
            record(session, staff, f"moderation.hide_{target.kind}", target.url or target.key,
                   f"{target.label}; reason: {reason.text}" + (f" (rule {reason.rule_id})" if reason.rule_id else ""))
            self._bump(session)
            return Done(True, _hide(row))

    def unhide(self, hide_id: int, *, staff: str) -> Done:
        with self.database.Session.begin() as session:
            row = session.get(ModerationHide, hide_id)
            if row is None:
                return Done(False)
            hide = _hide(row)
            session.delete(row)
            record(session, staff, f"moderation.unhide_{hide.kind}", hide.url or hide.target,
                   f"{hide.target}; was hidden by {hide.staff} on {hide.at.isoformat(timespec='minutes')}, "
                   f"reason: {hide.reason}")
            self._bump(session)
            return Done(True, hide)

    def unhide_target(self, kind: str, key: str, *, staff: str, label: str) -> Done:
        with self.database.Session() as session:
            hide_id = session.scalar(select(ModerationHide.id).where(ModerationHide.kind == kind,
                                                                     ModerationHide.target == key))
        if hide_id is None:
            raise refuse("domain" if kind == "domain" else "url", "not_hidden", value=label)
        return self.unhide(hide_id, staff=staff)

    def approve(self, status: Status, *, staff: str) -> Done:
        try:
            return self._approve(status, staff=staff)
        except IntegrityError:  # approved by someone else at the same moment
            return Done(False)

    def _approve(self, status: Status, *, staff: str) -> Done:
        with self.database.Session.begin() as session:
            existing = session.get(ModerationApproval, status.id)
            if existing is not None:
                return Done(False, approval=_approval(existing))
            row = ModerationApproval(status_id=status.id, url=status.url[:500], staff=staff[:320], created_at=utcnow())
            session.add(row)
            record(session, staff, "moderation.approve", status.url or status.id, "approved for kiosks")
            self._bump(session)
            return Done(True, approval=_approval(row))

    def withdraw_approval(self, status_id: str, *, staff: str) -> Done:
        with self.database.Session.begin() as session:
            row = session.get(ModerationApproval, status_id)
            if row is None:
                return Done(False)
            approval = _approval(row)
            session.execute(delete(ModerationApproval).where(ModerationApproval.status_id == status_id))
            record(session, staff, "moderation.withdraw_approval", approval.url or status_id,
                   f"approved by {approval.staff} on {approval.at.isoformat(timespec='minutes')}")
            self._bump(session)
            return Done(True, approval=approval)


class CurrentRules:
    """The rules as this worker holds them; `get()` is cheap and at most `seconds` behind the database.

    One thread at a time asks the database; the others meanwhile keep using what is held, so no
    page waits for it. When the database does not answer, the rules held stay in force (and it is
    asked again after `retry_seconds`); a worker that never read them shows no replies at all.
    """

    def __init__(self, store: ModerationStore, *, seconds: float = CHECK_SECONDS,
                 retry_seconds: float = RETRY_SECONDS, clock=time.monotonic):
        self.store = store
        self.seconds = seconds
        self.retry_seconds = retry_seconds
        self.clock = clock
        self._rules: Rules | None = None
        self._next_check = 0.0
        self._lock = threading.Lock()
        self._failing = False

    def get(self) -> Rules:
        rules = self._rules
        if rules is not None and self.clock() < self._next_check:
            return rules
        if not self._lock.acquire(blocking=rules is None):
            return rules  # another thread is asking; what we hold is at most a moment old
        try:
            if self._rules is None or self.clock() >= self._next_check:
                self._check()
            return self._rules if self._rules is not None else Rules.unknown()
        finally:
            self._lock.release()

    def version(self) -> str:
        return self.get().version

    def refresh(self) -> Rules:
        """Read now (after this worker changed something: its next page must show the change)."""
        with self._lock:
            self._next_check = 0.0
            self._check()
        return self._rules if self._rules is not None else Rules.unknown()

    def _check(self) -> None:
        try:
            if self._rules is None or self.store.version() != self._rules.version:
                self._rules = self.store.load()
        except Exception:  # noqa: BLE001 - pages keep the rules they have; the log says why
            if not self._failing:
                log.warning("could not read the moderation rules; keeping the ones held", exc_info=True)
            self._failing = True
            self._next_check = self.clock() + self.retry_seconds
            return
        if self._failing:
            log.info("the moderation rules can be read again")
        self._failing = False
        self._next_check = self.clock() + self.seconds


class NoModeration:
    """For a HomeServer built without a database (benchmarks, a bare client): nothing is hidden."""

    _rules = Rules("none")

    def get(self) -> Rules:
        return self._rules

    def version(self) -> str:
        return self._rules.version

    def refresh(self) -> Rules:
        return self._rules
