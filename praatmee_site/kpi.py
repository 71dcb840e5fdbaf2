"""The presentation's KPIs for meaningful interaction: collected from the public API, computed from snapshots.

`collect` reads the city account's public counts through `MastodonClient` into daily snapshots
(idempotent, within the rate limit, continuing where a stopped run left off); the `*_figures`
functions compute replies per post, the reply/like ratio, boosts, distinct/returning/new accounts and
interaction vs information from what is stored. Accounts are kept only as an HMAC of their handle
(see `account_key`). No Flask in this module.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from html.parser import HTMLParser
from typing import Iterable, Mapping, Sequence

from sqlalchemy import case, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from . import campaigns
from .campaigns import TIMEZONE  # the city's days, as for scans and campaign dates
from .content import sanitize_html
from .db import Database, KpiContext, KpiPostSnapshot, KpiReplier, KpiRun, utcnow
from .mastodon import Account, MastodonClient, MastodonError, NotFound, Status

log = logging.getLogger(__name__)

# Days are the city's days, as for scans (campaigns.TIMEZONE).
DEFAULT_PERIOD_DAYS = 30
# Mastodon's maximum page size for account statuses.
PAGE_SIZE = 40
# The rate limit (300 calls per 5 minutes by default) is per client IP and shared with the resident
# pages: stop collecting while this many calls are left, so the pages keep working.
DEFAULT_RESERVE = 100
# A safety net against a server that ignores max_id: 100 pages are 4000 posts.
MAX_PAGES = 100
# "Nu bijwerken" may start a collection at most this often.
MIN_INTERVAL = timedelta(minutes=10)

# Why a collection stopped early (`CollectionResult.stop_reason`); MastodonError kinds are used as-is
# ("rate_limited" after a 429, "timeout", "unavailable", "bad_response").
RATE_LIMIT_LOW = "rate_limit_low"
ACCOUNT_NOT_FOUND = "account_not_found"
UNREACHABLE = frozenset({"timeout", "unavailable", "bad_response"})

# "?" in any script the city might write in: ASCII, fullwidth (CJK), Arabic.
QUESTION_MARKS = ("?", "\uff1f", "\u061f")


# --- what a post is ----------------------------------------------------------------------------

class _TextOutsideLinks(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.in_link = 0

    def handle_starttag(self, tag, attrs) -> None:
        if tag == "a":
            self.in_link += 1

    def handle_endtag(self, tag) -> None:
        if tag == "a" and self.in_link:
            self.in_link -= 1

    def handle_data(self, data) -> None:
        if not self.in_link:
            self.parts.append(data)


def plain_text(content_html: str) -> str:
    """The words of a post: its content sanitized (as on our pages), tags stripped, link texts left out.

    Links are left out because their text is a URL, mention or hashtag: "https://x.nl/?id=1" is not a
    question.
    """
    parser = _TextOutsideLinks()
    parser.feed(str(sanitize_html(content_html)))
    parser.close()
    return "".join(parser.parts)


def asks_question(content_html: str) -> bool:
    """The rule for "asks a question": a question mark in the post's own text (see `plain_text`).

    The content warning and image descriptions do not count.
    """
    text = plain_text(content_html)
    return any(mark in text for mark in QUESTION_MARKS)


def is_post(status: Status, account: Account) -> bool:
    """A post of the city: its own public or unlisted status that is not a boost and not a reply.

    Its answers in threads (also to itself) are part of a conversation, not new posts.
    """
    return (status.account.id == account.id and status.is_public and not status.is_reblog
            and status.in_reply_to_id is None)


def account_key(acct: str, secret: str | bytes) -> str:
    """A pseudonym for an account: HMAC-SHA256 of its acct (case-folded, without "@") under the secret key.

    The same account gives the same key, so accounts can be counted and recognised across threads;
    without the secret the handle cannot be recovered by hashing guesses. A new secret starts new keys.
    """
    key = secret.encode() if isinstance(secret, str) else secret
    normalized = acct.strip().lstrip("@").casefold()
    return hmac.new(key, normalized.encode(), hashlib.sha256).hexdigest()


def local_day(moment: datetime) -> date:
    return moment.astimezone(TIMEZONE).date()


def today() -> date:
    return campaigns.today()


def default_period(day: date, days: int = DEFAULT_PERIOD_DAYS) -> tuple[date, date]:
    """The last `days` days up to and including `day`."""
    if days < 1:
        raise ValueError("a period has at least one day")
    return day - timedelta(days=days - 1), day


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, TIMEZONE).astimezone(timezone.utc)


def _utc(moment: datetime) -> datetime:
    # SQLite hands timestamps back without their zone; they were stored as UTC.
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


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

    # 3. Who replied: only threads whose replies_count moved since we last read them, newest first.
    read = _replies_read(database, list(seen))
    todo = sorted((s for s in seen.values() if s.replies_count != read.get(s.id, 0)),
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
        _mark_read(database, status.id, status.replies_count, now)
        progress.contexts_fetched += 1
        progress.contexts_pending -= 1


def _insert(database: Database):
    return postgresql.insert if database.engine.dialect.name == "postgresql" else sqlite.insert


def _store_snapshots(database: Database, statuses: Sequence[Status], day: date, campaign_ids: set[str]) -> None:
    if not statuses:
        return
    table = KpiPostSnapshot.__table__
    rows = [dict(
        day=day, status_id=s.id, posted_at=_utc(s.created_at), url=s.url, replies=s.replies_count,
        favourites=s.favourites_count, reblogs=s.reblogs_count, has_poll=s.poll is not None,
        has_question=asks_question(s.content), is_campaign_thread=s.id in campaign_ids,
    ) for s in statuses]
    statement = _insert(database)(table)
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.day, table.c.status_id],
        set_={name: statement.excluded[name] for name in (
            "posted_at", "url", "replies", "favourites", "reblogs", "has_poll", "has_question",
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


# --- computation: the figures --------------------------------------------------------------------

def ratio(numerator: float, denominator: float) -> float | None:
    """numerator / denominator, or None when the denominator is 0 (shown as "–", never as 0 or ∞)."""
    return numerator / denominator if denominator else None


def format_number(value: float | int | None, decimals: int = 2, *, decimal_comma: bool = True) -> str:
    """How a figure reads on the dashboard and in charts: None is "–"; Dutch uses a decimal comma."""
    if value is None:
        return "–"
    text = f"{value:.{decimals}f}" if decimals else str(round(value))
    return text.replace(".", ",") if decimal_comma else text


@dataclass(frozen=True)
class Snapshot:
    """A post's stored counts on one day (a row of kpi_post_snapshots)."""

    status_id: str
    url: str
    posted_at: datetime
    day: date
    replies: int
    favourites: int
    reblogs: int
    has_poll: bool
    has_question: bool
    is_campaign_thread: bool


