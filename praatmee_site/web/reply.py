"""Resident views for "Reageer direct": the address form and the hand-over to the resident's own server.

Registered on the residents blueprint (in `residents`). The resolving itself lives in
`remote_interaction.discovery` (behind `netguard`);
this module only turns its results into a redirect or a page. Nothing the visitor types is stored,
and the address travels only in a POST body: never in a URL, so not in access logs or history.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from .. import campaigns
from ..remote_interaction.discovery import (
    MAX_HANDLE_LENGTH,
    DiscoveryCache,
    HandleError,
    LookupSlots,
    Redirect,
    Resolver,
    is_email_provider,
    is_home_server,
    parse_handle,
)
from ..remote_interaction.netguard import NetGuard
from ..version import user_agent
from .extensions import csrf, limiter
from .http import current_lang
from .services import RESOLVER, current_db, current_home_server, current_resolver

FORM_PAGE_CACHE = "public, max-age=60"  # the bare form: the same for everyone
ANSWER_CACHE = "no-store"  # anything that depends on an address


def init_app(app) -> None:
    """One resolver per app; tests may hand in a guard that reaches their fake fediverse."""
    guard = app.config.get("TESTING_NET_GUARD") or NetGuard(
        allow_private_hosts=app.config["ALLOW_PRIVATE_HOSTS"],
        user_agent=user_agent(app.config["PUBLIC_URL"]),
    )
    # Look-ups in flight are capped per instance (lock files in its instance folder), so hostile
    # servers that hold their look-ups to the deadline cannot take every worker from residents.
    slots = LookupSlots(app.instance_path, app.config["LOOKUP_SLOTS"])
    app.extensions[RESOLVER] = Resolver(guard, DiscoveryCache(), slots=slots)
    # Resident pages set no cookie, so there is no CSRF token to send. None is needed: this form
    # changes nothing on our side, and only a POST from our own pages is handed over at once.
    csrf.exempt(reply)


def handle_error_messages() -> dict[str, str]:
    """One message per `interact.HANDLE_ERROR_CODES` code, in the page's language."""
    return {
        "empty": _("Type your Mastodon address, for example @name@mastodon.nl."),
        "too_long": _("That is too long for a Mastodon address. Check what you typed."),
        "contains_space": _("A Mastodon address has no spaces. Check what you typed."),
        "missing_domain": _("Add your server: @name@server.nl, not only @name."),
        "no_dot": _("The server name needs a dot, like mastodon.nl."),
        "ip_literal": _("Type the name of your server, not a number (IP address)."),
        "credentials": _("Leave out the password: type only your address, like @name@mastodon.nl."),
        "port": _("Leave out the port number: type only your address, like @name@mastodon.nl."),
        "not_https": _("Type your address, like @name@mastodon.nl, or a link that starts with https://."),
        "invalid": _("We cannot read this address. Type it like @name@mastodon.nl."),
    }


def email_address_message() -> str:
    """For an address on an e-mail provider's domain (`discovery.is_email_provider`), before any look-up."""
    return _("This looks like an email address. Your Mastodon address looks like @name@server.nl.")


def handle_error_message(code: str) -> str:
    messages = handle_error_messages()
    return messages.get(code, messages["invalid"])


def _suggested_server(text: str) -> str | None:
    """The server of the address a link filled in (``?adres=``), if it is an address at all."""
    try:
        return parse_handle(text).domain if text else None
    except HandleError:
        return None


def _sent_from_our_pages() -> bool:
    """True for a request our own page made (our form). Links cannot POST, and another site's form
    is cross-site, so neither is handed over without the resident seeing where it goes."""
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        return site == "same-origin"
    # Browsers without Fetch Metadata: Origin (sent with every POST by current browsers), else Referer.
    source = request.headers.get("Origin") or request.headers.get("Referer") or ""
    return source != "null" and bool(source) and urlsplit(source).netloc == request.host


