"""Campaigns: every rule about a campaign in one place, and the scan counter that tracks no one.

The CLI and the staff pages both call this module; it does not import Flask. Invalid input gives a
`CampaignError` with structured problems (field + machine code + values); `MESSAGES` holds their
English msgids, which callers translate. A scan is one number per campaign per day (Europe/Amsterdam):
no IP address, user agent or cookie is ever stored, and `counts_as_scan` only reads headers.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from . import posters
from .db import Campaign, Database, ScanCount, utcnow
from .mastodon import status_id_from_reference

TIMEZONE = ZoneInfo("Europe/Amsterdam")

PLACES: tuple[str, ...] = ("bushalte", "bibliotheek", "buurthuis", "evenement", "online", "overig")

SLUG_MIN, SLUG_MAX = 2, 40
# Letters and digits at both ends, single hyphens between: "bieb-oost", not "-bieb" or "bieb--oost".
SLUG_PATTERN = re.compile(r"[a-z0-9](?:-?[a-z0-9])+")
# Words that read as part of the site rather than as a campaign (/c/beheer, /kiosk/en, …).
RESERVED_SLUGS = frozenset({
    "admin", "api", "beheer", "c", "campagne", "campagnes", "campaign", "campaigns", "embed", "en",
    "healthz", "help", "hulp", "inloggen", "kiosk", "login", "logout", "new", "nieuw", "nl", "praatmee",
    "privacy", "reageer", "static", "toegankelijkheid", "uitloggen", "www",
})

NAME_MAX = 200
# At most this many characters, and then only if `posters.fit_problems` finds that the text fits
# every printed product at a readable size (very wide letters or long unbroken words may not).
CTA_MAX = 200
INPUT_TEXT_MAX = 2000
URL_MAX = 500

# Everything staff can set; the slug is given once, at creation.
FIELDS = ("name", "place", "cta_nl", "cta_en", "thread_url", "invite_url", "input_text", "starts_on", "ends_on")
OPTIONAL = frozenset({"cta_en", "thread_url", "invite_url", "input_text", "starts_on", "ends_on"})


def N_(message: str) -> str:
    """Marks a msgid for extraction; the caller translates it (this module has no locale)."""
    return message


# (field, code) → English msgid; `Problem.params` fill its placeholders.
MESSAGES: dict[tuple[str, str], str] = {
    ("slug", "invalid"): N_("Invalid slug '%(value)s': use 2–40 lowercase letters, digits and single hyphens, "
                            "not at the start or end"),
    ("slug", "reserved"): N_("The slug '%(value)s' is reserved for the site itself: choose another one"),
    ("slug", "taken"): N_("There is already a campaign with the slug '%(value)s'"),
    ("slug", "unknown"): N_("There is no campaign with the slug '%(value)s'"),
    ("slug", "immutable"): N_("The slug of a campaign cannot be changed: it is printed on the posters"),
    ("name", "required"): N_("Give the campaign a name"),
    ("name", "too_long"): N_("The name is too long: use at most %(max)s characters"),
    ("place", "invalid"): N_("Unknown place type '%(value)s': choose one of %(choices)s"),
    ("cta_nl", "required"): N_("Give a call to action in Dutch"),
    ("cta_nl", "too_long"): N_("The call to action is too long: use at most %(max)s characters, "
                               "so that it fits on the poster"),
    ("cta_en", "too_long"): N_("The English call to action is too long: use at most %(max)s characters, "
                               "so that it fits on the poster"),
    # A call to action within CTA_MAX that still cannot be printed readably (posters.fit_problems).
    ("cta_nl", "unprintable_characters"): N_("The call to action has characters that the posters cannot print: "
                                             "%(characters)s. Leave them out"),
    ("cta_en", "unprintable_characters"): N_("The English call to action has characters that the posters cannot "
                                             "print: %(characters)s. Leave them out"),
    ("cta_nl", "unprintable_poster"): N_("The call to action does not fit on the %(sizes)s poster at a size that "
                                         "can still be read: use fewer or shorter words"),
    ("cta_nl", "unprintable_handout"): N_("The call to action does not fit on the cards of the handout at a size "
                                          "that can still be read: use fewer or shorter words"),
    ("cta_nl", "unprintable_square"): N_("The call to action does not fit on the square image for social media at "
                                         "a size that can still be read: use fewer or shorter words"),
    ("cta_nl", "unprintable_story"): N_("The call to action does not fit on the story image for social media at "
                                        "a size that can still be read: use fewer or shorter words"),
    ("cta_en", "unprintable_poster"): N_("The English call to action does not fit on the %(sizes)s poster at a size "
                                         "that can still be read: use fewer or shorter words"),
    ("cta_en", "unprintable_handout"): N_("The English call to action does not fit on the cards of the handout at a "
                                          "size that can still be read: use fewer or shorter words"),
    ("cta_en", "unprintable_square"): N_("The English call to action does not fit on the square image for social "
                                         "media at a size that can still be read: use fewer or shorter words"),
    ("cta_en", "unprintable_story"): N_("The English call to action does not fit on the story image for social "
                                        "media at a size that can still be read: use fewer or shorter words"),
    ("cta_en", "unprintable_together_poster"): N_("The calls to action in Dutch and English do not fit together on "
                                                  "the %(sizes)s poster in both languages at a size that can still "
                                                  "be read: shorten one of them"),
    ("cta_en", "unprintable_together_square"): N_("The calls to action in Dutch and English do not fit together on "
                                                  "the square image for social media at a size that can still be "
                                                  "read: shorten one of them"),
    ("cta_en", "unprintable_together_story"): N_("The calls to action in Dutch and English do not fit together on "
                                                 "the story image for social media at a size that can still be "
                                                 "read: shorten one of them"),
    ("thread_url", "not_home_status"): N_("The thread must be the link of a post on %(server)s, "
                                          "e.g. https://%(server)s/@account/123456 (got '%(value)s')"),
    ("invite_url", "not_home_invite"): N_("The invite link must be an invite of %(server)s, "
                                          "e.g. https://%(server)s/invite/abc123 (got '%(value)s')"),
    ("input_text", "too_long"): N_("The text about what happens with the input is too long: "
                                   "use at most %(max)s characters"),
    ("starts_on", "invalid_date"): N_("Invalid start date '%(value)s': use YYYY-MM-DD, e.g. 2026-12-01"),
    ("ends_on", "invalid_date"): N_("Invalid end date '%(value)s': use YYYY-MM-DD, e.g. 2026-12-31"),
    ("ends_on", "before_start"): N_("The end date %(end)s is before the start date %(start)s"),
}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input: which field, a machine code, and the values for the message."""

    field: str
    code: str
    params: Mapping[str, object] = field(default_factory=dict)

    @property
    def message(self) -> str:
        """The English msgid; translate it, then fill in `params`."""
        return MESSAGES[self.field, self.code]

    def __str__(self) -> str:
        return self.message % dict(self.params)


