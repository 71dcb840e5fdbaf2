"""Blueprint for campaign staff: /beheer, behind a login.

Every route here requires a logged-in staff member (checked once, in `before_request`, so a new
route cannot forget it) and answers `Cache-Control: no-store`. The session cookie is only ever
set here; resident pages never touch the session.
"""
from __future__ import annotations

import time
from datetime import timedelta

from flask import (Blueprint, abort, current_app, flash, g, redirect, render_template, request, session, url_for)
from flask.sessions import SecureCookieSessionInterface
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError, CSRFProtect

from . import campaigns, posters, printed
from .db import current_db
from .staff_accounts import StaffDirectory, audit_log, record
from .web import limiter

bp = Blueprint("staff", __name__, url_prefix="/beheer")
csrf = CSRFProtect()

SESSION_HOURS = 8
OPEN_ENDPOINTS = {"staff.login"}


class StaffSessionInterface(SecureCookieSessionInterface):
    """The session cookie is Secure whenever the request came in over https (behind the proxy too)."""

    def get_cookie_secure(self, app):
        return bool(app.config.get("SESSION_COOKIE_SECURE")) or request.is_secure


def init_app(app) -> None:
    app.config.update(
        SESSION_COOKIE_NAME="praatmee_staff",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=SESSION_HOURS),
        # A staff member's cookie must never be re-sent from a resident page.
        SESSION_REFRESH_EACH_REQUEST=False,
        WTF_CSRF_TIME_LIMIT=SESSION_HOURS * 3600,
    )
    app.session_interface = StaffSessionInterface()
    csrf.init_app(app)
    app.register_blueprint(bp)


def directory() -> StaffDirectory:
    return StaffDirectory(current_db())


@bp.before_request
def require_login():
    g.staff = None
    staff_id, since = session.get("staff_id"), session.get("since", 0)
    if staff_id is not None and time.time() - since < SESSION_HOURS * 3600:
        g.staff = directory().get(staff_id)
    if g.staff is None:
        session.pop("staff_id", None)
        if request.endpoint not in OPEN_ENDPOINTS:
            return redirect(url_for("staff.login", next=request.full_path.rstrip("?") if request.method == "GET" else None))
    return None


@bp.after_request
def never_cache(response):
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.errorhandler(CSRFError)
def csrf_failed(error):
    return render_template("staff/message.html", title=_("This did not work"),
                           message=_("The form was open too long, or it came from somewhere else. Please try again.")), 400


def _login_key() -> str:
    return "staff-login:" + (request.form.get("email") or "").strip().lower()


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("20 per 15 minutes", methods=["POST"])  # per client address
@limiter.limit("5 per 15 minutes", methods=["POST"], key_func=_login_key)  # per account
def login():
    if request.method == "GET":
        return render_template("staff/login.html", email="", failed=False)
    email = request.form.get("email", "")
    staff = directory().authenticate(email, request.form.get("password", ""))
    if staff is None:
        # One message for a wrong password and for an unknown address.
        return render_template("staff/login.html", email=email, failed=True), 401
    session.clear()
    session.permanent = True
    session.update(staff_id=staff.id, since=time.time())
    target = request.args.get("next", "")
    if not target.startswith("/") or target.startswith("//"):
        target = url_for("staff.home")
    return redirect(request.script_root + target if target.startswith("/beheer") else url_for("staff.home"))


@bp.post("/uitloggen")
def logout():
    session.clear()
    return redirect(url_for("staff.login"))


@bp.get("/logboek")
def audit():
    return render_template("staff/audit.html", entries=audit_log(current_db()))


# --- campaigns ----------------------------------------------------------------------------------

FORM_FIELDS = campaigns.FIELDS
DOWNLOADS = {
    # name: (what, mimetype)
    "poster-a4.pdf": ("poster", "A4", "pdf"), "poster-a4.png": ("poster", "A4", "png"),
    "poster-a3.pdf": ("poster", "A3", "pdf"), "poster-a3.png": ("poster", "A3", "png"),
    "poster-a6.pdf": ("poster", "A6", "pdf"), "poster-a6.png": ("poster", "A6", "png"),
    "qr.svg": ("qr", None, "svg"), "qr.png": ("qr", None, "png"),
    "handout.pdf": ("handout", None, "pdf"),
    "social-square.png": ("social", "square", "png"), "social-story.png": ("social", "story", "png"),
}
MIMETYPES = {"pdf": "application/pdf", "png": "image/png", "svg": "image/svg+xml"}


def _problems(error: campaigns.CampaignError) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for problem in error.problems:
        found.setdefault(problem.field, []).append(_(problem.message, **dict(problem.params)))
    return found


def _audit(action: str, subject: str, detail: str = "") -> None:
    with current_db().Session.begin() as db_session:
        record(db_session, g.staff.email, action, subject, detail)


