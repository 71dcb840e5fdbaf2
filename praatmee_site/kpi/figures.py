"""The presentation's KPIs for meaningful interaction, computed from the stored snapshots.

What a post is (a question, a poll, the city's own), the city's days and periods, and the
`*_figures` functions: replies per post, the reply/like ratio, boosts, distinct/returning/new accounts
and interaction vs information. `collect` fills the snapshots. Accounts are kept only as an HMAC of
their handle (see `account_key`). No Flask in this module.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from html.parser import HTMLParser
from typing import Iterable, Mapping, Protocol, Sequence

from sqlalchemy import func, select

from .. import clock
from ..clock import TIMEZONE  # the city's days, as for scans and campaign dates
from ..conversation.display import sanitize_html
from ..db import Database, KpiPostSnapshot, KpiReplier, KpiReply
from ..mastodon import Account, Status

log = logging.getLogger(__name__)

# Days are the city's days, as for scans (campaigns.TIMEZONE).
DEFAULT_PERIOD_DAYS = 30
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
    return clock.local_day(moment)


def today() -> date:
    return clock.today()


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


def reply_key(status_id: str, secret: str | bytes) -> str:
    """A resident's reply, by key only: HMAC-SHA256 of its status id (so its text and author are not kept)."""
    key = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(key, f"status:{status_id}".encode(), hashlib.sha256).hexdigest()


# --- computation: the figures --------------------------------------------------------------------

# "Is the city listening?": a resident's reply counts as answered in time when the city account
# replied to it within this long.
ANSWER_WITHIN = timedelta(days=3)


@dataclass(frozen=True)
class ReplyTimes:
    """A resident's reply in a thread: when it came and when the city account first answered it (UTC)."""

    thread_id: str
    posted_at: datetime
    answered_at: datetime | None


@dataclass(frozen=True)
class ResponseFigures:
    """Did the city answer? Over residents' replies (the city's own excepted).

    `replies` counts those that can be judged: answered, or at least ANSWER_WITHIN old. The younger
    ones without an answer are `waiting` and count in nothing yet. The median is over answered ones.
    """

    replies: int
    answered_in_time: int
    share_in_time: float | None  # answered_in_time / replies
    answered: int
    median_hours: float | None  # median time from a reply to the city's first answer to it, in hours
    waiting: int


def compute_responses(replies: Iterable[ReplyTimes], now: datetime) -> ResponseFigures:
    judged = in_time = waiting = 0
    delays: list[float] = []
    for reply in replies:
        if reply.answered_at is None:
            if now - reply.posted_at < ANSWER_WITHIN:
                waiting += 1
                continue
            judged += 1
            continue
        judged += 1
        delay = max(reply.answered_at - reply.posted_at, timedelta(0))
        delays.append(delay.total_seconds() / 3600)
        if delay <= ANSWER_WITHIN:
            in_time += 1
    return ResponseFigures(judged, in_time, ratio(in_time, judged), len(delays), _median(delays), waiting)


def _median(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2



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
    # Residents' replies posted in the period (in any collected thread) and the city's answers.
    responses: ResponseFigures = ResponseFigures(0, 0, None, 0, None, 0)


@dataclass(frozen=True)
class ThreadFigures:
    """One thread (a campaign's): its post's figures and who took part."""

    post: PostFigures
    distinct_accounts: int
    returning_accounts: int  # of those, accounts that also replied in another collected thread
    returning_share: float | None
    new_accounts: int  # accounts whose first known reply is in this thread (a tie on one day counts in both)
    responses: ResponseFigures = ResponseFigures(0, 0, None, 0, None, 0)
    has_outcome: bool = False  # an outcome of this thread is on our pages (/resultaten)
    outcome_in_thread: bool = False  # and one was posted in the thread by the city account
    days_to_first_outcome: int | None = None  # from the thread's first post to its first outcome's date


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
                   first_reply: Mapping[str, date], start: date, end: date, replies: Iterable[ReplyTimes] = (),
                   now: datetime | None = None) -> PeriodFigures:
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
        responses=compute_responses([r for r in replies if start <= local_day(r.posted_at) <= end],
                                    now or datetime.now(timezone.utc)),
    )


class FirstOutcome(Protocol):
    """What the outcomes know of a thread (outcomes.FirstOutcome): its first outcome's date, and
    whether an outcome was posted in it."""

    day: date
    posted: bool


def compute_threads(snapshots: Iterable[Snapshot], repliers: Mapping[str, Mapping[str, date]],
                    first_reply: Mapping[str, date], replies: Iterable[ReplyTimes] = (),
                    outcomes: Mapping[str, FirstOutcome] | None = None,
                    now: datetime | None = None) -> list[ThreadFigures]:
    """Per thread: `repliers` must hold every collected thread, so "returning" can look beyond this one.

    `replies` are the residents' replies with the city's answers; `outcomes` maps a thread's status id
    to its first outcome (given by the caller: outcomes live above this package).
    """
    now = now or datetime.now(timezone.utc)
    outcomes = outcomes or {}
    replies_of: dict[str, list[ReplyTimes]] = defaultdict(list)
    for reply in replies:
        replies_of[reply.thread_id].append(reply)
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
        first = outcomes.get(snapshot.status_id)
        figures.append(ThreadFigures(
            post, len(accounts), returning, ratio(returning, len(accounts)), new,
            responses=compute_responses(replies_of.get(snapshot.status_id, ()), now),
            has_outcome=first is not None, outcome_in_thread=bool(first and first.posted),
            days_to_first_outcome=(first.day - local_day(snapshot.posted_at)).days if first else None,
        ))
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


def _reply_times(database: Database, *, thread_ids: Sequence[str] | None = None, since: datetime | None = None,
                 until: datetime | None = None) -> list[ReplyTimes]:
    query = select(KpiReply.thread_id, KpiReply.posted_at, KpiReply.answered_at)
    if thread_ids is not None:
        query = query.where(KpiReply.thread_id.in_(list(thread_ids)))
    if since is not None:
        query = query.where(KpiReply.posted_at >= since)
    if until is not None:
        query = query.where(KpiReply.posted_at < until)
    with database.Session() as session:
        return [ReplyTimes(thread, _utc(posted), _utc(answered) if answered else None)
                for thread, posted, answered in session.execute(query)]


def period_figures(database: Database, start: date, end: date, *, now: datetime | None = None) -> PeriodFigures:
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
    replies = _reply_times(database, since=_start_of(start), until=_start_of(end + timedelta(days=1)))
    return compute_period(snapshots, repliers, _first_replies(database), start, end, replies, now)


def thread_figures(database: Database, status_ids: Sequence[str], *, until: date | None = None,
                   outcomes: Mapping[str, FirstOutcome] | None = None,
                   now: datetime | None = None) -> list[ThreadFigures]:
    """Figures per thread (e.g. the campaigns' threads), in the order given; unknown ids are left out."""
    wanted = list(dict.fromkeys(status_ids))
    if not wanted:
        return []
    with database.Session() as session:
        rows = session.scalars(select(KpiPostSnapshot).where(KpiPostSnapshot.status_id.in_(wanted))).all()
    snapshots = {s.status_id: s for s in _latest_snapshots(rows, until)}
    figures = compute_threads([snapshots[i] for i in wanted if i in snapshots], _repliers(database, None),
                              _first_replies(database), _reply_times(database, thread_ids=wanted), outcomes, now)
    return figures
