"""Moderation in /beheer: the "Moderatie" page, "Verberg" on every reply of a thread, undo, approve.

Registered on the staff blueprint (in `staff`), so every route here is behind its login, its CSRF
check and its no-store header. The rules and the record live in `moderation`; this module turns
forms into its calls and its problems into messages. After a change the worker reads the rules
again at once, so the next page it makes shows the change; other workers see it within
`moderation.CHECK_SECONDS`.
"""
from __future__ import annotations

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from .. import campaigns, moderation
from .http import current_lang
from .services import current_db, current_home_server

OTHER = moderation.OTHER


def init_app(app) -> None:
    # "Meld" on each reply leads to the post on the home server (its own report form is there).
    app.jinja_env.globals["report_url"] = lambda status: app.extensions["praatmee_home_server"].report_url(status)


def add_staff_routes(bp) -> None:
    bp.add_url_rule("/moderatie", "moderation", overview)
    bp.add_url_rule("/moderatie/verberg", "moderation_hide", hide, methods=["POST"])
    bp.add_url_rule("/moderatie/tonen", "moderation_unhide", unhide, methods=["POST"])
    bp.add_url_rule("/moderatie/goedkeuren", "moderation_approve", approve, methods=["POST"])
    bp.add_url_rule("/moderatie/intrekken", "moderation_withdraw", withdraw, methods=["POST"])


def store() -> moderation.ModerationStore:
    return moderation.ModerationStore(current_db())


def thread_references() -> tuple[str, ...]:
    """Every campaign's own thread: with the current conversation, the threads staff may moderate."""
    return tuple(campaigns.thread_status_ids(current_db(), current_app.config["MASTODON_URL"]))


def problems_as_messages(error: moderation.ModerationError) -> list[str]:
    return [_(problem.message, **dict(problem.params)) for problem in error.problems]


def reasons() -> list[tuple[str, str]]:
    """The choices for "why": the home server's rules (its /api/v1/instance/rules), then own words."""
    rules = current_home_server().registration(current_lang()).rules
    return [(rule.id, rule.text) for rule in rules if rule.id] + [(OTHER, _("Other: in your own words"))]


def thread_context(campaign=None) -> dict:
    """What `staff/_moderation_thread.html` needs, for a campaign's thread or the current conversation."""
    reference = campaign.thread_url if campaign is not None and campaign.thread_url else None
    return {"moderation_thread": current_home_server().staff_thread(reference),
            "moderation_reasons": reasons(),
            "moderation_slug": campaign.slug if campaign is not None else "",
            "moderation_kiosk_mode": current_app.config["KIOSK_REPLIES"],
            "moderation_back": "campaign" if campaign is not None else "moderation"}


def kpi_figures() -> dict:
    """The "verborgen" figure beside the KPIs (which keep counting hidden replies: they are real input)."""
    home = current_home_server()
    # One figure per thread, also when a campaign names the current conversation's thread.
    shown = {c.version[0]: c for c in (home.conversation(ref) for ref in (None, *thread_references())) if c.version}
    hides = home.moderation.get().hides
    return {"hidden_now": sum(c.hidden_count for c in shown.values()),
            "held_now": sum(c.held_count for c in shown.values()),
            "hidden_by_kind": {kind: sum(1 for h in hides if h.kind == kind) for kind in moderation.KINDS}}


# --- the page ----------------------------------------------------------------------------------

def overview():
    slug = request.args.get("gesprek", "")
    campaign = campaigns.get(current_db(), slug) if slug else None
    if slug and (campaign is None or not campaign.thread_url):
        abort(404)
    rules = current_home_server().moderation.refresh()
    with_threads = [c for c in campaigns.list_with_totals(current_db(), campaigns.today()) if c.campaign.thread_url]
    return render_template(
        "staff/moderation.html", hides=sorted(rules.hides, key=lambda h: (h.at, h.id), reverse=True),
        approvals=sorted(rules.approvals, key=lambda a: a.at, reverse=True), campaign=campaign,
        thread_campaigns=[summary.campaign for summary in with_threads],
        kiosk_mode=current_app.config["KIOSK_REPLIES"], hold_days=current_app.config["HOLD_NEW_ACCOUNTS_DAYS"],
        **thread_context(campaign))


