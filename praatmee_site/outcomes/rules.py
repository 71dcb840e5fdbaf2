"""Every rule about an outcome in one place ("Je zei, wij deden", issue 16).

An outcome is one step of what came of residents' input: a status, a title and a text in Dutch
(English optional), a date and an optional link to the decision on amsterdam.nl. It belongs to a
campaign or to a thread on the home server. Invalid input gives an `OutcomeError` with structured
problems (field + machine code + values), worded twice as English msgids: `MESSAGES` for the CLI (it
names options and values) and `STAFF_MESSAGES` for the staff form, which names the field by its
label on the screen (`LABELS`) and says how to fix it. Nothing here touches the database or Flask.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from datetime import date
from urllib.parse import urlsplit

from .. import messages
from ..messages import N_
from ..urls import home_status_id, is_city_decision

# In the order a timeline goes through them; `niet_gedaan` needs a reason.
STATUSES: tuple[str, ...] = ("ontvangen", "in_behandeling", "besloten", "uitgevoerd", "niet_gedaan")
STATUS_LABELS: dict[str, str] = {
    "ontvangen": N_("Received"),
    "in_behandeling": N_("Being worked on"),
    "besloten": N_("Decided"),
    "uitgevoerd": N_("Done"),
    "niet_gedaan": N_("Not done"),
}
# The Dutch labels as they are posted on Mastodon, where there is no catalog to ask.
STATUS_LABELS_NL: dict[str, str] = {
    "ontvangen": "Ontvangen", "in_behandeling": "In behandeling", "besloten": "Besloten",
    "uitgevoerd": "Uitgevoerd", "niet_gedaan": "Niet gedaan",
}

TITLE_MAX = 120
TEXT_MAX = 2000
REASON_MAX = 500
URL_MAX = 500
EARLIEST = date(2020, 1, 1)  # before the city was on Mastodon

FIELDS = ("status", "reason_nl", "reason_en", "title_nl", "title_en", "text_nl", "text_en", "happened_on",
          "decision_url")
TARGETS = ("campaign", "thread_url")

# Every field's label on the staff form: the form shows these, and every staff message names its field
# with them (tests/test_staff_words.py checks it). "target" is the choice between a campaign and a thread.
LABELS: dict[str, str] = {
    "target": N_("What is it about?"),
    "campaign": N_("Campaign"),
    "thread_url": N_("Link of the thread's first post"),
    "id": N_("Outcome"),
    "status": N_("Status"),
    "happened_on": N_("Date"),
    "title_nl": N_("Title in Dutch"),
    "text_nl": N_("Text in Dutch"),
    "reason_nl": N_("Why not, in Dutch"),
    "decision_url": N_("Link to the decision"),
    "title_en": N_("Title in English"),
    "text_en": N_("Text in English"),
    "reason_en": N_("Why not, in English"),
}

MESSAGES: dict[tuple[str, str], str] = {
    ("target", "required"): N_("Say what the outcome is about: a campaign or a thread"),
    ("target", "both"): N_("An outcome belongs to a campaign or to a thread, not to both"),
    ("campaign", "unknown"): N_("There is no campaign with the slug '%(value)s'"),
    ("thread_url", "not_home_status"): N_("The thread must be the link of a post on %(server)s, "
                                          "e.g. https://%(server)s/@account/123456 (got '%(value)s')"),
    ("id", "unknown"): N_("There is no outcome with number %(value)s"),
    ("status", "invalid"): N_("Unknown status '%(value)s': choose one of %(choices)s"),
    ("status", "required"): N_("Give a status: choose one of %(choices)s"),
    ("reason_nl", "required"): N_("Say why it was not done: the reason is required for the status niet_gedaan"),
    ("reason_nl", "too_long"): N_("The reason is too long: use at most %(max)s characters"),
    ("reason_en", "too_long"): N_("The English reason is too long: use at most %(max)s characters"),
    ("title_nl", "required"): N_("Give the outcome a title in Dutch"),
    ("title_nl", "too_long"): N_("The title is too long: use at most %(max)s characters"),
    ("title_en", "too_long"): N_("The English title is too long: use at most %(max)s characters"),
    ("text_nl", "required"): N_("Write what came of the input, in Dutch"),
    ("text_nl", "too_long"): N_("The text is too long: use at most %(max)s characters (now %(length)s)"),
    ("text_en", "too_long"): N_("The English text is too long: use at most %(max)s characters (now %(length)s)"),
    ("title_nl", "control_characters"): N_("The title has invisible control characters: type it again"),
    ("title_en", "control_characters"): N_("The English title has invisible control characters: type it again"),
    ("text_nl", "control_characters"): N_("The text has invisible control characters: type it again"),
    ("text_en", "control_characters"): N_("The English text has invisible control characters: type it again"),
    ("reason_nl", "control_characters"): N_("The reason has invisible control characters: type it again"),
    ("reason_en", "control_characters"): N_("The English reason has invisible control characters: type it again"),
    ("happened_on", "required"): N_("Give the date of this step, e.g. 2026-12-01"),
    ("happened_on", "invalid_date"): N_("Invalid date '%(value)s': use YYYY-MM-DD, e.g. 2026-12-01"),
    ("happened_on", "in_future"): N_("The date %(value)s is in the future: an outcome says what has happened"),
    ("happened_on", "too_early"): N_("The date %(value)s is before 2020: check the year"),
    ("decision_url", "not_city"): N_("The link to the decision must be an https address on amsterdam.nl, "
                                     "e.g. https://www.amsterdam.nl/bestuur/besluiten/ (got '%(value)s')"),
}

# (field, code) → English msgid for the staff form: the field's label, then how to fix it.
STAFF_MESSAGES: dict[tuple[str, str], str] = {
    ("target", "required"): N_("What is it about? Choose a campaign, or paste the link of a thread"),
    ("target", "both"): N_("What is it about? Choose a campaign or a thread, not both"),
    ("campaign", "unknown"): N_("Campaign: there is no campaign called “%(value)s”. Choose one from the list"),
    ("thread_url", "not_home_status"): N_("Link of the thread's first post: paste the link of a post on "
                                          "%(server)s, e.g. https://%(server)s/@account/123456"),
    ("id", "unknown"): N_("Outcome: there is no outcome with number %(value)s"),
    ("status", "invalid"): N_("Status: choose one from the list"),
    ("status", "required"): N_("Choose a status"),
    ("reason_nl", "required"): N_("Why not, in Dutch: write why it was not done. The status Not done needs it"),
    ("reason_nl", "too_long"): N_("Why not, in Dutch: use at most %(max)s characters"),
    ("reason_en", "too_long"): N_("Why not, in English: use at most %(max)s characters"),
    ("title_nl", "required"): N_("Title in Dutch: write a short title, e.g. Tien nieuwe bankjes in het Oosterpark"),
    ("title_nl", "too_long"): N_("Title in Dutch: use at most %(max)s characters"),
    ("title_en", "too_long"): N_("Title in English: use at most %(max)s characters"),
    ("text_nl", "required"): N_("Text in Dutch: write what came of the input"),
    ("text_nl", "too_long"): N_("Text in Dutch: use at most %(max)s characters (now %(length)s)"),
    ("text_en", "too_long"): N_("Text in English: use at most %(max)s characters (now %(length)s)"),
    ("title_nl", "control_characters"): N_("Title in Dutch: it has invisible control characters. Type it again"),
    ("title_en", "control_characters"): N_("Title in English: it has invisible control characters. Type it again"),
    ("text_nl", "control_characters"): N_("Text in Dutch: it has invisible control characters. Type it again"),
    ("text_en", "control_characters"): N_("Text in English: it has invisible control characters. Type it again"),
    ("reason_nl", "control_characters"): N_("Why not, in Dutch: it has invisible control characters. "
                                            "Type it again"),
    ("reason_en", "control_characters"): N_("Why not, in English: it has invisible control characters. "
                                            "Type it again"),
    ("happened_on", "required"): N_("Date: choose the day of this step, e.g. the day of the decision"),
    ("happened_on", "invalid_date"): N_("Date: choose a date, or type it as year-month-day, e.g. 2026-12-01"),
    ("happened_on", "in_future"): N_("Date: this day is still to come. An outcome says what has happened: "
                                     "choose today or an earlier day"),
    ("happened_on", "too_early"): N_("Date: this day is before 2020. Check the year"),
    ("decision_url", "not_city"): N_("Link to the decision: paste an https address on amsterdam.nl, "
                                     "e.g. https://www.amsterdam.nl/bestuur/besluiten/"),
}


class Problem(messages.Problem):
    """One thing wrong with an outcome's input, worded by `MESSAGES` and `STAFF_MESSAGES` above."""

    MESSAGES = MESSAGES
    STAFF_MESSAGES = STAFF_MESSAGES


