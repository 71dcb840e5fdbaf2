"""The scan counter that tracks no one: one number per campaign per day (Europe/Amsterdam).

No IP address, user agent or cookie is ever stored; `counts_as_scan` only reads headers.
No Flask in this module.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import case, func, select

from ..db import Campaign, Database, ScanCount, upsert

# --- scans -----------------------------------------------------------------------------------

# Link previews (chat apps, social networks, fediverse servers fetching a card), search engines and
# tools that are not a browser. Matched case-insensitively anywhere in the User-Agent. In-app
# browsers (Instagram, Snapchat, Facebook's FBAN, …) are people and do count.
_PREVIEWERS = (
    "facebookexternalhit", "facebookcatalog", "meta-externalagent", "facebot", "twitterbot", "slackbot",
    "slack-imgproxy", "whatsapp/", "telegrambot", "discordbot", "linkedinbot", "skypeuripreview",
    "mastodon/", "pleroma", "akkoma", "misskey", "gotosocial", "friendica", "pixelfed", "firefish",
    "sharkey", "iceshrimp", "googlebot", "google-inspectiontool", "adsbot-google", "bingbot", "bingpreview",
    "applebot", "yandexbot", "baiduspider", "duckduckbot", "embedly", "iframely", "redditbot", "vkshare",
    "curl/", "wget/", "python-requests", "python-urllib", "httpx", "go-http-client", "okhttp", "java/",
    "headlesschrome",
)
_NOT_A_SCAN_AGENT = re.compile(
    "|".join(re.escape(name) for name in _PREVIEWERS)
    # …and the generic words; "bot" not followed by a letter ("Somebot/1.0", "Bot"), but "CUBOT" is a phone.
    + r"|(?<!cu)bot(?![a-z])|crawler|crawling|spider|scraper|preview|\+https?://",
    re.IGNORECASE,
)


def counts_as_scan(method: str, headers: Mapping[str, str]) -> bool:
    """Whether a request to /c/<slug> is a person opening the page. Reads headers, stores nothing.

    HEAD, link-preview bots, crawlers, tools without a browser and prefetches do not count; neither
    does a request without a User-Agent (every browser sends one), nor a step from one of our own
    pages to another (`Sec-Fetch-Site: same-origin`: the language link, "terug" from the reply
    page): a scan arrives from a camera, a typed address or another site.
    """
    if method.upper() != "GET":
        return False
    if (headers.get("Sec-Fetch-Site") or "").strip().lower() == "same-origin":
        return False
    agent = headers.get("User-Agent") or ""
    if not agent.strip() or _NOT_A_SCAN_AGENT.search(agent):
        return False
    for name in ("Purpose", "Sec-Purpose", "X-Purpose", "X-Moz"):
        value = (headers.get(name) or "").strip().lower()
        if value.startswith(("prefetch", "preview", "prerender")):
            return False
    return True


def count_scan(db: Database, campaign_id: int, day: date) -> None:
    """Add one scan to the campaign's day: one atomic upsert, so concurrent requests lose nothing."""
    with db.engine.begin() as connection:
        connection.execute(scan_upsert(db.engine.dialect.name, campaign_id, day))


def scan_upsert(dialect: str, campaign_id: int, day: date):
    """INSERT … ON CONFLICT (campaign_id, day) DO UPDATE SET count = count + 1.

    The database adds the one, so there is no read-modify-write race between workers.
    """
    table = ScanCount.__table__
    return upsert(dialect, table).values(campaign_id=campaign_id, day=day, count=1).on_conflict_do_update(
        index_elements=[table.c.campaign_id, table.c.day], set_={"count": table.c.count + 1}
    )


def scans_per_day(db: Database, campaign: Campaign) -> list[tuple[date, int]]:
    """Days with at least one scan, oldest first."""
    with db.Session() as session:
        rows = session.execute(
            select(ScanCount.day, ScanCount.count).where(ScanCount.campaign_id == campaign.id).order_by(ScanCount.day)
        )
        return [(day, count) for day, count in rows]


@dataclass(frozen=True)
class ScanTotals:
    today: int = 0
    last_7_days: int = 0  # today and the six days before it
    all_time: int = 0


def _totals_columns(day: date):
    week_start = day - timedelta(days=6)
    return (
        func.coalesce(func.sum(case((ScanCount.day == day, ScanCount.count), else_=0)), 0),
        func.coalesce(func.sum(case((ScanCount.day.between(week_start, day), ScanCount.count), else_=0)), 0),
        func.coalesce(func.sum(ScanCount.count), 0),
    )


def totals(db: Database, campaign: Campaign, day: date) -> ScanTotals:
    with db.Session() as session:
        row = session.execute(select(*_totals_columns(day)).where(ScanCount.campaign_id == campaign.id)).one()
    return ScanTotals(*(int(value) for value in row))


@dataclass(frozen=True)
class CampaignSummary:
    campaign: Campaign
    scans: ScanTotals


def list_with_totals(db: Database, day: date) -> list[CampaignSummary]:
    """Every campaign, newest first, with its scans today, in the last 7 days and in all."""
    with db.Session() as session:
        rows = session.execute(
            select(Campaign, *_totals_columns(day))
            .outerjoin(ScanCount, ScanCount.campaign_id == Campaign.id)
            .group_by(Campaign.id)
            .order_by(Campaign.created_at.desc(), Campaign.id.desc())
        )
        return [CampaignSummary(campaign, ScanTotals(int(t), int(w), int(a))) for campaign, t, w, a in rows]


def scans_between(db: Database, start: date, end: date) -> list[tuple[str, date, int]]:
    """(slug, day, count) for every campaign and day with scans in the period, for exports."""
    with db.Session() as session:
        rows = session.execute(
            select(Campaign.slug, ScanCount.day, ScanCount.count)
            .join(ScanCount, ScanCount.campaign_id == Campaign.id)
            .where(ScanCount.day.between(start, end))
            .order_by(Campaign.slug, ScanCount.day)
        )
        return [(slug, day, count) for slug, day, count in rows]


