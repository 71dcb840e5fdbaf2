"""Outcomes as stored: add, change, remove, look up, and the timelines residents read.

Every rule comes from `rules`; every change lands in the audit log in the same transaction, with
who made it (a staff e-mail address, or "cli"). A campaign's outcome follows the campaign's thread;
a thread's outcome names its thread itself. No Flask in this module.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timezone

from sqlalchemy import select

from ..campaigns import store as campaign_store
from ..db import Campaign, Database, utcnow
from ..db import Outcome as OutcomeRow
from ..staff.accounts import record
from ..urls import home_status_id
from .rules import FIELDS, STATUS_LABELS, OutcomeError, Problem, UnknownOutcome, clean, thread_problems


def _utc(moment: datetime | None) -> datetime | None:
    # SQLite hands timestamps back without their zone; they were stored as UTC.
    if moment is None:
        return None
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment


@dataclass(frozen=True)
class Outcome:
    """One step of a timeline, with what residents need to see it in context."""

    id: int
    campaign_slug: str | None
    campaign_cta_nl: str
    campaign_cta_en: str
    campaign_thread_url: str  # the campaign's own thread; "" when it follows the current conversation
    own_thread_url: str  # a thread's outcome; "" for a campaign's
    status: str
    reason_nl: str
    reason_en: str
    title_nl: str
    title_en: str
    text_nl: str
    text_en: str
    happened_on: date
    decision_url: str
    posted_url: str
    posted_status_id: str
    posted_at: datetime | None
    publish_error: str
    publish_attempted_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @property
    def thread_url(self) -> str:
        """The thread it is about: its own, else its campaign's ("" when that follows the current one)."""
        return self.own_thread_url or self.campaign_thread_url

    def thread_status_id(self, home_url: str) -> str | None:
        return home_status_id(self.thread_url, home_url) if self.thread_url else None

    @property
    def status_label(self) -> str:
        """The English msgid of the status; translate it where it is shown."""
        return STATUS_LABELS[self.status]

    @property
    def is_posted(self) -> bool:
        return bool(self.posted_url)

    def title(self, lang: str) -> str:
        return self.title_en if lang == "en" and self.title_en else self.title_nl

    def title_lang(self, lang: str) -> str:
        return "en" if lang == "en" and self.title_en else "nl"

    def text(self, lang: str) -> str:
        return self.text_en if lang == "en" and self.text_en else self.text_nl

    def text_lang(self, lang: str) -> str:
        return "en" if lang == "en" and self.text_en else "nl"

    def reason(self, lang: str) -> str:
        if self.status != "niet_gedaan":
            return ""
        return self.reason_en if lang == "en" and self.reason_en else self.reason_nl

    def reason_lang(self, lang: str) -> str:
        return "en" if lang == "en" and self.reason_en else "nl"

    @property
    def subject(self) -> str:
        return f"outcome {self.id}"


@dataclass(frozen=True)
class Timeline:
    """Every outcome of one campaign or one thread, newest first."""

    key: str  # the anchor on /resultaten: "campagne-<slug>" or "gesprek-<status id>"
    campaign_slug: str | None
    cta_nl: str
    cta_en: str
    thread_url: str
    outcomes: tuple[Outcome, ...]

    @property
    def newest(self) -> Outcome:
        return self.outcomes[0]

    def heading(self, lang: str) -> str:
        return self.cta_en if lang == "en" and self.cta_en else self.cta_nl

    def heading_lang(self, lang: str) -> str:
        return "en" if lang == "en" and self.cta_en else "nl"


def _outcome(row: OutcomeRow, campaign: Campaign | None) -> Outcome:
    return Outcome(
        id=row.id, campaign_slug=campaign.slug if campaign else None,
        campaign_cta_nl=campaign.cta_nl if campaign else "", campaign_cta_en=campaign.cta_en if campaign else "",
        campaign_thread_url=campaign.thread_url if campaign else "", own_thread_url=row.thread_url,
        status=row.status, reason_nl=row.reason_nl, reason_en=row.reason_en, title_nl=row.title_nl,
        title_en=row.title_en, text_nl=row.text_nl, text_en=row.text_en, happened_on=row.happened_on,
        decision_url=row.decision_url, posted_url=row.posted_url, posted_status_id=row.posted_status_id,
        posted_at=_utc(row.posted_at), publish_error=row.publish_error,
        publish_attempted_at=_utc(row.publish_attempted_at), created_at=_utc(row.created_at),
        updated_at=_utc(row.updated_at),
    )


NEWEST_FIRST = (OutcomeRow.happened_on.desc(), OutcomeRow.id.desc())


def _rows(session, *where):
    query = (select(OutcomeRow, Campaign).outerjoin(Campaign, OutcomeRow.campaign_id == Campaign.id)
             .where(*where).order_by(*NEWEST_FIRST))
    return [_outcome(row, campaign) for row, campaign in session.execute(query)]


