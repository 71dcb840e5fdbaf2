"""CSV and JSON exports of the KPIs and the scans: counts only, never an account.

Two CSV flavours. `EXCEL_NL` (the default) opens with a double-click in Excel set to Dutch: UTF-8 with
a BOM (else Excel reads the bytes as Windows-1252), `;` between fields (Dutch Excel's list
separator, because the comma is its decimal sign), decimal commas, ISO dates (yyyy-mm-dd, which Excel
reads as dates) and "–" for a figure that does not exist (e.g. a ratio over zero likes). `RFC4180`
is for programs: comma, CRLF, UTF-8 without BOM, decimal points, an empty field for no figure.
No Flask in this module.
"""
from __future__ import annotations

import csv
import io
from datetime import date, datetime
from typing import Any, Iterable, Sequence

from ..clock import local_day, local_time
from .figures import AccountFigures, GroupFigures, PeriodFigures, PostFigures, ResponseFigures, ThreadFigures

EXCEL_NL = "excel-nl"
RFC4180 = "rfc4180"
FORMATS = (EXCEL_NL, RFC4180)
MEDIA_TYPES = {EXCEL_NL: "text/csv; charset=utf-8", RFC4180: "text/csv; charset=utf-8; header=present"}
DECIMALS = 4  # fractions are written with this many decimals at most
BOM = "\ufeff"
# A cell that starts with one of these is a formula to a spreadsheet (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _check(fmt: str) -> None:
    if fmt not in FORMATS:
        raise ValueError(f"unknown CSV format {fmt!r}: use one of {', '.join(FORMATS)}")


def _number(value: float | int | None, fmt: str) -> str:
    if value is None:
        return "–" if fmt == EXCEL_NL else ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    written = f"{value:.{DECIMALS}f}".rstrip("0").rstrip(".")
    return written.replace(".", ",") if fmt == EXCEL_NL else written


def _formula_safe(value: str, fmt: str) -> str:
    """A cell Excel shows as text: a leading =, +, -, @, tab or CR gets a quote first, so nothing runs."""
    if fmt == EXCEL_NL and value.startswith(_FORMULA_START):
        return "'" + value  # shown as text, never run
    return value


def _cell(value: Any, fmt: str) -> str:
    if value is None or isinstance(value, (int, float)):
        return _number(value, fmt)
    if isinstance(value, datetime):
        return local_time(value)
    if isinstance(value, date):
        return value.isoformat()
    return _formula_safe(str(value), fmt)


def write_csv(header: Sequence[str], rows: Iterable[Sequence[Any]], fmt: str = EXCEL_NL) -> bytes:
    """The one place that knows the two CSV flavours."""
    _check(fmt)
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=";" if fmt == EXCEL_NL else ",", quotechar='"',
                        quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_cell(value, fmt) for value in row])
    data = buffer.getvalue()
    return (BOM + data).encode("utf-8") if fmt == EXCEL_NL else data.encode("utf-8")


def read_csv(data: bytes, fmt: str = EXCEL_NL) -> list[dict[str, str]]:
    """Parse an export back (tests, and anyone checking a file): rows as dicts of strings."""
    _check(fmt)
    text = data.decode("utf-8-sig" if fmt == EXCEL_NL else "utf-8")
    return list(csv.DictReader(io.StringIO(text, newline=""), delimiter=";" if fmt == EXCEL_NL else ","))


# --- the exports ------------------------------------------------------------------------------------

POST_COLUMNS = ("posted_at", "url", "replies", "likes", "boosts", "replies_per_like", "poll", "question",
                "interaction", "campaign_thread", "accounts", "counted_on")


def posts_csv(period: PeriodFigures, fmt: str = EXCEL_NL) -> bytes:
    """One row per post of the period, newest first.

    Excel turns an 18-digit status id into 1,13E+17 (and loses digits when saved), so the Dutch Excel
    file identifies posts by their URL only; the RFC 4180 file has the id as its first column too.
    """
    header = (("status_id",) if fmt == RFC4180 else ()) + POST_COLUMNS
    rows = ([*((p.status_id,) if fmt == RFC4180 else ()), p.posted_at, p.url, p.replies, p.favourites,
             p.reblogs, p.reply_like_ratio, p.has_poll, p.has_question, p.interactive, p.is_campaign_thread,
             p.accounts, p.snapshot_day] for p in period.posts)
    return write_csv(header, rows, fmt)


ACCOUNT_COLUMNS = ("scope", "url", "from", "to", "threads", "distinct_accounts", "returning_accounts",
                   "returning_share", "new_accounts")


def accounts_csv(period: PeriodFigures, threads: Sequence[ThreadFigures] = (), fmt: str = EXCEL_NL) -> bytes:
    """Counts of accounts, never an account: a row for the period, then one per (campaign) thread.

    Period: `threads` is the number of posts; returning = replied in 2+ of them; new = first known reply
    in the period. Thread: returning = also replied in another thread; new = first known reply here;
    `from` is its post's day and `to` the day of its counts.
    """
    accounts = period.accounts
    rows: list[Sequence[Any]] = [("period", "", period.start, period.end, accounts.threads, accounts.distinct,
                                  accounts.returning, accounts.returning_share, accounts.new)]
    for thread in threads:
        rows.append(("thread", thread.post.url, local_day(thread.post.posted_at),
                     thread.post.snapshot_day, 1, thread.distinct_accounts, thread.returning_accounts,
                     thread.returning_share, thread.new_accounts))
    return write_csv(ACCOUNT_COLUMNS, rows, fmt)


