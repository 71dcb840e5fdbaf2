"""Blueprint for campaign staff: /beheer, behind a login.

Every route here requires a logged-in staff member (checked once, in `before_request`, so a new
route cannot forget it) and answers `Cache-Control: no-store`. The session cookie is only ever
set here; resident pages never touch the session.
"""
from __future__ import annotations

import hmac
import io
import math
import re
import time
from datetime import date, datetime, timedelta, timezone

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, session, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_babel import format_date, format_datetime, format_time, ngettext
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from markupsafe import Markup
from PIL import Image

from .. import campaigns, clock, kpi, outcomes
from ..campaigns import posters
from ..kpi import charts, exports
from ..messages import N_
from ..sms import counts as keyword_counts
from ..staff.accounts import StaffDirectory, audit_log, record
from ..staff.audit_sentences import is_cli
from ..staff.login_limits import KeyRing, LoginLimits, Wait
from . import printed, wording
from .extensions import csrf
from .http import current_lang
from .pages import dutch_default_call_to_action
from .services import current_db, current_home_server

bp = Blueprint("staff", __name__, url_prefix="/beheer")

SESSION_HOURS = 8
OPEN_ENDPOINTS = {"staff.login"}


class StaffSessionInterface(SecureCookieSessionInterface):
    """The staff cookie: Secure whenever the request came in over https (behind the proxy too), and
    sent only to this site's own mount (e.g. /praatmee/), not to everything else on the host."""

    def get_cookie_secure(self, app):
        return bool(app.config.get("SESSION_COOKIE_SECURE")) or request.is_secure

    def get_cookie_path(self, app):
        return (request.environ.get("praatmee.root") or "") + "/"


def init_app(app) -> None:
    app.config.update(
        SESSION_COOKIE_NAME="praatmee_staff",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=SESSION_HOURS),
        # Resident pages never set the cookie: it is not refreshed on every request, only at login.
        SESSION_REFRESH_EACH_REQUEST=False,
        WTF_CSRF_TIME_LIMIT=SESSION_HOURS * 3600,
    )
    app.session_interface = StaffSessionInterface()
    csrf.init_app(app)
    app.extensions["praatmee_login_limits"] = _login_limits_for(app.config)
    app.register_blueprint(bp)


def _login_limits_for(config) -> LoginLimits:
    """Counted where Flask-Limiter counts (see `web.configure_rate_limits`), with their own keys."""
    from limits.storage import MemoryStorage, storage_from_string
    uri = config.get("RATELIMIT_STORAGE_URI") or "memory://"
    options = {} if uri.startswith("memory") else (config.get("RATELIMIT_STORAGE_OPTIONS") or {})
    storage = storage_from_string(uri, **options)
    shared = None if isinstance(storage, MemoryStorage) or not hasattr(storage, "get_connection") else storage
    return LoginLimits(storage, KeyRing(shared))


def login_limits() -> LoginLimits:
    return current_app.extensions["praatmee_login_limits"]


def directory() -> StaffDirectory:
    return StaffDirectory(current_db())


@bp.before_request
def require_login():
    g.staff = None
    staff_id, since = session.get("staff_id"), session.get("since", 0)
    if staff_id is not None and time.time() - since < SESSION_HOURS * 3600:
        staff = directory().get(staff_id)
        # A new password (`flask staff password`) ends every session made with the old one; logging
        # out ends the sessions that started until then (see `logout`).
        if (staff is not None and hmac.compare_digest(staff.password_stamp, session.get("stamp", ""))
                and since > staff.sessions_valid_since):
            g.staff = staff
    if g.staff is None:
        session.pop("staff_id", None)
        if request.endpoint not in OPEN_ENDPOINTS:
            return redirect(url_for("staff.login", next=request.full_path.rstrip("?") if request.method == "GET" else None))
    return None


@bp.after_request
def never_cache(response):
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.context_processor
def staff_words():
    """The staff templates' words: labels from the rules, dates and periods in the page's language."""
    return {"field_label": wording.field_label, "place_label": wording.place_label,
            "readable_period": wording.readable_period, "readable_date": wording.readable_date,
            "capitalised": wording.capitalised, "staff_contact": _staff_contact()}


