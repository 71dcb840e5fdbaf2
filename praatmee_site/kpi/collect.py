"""KPI collection: the city account's public counts, read through `MastodonClient` into daily snapshots.

Idempotent, within the rate limit (it leaves a reserve for the residents' pages), continuing where a
stopped run left off; every run is recorded. No Flask in this module.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Iterable, Sequence

from sqlalchemy import case, select, update

from ..db import Database, KpiContext, KpiPostSnapshot, KpiReplier, KpiReply, KpiRun, upsert, utcnow
from ..mastodon import Account, MastodonClient, MastodonError, NotFound, Status
from .figures import (
    ANSWER_WITHIN,
    DEFAULT_PERIOD_DAYS,
    _start_of,
    _utc,
    account_key,
    asks_question,
    default_period,
    first_words,
    is_post,
    local_day,
    reply_key,
)

log = logging.getLogger(__name__)

# Mastodon's maximum page size for account statuses.
PAGE_SIZE = 40
# The rate limit (300 calls per 5 minutes by default) is per client IP and shared with the resident
# pages: stop collecting while this many calls are left, so the pages keep working.
DEFAULT_RESERVE = 100
# A safety net against a server that ignores max_id: 100 pages are 4000 posts.
MAX_PAGES = 100
# "Nu bijwerken" may start a collection at most this often.
MIN_INTERVAL = timedelta(minutes=10)
# A city answer deeper in a thread does not move its first post's replies_count: a thread with a
# resident's reply still unanswered and younger than this is read again (answered in time, or not).
WATCH_UNANSWERED = ANSWER_WITHIN + timedelta(days=1)

# Why a collection stopped early (`CollectionResult.stop_reason`); MastodonError kinds are used as-is
# ("rate_limited" after a 429, "timeout", "unavailable", "bad_response").
RATE_LIMIT_LOW = "rate_limit_low"
ACCOUNT_NOT_FOUND = "account_not_found"
UNREACHABLE = frozenset({"timeout", "unavailable", "bad_response"})

# --- collection --------------------------------------------------------------------------------

@dataclass(frozen=True)
class CollectionResult:
    day: date
    posts_seen: int = 0  # posts in the period plus campaign threads whose counts were stored now
    pages: int = 0  # pages of the account's statuses read
    campaign_threads: int = 0  # campaign threads stored (those in the period are counted once, above)
    missing_threads: tuple[str, ...] = ()  # campaign thread ids the server does not show (deleted, private)
    contexts_fetched: int = 0
    contexts_skipped: int = 0  # replies_count unchanged since the thread's repliers were last read
    contexts_pending: int = 0  # left for the next run because this one stopped early
    requests: int = 0
    stop_reason: str | None = None
    rate_limit_remaining: int | None = None

    @property
    def stopped_early(self) -> bool:
        return self.stop_reason is not None

    @property
    def unreachable(self) -> bool:
        return self.stop_reason in UNREACHABLE


class _Stop(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass
class _Progress:
    posts_seen: int = 0
    pages: int = 0
    campaign_threads: int = 0
    missing_threads: list[str] = field(default_factory=list)
    contexts_fetched: int = 0
    contexts_skipped: int = 0
    contexts_pending: int = 0


def collect(database: Database, client: MastodonClient, *, account: str, today: date,
            period_days: int = DEFAULT_PERIOD_DAYS, campaign_threads: Iterable[str] = (), secret: str | bytes,
            reserve: int = DEFAULT_RESERVE, now: datetime | None = None) -> CollectionResult:
    """Store today's counts of the account's posts in the period and of the campaign threads.

    Safe to run as often as you like: a day has one row per post (updated, never duplicated), and a
    thread's context is read only when its replies_count differs from when its repliers were last
    read. Never raises for an upstream fault: it stops, says why in the result, and the next run
    continues.
    """
    if not secret:
        raise ValueError("collect needs the app's secret key to make account keys")
    now = now or utcnow()
    wanted_threads = list(dict.fromkeys(t for t in campaign_threads if t))
    progress = _Progress()
    requests_before = client.requests_made
    run_id = _start_run(database, now)
    stop_reason = None
    try:
        _collect(database, client, progress, account=account, today=today, period_days=period_days,
                 campaign_threads=wanted_threads, secret=secret, reserve=reserve, now=now)
    except _Stop as stop:
        stop_reason = stop.reason
    except NotFound:
        stop_reason = ACCOUNT_NOT_FOUND  # the only call whose 404 is not handled where it happens
    except MastodonError as error:  # RateLimited included: its kind is "rate_limited"
        stop_reason = error.kind
    if stop_reason:
        log.info("kpi collection stopped early: %s", stop_reason)
    result = CollectionResult(
        day=today, posts_seen=progress.posts_seen, pages=progress.pages,
        campaign_threads=progress.campaign_threads, missing_threads=tuple(progress.missing_threads),
        contexts_fetched=progress.contexts_fetched, contexts_skipped=progress.contexts_skipped,
        contexts_pending=progress.contexts_pending, requests=client.requests_made - requests_before,
        stop_reason=stop_reason, rate_limit_remaining=client.rate_limit_remaining,
    )
    _finish_run(database, run_id, result)
    return result


def _collect(database: Database, client: MastodonClient, progress: _Progress, *, account: str, today: date,
             period_days: int, campaign_threads: list[str], secret: str | bytes, reserve: int,
             now: datetime) -> None:
    def budget() -> None:
        remaining = client.rate_limit_remaining
        if remaining is not None and remaining <= reserve:
            raise _Stop(RATE_LIMIT_LOW)

    since = _start_of(default_period(today, period_days)[0])
    campaign_ids = set(campaign_threads)
    budget()
    city = client.lookup_account(account, fresh=True).value
    seen: dict[str, Status] = {}

    # 1. The account's posts, newest first, back to the start of the period.
    max_id = None
    for _ in range(MAX_PAGES):
        budget()
        page = client.account_statuses(city.id, exclude_replies=True, limit=PAGE_SIZE, max_id=max_id,
                                       fresh=True).value
        progress.pages += 1
        posts = [s for s in page if is_post(s, city) and s.created_at >= since]
        _store_snapshots(database, posts, today, campaign_ids)
        for status in posts:
            seen[status.id] = status
        progress.posts_seen = len(seen)
        if not page or min(s.created_at for s in page) < since or page[-1].id == max_id:
            break
        max_id = page[-1].id

    # 2. Campaign threads outside the period (or not the city's own posts): one status call each.
    for thread_id in campaign_threads:
        if thread_id in seen:
            continue
        budget()
        try:
            status = client.status(thread_id, fresh=True).value
        except NotFound:
            progress.missing_threads.append(thread_id)
            continue
        if not status.is_public or status.is_reblog:
            progress.missing_threads.append(thread_id)
            continue
        _store_snapshots(database, [status], today, campaign_ids)
        seen[status.id] = status
        progress.campaign_threads += 1
        progress.posts_seen = len(seen)

    # 3. Who replied: only threads whose replies_count moved since we last read them, or that still
    # wait for a city answer to a recent reply (see WATCH_UNANSWERED), newest first.
    read = _replies_read(database, list(seen))
    waiting = _awaiting_answer(database, list(seen), now - WATCH_UNANSWERED)
    todo = sorted((s for s in seen.values() if s.replies_count != read.get(s.id, 0) or s.id in waiting),
                  key=lambda s: s.created_at, reverse=True)
    progress.contexts_skipped = len(seen) - len(todo)
    progress.contexts_pending = len(todo)
    for status in todo:
        budget()
        try:
            descendants = client.context(status.id, fresh=True).value
        except NotFound:  # deleted between the two calls: nothing to read
            descendants = ()
        _store_repliers(database, status.id, descendants, city, secret)
        _store_replies(database, status.id, descendants, city, secret)
        _mark_read(database, status.id, status.replies_count, now)
        progress.contexts_fetched += 1
        progress.contexts_pending -= 1


def _insert(database: Database):
    return lambda table: upsert(database.engine.dialect.name, table)


def _store_snapshots(database: Database, statuses: Sequence[Status], day: date, campaign_ids: set[str]) -> None:
    if not statuses:
        return
    table = KpiPostSnapshot.__table__
    rows = [dict(
        day=day, status_id=s.id, posted_at=_utc(s.created_at), url=s.url, first_words=first_words(s),
        replies=s.replies_count,
        favourites=s.favourites_count, reblogs=s.reblogs_count, has_poll=s.poll is not None,
        has_question=asks_question(s.content), is_campaign_thread=s.id in campaign_ids,
    ) for s in statuses]
    statement = _insert(database)(table)
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.day, table.c.status_id],
        set_={name: statement.excluded[name] for name in (
            "posted_at", "url", "first_words", "replies", "favourites", "reblogs", "has_poll", "has_question",
            "is_campaign_thread")},
    )
    with database.engine.begin() as connection:
        connection.execute(statement, rows)


def _store_repliers(database: Database, thread_id: str, descendants: Sequence[Status], city: Account,
                    secret: str | bytes) -> None:
    """Each account that publicly answered in the thread (the city itself excepted), by key only."""
    first: dict[str, date] = {}
    for reply in descendants:
        if not reply.is_public or reply.is_reblog or reply.account.id == city.id:
            continue
        key = account_key(reply.account.acct, secret)
        day = local_day(reply.created_at)
        first[key] = min(day, first.get(key, day))
    if not first:
        return
    table = KpiReplier.__table__
    statement = _insert(database)(table)
    earlier = statement.excluded.first_seen < table.c.first_seen
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.thread_id, table.c.account_key],
        set_={"first_seen": case((earlier, statement.excluded.first_seen), else_=table.c.first_seen)},
    )
    with database.engine.begin() as connection:
        connection.execute(statement, [dict(thread_id=thread_id, account_key=k, first_seen=d)
                                       for k, d in first.items()])


def _store_replies(database: Database, thread_id: str, descendants: Sequence[Status], city: Account,
                   secret: str | bytes) -> None:
    """Each resident's public reply (by key) with the moment of the city account's first answer to it."""
    answers: dict[str, datetime] = {}
    for status in descendants:
        if status.account.id == city.id and status.in_reply_to_id and not status.is_reblog:
            moment = _utc(status.created_at)
            answers[status.in_reply_to_id] = min(moment, answers.get(status.in_reply_to_id, moment))
    rows = [dict(thread_id=thread_id, reply_key=reply_key(reply.id, secret), posted_at=_utc(reply.created_at),
                 answered_at=answers.get(reply.id))
            for reply in descendants
            if reply.is_public and not reply.is_reblog and reply.account.id != city.id]
    if not rows:
        return
    table = KpiReply.__table__
    statement = _insert(database)(table)
    new = statement.excluded.answered_at
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.thread_id, table.c.reply_key],
        # The earliest answer we ever saw stays, also when a later read no longer shows it.
        set_={"posted_at": statement.excluded.posted_at,
              "answered_at": case((table.c.answered_at.is_(None), new), (new.is_(None), table.c.answered_at),
                                  (new < table.c.answered_at, new), else_=table.c.answered_at)},
    )
    with database.engine.begin() as connection:
        connection.execute(statement, rows)


def _awaiting_answer(database: Database, thread_ids: list[str], since: datetime) -> set[str]:
    if not thread_ids:
        return set()
    with database.Session() as session:
        rows = session.scalars(select(KpiReply.thread_id).where(
            KpiReply.thread_id.in_(thread_ids), KpiReply.answered_at.is_(None), KpiReply.posted_at >= since))
        return set(rows)


def _replies_read(database: Database, status_ids: list[str]) -> dict[str, int]:
    if not status_ids:
        return {}
    with database.Session() as session:
        rows = session.execute(select(KpiContext.status_id, KpiContext.replies_read)
                               .where(KpiContext.status_id.in_(status_ids)))
        return {status_id: replies for status_id, replies in rows}


def _mark_read(database: Database, status_id: str, replies: int, now: datetime) -> None:
    table = KpiContext.__table__
    statement = _insert(database)(table).values(status_id=status_id, replies_read=replies, read_at=now)
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.status_id], set_={"replies_read": replies, "read_at": now})
    with database.engine.begin() as connection:
        connection.execute(statement)


# --- runs ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Run:
    started_at: datetime
    finished_at: datetime | None
    posts_seen: int
    contexts_fetched: int
    contexts_skipped: int
    stop_reason: str | None


def _start_run(database: Database, now: datetime) -> int:
    with database.Session.begin() as session:
        run = KpiRun(started_at=now)
        session.add(run)
        session.flush()
        return run.id


def _finish_run(database: Database, run_id: int, result: CollectionResult) -> None:
    with database.engine.begin() as connection:
        connection.execute(update(KpiRun).where(KpiRun.id == run_id).values(
            finished_at=utcnow(), posts_seen=result.posts_seen, contexts_fetched=result.contexts_fetched,
            contexts_skipped=result.contexts_skipped, stop_reason=result.stop_reason or ""))


def last_run(database: Database) -> Run | None:
    """The latest collection, for "bijgewerkt om …" on the dashboard."""
    with database.Session() as session:
        run = session.scalar(select(KpiRun).order_by(KpiRun.started_at.desc(), KpiRun.id.desc()).limit(1))
    if run is None:
        return None
    return Run(_utc(run.started_at), _utc(run.finished_at) if run.finished_at else None, run.posts_seen,
               run.contexts_fetched, run.contexts_skipped, run.stop_reason or None)


def seconds_until_allowed(database: Database, now: datetime, min_interval: timedelta = MIN_INTERVAL) -> int:
    """0 when "nu bijwerken" may start a collection now; else how many seconds to wait.

    Two clicks in the same instant may both run: harmless, a collection is idempotent.
    """
    run = last_run(database)
    if run is None:
        return 0
    wait = run.started_at + min_interval - now
    return max(0, int(wait.total_seconds() + 0.999))


