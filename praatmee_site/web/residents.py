"""Blueprint for residents: the entry page, campaign pages, privacy and accessibility statements.

Pages here carry no per-visitor data and set no cookies, so shared caches may keep them a minute —
except /c/<slug>, which counts scans and so must reach us every time.
"""
from __future__ import annotations

import logging

from flask import Blueprint, abort, current_app, make_response, render_template, request
from flask_babel import gettext as _

from .. import campaigns
from ..campaigns import posters
from . import printed, reply
from .http import current_lang, public_for_a_minute
from .pages import default_call_to_action, entry_page
from .services import current_db

bp = Blueprint("residents", __name__)
log = logging.getLogger(__name__)
bp.after_request(public_for_a_minute)
bp.after_request(reply.keep_address_answers_out_of_caches)  # sets its header outright, for /reageer only


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
        # One page for every unknown slug (it stands for the entry page): a made-up slug costs no copy.
        page = entry_page(call_to_action=default_call_to_action(), status=404, page_path="/", **canonical)
    elif campaigns.has_ended(found, today):
        # The campaign's figures are final; the poster still leads somewhere useful.
        page = entry_page(call_to_action=default_call_to_action(),
                          note=_(campaigns.ENDED_NOTE), **canonical)
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
    return campaigns.entry_url(current_app.config["PUBLIC_URL"], current_lang())


SHARE_IMAGE_CACHE = "public, max-age=3600"


def _share_image(headline: str, url: str):
    try:
        data = printed.share_image_png(current_app.config, headline, current_lang(), url)
    except posters.DoesNotFit:  # a configured call to action too long to print: no preview image
        abort(404)
    response = current_app.response_class(data, mimetype="image/png")
    response.headers["Cache-Control"] = SHARE_IMAGE_CACHE
    return response


@bp.get("/beeld.png")
def share_image():
    """The entry page's link-preview image (its og:image)."""
    return _share_image(default_call_to_action(), canonical_entry_url())


@bp.get("/c/<slug>/beeld.png")
def campaign_share_image(slug: str):
    """A campaign page's link-preview image. Never a scan: only /c/<slug> itself counts."""
    found = campaigns.get(current_db(), slug)
    if found is None:
        abort(404)
    if campaigns.has_ended(found, campaigns.today()):
        return share_image()  # the page shows the current conversation now
    return _share_image(campaigns.call_to_action(found, current_lang()),
                        campaigns.public_url(current_app.config["PUBLIC_URL"], found.slug, current_lang()))


# "Reageer direct" lives in its own module; its view is registered here, on this blueprint.
bp.add_url_rule("/reageer", endpoint="reply", view_func=reply.reply, methods=["GET", "POST"])