# --- looking up ---------------------------------------------------------------------------------

def get(db: Database, outcome_id: int | str) -> Outcome | None:
    number = _number(outcome_id)
    if number is None:
        return None
    with db.Session() as session:
        found = _rows(session, OutcomeRow.id == number)
    return found[0] if found else None


def require(db: Database, outcome_id: int | str) -> Outcome:
    outcome = get(db, outcome_id)
    if outcome is None:
        raise UnknownOutcome(outcome_id)
    return outcome


def _number(value: int | str) -> int | None:
    text = str(value).strip()
    return int(text) if text.isdigit() and len(text) <= 12 else None


def every(db: Database) -> list[Outcome]:
    """Every outcome, newest first (by its date, then by when it was added)."""
    with db.Session() as session:
        return _rows(session)


def of_campaign(db: Database, slug: str) -> list[Outcome]:
    campaign = campaign_store.get(db, slug)
    if campaign is None:
        return []
    with db.Session() as session:
        return _rows(session, OutcomeRow.campaign_id == campaign.id)


def for_page(outcomes: list[Outcome], *, home_url: str, campaign_slug: str | None = None,
             thread_status_id: str | None = None) -> list[Outcome]:
    """What belongs on a page that shows `thread_status_id` (and, for a campaign page, the campaign's)."""
    return [outcome for outcome in outcomes
            if (campaign_slug is not None and outcome.campaign_slug == campaign_slug)
            or (thread_status_id is not None and outcome.thread_status_id(home_url) == thread_status_id)]


def newest_for_page(db: Database, *, home_url: str, campaign_slug: str | None = None,
                    thread_status_id: str | None = None) -> Outcome | None:
    found = for_page(every(db), home_url=home_url, campaign_slug=campaign_slug, thread_status_id=thread_status_id)
    return found[0] if found else None


def timeline_key(outcome: Outcome, home_url: str) -> str:
    if outcome.campaign_slug:
        return f"campagne-{outcome.campaign_slug}"
    return f"gesprek-{outcome.thread_status_id(home_url) or outcome.id}"


def timelines(db: Database, home_url: str) -> list[Timeline]:
    """One timeline per campaign and per thread with outcomes, the one with the newest step first."""
    groups: dict[str, list[Outcome]] = {}
    for outcome in every(db):  # newest first, so each group is too, and so is the order of groups
        groups.setdefault(timeline_key(outcome, home_url), []).append(outcome)
    return [Timeline(key, steps[0].campaign_slug, steps[0].campaign_cta_nl, steps[0].campaign_cta_en,
                     steps[0].thread_url, tuple(steps)) for key, steps in groups.items()]


def thread_status_ids(db: Database, home_url: str) -> list[str]:
    """The threads outcomes name themselves (campaigns' threads come from `campaigns`)."""
    ids = (outcome.thread_status_id(home_url) for outcome in every(db) if outcome.own_thread_url)
    return list(dict.fromkeys(i for i in ids if i))


@dataclass(frozen=True)
class FirstOutcome:
    """Per thread, for the KPIs: the date of its first outcome, and whether any was posted in it."""

    day: date
    posted: bool


def first_outcomes(db: Database, home_url: str) -> dict[str, FirstOutcome]:
    found: dict[str, FirstOutcome] = {}
    for outcome in every(db):
        status_id = outcome.thread_status_id(home_url)
        if status_id is None:
            continue
        known = found.get(status_id)
        day = min(outcome.happened_on, known.day) if known else outcome.happened_on
        found[status_id] = FirstOutcome(day, outcome.is_posted or (known.posted if known else False))
    return found


# --- changing -----------------------------------------------------------------------------------

def _target(db: Database, campaign: str | None, thread_url: str | None, home_url: str,
            problems: list[Problem]) -> tuple[int | None, str]:
    campaign = (campaign or "").strip()
    thread_url = (thread_url or "").strip()
    if campaign and thread_url:
        problems.append(Problem("target", "both"))
        return None, ""
    if not campaign and not thread_url:
        problems.append(Problem("target", "required"))
        return None, ""
    if campaign:
        found = campaign_store.get(db, campaign)
        if found is None:
            problems.append(Problem("campaign", "unknown", {"value": campaign}))
            return None, ""
        return found.id, ""
    problems.extend(thread_problems(thread_url, home_url))
    return None, thread_url


def _check_names(values: Mapping[str, object]) -> None:
    unknown = set(values) - set(FIELDS)
    if unknown:
        raise TypeError(f"unknown outcome fields: {', '.join(sorted(unknown))}")


def _detail(values: Mapping[str, object]) -> str:
    return ", ".join(f"{name}={values[name]}" for name in FIELDS if values.get(name) not in (None, ""))