class OutcomeError(messages.RuleError):
    """The input breaks one or more rules; nothing was changed."""


class UnknownOutcome(OutcomeError):
    def __init__(self, outcome_id: object):
        super().__init__([Problem("id", "unknown", {"value": outcome_id})])


def _text(value: object) -> str:
    """Paragraphs kept (blank lines), line ends made \\n, spaces at the ends of lines dropped."""
    text = str(value or "").replace("\r\n", "\n").replace("\r", "\n")
    lines = [line.rstrip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _has_controls(text: str, *, multiline: bool) -> bool:
    allowed = {"\n"} if multiline else set()
    # Cc are C0/C1 controls; Cf holds the invisible direction overrides that can make text lie.
    return any((unicodedata.category(ch) in ("Cc", "Cs") and ch not in allowed)
               or ch in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069" for ch in text)


def _parse_date(value: object, today: date, problems: list[Problem]) -> date | None:
    if isinstance(value, date):
        day = value
    else:
        text = str(value or "").strip()
        if not text:
            problems.append(Problem("happened_on", "required"))
            return None
        day = None
        if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
            try:
                day = date.fromisoformat(text)
            except ValueError:
                day = None
        if day is None:
            problems.append(Problem("happened_on", "invalid_date", {"value": text}))
            return None
    if day > today:
        problems.append(Problem("happened_on", "in_future", {"value": day.isoformat()}))
    elif day < EARLIEST:
        problems.append(Problem("happened_on", "too_early", {"value": day.isoformat()}))
    return day


def is_thread_url(url: str, home_url: str) -> bool:
    """A link of a post on the home server (not a bare id: staff should be able to open it)."""
    return url.startswith("https://") and len(url) <= URL_MAX and home_status_id(url, home_url) is not None


def thread_problems(thread_url: str, home_url: str) -> list[Problem]:
    if is_thread_url(thread_url, home_url):
        return []
    server = urlsplit(home_url).hostname or home_url
    return [Problem("thread_url", "not_home_status", {"server": server, "value": thread_url})]


def clean(values: Mapping[str, object], *, today: date) -> dict[str, object]:
    """The outcome's FIELDS tidied up, or `OutcomeError` with every problem at once."""
    problems: list[Problem] = []
    cleaned: dict[str, object] = {}

    status = str(values.get("status") or "").strip().lower().replace("-", "_").replace(" ", "_")
    if not status:
        problems.append(Problem("status", "required", {"choices": ", ".join(STATUSES)}))
    elif status not in STATUSES:
        problems.append(Problem("status", "invalid", {"value": status, "choices": ", ".join(STATUSES)}))
    cleaned["status"] = status

    for name, maximum, multiline in (("title_nl", TITLE_MAX, False), ("title_en", TITLE_MAX, False),
                                     ("text_nl", TEXT_MAX, True), ("text_en", TEXT_MAX, True),
                                     ("reason_nl", REASON_MAX, True), ("reason_en", REASON_MAX, True)):
        text = _text(values.get(name)) if multiline else " ".join(str(values.get(name) or "").split())
        if _has_controls(text, multiline=multiline):
            problems.append(Problem(name, "control_characters"))
        elif name in ("title_nl", "text_nl") and not text:
            problems.append(Problem(name, "required"))
        elif len(text) > maximum:
            problems.append(Problem(name, "too_long", {"max": maximum, "length": len(text)}))
        cleaned[name] = text
    if status == "niet_gedaan" and not cleaned["reason_nl"] and not any(p.field == "reason_nl" for p in problems):
        problems.append(Problem("reason_nl", "required"))

    cleaned["happened_on"] = _parse_date(values.get("happened_on"), today, problems)

    decision_url = str(values.get("decision_url") or "").strip()
    if decision_url and not (len(decision_url) <= URL_MAX and is_city_decision(decision_url)):
        problems.append(Problem("decision_url", "not_city", {"value": decision_url}))
    cleaned["decision_url"] = decision_url

    if problems:
        raise OutcomeError(problems)
    return cleaned