def _staff_contact() -> dict[str, str]:
    """Who to ask for an account or a new password (PRAATMEE_STAFF_CONTACT), as text and, for an address, a mailto."""
    contact = current_app.config.get("STAFF_CONTACT") or ""
    if not contact:
        return {"text": _("the colleague who manages praatmee in your team"), "email": ""}
    return {"text": contact, "email": contact if _is_email(contact) else ""}


def _is_email(text: str) -> bool:
    return re.fullmatch(r"[^@\s<>\"]+@[^@\s<>\"]+\.[A-Za-z]{2,63}", text) is not None


@bp.errorhandler(CSRFError)
def csrf_failed(error):
    return render_template("staff/message.html", title=_("This did not work"),
                           message=_("The form was open too long, or it came from somewhere else. Please try again.")), 400


# Where `next` may lead after logging in: a path inside the staff area, in plain URL characters
# (so never another site, never a line break in the Location header, never a way out with "..").
_NEXT = re.compile(r"/beheer/[A-Za-z0-9_\-./]*(\?[A-Za-z0-9_\-.~%=&+:]*)?")


def _staff_path(target: str) -> str | None:
    return target if _NEXT.fullmatch(target) and ".." not in target else None


def _next_or_overview(target: str) -> str:
    return request.script_root + target if _staff_path(target) else url_for("staff.home")


def _wait_text(wait: Wait) -> dict[str, str]:
    """The real wait, in words and as a time of day: for the login page and the limit page."""
    seconds = wait.seconds(time.time())
    if seconds < 120:
        words = ngettext("%(num)d second", "%(num)d seconds", seconds)
    else:
        words = ngettext("%(num)d minute", "%(num)d minutes", math.ceil(seconds / 60))
    return {"wait_words": words,
            "wait_time": format_time(datetime.fromtimestamp(wait.until, timezone.utc), "HH:mm:ss")}


@bp.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "GET":
        return render_template("staff/login.html", email="", failed=False, wait=None)
    email, address = request.form.get("email", ""), request.remote_addr or ""
    limits = login_limits()
    wait = limits.wait_before_trying(address, email)
    if wait is not None:
        # Asked before the password is checked: the answer says nothing about the password.
        response = current_app.make_response((render_template(
            "staff/login_wait.html", reason=wait.reason, next=_staff_path(request.args.get("next", "")),
            **_wait_text(wait)), 429))
        response.headers["Retry-After"] = str(wait.seconds(time.time()))
        return response
    staff = directory().authenticate(email, request.form.get("password", ""))
    if staff is None:
        wait = limits.failed(address, email)
        # One message for a wrong password and for an unknown address (the limits treat both alike).
        return render_template("staff/login.html", email=email, failed=True, wait=wait and wait.reason,
                               **(_wait_text(wait) if wait else {})), 401
    limits.succeeded(address, email)
    session.clear()
    session.permanent = True
    session.update(staff_id=staff.id, since=time.time(), stamp=staff.password_stamp)
    return redirect(_next_or_overview(request.args.get("next", "")))


@bp.post("/uitloggen")
def logout():
    # Ends this session on the server too, so a copy of the cookie stops working; sessions of this
    # account that started earlier end with it.
    directory().end_sessions(g.staff.id, started_until=session["since"])
    session.clear()
    return redirect(url_for("staff.login"))


@bp.post("/overal-uitloggen")
def logout_everywhere():
    """Ends every session of this account, on every computer (e.g. after using a shared one)."""
    directory().end_sessions(g.staff.id, started_until=time.time())
    _audit("staff.logout_everywhere", g.staff.email)
    session.clear()
    flash(_("You are logged out everywhere."))
    return redirect(url_for("staff.login"))


# --- the log of changes ----------------------------------------------------------------------------

AUDIT_COLUMNS = ("at", "local_time", "actor", "action", "subject", "detail", "sentence")


@bp.get("/logboek")
def audit():
    """Each entry as a sentence in the page's language, grouped by day (Europe/Amsterdam), newest first."""
    today = clock.today()
    days: list[dict] = []
    for entry in audit_log(current_db()):
        day = clock.local_day(entry.at)
        if not days or days[-1]["day"] != day:
            days.append({"day": day, "heading": wording.readable_day_heading(day, today), "entries": []})
        days[-1]["entries"].append({"entry": entry, "sentence": wording.audit_sentence(entry),
                                    "cli": is_cli(entry.actor)})
    return render_template("staff/audit.html", days=days)