def _form_values() -> dict[str, str]:
    return {name: request.form.get(name, "").strip() for name in FORM_FIELDS}


@bp.get("/")
def home():
    return render_template("staff/home.html", summaries=campaigns.list_with_totals(current_db(), campaigns.today()),
                           today=campaigns.today())


@bp.route("/campagnes/nieuw", methods=["GET", "POST"])
def campaign_new():
    values = {name: "" for name in FORM_FIELDS} | {"slug": "", "place": ""}
    problems: dict[str, list[str]] = {}
    if request.method == "POST":
        values = _form_values() | {"slug": request.form.get("slug", "").strip()}
        try:
            campaign = campaigns.create(current_db(), values["slug"], home_url=current_app.config["MASTODON_URL"],
                                        **{k: v for k, v in values.items() if k != "slug"})
        except campaigns.CampaignError as error:
            problems = _problems(error)
        else:
            _audit("campaign.create", campaign.slug, campaign.name)
            flash(_("Campaign %(name)s is ready.", name=campaign.name))
            return redirect(url_for("staff.campaign", slug=campaign.slug), code=303)
    return render_template("staff/campaign_form.html", values=values, problems=problems, campaign=None,
                           places=campaigns.PLACES), 400 if problems else 200


def _campaign_or_404(slug: str):
    campaign = campaigns.get(current_db(), slug)
    if campaign is None:
        abort(404)
    return campaign


@bp.get("/campagnes/<slug>")
def campaign(slug: str):
    campaign = _campaign_or_404(slug)
    db = current_db()
    day = campaigns.today()
    return render_template(
        "staff/campaign.html", campaign=campaign, totals=campaigns.totals(db, campaign, day),
        scans=campaigns.scans_per_day(db, campaign), ended=campaigns.has_ended(campaign, day),
        url=campaigns.public_url(current_app.config["PUBLIC_URL"], campaign.slug), downloads=DOWNLOADS,
    )


@bp.route("/campagnes/<slug>/bewerken", methods=["GET", "POST"])
def campaign_edit(slug: str):
    campaign = _campaign_or_404(slug)
    values = {name: getattr(campaign, name) or "" for name in FORM_FIELDS} | {"slug": campaign.slug}
    problems: dict[str, list[str]] = {}
    if request.method == "POST":
        values = _form_values() | {"slug": campaign.slug}
        try:
            campaigns.update(current_db(), slug, home_url=current_app.config["MASTODON_URL"],
                             **{k: v for k, v in values.items() if k != "slug"})
        except campaigns.CampaignError as error:
            problems = _problems(error)
        else:
            _audit("campaign.update", slug, ", ".join(f"{k}={v}" for k, v in values.items() if k != "slug"))
            flash(_("Your changes are saved."))
            return redirect(url_for("staff.campaign", slug=slug), code=303)
    return render_template("staff/campaign_form.html", values=values, problems=problems, campaign=campaign,
                           places=campaigns.PLACES), 400 if problems else 200


@bp.post("/campagnes/<slug>/beeindigen")
def campaign_end(slug: str):
    _campaign_or_404(slug)
    try:
        campaigns.end(current_db(), slug, today=campaigns.today(), home_url=current_app.config["MASTODON_URL"])
    except campaigns.CampaignError as error:  # e.g. it has not started yet
        for messages in _problems(error).values():
            for message in messages:
                flash(message)
    else:
        _audit("campaign.end", slug)
        flash(_("The campaign has ended. Its posters now lead to the current conversation."))
    return redirect(url_for("staff.campaign", slug=slug), code=303)


@bp.get("/campagnes/<slug>/download/<name>")
def campaign_download(slug: str, name: str):
    campaign = _campaign_or_404(slug)
    if name not in DOWNLOADS:
        abort(404)
    lang = request.args.get("lang", "nl")
    if lang not in printed.LANGUAGES:
        abort(404)
    kind, option, fmt = DOWNLOADS[name]
    spec = printed.poster_spec(campaign, current_app.config, printed.LANGUAGES[lang])
    if kind == "poster":
        data = posters.render(spec, option, fmt)
    elif kind == "qr":
        data = posters.render(spec, "A4", "svg") if fmt == "svg" else posters.qr_png(spec.url)
    elif kind == "handout":
        data = printed.handout_pdf(campaign, current_app.config, printed.LANGUAGES[lang])
    else:
        data = printed.social_png(campaign, current_app.config, option, printed.LANGUAGES[lang])
    inline = request.args.get("preview") == "1" and fmt in ("png", "svg")
    response = current_app.response_class(data, mimetype=MIMETYPES[fmt])
    filename = f"praatmee-{campaign.slug}-{lang.replace('+', '-')}-{name}"
    response.headers["Content-Disposition"] = f'{"inline" if inline else "attachment"}; filename="{filename}"'
    return response