def keep_address_answers_out_of_caches(response):
    """Set explicitly, for every answer of this view (the limit's 429 included): the blueprint's
    default is public, but only the bare form is the same for everyone."""
    if request.endpoint == "residents.reply":
        bare_form = request.method in ("GET", "HEAD") and "adres" not in request.args
        response.headers["Cache-Control"] = (FORM_PAGE_CACHE if bare_form and response.status_code == 200
                                             else ANSWER_CACHE)
    return response


def _back_url(campaign, post) -> str:
    """"Terug": the page the resident came from (the campaign's, or the entry page), at the post."""
    page = (url_for("residents.campaign", slug=campaign.slug) if campaign is not None
            and not campaigns.has_ended(campaign, campaigns.today()) else url_for("residents.index"))
    return f"{page}#post-{post.id}" if post is not None else page


def _page(context: dict, status: int = 200):
    return render_template("reply.html", **context), status


@limiter.limit(lambda: current_app.config["RESOLVER_LIMIT"], methods=["POST"],
               deduct_when=lambda response: g.get("reply_looked_up", False))
def reply():
    g.form_leaves_site = True  # the form's answer is a redirect to the resident's own server
    home = current_home_server()
    campaign = campaigns.get(current_db(), request.args.get("c", ""))
    threads = (campaign.thread_url,) if campaign is not None and campaign.thread_url else ()
    shown = home.find_shown_post(request.args.get("post", ""), threads)
    post = shown.status if shown is not None else None
    invite = campaign.invite_url if campaign is not None and not campaigns.has_ended(campaign, campaigns.today()) else None
    context = dict(post=post, shown=shown, campaign=campaign.slug if campaign is not None else None, error=None,
                   outcome=None, max_length=MAX_HANDLE_LENGTH,
                   # The whole choice: the same sign-up link as the page's big button (the campaign's invite
                   # included), one tap to the post on the home server, or the address form.
                   registration=home.registration(current_lang(), invite or None),
                   home_url=home.interaction_url(post.uri) if post is not None else None,
                   back_url=_back_url(campaign, post))
    if request.method != "POST":  # GET, or HEAD
        # Links from before the form used POST (?adres=…) still fill in the field, but a GET is
        # never looked up or followed: a link in a stranger's reply is a GET too. The form carries
        # the suggestion along, so the answer can tell it from what the resident typed.
        suggested = request.args.get("adres", "")[:MAX_HANDLE_LENGTH]
        return _page(dict(context, address=suggested, suggested=suggested))

    address = request.form.get("adres", "")
    context["address"] = address[:MAX_HANDLE_LENGTH + 50]  # a bit over the limit, so the resident sees why
    context["suggested"] = request.form.get("voorgesteld", "")[:MAX_HANDLE_LENGTH]
    if post is None:
        return _page(dict(context, outcome="no_post"), 503)
    try:
        handle = parse_handle(address)
    except HandleError as problem:
        return _page(dict(context, error=handle_error_message(problem.code)), 400)
    if is_email_provider(handle):
        return _page(dict(context, error=email_address_message()), 400)
    # The account domain may differ from the web domain (social.example serving @name@example).
    if is_home_server(handle, [home.base_url, home.registration(current_lang()).server]):
        return _page(dict(context, outcome="home"))
    g.reply_looked_up = True  # only a look-up costs the resident a try (see the limit above)
    result = current_resolver().resolve(handle, post.uri)
    context["domain"] = handle.domain
    if isinstance(result, Redirect):
        suggested = _suggested_server(context["suggested"]) == handle.domain
        if _sent_from_our_pages() and not suggested:
            return redirect(result.url, code=303)
        # Someone else chose this server (another site's form, or a link that filled in the field):
        # the resident first sees the host the button really opens.
        return _page(dict(context, outcome="confirm", target=result.url, target_host=urlsplit(result.url).hostname,
                          suggested_by_link=suggested))
    if result.reason == "busy":
        g.reply_looked_up = False  # nothing was asked: it costs the resident no try
        page, status = _page(dict(context, outcome="busy"), 503)
        return page, status, {"Retry-After": "10"}
    # "refused": the server answered, but only with a way in we will not use (see urls.is_resident_target).
    reachable = result.reason in ("no_way_in", "refused")
    return _page(dict(context, outcome="no_way_in" if reachable else "unreachable"))