def _audit_rows(entries):
    for entry in entries:
        yield {"at": entry.at.isoformat(), "local_time": clock.local_time(entry.at), "actor": entry.actor,
               "action": entry.action, "subject": entry.subject, "detail": entry.detail,
               "sentence": wording.audit_sentence(entry)}


@bp.get("/logboek.csv")
def audit_csv():
    """The whole log for scripts: the raw action code beside the sentence (RFC 4180, UTF-8)."""
    rows = [[row[key] for key in AUDIT_COLUMNS] for row in _audit_rows(audit_log(current_db(), limit=None))]
    response = current_app.response_class(exports.write_csv(AUDIT_COLUMNS, rows, exports.RFC4180),
                                          content_type=exports.MEDIA_TYPES[exports.RFC4180])
    response.headers["Content-Disposition"] = f'attachment; filename="praatmee-logboek-{clock.today().isoformat()}.csv"'
    return response


@bp.get("/logboek.json")
def audit_json():
    return {"entries": list(_audit_rows(audit_log(current_db(), limit=None)))}


# --- campaigns ----------------------------------------------------------------------------------

FORM_FIELDS = campaigns.FIELDS
DOWNLOADS = {
    # file name: (kind, size or variant, format); every poster size as PDF and PNG
    **{f"poster-{size.lower()}.{fmt}": ("poster", size, fmt) for size in posters.SIZES for fmt in ("pdf", "png")},
    "qr.svg": ("qr", None, "svg"), "qr.png": ("qr", None, "png"),
    "handout.pdf": ("handout", None, "pdf"),
    "social-square.png": ("social", "square", "png"), "social-story.png": ("social", "story", "png"),
}
MIMETYPES = {"pdf": "application/pdf", "png": "image/png", "svg": "image/svg+xml"}


# --- the print products: one card each on the campaign page (issue 17) -------------------------
# id: (title, where it goes, the file names it offers (the first is the default), bleed)
PRINT_CARDS: dict[str, tuple[str, str, tuple[str, ...], bool]] = {
    "tafelkaart": (N_("Table card A6"), N_("On the tables at events"), ("poster-a6.pdf",), False),
    "a4": (N_("Poster A4"), N_("Notice boards"), ("poster-a4.pdf",), False),
    "a3": (N_("Poster A3"), N_("Libraries and community centres"), ("poster-a3.pdf",), False),
    "groot": (N_("Poster A2, A1 or A0"), N_("Halls and events"),
              ("poster-a2.pdf", "poster-a1.pdf", "poster-a0.pdf"), False),
    "abri": (N_("Abri 118.5 × 175 cm"), N_("Bus shelters, through the print shop, with bleed"),
             ("poster-abri.pdf",), True),
    "flyer": (N_("Handout"), N_("At the table: four cards to cut from A4, with the steps for an account"),
              ("handout.pdf",), False),
    "social": (N_("Images for social media"), N_("Instagram, LinkedIn and the city's website"),
               ("social-square.png", "social-story.png"), False),
    "qr": (N_("QR code only"), N_("For your own design: it leads to the campaign's address"),
           ("qr.svg", "qr.png"), False),
}
PREVIEW_WIDTH = 240  # pixels: the card's picture


def _audit(action: str, subject: str, detail: str = "") -> None:
    with current_db().Session.begin() as db_session:
        record(db_session, g.staff.email, action, subject, detail)


def _form_values() -> dict[str, str]:
    return {name: request.form.get(name, "").strip() for name in FORM_FIELDS}


@bp.get("/")
def home():
    return render_template("staff/home.html", summaries=campaigns.list_with_totals(current_db(), campaigns.today()),
                           today=campaigns.today(), has_ended=campaigns.has_ended)


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
            problems = wording.problems_by_field(error)
        else:
            _audit("campaign.create", campaign.slug, campaign.name)
            flash(_("Campaign %(name)s is ready.", name=campaign.name))
            return redirect(url_for("staff.campaign", slug=campaign.slug), code=303)
    return render_template("staff/campaign_form.html", values=values, problems=problems, campaign=None,
                           places=campaigns.PLACES, order=_field_order()), 400 if problems else 200