class CampaignError(ValueError):
    """The input breaks one or more rules; nothing was changed."""

    def __init__(self, problems: list[Problem] | tuple[Problem, ...]):
        self.problems = tuple(problems)
        super().__init__("; ".join(str(problem) for problem in self.problems))


class UnknownCampaign(CampaignError):
    def __init__(self, slug: str):
        super().__init__([Problem("slug", "unknown", {"value": slug})])


# --- the rules -------------------------------------------------------------------------------


def _well_formed(slug: str) -> bool:
    return SLUG_MIN <= len(slug) <= SLUG_MAX and SLUG_PATTERN.fullmatch(slug) is not None


def slug_problems(slug: str) -> list[Problem]:
    """Problems with a new slug: its shape, and words kept for the site itself."""
    if not _well_formed(slug):
        return [Problem("slug", "invalid", {"value": slug})]
    if slug in RESERVED_SLUGS:
        return [Problem("slug", "reserved", {"value": slug})]
    return []


def _one_line(value: str | None) -> str:
    return " ".join((value or "").split())


def _parse_date(name: str, value: str | date | None, problems: list[Problem]) -> date | None:
    if value is None or isinstance(value, date):
        return value
    text = value.strip()
    if not text:
        return None
    # Only YYYY-MM-DD: fromisoformat alone would also take "20261201" and week dates.
    if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
    problems.append(Problem(name, "invalid_date", {"value": text}))
    return None