@dataclass(frozen=True)
class PostFigures:
    status_id: str
    url: str
    posted_at: datetime  # UTC
    snapshot_day: date  # the day these counts are from
    replies: int  # direct replies (Mastodon's replies_count)
    favourites: int  # likes
    reblogs: int  # boosts
    has_poll: bool
    has_question: bool
    is_campaign_thread: bool
    accounts: int  # distinct accounts that replied anywhere in the thread (the city excepted)

    @property
    def interactive(self) -> bool:
        """Interaction (a poll or a question) rather than information."""
        return self.has_poll or self.has_question

    @property
    def reply_like_ratio(self) -> float | None:
        return ratio(self.replies, self.favourites)


@dataclass(frozen=True)
class GroupFigures:
    """Totals and averages over a group of posts; `posts` is n, so nobody over-reads a small sample."""

    posts: int
    replies: int
    favourites: int
    reblogs: int
    replies_per_post: float | None  # replies / posts
    reply_like_ratio: float | None  # replies / favourites, over the group's totals
    reblogs_per_post: float | None  # reblogs / posts


@dataclass(frozen=True)
class WeekFigures:
    week: str  # ISO week, e.g. "2026-W45"
    starts_on: date  # its Monday
    new_accounts: int


@dataclass(frozen=True)
class AccountFigures:
    threads: int  # the posts of the period
    distinct: int  # accounts that replied in at least one of them
    returning: int  # accounts that replied in two or more of them
    returning_share: float | None  # returning / distinct
    new_per_week: tuple[WeekFigures, ...]  # accounts whose first known reply falls in the week

    @property
    def new(self) -> int:
        return sum(week.new_accounts for week in self.new_per_week)


