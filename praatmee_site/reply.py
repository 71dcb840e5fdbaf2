"""Resident views for "Reageer direct": the address form and the hand-over to the resident's own server.

Part of the residents blueprint. The resolving itself lives in `interact` (behind `netguard`);
this module only turns its results into a redirect or a page. Nothing the visitor types is stored.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, g, redirect, render_template, request
from flask_babel import gettext as _

from . import __version__, campaigns
from .db import current_db
from .home import current_home
from .interact import DiscoveryCache, HandleError, Redirect, Resolver, is_home_server, parse_handle
from .netguard import NetGuard
from .residents import bp
from .web import limiter

MAX_LENGTH = 320


def init_app(app) -> None:
    """One resolver per app; tests may hand in a guard that reaches their fake fediverse."""
    guard = app.config.get("TESTING_NET_GUARD") or NetGuard(
        allow_private_hosts=app.config["ALLOW_PRIVATE_HOSTS"],
        user_agent=f"praatmee/{__version__} (+{app.config['PUBLIC_URL']})",
    )
    app.extensions["praatmee_resolver"] = Resolver(guard, DiscoveryCache())


def handle_error_message(code: str) -> str:
    messages = {
        "empty": _("Type your Mastodon address, for example @name@mastodon.nl."),
        "too_long": _("That is too long for a Mastodon address. Check what you typed."),
        "contains_space": _("A Mastodon address has no spaces. Check what you typed."),
        "missing_domain": _("Add your server: @name@server.nl, not only @name."),
        "no_dot": _("The server name needs a dot, like mastodon.nl."),
        "ip_literal": _("Type the name of your server, not a number (IP address)."),
        "credentials": _("Leave out the password: type only your address, like @name@mastodon.nl."),
        "port": _("Leave out the port number: type only your address, like @name@mastodon.nl."),
        "not_https": _("Type your address, like @name@mastodon.nl, or a link that starts with https://."),
    }
    return messages.get(code, _("We cannot read this address. Type it like @name@mastodon.nl."))


def _came_from_our_form() -> bool:
    """A redirect to another site only for our own form, so the link cannot be an open redirect."""
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        return site == "same-origin"
    referrer = request.headers.get("Referer", "")
    return bool(referrer) and urlsplit(referrer).netloc == request.host


@bp.get("/reageer")
@limiter.limit(lambda: current_app.config["RESOLVER_LIMIT"], exempt_when=lambda: not request.args.get("adres"))
def reply():
    g.form_leaves_site = True  # the form's answer is a redirect to the resident's own server
    home = current_home()
    campaign = campaigns.get(current_db(), request.args.get("c", ""))
    threads = (campaign.thread_url,) if campaign is not None and campaign.thread_url else ()
    post = home.find_post(request.args.get("post", ""), threads)
    address = request.args.get("adres", "")
    context = dict(post=post, address=address[:MAX_LENGTH + 50], error=None, outcome=None)
    if "adres" not in request.args:
        return render_template("reply.html", **context)
    if post is None:
        context["outcome"] = "no_post"
        return render_template("reply.html", **context), 503
    try:
        handle = parse_handle(address)
    except HandleError as problem:
        context["error"] = handle_error_message(problem.code)
        return render_template("reply.html", **context), 400
    if is_home_server(handle, [home.base_url]):
        context["outcome"] = "home"
        return render_template("reply.html", **context)
    result = current_app.extensions["praatmee_resolver"].resolve(handle, post.uri)
    context["domain"] = handle.domain
    if isinstance(result, Redirect):
        if _came_from_our_form():
            return redirect(result.url, code=303)
        context.update(outcome="confirm", target=result.url)
        return render_template("reply.html", **context)
    context["outcome"] = "no_way_in" if result.reason == "no_way_in" else "unreachable"
    return render_template("reply.html", **context)