def _field_order() -> tuple[str, ...]:
    """The order of the form's fields, so the summary of problems lists them as the form does."""
    return ("slug", *FORM_FIELDS)


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
    scans = campaigns.scans_per_day(db, campaign)
    table = charts.scans_table(scans, caption=_("Scans per day"), label_header=_("Day"), header=_("Scans"),
                               description=_("Scans of the QR code per day; the table has the same figures."),
                               day_label=lambda scan_day: format_date(scan_day, "EEE d MMM y"))
    shown = current_home_server().conversation(campaign.thread_url or None)
    return render_template(
        "staff/campaign.html", campaign=campaign, totals=campaigns.totals(db, campaign, day),
        shown_post=shown.root, shown_problem=shown.problem,
        # Without a thread of its own the page shows the pinned post, which may be about something else.
        thread_warning=not campaign.thread_url and campaign.cta_nl.strip() != dutch_default_call_to_action().strip(),
        **moderation_views.thread_context(campaign),  # its thread, with "Verberg" on every reply
        scans=table, scans_chart=_chart(charts.bar_chart(table, chart_id="chart-scans")) if scans else None,
        ended=campaigns.has_ended(campaign, day), today=day,
        url=campaigns.public_url(current_app.config["PUBLIC_URL"], campaign.slug),
        print_cards=[_print_card(key) for key in PRINT_CARDS], languages=printed.LANGUAGES,
        keyword_totals=keyword_counts.totals(db, campaign.id, day), channel_names=_channel_names(),
        keyword_days=_keyword_days_table(keyword_counts.per_day(db, campaign.id)),
    )


def _channel_names() -> dict[str, str]:
    return {"sms": _("SMS"), "whatsapp": _("WhatsApp")}


def _keyword_days_table(days) -> charts.Table:
    names = _channel_names()
    return charts.Table(
        _("Text messages per day"), _("Keyword messages per day, per channel."), _("Day"),
        tuple(charts.Column(names[channel]) for channel in keyword_counts.CHANNELS),
        tuple(charts.Row(day.isoformat(), tuple(per_channel[c] for c in keyword_counts.CHANNELS))
              for day, per_channel in days))


def _keyword_campaigns_table(rows, start: date, end: date) -> charts.Table:
    names = _channel_names()
    return charts.Table(
        _("Text messages (Stuur PRAATMEE)"),
        _("Keyword messages per campaign and channel from %(start)s to %(end)s; “general” is PRAATMEE without "
          "a campaign's word.", start=start.isoformat(), end=end.isoformat()),
        _("Campaign"), tuple(charts.Column(names[channel]) for channel in keyword_counts.CHANNELS),
        tuple(charts.Row(_("general") if name == keyword_counts.GENERAL_NAME else name,
                         tuple(per_channel[c] for c in keyword_counts.CHANNELS))
              for name, per_channel in keyword_counts.per_campaign(rows)))


def _print_card(key: str) -> dict:
    title, where, names, bleed = PRINT_CARDS[key]
    choices = [(name, _choice_label(name)) for name in names]
    first = DOWNLOADS[names[0]]
    return {"key": key, "title": _(title), "where": _(where), "choices": choices,
            "size": _print_size(first), "bleed": bleed}


def _choice_label(name: str) -> str:
    kind, option, fmt = DOWNLOADS[name]
    if kind == "poster":
        return option
    if kind == "social":
        return _("square (1080 × 1080)") if option == "square" else _("story (1080 × 1920)")
    return fmt.upper()


def _print_size(download: tuple) -> str:
    kind, option, fmt = download
    if kind == "poster":
        width, height = posters.PAPER_MM[option]
        text = f"{width / 10:g} × {height / 10:g} cm"
    elif kind == "handout":
        text = _("4 cards of 10.5 × 14.8 cm on A4")
    elif kind == "social":
        return _("1080 pixels wide")
    else:
        return _("any size: it is a vector")
    return text if current_lang() == "en" else text.replace(".", ",")


def _render_download(campaign, name: str, lang: str, bleed: bool = False) -> bytes:
    kind, option, fmt = DOWNLOADS[name]
    spec = printed.poster_spec(campaign, current_app.config, printed.LANGUAGES[lang])
    if kind == "poster":
        return posters.render(spec, option, fmt, bleed=bleed)
    if kind == "qr":
        return posters.render(spec, "A4", "svg") if fmt == "svg" else posters.qr_png(spec.url)
    if kind == "handout":
        return printed.handout_pdf(campaign, current_app.config, printed.LANGUAGES[lang])
    return printed.social_png(campaign, current_app.config, option, printed.LANGUAGES[lang])


