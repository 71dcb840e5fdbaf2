"""The staff area in staff's own words: dates and periods as people write them, field problems named
by their label, audit entries as sentences — in the page's language, on the city's clock.

The words themselves are msgids in the domain (`campaigns.rules`, `staff.audit_sentences`); this
module translates them and fills them in with Babel (dates, lists) for the page being shown.
"""
from __future__ import annotations

from datetime import date

from babel.lists import format_list
from flask_babel import format_date, get_locale
from flask_babel import gettext as _

from .. import campaigns
from ..staff import audit_sentences
from ..staff.accounts import Audit

DAY = "d MMMM y"  # "1 december 2026", "1 December 2026"


def capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def readable_date(day: date, today: date | None = None) -> str:
    """"3 december 2026"; "today" when it is `today`."""
    if today is not None and day == today:
        return _("today")
    return format_date(day, DAY)


def readable_day_heading(day: date, today: date) -> str:
    """A heading over a day's entries: "Today", "Yesterday", else "Thursday 3 December 2026"."""
    if day == today:
        return _("Today")
    if (today - day).days == 1:
        return _("Yesterday")
    return capitalised(format_date(day, "EEEE " + DAY))


def readable_period(start: date | None, end: date | None, today: date | None = None) -> str:
    """"1 t/m 31 december 2026", "20 november t/m 31 december 2026", "tot en met vandaag", …

    Only what differs is repeated: the month and year once when both days share them. An open end
    says so. The text starts in lower case (it may stand inside a sentence): see `capitalised`.
    """
    if start is None and end is None:
        return _("no start or end date")
    if start is None:
        return _("up to and including %(end)s", end=readable_date(end, today))
    if end is None:
        return _("from %(start)s, without an end date", start=readable_date(start, today))
    if start == end:
        return _("only on %(day)s", day=readable_date(start, today))
    if today in (start, end) or start.year != end.year:
        first = readable_date(start, today)
    elif start.month != end.month:
        first = format_date(start, "d MMMM")
    else:
        first = format_date(start, "d")
    return _("%(start)s to %(end)s", start=first, end=readable_date(end, today))


def place_label(place: str) -> str:
    label = campaigns.PLACE_LABELS.get(place)
    return _(label) if label else place


def field_label(name: str) -> str:
    label = campaigns.LABELS.get(name)
    return _(label) if label else name


# --- field problems -------------------------------------------------------------------------------

def problem_text(problem: campaigns.Problem) -> str:
    """The staff wording of one problem: its field's label, then how to fix it; dates as words."""
    params = {key: readable_date(date.fromisoformat(value)) if key in campaigns.DATE_PARAMS else value
              for key, value in problem.params.items()}
    return _(problem.staff_message, **params)


def problems_by_field(error: campaigns.CampaignError) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for problem in error.problems:
        found.setdefault(problem.field, []).append(problem_text(problem))
    return found


# --- the audit log --------------------------------------------------------------------------------

def who(actor: str) -> str:
    return _(audit_sentences.CLI_WHO) if audit_sentences.is_cli(actor) else audit_sentences.person_name(actor)


def _detail(kind: str | None, detail: str) -> str | None:
    """%(detail)s of a sentence, or None when the entry's detail cannot fill it (empty, an older form)."""
    detail = detail.strip()
    if not kind or not detail:
        return None
    if kind == audit_sentences.FIELDS:
        names = [name.strip() for name in detail.split(",")]
        if not all(name in campaigns.LABELS for name in names):
            return None  # before the log kept which fields changed, it kept every value
        labels = [field_label(name) for name in names]
        return format_list([label[:1].lower() + label[1:] for label in labels], locale=get_locale())
    if kind == audit_sentences.DAY:
        try:
            return readable_date(date.fromisoformat(detail))
        except ValueError:
            return None
    return detail


def audit_sentence(entry: Audit) -> str:
    """One entry as a sentence in the page's language: "Anna maakte de campagne bieb-oost aan (OBA Oost)"."""
    sentence = audit_sentences.sentence_for(entry.action)
    detail = _detail(sentence.detail, entry.detail)
    text = sentence.text if detail is not None or not sentence.detail else (sentence.short or sentence.text)
    subject = entry.subject.removeprefix(sentence.subject_prefix) if sentence.subject_prefix else entry.subject
    return capitalised(_(text, who=who(entry.actor), subject=subject, action=entry.action, detail=detail or ""))
