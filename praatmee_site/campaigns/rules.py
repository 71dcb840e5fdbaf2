"""Campaigns: every rule about a campaign in one place, and what a campaign means on a given day.

The CLI and the staff pages both call this module (through `store`); it does not import Flask.
Invalid input gives a `CampaignError` with structured problems (field + machine code + values).
Each problem has two wordings, both English msgids that callers translate: `MESSAGES` for the CLI
(it names options and shows what was typed) and `STAFF_MESSAGES` for the staff form, which names the
field by its label on the screen (`LABELS`) and says how to fix it.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from urllib.parse import urlsplit

from .. import clock, messages
from ..db import Campaign
from ..messages import N_
from ..urls import home_status_id, is_home_invite
from . import posters

PLACES: tuple[str, ...] = ("bushalte", "bibliotheek", "buurthuis", "evenement", "online", "overig")
# How the place types read on the staff pages (the codes above are what the CLI and the database take).
PLACE_LABELS: dict[str, str] = {
    "bushalte": N_("Bus shelter"), "bibliotheek": N_("Library"), "buurthuis": N_("Community centre"),
    "evenement": N_("Event"), "online": N_("Online"), "overig": N_("Other"),
}

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

# "Stuur PRAATMEE BIEB": a campaign's own word by SMS or WhatsApp, kept in upper case. Plain letters
# and digits only: what every phone keyboard types, and what `sms.keyword` reads after PRAATMEE.
KEYWORD_MIN, KEYWORD_MAX = 2, 20
KEYWORD_PATTERN = re.compile(r"[A-Z0-9]{%d,%d}" % (KEYWORD_MIN, KEYWORD_MAX))
# Words the keyword line already reads as PRAATMEE or as STOP (sms.keyword's SPELLINGS and
# STOP_WORDS; tests/test_sms.py keeps the two lists together).
RESERVED_KEYWORDS = frozenset({
    "PRAATMEE", "PRAATME", "PRATMEE", "PRATME", "PRAATMEEE", "PRAATMEI",
    "STOP", "STOPALL", "STOPPEN", "AFMELDEN", "UITSCHRIJVEN", "UNSUBSCRIBE", "CANCEL", "END", "QUIT",
})

# Everything staff can set; the slug is given once, at creation.
FIELDS = ("name", "place", "cta_nl", "cta_en", "thread_url", "invite_url", "input_text", "starts_on", "ends_on",
          "keyword")
OPTIONAL = frozenset({"cta_en", "thread_url", "invite_url", "input_text", "starts_on", "ends_on", "keyword"})

# Every field's label on the staff form: the form shows these, and every staff message names its field
# with them (tests/test_staff_wording.py checks that each message holds its field's label).
LABELS: dict[str, str] = {
    "slug": N_("Short name in the link"),
    "name": N_("Name"),
    "place": N_("Kind of place"),
    "cta_nl": N_("Call to action in Dutch"),
    "cta_en": N_("Call to action in English"),
    "thread_url": N_("Thread"),
    "invite_url": N_("Invite link"),
    "input_text": N_("What happens with your input"),
    "starts_on": N_("Start date"),
    "ends_on": N_("End date"),
    "keyword": N_("Keyword for SMS and WhatsApp"),
}
# Problem params that hold an ISO date: the CLI prints them as they are, the staff pages as words.
DATE_PARAMS = frozenset({"start", "end"})


# (field, code) → English msgid for the CLI; `Problem.params` fill its placeholders.
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
    ("place", "required"): N_("Give a place type: choose one of %(choices)s"),
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
    ("keyword", "invalid"): N_("Invalid keyword '%(value)s': use 2–20 letters and digits, without spaces or "
                               "accents, e.g. BIEB"),
    ("keyword", "reserved"): N_("The keyword '%(value)s' already means PRAATMEE or STOP in a text message: "
                                "choose another one"),
    ("keyword", "taken"): N_("Another campaign already has the keyword '%(value)s'"),
}

# (field, code) → English msgid for the staff form: the field's label first (as in `LABELS`), then
# how to fix it. No option names, no raw values where the field itself shows them.
STAFF_MESSAGES: dict[tuple[str, str], str] = {
    ("slug", "invalid"): N_("Short name in the link: use lowercase letters, digits and hyphens, e.g. bieb-oost "
                            "(2 to 40 characters, no hyphen at the start or the end)"),
    ("slug", "reserved"): N_("Short name in the link: the site itself uses “%(value)s”. Choose another one, "
                             "e.g. bieb-oost"),
    ("slug", "taken"): N_("Short name in the link: there is already a campaign called “%(value)s”. "
                          "Choose another one, e.g. with the neighbourhood in it"),
    ("slug", "unknown"): N_("Short name in the link: there is no campaign called “%(value)s”"),
    ("slug", "immutable"): N_("Short name in the link: this cannot change any more, because it is printed on "
                              "the posters"),
    ("name", "required"): N_("Name: fill in a name for the campaign, e.g. OBA Oost"),
    ("name", "too_long"): N_("Name: use at most %(max)s characters"),
    ("place", "invalid"): N_("Kind of place: choose one from the list"),
    ("place", "required"): N_("Choose a kind of place"),
    ("cta_nl", "required"): N_("Call to action in Dutch: write what you ask people, "
                               "e.g. Stel je vraag aan het Innovatieteam"),
    ("cta_nl", "too_long"): N_("Call to action in Dutch: use at most %(max)s characters, so that it fits on "
                               "the poster"),
    ("cta_en", "too_long"): N_("Call to action in English: use at most %(max)s characters, so that it fits on "
                               "the poster"),
    ("cta_nl", "unprintable_characters"): N_("Call to action in Dutch: the posters cannot print these "
                                             "characters: %(characters)s. Leave them out"),
    ("cta_en", "unprintable_characters"): N_("Call to action in English: the posters cannot print these "
                                             "characters: %(characters)s. Leave them out"),
    ("cta_nl", "unprintable_poster"): N_("Call to action in Dutch: it does not fit on the %(sizes)s poster at a "
                                         "size that can still be read. Use fewer or shorter words"),
    ("cta_nl", "unprintable_handout"): N_("Call to action in Dutch: it does not fit on the cards of the handout "
                                          "at a size that can still be read. Use fewer or shorter words"),
    ("cta_nl", "unprintable_square"): N_("Call to action in Dutch: it does not fit on the square image for "
                                         "social media at a size that can still be read. Use fewer or shorter "
                                         "words"),
    ("cta_nl", "unprintable_story"): N_("Call to action in Dutch: it does not fit on the story image for social "
                                        "media at a size that can still be read. Use fewer or shorter words"),
    ("cta_en", "unprintable_poster"): N_("Call to action in English: it does not fit on the %(sizes)s poster at a "
                                         "size that can still be read. Use fewer or shorter words"),
    ("cta_en", "unprintable_handout"): N_("Call to action in English: it does not fit on the cards of the "
                                          "handout at a size that can still be read. Use fewer or shorter words"),
    ("cta_en", "unprintable_square"): N_("Call to action in English: it does not fit on the square image for "
                                         "social media at a size that can still be read. Use fewer or shorter "
                                         "words"),
    ("cta_en", "unprintable_story"): N_("Call to action in English: it does not fit on the story image for "
                                        "social media at a size that can still be read. Use fewer or shorter "
                                        "words"),
    ("cta_en", "unprintable_together_poster"): N_("Call to action in English: together with the Dutch one it "
                                                  "does not fit on the %(sizes)s poster in both languages at a "
                                                  "size that can still be read. Shorten one of them"),
    ("cta_en", "unprintable_together_square"): N_("Call to action in English: together with the Dutch one it "
                                                  "does not fit on the square image for social media at a size "
                                                  "that can still be read. Shorten one of them"),
    ("cta_en", "unprintable_together_story"): N_("Call to action in English: together with the Dutch one it "
                                                 "does not fit on the story image for social media at a size "
                                                 "that can still be read. Shorten one of them"),
    ("thread_url", "not_home_status"): N_("Thread: paste the link of a post on %(server)s, "
                                          "e.g. https://%(server)s/@account/123456"),
    ("invite_url", "not_home_invite"): N_("Invite link: paste an invite of %(server)s, "
                                          "e.g. https://%(server)s/invite/abc123"),
    ("input_text", "too_long"): N_("What happens with your input: use at most %(max)s characters"),
    ("starts_on", "invalid_date"): N_("Start date: choose a date, or type it as year-month-day, e.g. 2026-12-01"),
    ("ends_on", "invalid_date"): N_("End date: choose a date, or type it as year-month-day, e.g. 2026-12-31"),
    ("ends_on", "before_start"): N_("End date: %(end)s is before the start date, %(start)s. Choose an end date "
                                    "on or after the start date"),
    ("keyword", "invalid"): N_("Keyword for SMS and WhatsApp: use 2 to 20 letters and digits, without spaces or "
                               "accents, e.g. BIEB"),
    ("keyword", "reserved"): N_("Keyword for SMS and WhatsApp: “%(value)s” already means PRAATMEE or STOP in a "
                                "text message. Choose another one, e.g. BIEB"),
    ("keyword", "taken"): N_("Keyword for SMS and WhatsApp: another campaign already has “%(value)s”. Choose "
                             "another one"),
}


class Problem(messages.Problem):
    """One thing wrong with a campaign's input, worded by `MESSAGES` and `STAFF_MESSAGES` above.

    A problem nobody has worded for the form yet shows the CLI's words rather than an error page
    (tests/test_staff_words.py fails for it)."""

    MESSAGES = MESSAGES
    STAFF_MESSAGES = STAFF_MESSAGES


class CampaignError(messages.RuleError):
    """The input breaks one or more rules; nothing was changed."""


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
    return is_home_invite(url, home_url)


def _is_home_status(url: str, home_url: str) -> bool:
    # home_status_id also takes a bare id; a campaign stores a link staff can open.
    return (url.startswith("https://") and len(url) <= URL_MAX
            and home_status_id(url, home_url) is not None)


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
    if not place:
        problems.append(Problem("place", "required", {"choices": ", ".join(PLACES)}))
    elif place not in PLACES:
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

    cleaned["keyword"] = keyword = clean_keyword(values.get("keyword"))
    problems += keyword_problems(keyword)

    starts_on = _parse_date("starts_on", values.get("starts_on"), problems)  # type: ignore[arg-type]
    ends_on = _parse_date("ends_on", values.get("ends_on"), problems)  # type: ignore[arg-type]
    if starts_on and ends_on and ends_on < starts_on:
        problems.append(Problem("ends_on", "before_start", {"start": starts_on.isoformat(),
                                                             "end": ends_on.isoformat()}))
    cleaned["starts_on"], cleaned["ends_on"] = starts_on, ends_on

    if problems:
        raise CampaignError(problems)
    return cleaned


def clean_keyword(value: object) -> str | None:
    """The keyword as stored: trimmed and in upper case; None for none (an empty field clears it)."""
    text = str(value or "").strip().upper()
    return text or None


def keyword_problems(keyword: str | None) -> list[Problem]:
    """Problems with a keyword's shape and meaning; whether another campaign has it is `store`'s to say."""
    if keyword is None:
        return []
    if not KEYWORD_PATTERN.fullmatch(keyword):
        return [Problem("keyword", "invalid", {"value": keyword})]
    if keyword in RESERVED_KEYWORDS:
        return [Problem("keyword", "reserved", {"value": keyword})]
    return []


# --- what a campaign means on a given day ------------------------------------------------------


def today() -> date:
    return clock.today()


def has_ended(campaign: Campaign, day: date) -> bool:
    """The end date is the last day of the campaign."""
    return campaign.ends_on is not None and campaign.ends_on < day


def has_started(campaign: Campaign, day: date) -> bool:
    return campaign.starts_on is None or campaign.starts_on <= day


def is_active(campaign: Campaign, day: date) -> bool:
    """Not ended. A campaign before its start date is active: posters go up before the start."""
    return not has_ended(campaign, day)


# What /c/<slug> says above the current conversation once the campaign has ended.
ENDED_NOTE = N_("This campaign has ended — this is the current conversation")

# What "end the campaign today" would do (`ending`): today becomes the last day; the campaign already
# ends today; it has already ended; it has not started, and a campaign cannot end before its start.
ENDS_NOW, ENDS_TODAY_ALREADY, ENDED_ALREADY, NOT_STARTED = "ends_now", "ends_today_already", "ended", "not_started"


def ending(campaign: Campaign, day: date) -> str:
    """What ending `campaign` on `day` would do: one of ENDS_NOW, ENDS_TODAY_ALREADY, ENDED_ALREADY, NOT_STARTED."""
    if has_ended(campaign, day):
        return ENDED_ALREADY
    if campaign.ends_on == day:
        return ENDS_TODAY_ALREADY
    if campaign.starts_on is not None and campaign.starts_on > day:
        return NOT_STARTED
    return ENDS_NOW


def changed_fields(before: Mapping[str, object], after: Campaign) -> list[str]:
    """The FIELDS whose value differs between `before` (name → value) and the stored `after`, in form order."""
    return [name for name in FIELDS if before.get(name) != getattr(after, name)]


def field_values(campaign: Campaign) -> dict[str, object]:
    """The campaign's FIELDS as name → value (what `changed_fields` compares against)."""
    return {name: getattr(campaign, name) for name in FIELDS}


def call_to_action(campaign: Campaign, lang: str) -> str:
    return campaign.cta_en if call_to_action_lang(campaign, lang) == "en" else campaign.cta_nl


def call_to_action_lang(campaign: Campaign, lang: str) -> str:
    """The language the call to action is in on a page in `lang`: English falls back to Dutch."""
    return "en" if lang == "en" and campaign.cta_en else "nl"


def public_url(public_url: str, slug: str, lang: str = "nl") -> str:
    """The one campaign address: what the QR code encodes, nothing longer (no tracking parameters).

    Posters print the Dutch one; the English kiosk (/en/kiosk/<slug>) shows and encodes `/en/c/<slug>`.
    """
    return f"{entry_url(public_url, lang).rstrip('/')}/c/{slug}"


def entry_url(public_url: str, lang: str = "nl") -> str:
    """The public entry page in a language: `<PRAATMEE_PUBLIC_URL>/`, or `…/en/` in English."""
    return f"{public_url.rstrip('/')}/en/" if lang == "en" else f"{public_url.rstrip('/')}/"


