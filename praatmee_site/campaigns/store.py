"""Campaigns as stored: create, change, end, look up. Every rule comes from `rules`; one row per campaign.

No Flask in this module.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..db import Campaign, Database, utcnow
from ..urls import home_status_id
from .rules import (
    FIELDS,
    CampaignError,
    Problem,
    UnknownCampaign,
    _well_formed,
    clean,
    clean_keyword,
    has_ended,
    is_active,
    slug_problems,
)

# --- storing ---------------------------------------------------------------------------------


def create(db: Database, slug: str, /, *, home_url: str, now: datetime | None = None, **values) -> Campaign:
    """A new campaign; `values` are the FIELDS (strings as typed, or dates)."""
    _check_names(values)
    problems = slug_problems(slug)
    try:
        cleaned = clean(values, home_url=home_url)
    except CampaignError as error:
        problems += error.problems
        cleaned = {}
    if not problems and get(db, slug) is not None:
        problems.append(Problem("slug", "taken", {"value": slug}))
    if cleaned.get("keyword") and by_keyword(db, cleaned["keyword"]) is not None:
        problems.append(Problem("keyword", "taken", {"value": cleaned["keyword"]}))
    if problems:
        raise CampaignError(problems)
    now = now or utcnow()
    campaign = Campaign(slug=slug, created_at=now, updated_at=now, **cleaned)
    try:
        with db.Session.begin() as session:
            session.add(campaign)
    except IntegrityError:  # created by someone else in the meantime
        raise _taken(db, slug, cleaned.get("keyword")) from None
    return campaign


def _taken(db: Database, slug: str, keyword: str | None) -> CampaignError:
    """What a unique constraint refused: the slug, or else the keyword another campaign took meanwhile."""
    if keyword and get(db, slug) is None:
        return CampaignError([Problem("keyword", "taken", {"value": keyword})])
    return CampaignError([Problem("slug", "taken", {"value": slug})])


def update(db: Database, slug: str, /, *, home_url: str, now: datetime | None = None, **changes) -> Campaign:
    """Change some FIELDS; None leaves a field as it is, "" clears an optional one. Never the slug."""
    if "slug" in changes:
        raise CampaignError([Problem("slug", "immutable")])
    _check_names(changes)
    try:
        with db.Session.begin() as session:
            campaign = session.scalar(select(Campaign).where(Campaign.slug == slug)) if _well_formed(slug) else None
            if campaign is None:
                raise UnknownCampaign(slug)
            current = {name: getattr(campaign, name) for name in FIELDS}
            wanted = {**current, **{name: value for name, value in changes.items() if value is not None}}
            cleaned = clean(wanted, home_url=home_url)
            keyword = cleaned["keyword"]
            if keyword and keyword != current["keyword"] and session.scalar(
                    select(Campaign.id).where(Campaign.keyword == keyword, Campaign.id != campaign.id)) is not None:
                raise CampaignError([Problem("keyword", "taken", {"value": keyword})])
            if any(cleaned[name] != current[name] for name in FIELDS):
                for name in FIELDS:
                    setattr(campaign, name, cleaned[name])
                campaign.updated_at = now or utcnow()
    except IntegrityError:  # the keyword was taken by another campaign meanwhile
        raise CampaignError([Problem("keyword", "taken", {"value": clean_keyword(changes.get("keyword"))})]) from None
    return campaign


def end(db: Database, slug: str, *, today: date, home_url: str, now: datetime | None = None) -> Campaign:
    """Make today the last day. A campaign that has already ended keeps its end date."""
    campaign = require(db, slug)
    if has_ended(campaign, today) or campaign.ends_on == today:
        return campaign
    return update(db, slug, home_url=home_url, now=now, ends_on=today)


def _check_names(values: Mapping[str, object]) -> None:
    unknown = set(values) - set(FIELDS)
    if unknown:
        raise TypeError(f"unknown campaign fields: {', '.join(sorted(unknown))}")


def get(db: Database, slug: str) -> Campaign | None:
    if not _well_formed(slug):
        return None  # cannot exist: skip the query
    with db.Session() as session:
        return session.scalar(select(Campaign).where(Campaign.slug == slug))


def by_keyword(db: Database, keyword: str) -> Campaign | None:
    """The campaign whose keyword this is (any case), or None."""
    word = (keyword or "").strip().upper()
    if not word:
        return None
    with db.Session() as session:
        return session.scalar(select(Campaign).where(Campaign.keyword == word))


def require(db: Database, slug: str) -> Campaign:
    campaign = get(db, slug)
    if campaign is None:
        raise UnknownCampaign(slug)
    return campaign


def active(db: Database, day: date) -> list[Campaign]:
    """Every campaign that has not ended, newest first."""
    with db.Session() as session:
        rows = session.scalars(select(Campaign).order_by(Campaign.created_at.desc(), Campaign.id.desc()))
        return [campaign for campaign in rows if is_active(campaign, day)]


def thread_status_ids(db: Database, home_url: str) -> list[str]:
    """Status ids of the campaigns' own threads (a campaign without one shows the current conversation)."""
    with db.Session() as session:
        urls = session.scalars(select(Campaign.thread_url).where(Campaign.thread_url != "").order_by(Campaign.id))
        ids = (home_status_id(url, home_url) for url in urls)
        return list(dict.fromkeys(i for i in ids if i))