def _is_home_invite(url: str, home_url: str) -> bool:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return False
    return (
        parts.scheme == "https"
        and parts.hostname == urlsplit(home_url).hostname
        and port in (None, 443)
        and not (parts.username or parts.password or parts.query or parts.fragment)
        and re.fullmatch(r"/invite/[A-Za-z0-9_-]{1,64}", parts.path) is not None
    )


def _is_home_status(url: str, home_url: str) -> bool:
    # status_id_from_reference also takes a bare id; a campaign stores a link staff can open.
    return (url.startswith("https://") and len(url) <= URL_MAX
            and status_id_from_reference(url, home_url) is not None)


def _characters(chars: list[str]) -> str:
    """'😀 (U+1F600), U+0007': each character and its code point, the invisible ones by code only."""
    shown = [f"{char} (U+{ord(char):04X})" if char.isprintable() else f"U+{ord(char):04X}" for char in chars[:8]]
    return ", ".join(shown) + (", …" if len(chars) > 8 else "")


def print_problems(key: str, texts: tuple[str, ...]) -> list[Problem]:
    """Problems for a call to action (or the Dutch and English pair) that some product cannot print."""
    together = "together_" if len(texts) > 1 else ""
    failed = posters.fit_problems(texts)
    problems = []
    sizes = [option for product, option in failed if product == "poster"]
    if sizes:
        problems.append(Problem(key, f"unprintable_{together}poster", {"sizes": "/".join(sizes)}))
    for product, option in failed:
        if product != "poster":
            problems.append(Problem(key, f"unprintable_{together}{option if product == 'social' else product}"))
    return problems


def clean(values: Mapping[str, object], *, home_url: str) -> dict[str, object]:
    """The campaign fields tidied up (whitespace, dates), or `CampaignError` with every problem."""
    problems: list[Problem] = []
    server = urlsplit(home_url).hostname or home_url
    cleaned: dict[str, object] = {}

    name = _one_line(values.get("name"))
    if not name:
        problems.append(Problem("name", "required"))
    elif len(name) > NAME_MAX:
        problems.append(Problem("name", "too_long", {"max": NAME_MAX}))
    cleaned["name"] = name

    place = str(values.get("place") or "").strip().lower()
    if place not in PLACES:
        problems.append(Problem("place", "invalid", {"value": place, "choices": ", ".join(PLACES)}))
    cleaned["place"] = place

    printable = {}
    for key in ("cta_nl", "cta_en"):
        text = _one_line(values.get(key))
        if key == "cta_nl" and not text:
            problems.append(Problem(key, "required"))
        elif len(text) > CTA_MAX:
            problems.append(Problem(key, "too_long", {"max": CTA_MAX}))
        elif missing := posters.missing_glyphs(text):
            problems.append(Problem(key, "unprintable_characters", {"characters": _characters(missing)}))
        elif text:
            found = print_problems(key, (text,))
            problems += found
            printable[key] = not found
        cleaned[key] = text
    if printable.get("cta_nl") and printable.get("cta_en"):
        problems += print_problems("cta_en", (cleaned["cta_nl"], cleaned["cta_en"]))

    thread_url = str(values.get("thread_url") or "").strip()
    if thread_url and not _is_home_status(thread_url, home_url):
        problems.append(Problem("thread_url", "not_home_status", {"server": server, "value": thread_url}))
    cleaned["thread_url"] = thread_url

    invite_url = str(values.get("invite_url") or "").strip()
    if invite_url and not (len(invite_url) <= URL_MAX and _is_home_invite(invite_url, home_url)):
        problems.append(Problem("invite_url", "not_home_invite", {"server": server, "value": invite_url}))
    cleaned["invite_url"] = invite_url

    input_text = str(values.get("input_text") or "").strip()
    if len(input_text) > INPUT_TEXT_MAX:
        problems.append(Problem("input_text", "too_long", {"max": INPUT_TEXT_MAX}))
    cleaned["input_text"] = input_text

    starts_on = _parse_date("starts_on", values.get("starts_on"), problems)  # type: ignore[arg-type]
    ends_on = _parse_date("ends_on", values.get("ends_on"), problems)  # type: ignore[arg-type]
    if starts_on and ends_on and ends_on < starts_on:
        problems.append(Problem("ends_on", "before_start", {"start": starts_on.isoformat(),
                                                             "end": ends_on.isoformat()}))
    cleaned["starts_on"], cleaned["ends_on"] = starts_on, ends_on

    if problems:
        raise CampaignError(problems)
    return cleaned


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
    if problems:
        raise CampaignError(problems)
    now = now or utcnow()
    campaign = Campaign(slug=slug, created_at=now, updated_at=now, **cleaned)
    try:
        with db.Session.begin() as session:
            session.add(campaign)
    except IntegrityError:  # created by someone else in the meantime
        raise CampaignError([Problem("slug", "taken", {"value": slug})]) from None
    return campaign