def _preview(campaign, name: str, lang: str) -> bytes:
    """A small PNG of the product, rendered from the same design as the file."""
    kind, option, fmt = DOWNLOADS[name]
    if kind == "poster":
        spec = printed.poster_spec(campaign, current_app.config, printed.LANGUAGES[lang])
        dpi = max(4, round(PREVIEW_WIDTH / (posters.PAPER_MM[option][0] / 25.4)))
        return posters.render(spec, option, "png", dpi=dpi)
    if kind == "handout":
        return posters.pdf_to_png(_render_download(campaign, name, lang), round(PREVIEW_WIDTH / (210 / 25.4)))
    if kind == "qr":
        data = posters.qr_png(campaigns.public_url(current_app.config["PUBLIC_URL"], campaign.slug), module_px=4)
    else:
        data = _render_download(campaign, name, lang)
    image = Image.open(io.BytesIO(data))
    image.thumbnail((PREVIEW_WIDTH, PREVIEW_WIDTH * 2))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


@bp.get("/campagnes/<slug>/drukwerk/<product>")
def campaign_print(slug: str, product: str):
    """One card's download: ?lang=nl|en|nl+en and, where the card offers a choice, ?bestand=<file name>."""
    campaign = _campaign_or_404(slug)
    if product not in PRINT_CARDS:
        abort(404)
    names, bleed = PRINT_CARDS[product][2:]
    name = request.args.get("bestand") or names[0]
    lang = request.args.get("lang", "nl")
    if name not in names or lang not in printed.LANGUAGES:
        abort(404)
    preview = request.args.get("preview") == "1"
    try:
        data = _preview(campaign, name, lang) if preview else _render_download(campaign, name, lang, bleed)
    except posters.DoesNotFit:
        return _unprintable_page()
    fmt = "png" if preview else DOWNLOADS[name][2]
    response = current_app.response_class(data, mimetype=MIMETYPES[fmt])
    stem = name.rsplit(".", 1)[0] + ("-bleed" if bleed else "")
    filename = f"praatmee-{campaign.slug}-{lang.replace('+', '-')}-{stem}.{fmt}"
    response.headers["Content-Disposition"] = f'{"inline" if preview else "attachment"}; filename="{filename}"'
    return response


def _unprintable_page():
    return render_template("staff/message.html", title=_("This did not work"), message=_(
        "The call to action does not fit on this product at a size that can still be read. "
        "Edit the campaign and shorten it.")), 422


@bp.route("/campagnes/<slug>/bewerken", methods=["GET", "POST"])
def campaign_edit(slug: str):
    campaign = _campaign_or_404(slug)
    values = {name: getattr(campaign, name) or "" for name in FORM_FIELDS} | {"slug": campaign.slug}
    problems: dict[str, list[str]] = {}
    if request.method == "POST":
        values = _form_values() | {"slug": campaign.slug}
        before = campaigns.field_values(campaign)
        try:
            updated = campaigns.update(current_db(), slug, home_url=current_app.config["MASTODON_URL"],
                                       **{k: v for k, v in values.items() if k != "slug"})
        except campaigns.CampaignError as error:
            problems = wording.problems_by_field(error)
        else:
            changed = campaigns.changed_fields(before, updated)
            if changed:
                _audit("campaign.update", slug, ", ".join(changed))
                flash(_("Your changes are saved."))
            else:
                flash(_("Nothing was changed."))
            return redirect(url_for("staff.campaign", slug=slug), code=303)
    return render_template("staff/campaign_form.html", values=values, problems=problems, campaign=campaign,
                           places=campaigns.PLACES, order=_field_order()), 400 if problems else 200


