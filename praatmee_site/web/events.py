"""Blueprint for event helpers (the "events" audience): the helper guide (/hulp), the kiosk screen (/kiosk) and the web snippet.

The guide follows the home server's live registration state; the kiosk shows a large QR code and
the newest replies, and keeps its last content when the network drops (see static/js/kiosk.js).
"""
from __future__ import annotations

from flask import Blueprint, abort, current_app, jsonify, render_template, request
from flask_babel import gettext as _
from markupsafe import Markup

from .. import campaigns
from ..campaigns import posters
from ..config import short_link
from . import printed
from .http import current_lang, public_for_a_minute
from .pages import default_call_to_action, default_call_to_action_lang
from .results import newest_outcome
from .services import current_db, current_home_server

bp = Blueprint("events", __name__)
bp.after_request(public_for_a_minute)

KIOSK_REPLIES = 3


@bp.get("/hulp")
def guide():
    config = current_app.config
    home = current_home_server()
    return render_template(
        "hulp.html",
        registration=home.registration(current_lang()),
        call_to_action=default_call_to_action(),
        call_to_action_lang=default_call_to_action_lang(),
        short_link=short_link(config["PUBLIC_URL"]),
        password_url=f"{home.base_url}/auth/password/new",
        confirmation_url=f"{home.base_url}/auth/confirmation/new",
        campaigns=campaigns.active(current_db(), campaigns.today()),
        campaign_call=lambda campaign: campaigns.call_to_action(campaign, current_lang()),
        campaign_call_lang=lambda campaign: campaigns.call_to_action_lang(campaign, current_lang()),
        keyword_line=lambda campaign=None: printed.keyword_line(campaign, config),
        whatsapp_link=lambda campaign=None: printed.whatsapp_link(campaign, config),
    )




def _active_campaign_or_404(slug: str):
    campaign = campaigns.get(current_db(), slug)
    if campaign is None or campaigns.has_ended(campaign, campaigns.today()):
        abort(404)
    return campaign


def kiosk_page(*, address: str, call_to_action: str, call_to_action_lang: str,
               thread_reference: str | None = None, campaign_slug: str | None = None, campaign=None):
    """Full screen for a tablet on the table: CTA, a QR code of `address`, the short link, new replies.

    The short link is the one the posters print (`amsterdam.nl/praatmee`), or its English page
    (`…/praatmee/en`) on /en/kiosk: a campaign's long address is in the QR code only.
    """
    home = current_home_server()
    conversation = home.conversation(thread_reference)
    # Moderated, and in a public place stricter still (PRAATMEE_KIOSK_REPLIES, default: approved only).
    newest = home.kiosk_replies(conversation, current_app.config["KIOSK_REPLIES"], KIOSK_REPLIES)
    # The SVG is drawn by posters.qr_svg from our own URL; its one text, the label, is escaped there.
    qr = Markup(posters.qr_svg(address, _("QR code for %(address)s", address=address)))
    link = short_link(campaigns.entry_url(current_app.config["PUBLIC_URL"], current_lang()))
    return render_template(
        "kiosk.html",
        link_fit=kiosk_link_fit(link),
        call_to_action=call_to_action,
        call_to_action_lang=call_to_action_lang,
        qr=qr,
        address=address,
        short_link=link,
        conversation=conversation,
        newest=newest,
        kiosk_replies=current_app.config["KIOSK_REPLIES"],
        moderation_version=home.moderation.version(),
        outcome=newest_outcome(conversation, campaign_slug),
        refresh_seconds=max(1, int(current_app.config["KIOSK_REFRESH"])),
        keyword_line=printed.keyword_line(campaign, current_app.config),
    )


KIOSK_LINK_FITS = (10, 12, 14, 16, 20, 24, 32, 40)  # site.css has a .fit-<n> class for each


def kiosk_link_fit(link: str) -> int:
    """The smallest width class (in em, see site.css) the short link fits in, so it stays on one line."""
    width = posters.text_width_em(link)
    return next((fit for fit in KIOSK_LINK_FITS if width <= fit - 0.5), KIOSK_LINK_FITS[-1])


def kiosk_address(entry_url: str) -> str:
    """The Dutch entry page is encoded as the posters print it (no trailing slash); English as `…/en/`."""
    return entry_url.rstrip("/") if current_lang() == "nl" else entry_url


@bp.get("/kiosk")
def kiosk():
    return kiosk_page(address=kiosk_address(campaigns.entry_url(current_app.config["PUBLIC_URL"], current_lang())),
                      call_to_action=default_call_to_action(),
                      call_to_action_lang=default_call_to_action_lang())


@bp.get("/kiosk/versie.json")
def kiosk_version():
    """The moderation version: a kiosk screen asks every second and reloads its replies when it moved,
    so a reply staff hide leaves the screen within seconds, not at the next minute's refresh."""
    response = jsonify(moderation=current_home_server().moderation.version())
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/kiosk/<slug>")
def kiosk_campaign(slug: str):
    campaign = _active_campaign_or_404(slug)
    return kiosk_page(address=campaigns.public_url(current_app.config["PUBLIC_URL"], campaign.slug, current_lang()),
                      call_to_action=campaigns.call_to_action(campaign, current_lang()),
                      call_to_action_lang=campaigns.call_to_action_lang(campaign, current_lang()),
                      thread_reference=campaign.thread_url or None, campaign_slug=campaign.slug,
                      campaign=campaign)


@bp.get("/hulp/flyer/<slug>.pdf")
def handout(slug: str):
    campaign = _active_campaign_or_404(slug)
    langs = printed.LANGUAGES.get(request.args.get("lang", current_lang()), ("nl",))
    try:
        data = printed.handout_pdf(campaign, current_app.config, langs)
    except posters.DoesNotFit:  # a campaign saved before the rules checked its call to action
        current_app.logger.warning("the handout of campaign %s cannot be printed readably", slug)
        abort(404)
    response = current_app.response_class(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="praatmee-{campaign.slug}-flyer.pdf"'
    return response


@bp.get("/embed/<slug>")
def embed(slug: str):
    """A copy-paste block for the city's website: a plain link, no script, no iframe, no tracking."""
    campaign = _active_campaign_or_404(slug)
    address = campaigns.public_url(current_app.config["PUBLIC_URL"], campaign.slug)
    context = dict(campaign=campaign, address=address, short_link=short_link(address),
                   call_to_action=campaigns.call_to_action(campaign, current_lang()),
                   call_to_action_lang=campaigns.call_to_action_lang(campaign, current_lang()))
    return render_template("embed.html", snippet=render_template("embed_snippet.html", **context), **context)
