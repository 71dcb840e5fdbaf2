"""Blueprint for residents' view of outcomes: /resultaten (every timeline) and its Atom feed.

Also the one helper the entry page, the campaign page and the kiosk use to find the newest outcome
of the thread they show. Public for a minute, like the other resident pages; no cookies.
"""
from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import urlsplit

from flask import Blueprint, current_app, render_template, url_for
from flask_babel import format_date
from markupsafe import escape

from .. import outcomes
from ..conversation.home_server import Conversation
from .http import current_lang, public_for_a_minute
from .services import current_db

bp = Blueprint("results", __name__)
bp.after_request(public_for_a_minute)

ATOM_TYPE = "application/atom+xml; charset=utf-8"


def newest_outcome(conversation: Conversation, campaign_slug: str | None = None) -> outcomes.Outcome | None:
    """The newest outcome of the thread a page shows (and, on a campaign's page, of the campaign)."""
    thread_id = conversation.thread.root.id if conversation.thread is not None else None
    try:
        return outcomes.newest_for_page(current_db(), home_url=current_app.config["MASTODON_URL"],
                                        campaign_slug=campaign_slug, thread_status_id=thread_id)
    except Exception:  # noqa: BLE001 - an outcome is news, never the reason a resident gets no page
        current_app.logger.warning("could not read the outcomes", exc_info=True)
        return None


def timeline_url(outcome: outcomes.Outcome) -> str:
    return url_for("results.index", _anchor=outcomes.timeline_key(outcome, current_app.config["MASTODON_URL"]))


@bp.app_context_processor
def outcome_helpers():
    return {"outcome_paragraphs": outcomes.paragraphs, "outcome_timeline_url": timeline_url}


@bp.get("/resultaten")
def index():
    timelines = outcomes.timelines(current_db(), current_app.config["MASTODON_URL"])
    return render_template("resultaten.html", timelines=timelines)


@bp.get("/resultaten.atom")
def feed():
    config = current_app.config
    lang = current_lang()
    timelines = outcomes.timelines(current_db(), config["MASTODON_URL"])
    entries = sorted((o for t in timelines for o in t.outcomes), key=lambda o: (o.updated_at, o.id), reverse=True)
    public = config["PUBLIC_URL"].rstrip("/")
    prefix = "/en" if lang == "en" else ""
    updated = max((o.updated_at for o in entries), default=datetime(2020, 1, 1, tzinfo=timezone.utc))
    body = render_template(
        "resultaten_atom.xml", entries=entries, updated=updated, lang=lang,
        feed_id=f"{public}{prefix}/resultaten.atom", self_url=f"{public}{prefix}/resultaten.atom",
        page_url=f"{public}{prefix}/resultaten", public_url=public, prefix=prefix,
        tag_authority=urlsplit(public).hostname or "praatmee",
    )
    return current_app.response_class(body, content_type=ATOM_TYPE)


def atom_time(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def html_as_text(fragment) -> str:
    """An HTML fragment we rendered ourselves, escaped once more: Atom's <content type="html">."""
    return escape(str(fragment))


def init_app(app) -> None:
    app.jinja_env.filters["atom_time"] = atom_time
    app.jinja_env.filters["html_as_text"] = html_as_text
    app.jinja_env.globals["format_date"] = format_date
    app.register_blueprint(bp)