@bp.route("/campagnes/<slug>/beeindigen", methods=["GET", "POST"])
def campaign_end(slug: str):
    """GET: what ending today would do, and when, with "end it" and "go back". POST: end it."""
    campaign = _campaign_or_404(slug)
    today = campaigns.today()
    state = campaigns.ending(campaign, today)
    if request.method == "GET":
        return render_template("staff/campaign_end.html", campaign=campaign, state=state, today=today,
                               tomorrow=today + timedelta(days=1), note=_(campaigns.ENDED_NOTE))
    if state != campaigns.ENDS_NOW:  # nothing to do, or it cannot end yet: the page says why
        return redirect(url_for("staff.campaign_end", slug=slug), code=303)
    try:
        campaigns.end(current_db(), slug, today=today, home_url=current_app.config["MASTODON_URL"])
    except campaigns.CampaignError as error:  # changed by someone else in the meantime
        for messages in wording.problems_by_field(error).values():
            for message in messages:
                flash(message)
    else:
        _audit("campaign.end", slug, today.isoformat())
        flash(_("The campaign has ended. Today, %(today)s, is its last day: until the end of today its posters "
                "still lead to the campaign. From tomorrow, %(tomorrow)s, they lead to the current conversation, "
                "with a note that the campaign is over.", today=format_date(today, "d MMMM"),
                tomorrow=format_date(today + timedelta(days=1), "d MMMM")))
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
    try:
        data = _render_download(campaign, name, lang, bleed=request.args.get("bleed") == "1")
    except posters.DoesNotFit:  # only a campaign saved before the rules checked this
        return _unprintable_page()
    inline = request.args.get("preview") == "1" and fmt in ("png", "svg")
    response = current_app.response_class(data, mimetype=MIMETYPES[fmt])
    filename = f"praatmee-{campaign.slug}-{lang.replace('+', '-')}-{name}"
    response.headers["Content-Disposition"] = f'{"inline" if inline else "attachment"}; filename="{filename}"'
    return response


# --- KPIs ---------------------------------------------------------------------------------------

# What each export holds, in the words of the page: kind (its file name) → label.
CSV_KINDS = {"posts": N_("Posts"), "accounts": N_("Accounts"), "new-accounts": N_("New accounts per week"),
             "scans": N_("Scans per campaign per day"), "listening": N_("Listening: answers and outcomes"),
             "keywords": N_("Keyword messages per campaign per day")}
EARLIEST = date(2020, 1, 1)  # before the city was on Mastodon; also keeps date arithmetic in range


def _period() -> tuple[date, date]:
    """The chosen period (?van=…&tot=…, ISO dates), else the last 30 days; never reversed."""
    start, end = kpi.default_period(kpi.today())
    try:
        start = date.fromisoformat(request.args["van"]) if request.args.get("van") else start
        end = date.fromisoformat(request.args["tot"]) if request.args.get("tot") else end
    except ValueError:
        g.period_problem = _("Use dates like 2026-11-01. The last 30 days are shown instead.")
        return kpi.default_period(kpi.today())
    if end < start:
        g.period_problem = _("The end of the period is before its start. The last 30 days are shown instead.")
        return kpi.default_period(kpi.today())
    if start < EARLIEST or end > kpi.today() + timedelta(days=366) or (end - start).days > 5 * 366:
        g.period_problem = _("Choose a period of at most five years, from 2020 on. The last 30 days are shown instead.")
        return kpi.default_period(kpi.today())
    return start, end


def kpi_threads(db) -> list[str]:
    """The threads the KPIs follow one by one: the campaigns' own, and those outcomes name (issue 16)."""
    home_url = current_app.config["MASTODON_URL"]
    return list(dict.fromkeys([*campaigns.thread_status_ids(db, home_url), *outcomes.thread_status_ids(db, home_url)]))


def _figures(start: date, end: date):
    db = current_db()
    period = kpi.period_figures(db, start, end)
    threads = kpi.thread_figures(db, kpi_threads(db), until=end,
                                 outcomes=outcomes.first_outcomes(db, current_app.config["MASTODON_URL"]))
    return period, threads


def _chart(svg: str) -> Markup:
    # Our own SVG from charts.py: every text in it is escaped there; nothing from outside is HTML.
    return Markup(svg)


def post_name(post) -> str:
    """A post as staff recognise it: its first words and its day in the page's language."""
    day = format_date(clock.local_day(post.posted_at), "d MMM y")
    if not post.first_words:
        return _("Post of %(day)s", day=format_datetime(post.posted_at, "d MMMM y, HH:mm"))
    return f"{post.first_words} ({day})"


