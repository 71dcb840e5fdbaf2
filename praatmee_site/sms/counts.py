"""Keyword messages counted like scans: one number per campaign (or "algemeen"), channel and day.

Nothing about who sent a message is stored: no number, no hash of one. No Flask in this module.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import bindparam, case, func, select

from ..db import Campaign, Database, KeywordCount, upsert

GENERAL = 0  # campaign_id of "algemeen": PRAATMEE alone, or with a word no running campaign has
GENERAL_NAME = "algemeen"  # how exports and the dashboard name it
CHANNELS = ("sms", "whatsapp")


_UPSERTS: dict[str, object] = {}


def _upsert(dialect: str):
    """INSERT … ON CONFLICT DO UPDATE SET count = count + 1, built once per dialect (bound parameters)."""
    if dialect not in _UPSERTS:
        table = KeywordCount.__table__
        _UPSERTS[dialect] = upsert(dialect, table).values(
            campaign_id=bindparam("campaign_id"), day=bindparam("day"), channel=bindparam("channel"),
            count=1).on_conflict_do_update(index_elements=[table.c.campaign_id, table.c.day, table.c.channel],
                                           set_={"count": table.c.count + 1})
    return _UPSERTS[dialect]


def count_message(db: Database, campaign_id: int, channel: str, day: date) -> None:
    """Add one message in one atomic upsert, so no worker loses one."""
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}: choose one of {', '.join(CHANNELS)}")
    with db.engine.begin() as connection:
        connection.execute(_upsert(db.engine.dialect.name),
                           {"campaign_id": campaign_id, "day": day, "channel": channel})


@dataclass(frozen=True)
class ChannelTotals:
    channel: str
    today: int = 0
    last_7_days: int = 0  # today and the six days before it
    all_time: int = 0


def totals(db: Database, campaign_id: int, day: date) -> tuple[ChannelTotals, ...]:
    """One campaign's messages today, in the last 7 days and in all, per channel (sms, whatsapp)."""
    week_start = day - timedelta(days=6)
    with db.Session() as session:
        rows = session.execute(
            select(KeywordCount.channel,
                   func.coalesce(func.sum(case((KeywordCount.day == day, KeywordCount.count), else_=0)), 0),
                   func.coalesce(func.sum(case((KeywordCount.day.between(week_start, day), KeywordCount.count),
                                               else_=0)), 0),
                   func.coalesce(func.sum(KeywordCount.count), 0))
            .where(KeywordCount.campaign_id == campaign_id).group_by(KeywordCount.channel))
        found = {channel: ChannelTotals(channel, int(t), int(w), int(a)) for channel, t, w, a in rows}
    return tuple(found.get(channel, ChannelTotals(channel)) for channel in CHANNELS)


def per_day(db: Database, campaign_id: int) -> list[tuple[date, dict[str, int]]]:
    """Days with at least one message, oldest first, with the count per channel (0 where none)."""
    with db.Session() as session:
        rows = session.execute(select(KeywordCount.day, KeywordCount.channel, KeywordCount.count)
                               .where(KeywordCount.campaign_id == campaign_id).order_by(KeywordCount.day))
        days: dict[date, dict[str, int]] = {}
        for day, channel, count in rows:
            days.setdefault(day, dict.fromkeys(CHANNELS, 0))[channel] = count
    return list(days.items())


def between(db: Database, start: date, end: date) -> list[tuple[str, date, str, int]]:
    """(campaign slug or "algemeen", day, channel, count) for every day with messages, for exports."""
    with db.Session() as session:
        rows = session.execute(
            select(func.coalesce(Campaign.slug, GENERAL_NAME), KeywordCount.day, KeywordCount.channel,
                   KeywordCount.count)
            .outerjoin(Campaign, Campaign.id == KeywordCount.campaign_id)
            .where(KeywordCount.day.between(start, end)))
        found = [(name, day, channel, count) for name, day, channel, count in rows]
    # "algemeen" first, then the campaigns by slug; days oldest first; sms before whatsapp.
    return sorted(found, key=lambda row: (row[0] != GENERAL_NAME, row[0], row[1], CHANNELS.index(row[2])))


def per_campaign(rows: list[tuple[str, date, str, int]]) -> list[tuple[str, dict[str, int]]]:
    """`between`'s rows summed per campaign, per channel: the dashboard's table."""
    sums: dict[str, dict[str, int]] = {}
    for name, _day, channel, count in rows:
        sums.setdefault(name, dict.fromkeys(CHANNELS, 0))[channel] += count
    return list(sums.items())