def _back(anchor: str | None = None):
    """Where the form came from: the moderation page (of a campaign's thread), or the campaign's page."""
    slug = request.form.get("gesprek", "")
    campaign = campaigns.get(current_db(), slug) if slug else None
    if request.form.get("terug") == "campaign" and campaign is not None:
        return redirect(url_for("staff.campaign", slug=campaign.slug, _anchor=anchor or "gesprek"), code=303)
    gesprek = campaign.slug if campaign is not None and campaign.thread_url else None
    return redirect(url_for("staff.moderation", gesprek=gesprek, _anchor=anchor), code=303)


def _refuse(error: moderation.ModerationError, anchor: str | None = None):
    for message in problems_as_messages(error):
        flash(message)
    return _back(anchor)


def _describe(target: moderation.Target) -> str:
    return {"post": _("the reply %(what)s", what=target.label),
            "account": _("every post of %(what)s", what=target.label),
            "domain": _("every post from the server %(what)s", what=target.label)}[target.kind]


def hide():
    home = current_home_server()
    post_id = request.form.get("post", "").strip()[:40]
    anchor = f"post-{post_id}" if post_id.isdigit() else None
    try:
        reason = moderation.clean_reason(request.form.get("reden", ""), request.form.get("eigen_reden", ""),
                                         home.registration(current_lang()).rules)
        targets = _targets(home, post_id)
    except moderation.ModerationError as error:
        return _refuse(error, anchor)
    done = [(target, store().hide(target, reason, staff=g.staff.email)) for target in targets]
    home.moderation.refresh()
    for target, result in done:
        flash((_("Hidden: %(what)s. It is gone from every page within seconds.", what=_describe(target))
               if result.changed else _("Already hidden: %(what)s.", what=_describe(target))))
    return _back(anchor)


def _targets(home, post_id: str) -> list[moderation.Target]:
    """What the form asks to hide: ticked boxes for one reply, or a link, or a server's name."""
    references = thread_references()
    if post_id:
        reply = home.find_reply(post_id, references)
        if reply is None:
            raise moderation.refuse("url", "not_shown", value=post_id)
        chosen = set(request.form.getlist("wat"))
        targets = []
        if "reactie" in chosen:
            targets.append(moderation.post_target(reply))
        if "account" in chosen:
            if moderation.account_key(reply.account, home.domain) == moderation.acct_key(home.account, home.domain):
                raise moderation.refuse("url", "city_account", value=moderation.handle(
                    moderation.account_key(reply.account, home.domain)))
            targets.append(moderation.account_target(reply.account, home.domain))
        if "server" in chosen:
            domain = moderation.account_key(reply.account, home.domain).rsplit("@", 1)[1]
            targets.append(moderation.domain_target(domain, home.domain))
        if not targets:
            raise moderation.refuse("target", "nothing")
        return targets
    if request.form.get("domein", "").strip():
        return [moderation.domain_target(request.form["domein"], home.domain)]
    if request.form.get("url", "").strip():
        return [home.find_target(request.form["url"], references)]
    raise moderation.refuse("target", "nothing")


def unhide():
    hide_id = request.form.get("id", "")
    if not hide_id.isdigit() or len(hide_id) > 18:
        abort(400)
    result = store().unhide(int(hide_id), staff=g.staff.email)
    current_home_server().moderation.refresh()
    if result.changed:
        flash(_("Shown again: %(what)s.", what=result.hide.url or result.hide.target))
    else:
        flash(_("That was no longer hidden."))
    return _back()


def approve():
    home = current_home_server()
    post_id = request.form.get("post", "").strip()[:40]
    reply = home.find_reply(post_id, thread_references()) if post_id else None
    if reply is None:
        return _refuse(moderation.refuse("url", "not_reply", value=post_id))
    result = store().approve(reply, staff=g.staff.email)
    home.moderation.refresh()
    flash(_("Approved for kiosks: %(what)s.", what=reply.url or reply.id) if result.changed
          else _("Already approved: %(what)s.", what=reply.url or reply.id))
    return _back(f"post-{reply.id}")


def withdraw():
    post_id = request.form.get("post", "").strip()[:40]
    result = store().withdraw_approval(post_id, staff=g.staff.email) if post_id else moderation.Done(False)
    current_home_server().moderation.refresh()
    flash(_("Approval withdrawn: %(what)s.", what=result.approval.url or post_id) if result.changed
          else _("That was not approved."))
    return _back(f"post-{post_id}" if post_id.isdigit() else None)