@bp.get("/kpi")
def kpis():
    start, end = _period()
    period, threads = _figures(start, end)
    period_words = wording.readable_period(start, end, kpi.today())
    replies = charts.replies_per_post_table(
        period, caption=_("Replies per post"), label_header=_("Post"), name=post_name,
        description=_("Replies to each post, %(period)s, newest first. The table has the same figures.",
                      period=period_words),
        headers=(_("Replies"), _("Favourites"), _("Boosts"), _("Replies per favourite"), _("Accounts")))
    interaction = charts.interaction_table(
        period, caption=_("Interaction compared with information"), label_header=_("Kind of post"),
        description=_("Average replies and replies per favourite of posts with a question or a poll, compared "
                      "with the other posts, with the number of posts in each group."),
        groups=(_("Interaction (question or poll)"), _("Information")),
        headers=(_("Posts (n)"), _("Average replies"), _("Replies per favourite")))
    weeks = charts.new_accounts_table(
        period, caption=_("New accounts per week"), label_header=_("Week"), header=_("New accounts"),
        description=_("Accounts that replied for the first time, per ISO week, %(period)s.", period=period_words))
    keywords = _keyword_campaigns_table(keyword_counts.between(current_db(), start, end), start, end)
    run = kpi.last_run(current_db())
    return render_template(
        "staff/kpis.html", start=start, end=end, period=period, threads=threads, run=run, post_name=post_name,
        period_words=period_words,
        wait=kpi.seconds_until_allowed(current_db(), datetime.now(timezone.utc)),
        tables=[(replies, _chart(charts.bar_chart(replies, chart_id="chart-replies"))),
                (interaction, _chart(charts.grouped_bar_chart(interaction, chart_id="chart-interaction",
                                                              columns=(1, 2), count_column=0))),
                (weeks, _chart(charts.bar_chart(weeks, chart_id="chart-weeks"))),
                (keywords, _chart(charts.grouped_bar_chart(keywords, chart_id="chart-keywords")))],
        csv_kinds=[(kind, _(label)) for kind, label in CSV_KINDS.items()], formats=exports.FORMATS,
        format_number=kpi.format_number, moderation=moderation_views.kpi_figures(),
    )


@bp.post("/kpi/bijwerken")
def kpi_refresh():
    """The "nu bijwerken" button: the same collection as `flask kpi collect`, at most once per 10 minutes."""
    db = current_db()
    wait = kpi.seconds_until_allowed(db, datetime.now(timezone.utc))
    if wait > 0:
        flash(_("The figures were updated less than 10 minutes ago. Try again in %(minutes)s minutes.",
                minutes=max(1, round(wait / 60))))
        return redirect(url_for("staff.kpis"), code=303)
    config = current_app.config
    result = kpi.collect(db, current_home_server().client, account=config["ACCOUNT"], today=kpi.today(),
                         campaign_threads=kpi_threads(db), secret=config["SECRET_KEY"])
    _audit("kpi.collect", config["ACCOUNT"], f"posts={result.posts_seen} contexts={result.contexts_fetched} "
                                             f"stop={result.stop_reason or '-'}")
    if result.unreachable:
        flash(_("Mastodon could not be reached. The figures are from the last successful update."))
    elif result.stopped_early:
        flash(_("Partly updated: the rate limit of the Mastodon server is nearly used up. The next update continues."))
    else:
        flash(_("The figures are up to date."))
    return redirect(url_for("staff.kpis"), code=303)


@bp.get("/kpi/<kind>.csv")
def kpi_csv(kind: str):
    fmt = request.args.get("formaat", exports.EXCEL_NL)
    if kind not in CSV_KINDS or fmt not in exports.FORMATS:
        abort(404)
    start, end = _period()
    period, threads = _figures(start, end)
    data = {
        "posts": lambda: exports.posts_csv(period, fmt),
        "accounts": lambda: exports.accounts_csv(period, threads, fmt),
        "new-accounts": lambda: exports.new_accounts_csv(period, fmt),
        "scans": lambda: exports.scans_csv(campaigns.scans_between(current_db(), start, end), fmt),
        "listening": lambda: exports.listening_csv(period, threads, fmt),
        "keywords": lambda: exports.keyword_messages_csv(keyword_counts.between(current_db(), start, end), fmt),
    }[kind]()
    response = current_app.response_class(data, content_type=exports.MEDIA_TYPES[fmt])
    response.headers["Content-Disposition"] = f'attachment; filename="{exports.filename(kind, start, end, fmt)}"'
    return response


@bp.get("/kpi.json")
def kpi_json():
    start, end = _period()
    period, threads = _figures(start, end)
    return exports.as_json(period, threads, campaigns.scans_between(current_db(), start, end),
                           keyword_messages=keyword_counts.between(current_db(), start, end))


# Moderation's staff pages live in their own module, on this blueprint (behind the same login).
from . import moderation as moderation_views  # noqa: E402 - it needs nothing from here; registered once

moderation_views.add_staff_routes(bp)