@dataclass(frozen=True)
class PeriodFigures:
    start: date
    end: date
    posts: tuple[PostFigures, ...]  # newest first
    totals: GroupFigures
    interaction: GroupFigures  # posts with a poll or a question
    information: GroupFigures  # the rest
    accounts: AccountFigures


@dataclass(frozen=True)
class ThreadFigures:
    """One thread (a campaign's): its post's figures and who took part."""

    post: PostFigures
    distinct_accounts: int
    returning_accounts: int  # of those, accounts that also replied in another collected thread
    returning_share: float | None
    new_accounts: int  # accounts whose first known reply is in this thread (a tie on one day counts in both)


def group_figures(posts: Sequence[PostFigures]) -> GroupFigures:
    replies = sum(p.replies for p in posts)
    favourites = sum(p.favourites for p in posts)
    reblogs = sum(p.reblogs for p in posts)
    return GroupFigures(len(posts), replies, favourites, reblogs, ratio(replies, len(posts)),
                        ratio(replies, favourites), ratio(reblogs, len(posts)))


def iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def new_per_week(first_reply: Mapping[str, date], start: date, end: date) -> tuple[WeekFigures, ...]:
    """Every ISO week that overlaps the period, with the accounts whose first known reply is in it.

    Only first replies within the period count, so the first and last week may be partial.
    """
    counts: dict[date, int] = defaultdict(int)
    for day in first_reply.values():
        if start <= day <= end:
            counts[day - timedelta(days=day.weekday())] += 1
    weeks = []
    monday = start - timedelta(days=start.weekday())
    while monday <= end:
        weeks.append(WeekFigures(iso_week(monday), monday, counts.get(monday, 0)))
        monday += timedelta(days=7)
    return tuple(weeks)


def compute_period(snapshots: Iterable[Snapshot], repliers: Mapping[str, Mapping[str, date]],
                   first_reply: Mapping[str, date], start: date, end: date) -> PeriodFigures:
    """The period's figures from plain data (no database): see `period_figures` for what goes in.

    `snapshots`: the chosen snapshot of each post posted in the period; `repliers`: thread id →
    {account key: first_seen}; `first_reply`: account key → its first known reply over all threads.
    """
    posts = tuple(sorted((_post_figures(s, repliers) for s in snapshots),
                         key=lambda p: (p.posted_at, p.status_id), reverse=True))
    threads_of: dict[str, int] = defaultdict(int)
    for post in posts:
        for key in repliers.get(post.status_id, {}):
            threads_of[key] += 1
    distinct = len(threads_of)
    returning = sum(1 for n in threads_of.values() if n >= 2)
    accounts = AccountFigures(len(posts), distinct, returning, ratio(returning, distinct),
                              new_per_week(first_reply, start, end))
    return PeriodFigures(
        start=start, end=end, posts=posts, totals=group_figures(posts),
        interaction=group_figures([p for p in posts if p.interactive]),
        information=group_figures([p for p in posts if not p.interactive]),
        accounts=accounts,
    )


def compute_threads(snapshots: Iterable[Snapshot], repliers: Mapping[str, Mapping[str, date]],
                    first_reply: Mapping[str, date]) -> list[ThreadFigures]:
    """Per thread: `repliers` must hold every collected thread, so "returning" can look beyond this one."""
    threads_of: dict[str, int] = defaultdict(int)
    for accounts in repliers.values():
        for key in accounts:
            threads_of[key] += 1
    figures = []
    for snapshot in snapshots:
        post = _post_figures(snapshot, repliers)
        accounts = repliers.get(snapshot.status_id, {})
        returning = sum(1 for key in accounts if threads_of[key] >= 2)
        new = sum(1 for key, day in accounts.items() if first_reply.get(key) == day)
        figures.append(ThreadFigures(post, len(accounts), returning, ratio(returning, len(accounts)), new))
    return figures