def update(db: Database, slug: str, /, *, home_url: str, now: datetime | None = None, **changes) -> Campaign:
    """Change some FIELDS; None leaves a field as it is, "" clears an optional one. Never the slug."""
    if "slug" in changes:
        raise CampaignError([Problem("slug", "immutable")])
    _check_names(changes)
    with db.Session.begin() as session:
        campaign = session.scalar(select(Campaign).where(Campaign.slug == slug)) if _well_formed(slug) else None
        if campaign is None:
            raise UnknownCampaign(slug)
        current = {name: getattr(campaign, name) for name in FIELDS}
        wanted = {**current, **{name: value for name, value in changes.items() if value is not None}}
        cleaned = clean(wanted, home_url=home_url)
        if any(cleaned[name] != current[name] for name in FIELDS):
            for name in FIELDS:
                setattr(campaign, name, cleaned[name])
            campaign.updated_at = now or utcnow()
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


def require(db: Database, slug: str) -> Campaign:
    campaign = get(db, slug)
    if campaign is None:
        raise UnknownCampaign(slug)
    return campaign


# --- what a campaign means on a given day ------------------------------------------------------


def today() -> date:
    """The date in Amsterdam: scans and end dates follow the city's days, not the server's."""
    return datetime.now(TIMEZONE).date()


def has_ended(campaign: Campaign, day: date) -> bool:
    """The end date is the last day of the campaign."""
    return campaign.ends_on is not None and campaign.ends_on < day


def has_started(campaign: Campaign, day: date) -> bool:
    return campaign.starts_on is None or campaign.starts_on <= day


def is_active(campaign: Campaign, day: date) -> bool:
    """Not ended. A campaign before its start date is active: posters go up before the start."""
    return not has_ended(campaign, day)


def active(db: Database, day: date) -> list[Campaign]:
    """Every campaign that has not ended, newest first."""
    with db.Session() as session:
        rows = session.scalars(select(Campaign).order_by(Campaign.created_at.desc(), Campaign.id.desc()))
        return [campaign for campaign in rows if is_active(campaign, day)]


def call_to_action(campaign: Campaign, lang: str) -> str:
    return campaign.cta_en if call_to_action_lang(campaign, lang) == "en" else campaign.cta_nl


def call_to_action_lang(campaign: Campaign, lang: str) -> str:
    """The language the call to action is in on a page in `lang`: English falls back to Dutch."""
    return "en" if lang == "en" and campaign.cta_en else "nl"


def public_url(public_url: str, slug: str) -> str:
    """The one campaign address: what the QR code encodes, nothing longer (no tracking parameters)."""
    return f"{public_url.rstrip('/')}/c/{slug}"


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
    does a request without a User-Agent (every browser sends one).
    """
    if method.upper() != "GET":
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

    SQLite and PostgreSQL spell it the same way; only the insert construct is dialect-specific.
    The database adds the one, so there is no read-modify-write race between workers.
    """
    table = ScanCount.__table__
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(table).values(campaign_id=campaign_id, day=day, count=1).on_conflict_do_update(
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


def thread_status_ids(db: Database, home_url: str) -> list[str]:
    """Status ids of the campaigns' own threads (a campaign without one shows the current conversation)."""
    with db.Session() as session:
        urls = session.scalars(select(Campaign.thread_url).where(Campaign.thread_url != "").order_by(Campaign.id))
        ids = (status_id_from_reference(url, home_url) for url in urls)
        return list(dict.fromkeys(i for i in ids if i))