LISTENING_COLUMNS = ("scope", "url", "from", "to", "resident_replies", "answered_within_3_days",
                     "share_answered_within_3_days", "answered", "median_hours_to_city_reply", "waiting",
                     "outcome", "outcome_in_thread", "days_to_first_outcome")


def _responses(responses: ResponseFigures) -> list[Any]:
    return [responses.replies, responses.answered_in_time, responses.share_in_time, responses.answered,
            responses.median_hours, responses.waiting]


def listening_csv(period: PeriodFigures, threads: Sequence[ThreadFigures] = (), fmt: str = EXCEL_NL) -> bytes:
    """"Is the city listening?": a row for the period (residents' replies posted in it, in any thread),
    then one per thread, with whether it has an outcome and how many days after its start the first came.

    `resident_replies` counts the replies that can be judged (answered, or 3 days old); `waiting` the
    younger ones still without an answer. The median is over answered replies, in hours.
    """
    rows: list[Sequence[Any]] = [("period", "", period.start, period.end, *_responses(period.responses),
                                  None, None, None)]
    for thread in threads:
        rows.append(("thread", thread.post.url, local_day(thread.post.posted_at), thread.post.snapshot_day,
                     *_responses(thread.responses), thread.has_outcome, thread.outcome_in_thread,
                     thread.days_to_first_outcome))
    return write_csv(LISTENING_COLUMNS, rows, fmt)


def new_accounts_csv(period: PeriodFigures, fmt: str = EXCEL_NL) -> bytes:
    """New accounts per ISO week of the period."""
    return write_csv(("week", "week_start", "new_accounts"),
                     ((w.week, w.starts_on, w.new_accounts) for w in period.accounts.new_per_week), fmt)


def scans_csv(rows: Iterable[tuple[str, date, int]], fmt: str = EXCEL_NL) -> bytes:
    """(campaign slug, day, count) rows, as the caller gives them."""
    return write_csv(("campaign", "day", "scans"), rows, fmt)


def keyword_messages_csv(rows: Iterable[tuple[str, date, str, int]], fmt: str = EXCEL_NL) -> bytes:
    """(campaign slug or "algemeen", day, channel, count) rows: keyword messages by SMS and WhatsApp."""
    return write_csv(("campaign", "day", "channel", "messages"), rows, fmt)


def filename(kind: str, start: date, end: date, fmt: str = EXCEL_NL) -> str:
    """e.g. praatmee-posts-2026-10-27-2026-11-25.csv (…-rfc4180.csv for the other flavour)."""
    _check(fmt)
    suffix = "" if fmt == EXCEL_NL else "-rfc4180"
    return f"praatmee-{kind}-{start.isoformat()}-{end.isoformat()}{suffix}.csv"


# --- JSON -------------------------------------------------------------------------------------------

def _group(group: GroupFigures) -> dict:
    return {"posts": group.posts, "replies": group.replies, "likes": group.favourites, "boosts": group.reblogs,
            "replies_per_post": group.replies_per_post, "replies_per_like": group.reply_like_ratio,
            "boosts_per_post": group.reblogs_per_post}


def _post(post: PostFigures) -> dict:
    return {"status_id": post.status_id, "url": post.url, "posted_at": post.posted_at.isoformat(),
            "counted_on": post.snapshot_day.isoformat(), "replies": post.replies, "likes": post.favourites,
            "boosts": post.reblogs, "replies_per_like": post.reply_like_ratio, "poll": post.has_poll,
            "question": post.has_question, "interaction": post.interactive,
            "campaign_thread": post.is_campaign_thread, "accounts": post.accounts}


def _accounts(accounts: AccountFigures) -> dict:
    return {"threads": accounts.threads, "distinct": accounts.distinct, "returning": accounts.returning,
            "returning_share": accounts.returning_share, "new": accounts.new,
            "new_per_week": [{"week": w.week, "week_start": w.starts_on.isoformat(), "new_accounts": w.new_accounts}
                             for w in accounts.new_per_week]}


def _listening(responses: ResponseFigures) -> dict:
    return {"resident_replies": responses.replies, "answered_within_3_days": responses.answered_in_time,
            "share_answered_within_3_days": responses.share_in_time, "answered": responses.answered,
            "median_hours_to_city_reply": responses.median_hours, "waiting": responses.waiting}


def as_json(period: PeriodFigures, threads: Sequence[ThreadFigures] = (),
            scans: Iterable[tuple[str, date, int]] = (),
            keyword_messages: Iterable[tuple[str, date, str, int]] = ()) -> dict:
    """The same figures as the CSV files, as plain JSON types (no figure is null-ed into 0)."""
    return {
        "period": {"start": period.start.isoformat(), "end": period.end.isoformat()},
        "totals": _group(period.totals),
        "interaction": _group(period.interaction),
        "information": _group(period.information),
        "accounts": _accounts(period.accounts),
        "listening": _listening(period.responses),
        "posts": [_post(p) for p in period.posts],
        "threads": [{**_post(t.post), "distinct_accounts": t.distinct_accounts,
                     "returning_accounts": t.returning_accounts, "returning_share": t.returning_share,
                     "new_accounts": t.new_accounts, "listening": _listening(t.responses),
                     "outcome": t.has_outcome, "outcome_in_thread": t.outcome_in_thread,
                     "days_to_first_outcome": t.days_to_first_outcome} for t in threads],
        "scans": [{"campaign": slug, "day": day.isoformat(), "scans": count} for slug, day, count in scans],
        "keyword_messages": [{"campaign": name, "day": day.isoformat(), "channel": channel, "messages": count}
                             for name, day, channel, count in keyword_messages],
    }