def _post_figures(snapshot: Snapshot, repliers: Mapping[str, Mapping[str, date]]) -> PostFigures:
    return PostFigures(
        status_id=snapshot.status_id, url=snapshot.url, posted_at=snapshot.posted_at,
        snapshot_day=snapshot.day, replies=snapshot.replies, favourites=snapshot.favourites,
        reblogs=snapshot.reblogs, has_poll=snapshot.has_poll, has_question=snapshot.has_question,
        is_campaign_thread=snapshot.is_campaign_thread, accounts=len(repliers.get(snapshot.status_id, {})),
    )


# --- computation: reading what is stored -------------------------------------------------------

def _latest_snapshots(rows: Iterable[KpiPostSnapshot], until: date | None) -> list[Snapshot]:
    """Per post: its newest snapshot up to `until` (the counts as they were at the period's end);
    a post first collected after that day gets its oldest snapshot instead."""
    def preference(row: KpiPostSnapshot) -> tuple[int, int]:  # smaller is better
        if until is None or row.day <= until:
            return (0, -row.day.toordinal())
        return (1, row.day.toordinal())

    chosen: dict[str, KpiPostSnapshot] = {}
    for row in rows:
        current = chosen.get(row.status_id)
        if current is None or preference(row) < preference(current):
            chosen[row.status_id] = row
    return [Snapshot(r.status_id, r.url, _utc(r.posted_at), r.day, r.replies, r.favourites, r.reblogs,
                     r.has_poll, r.has_question, r.is_campaign_thread) for r in chosen.values()]


def _repliers(database: Database, thread_ids: Sequence[str] | None) -> dict[str, dict[str, date]]:
    query = select(KpiReplier.thread_id, KpiReplier.account_key, KpiReplier.first_seen)
    if thread_ids is not None:
        query = query.where(KpiReplier.thread_id.in_(list(thread_ids)))
    result: dict[str, dict[str, date]] = defaultdict(dict)
    with database.Session() as session:
        for thread_id, key, first_seen in session.execute(query):
            result[thread_id][key] = first_seen
    return dict(result)


def _first_replies(database: Database) -> dict[str, date]:
    with database.Session() as session:
        rows = session.execute(select(KpiReplier.account_key, func.min(KpiReplier.first_seen))
                               .group_by(KpiReplier.account_key))
        return {key: first for key, first in rows}


def period_figures(database: Database, start: date, end: date) -> PeriodFigures:
    """The figures for the posts posted from `start` to `end` (inclusive, Europe/Amsterdam days).

    Each post counts with its newest snapshot up to `end`, so a past period reads as it stood then.
    """
    if end < start:
        raise ValueError("the period ends before it starts")
    with database.Session() as session:
        rows = session.scalars(select(KpiPostSnapshot).where(
            KpiPostSnapshot.posted_at >= _start_of(start),
            KpiPostSnapshot.posted_at < _start_of(end + timedelta(days=1)))).all()
    snapshots = _latest_snapshots(rows, end)
    repliers = _repliers(database, [s.status_id for s in snapshots])
    return compute_period(snapshots, repliers, _first_replies(database), start, end)


def thread_figures(database: Database, status_ids: Sequence[str], *, until: date | None = None) -> list[ThreadFigures]:
    """Figures per thread (e.g. the campaigns' threads), in the order given; unknown ids are left out."""
    wanted = list(dict.fromkeys(status_ids))
    if not wanted:
        return []
    with database.Session() as session:
        rows = session.scalars(select(KpiPostSnapshot).where(KpiPostSnapshot.status_id.in_(wanted))).all()
    snapshots = {s.status_id: s for s in _latest_snapshots(rows, until)}
    figures = compute_threads([snapshots[i] for i in wanted if i in snapshots], _repliers(database, None),
                              _first_replies(database))
    return figures
