"""Blueprint for residents: the entry page, campaign pages, privacy and accessibility statements.

Pages here carry no per-visitor data and set no cookies, so shared caches may keep them a minute —
except /c/<slug>, which counts scans and so must reach us every time.
"""
from __future__ import annotations

import logging

from flask import Blueprint, current_app, make_response, render_template, request, url_for
from flask_babel import gettext as _

from . import campaigns
from .db import current_db
from .home import current_home
from .web import current_lang

bp = Blueprint("residents", __name__)
log = logging.getLogger(__name__)


@bp.after_request
def cacheable(response):
    if response.status_code == 200:
        response.headers.setdefault("Cache-Control", "public, max-age=60")
    return response


def entry_page(*, call_to_action: str, thread_reference: str | None = None, invite_url: str | None = None,
               input_text: str | None = None, note: str | None = None, status: int = 200,
               campaign_slug: str | None = None, call_to_action_lang: str | None = None, **extra):
    """The one entry page; campaigns reuse it with their own heading, thread and sign-up link.

    The HTML is kept per everything it depends on (language, mount, path, campaign, thread version,
    registration state; pages take nothing from the query string), so a burst of visitors costs one
    render; `/c/` still counts each scan.
    """
    lang = current_lang()
    config = current_app.config
    home = current_home()
    conversation = home.conversation(thread_reference)
    registration = home.registration(lang, invite_url)
    call_to_action_lang = call_to_action_lang or default_call_to_action_lang()
    key = (lang, request.script_root, request.path, call_to_action, call_to_action_lang, input_text, note,
           campaign_slug, conversation.version, conversation.problem, registration, tuple(sorted(extra.items())))
    pages = current_app.extensions.setdefault("praatmee_entry_pages", {})
    html = pages.get(key)
    if html is None:
        html = render_template(
            "index.html",
            call_to_action=call_to_action,
            call_to_action_lang=call_to_action_lang,
            conversation=conversation,
            registration=registration,
            account_url=home.account_url(config["ACCOUNT"]),
            account=config["ACCOUNT"],
            team_text=config.get("TEAM_TEXT"),
            input_text=input_text or config.get("INPUT_TEXT"),
            note=note,
            demo=config["DEMO"],
            entry_page=True,
            campaign_slug=campaign_slug,  # "Reageer" links name the campaign, so its thread's posts are found
            reply_url=url_for("residents.reply", c=campaign_slug),
            **extra,
        )
        if len(pages) > 256:
            pages.clear()
        pages[key] = html
    return html, status


def default_call_to_action() -> str:
    config = current_app.config
    if current_lang() == "en" and config.get("CALL_TO_ACTION_EN"):
        return config["CALL_TO_ACTION_EN"]
    return config.get("CALL_TO_ACTION") or _("Ask the Innovation team your question")


def default_call_to_action_lang() -> str:
    """The language of `default_call_to_action()`: a configured Dutch text stays Dutch on /en/."""
    config = current_app.config
    if current_lang() == "en" and config.get("CALL_TO_ACTION") and not config.get("CALL_TO_ACTION_EN"):
        return "nl"
    return current_lang()


@bp.get("/")
def index():
    return entry_page(call_to_action=default_call_to_action())


@bp.get("/privacy")
def privacy():
    return render_template("privacy.html")


@bp.get("/toegankelijkheid")
def accessibility():
    return render_template("toegankelijkheid.html")


@bp.get("/c/<slug>")
def campaign(slug: str):
    """A campaign's entry page; one scan counted per real visit. Ended or unknown: the default page."""
    database = current_db()
    found = campaigns.get(database, slug)
    today = campaigns.today()
    canonical = dict(canonical_url=canonical_entry_url())
    if found is None:
        page = entry_page(call_to_action=default_call_to_action(), status=404, **canonical)
    elif campaigns.has_ended(found, today):
        # The campaign's figures are final; the poster still leads somewhere useful.
        page = entry_page(call_to_action=default_call_to_action(),
                          note=_("This campaign has ended — this is the current conversation"), **canonical)
    else:
        if campaigns.counts_as_scan(request.method, request.headers):
            try:
                campaigns.count_scan(database, found.id, today)
            except Exception:  # noqa: BLE001 - a lost count must never cost a resident the page
                log.warning("could not count a scan for campaign %s", found.slug, exc_info=True)
        page = entry_page(
            call_to_action=campaigns.call_to_action(found, current_lang()),
            call_to_action_lang=campaigns.call_to_action_lang(found, current_lang()),
            thread_reference=found.thread_url or None,
            invite_url=found.invite_url or None,
            input_text=found.input_text or None,
            campaign_slug=found.slug,
            **canonical,
        )
    response = make_response(page)
    # Shared caches must not answer for us, or scans would go uncounted; the thread itself still
    # comes from the app's own cache.
    response.headers["Cache-Control"] = "private, no-store"
    return response


def canonical_entry_url() -> str:
    """The public entry page in the current language: campaign pages are copies of it."""
    public_url = current_app.config["PUBLIC_URL"]
    return f"{public_url}/en/" if current_lang() == "en" else f"{public_url}/"


from . import reply  # noqa: E402,F401 - "Reageer direct" views live in their own module, on this blueprint