def add(db: Database, *, campaign: str | None = None, thread_url: str | None = None, home_url: str, today: date,
        actor: str, now: datetime | None = None, **values) -> Outcome:
    """A new outcome of a campaign (its slug) or of a thread (its link); `values` are the FIELDS."""
    _check_names(values)
    problems: list[Problem] = []
    campaign_id, own_thread = _target(db, campaign, thread_url, home_url, problems)
    try:
        cleaned = clean(values, today=today)
    except OutcomeError as error:
        problems += error.problems
        cleaned = {}
    if problems:
        raise OutcomeError(problems)
    now = now or utcnow()
    with db.Session.begin() as session:
        row = OutcomeRow(campaign_id=campaign_id, thread_url=own_thread, created_at=now, updated_at=now,
                         posted_url="", posted_status_id="", publish_error="", **cleaned)
        session.add(row)
        session.flush()
        target = f"campaign={campaign.strip()}" if campaign_id else f"thread={own_thread}"
        record(session, actor, "outcome.add", f"outcome {row.id}", f"{target}, {_detail(cleaned)}")
        outcome_id = row.id
    return require(db, outcome_id)


def update(db: Database, outcome_id: int | str, *, home_url: str, today: date, actor: str,
           campaign: str | None = None, thread_url: str | None = None, now: datetime | None = None,
           **changes) -> Outcome:
    """Change some FIELDS (None leaves a field as it is, "" clears an optional one), or the target."""
    _check_names(changes)
    current = require(db, outcome_id)
    problems: list[Problem] = []
    campaign_id, own_thread = None, ""
    if campaign is not None or thread_url is not None:
        campaign_id, own_thread = _target(db, campaign, thread_url, home_url, problems)
    wanted = {name: getattr(current, name) for name in FIELDS}
    wanted.update({name: value for name, value in changes.items() if value is not None})
    try:
        cleaned = clean(wanted, today=today)
    except OutcomeError as error:
        problems += error.problems
        cleaned = {}
    if problems:
        raise OutcomeError(problems)
    with db.Session.begin() as session:
        row = session.get(OutcomeRow, current.id)
        if row is None:
            raise UnknownOutcome(outcome_id)
        changed = [name for name in FIELDS if getattr(row, name) != cleaned[name]]
        if campaign is not None or thread_url is not None:
            if (row.campaign_id, row.thread_url) != (campaign_id, own_thread):
                row.campaign_id, row.thread_url = campaign_id, own_thread
                changed.append(f"campaign={campaign}" if campaign_id else f"thread={own_thread}")
        if changed:
            for name in FIELDS:
                setattr(row, name, cleaned[name])
            row.updated_at = now or utcnow()
            record(session, actor, "outcome.update", f"outcome {row.id}",
                   ", ".join(f"{name}={cleaned[name]}" if name in cleaned else name for name in changed))
    return require(db, current.id)


def remove(db: Database, outcome_id: int | str, *, actor: str) -> Outcome:
    """Take an outcome off every page and the feed (a reply posted on Mastodon stays there)."""
    outcome = require(db, outcome_id)
    with db.Session.begin() as session:
        row = session.get(OutcomeRow, outcome.id)
        if row is None:
            raise UnknownOutcome(outcome_id)
        session.delete(row)
        record(session, actor, "outcome.remove", outcome.subject,
               f"title={outcome.title_nl}" + (f", posted={outcome.posted_url}" if outcome.posted_url else ""))
    return outcome


def note_publish_attempt(db: Database, outcome_id: int, *, actor: str, now: datetime | None = None) -> None:
    with db.Session.begin() as session:
        row = session.get(OutcomeRow, outcome_id)
        if row is None:
            raise UnknownOutcome(outcome_id)
        row.publish_attempted_at = now or utcnow()
        record(session, actor, "outcome.publish_attempt", f"outcome {outcome_id}")


def note_posted(db: Database, outcome_id: int, *, actor: str, url: str, status_id: str,
                now: datetime | None = None) -> Outcome:
    with db.Session.begin() as session:
        row = session.get(OutcomeRow, outcome_id)
        if row is None:
            raise UnknownOutcome(outcome_id)
        row.posted_url, row.posted_status_id, row.posted_at = url, status_id, now or utcnow()
        row.publish_error = ""
        record(session, actor, "outcome.published", f"outcome {outcome_id}", url)
    return require(db, outcome_id)


def note_publish_failed(db: Database, outcome_id: int, *, actor: str, code: str, detail: str = "") -> Outcome:
    with db.Session.begin() as session:
        row = session.get(OutcomeRow, outcome_id)
        if row is None:
            raise UnknownOutcome(outcome_id)
        row.publish_error = code[:40]
        record(session, actor, "outcome.publish_failed", f"outcome {outcome_id}", f"{code} {detail}".strip())
    return require(db, outcome_id)
