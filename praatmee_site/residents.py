"""Blueprint for residents: the entry page, privacy and accessibility statements.

Pages here carry no per-visitor data and set no cookies, so shared caches may keep them a minute.
"""
from __future__ import annotations

from flask import Blueprint, current_app, render_template, url_for
from flask_babel import gettext as _

from .home import current_home
from .web import current_lang

bp = Blueprint("residents", __name__)


@bp.after_request
def cacheable(response):
    if response.status_code == 200:
        response.headers.setdefault("Cache-Control", "public, max-age=60")
    return response


def entry_page(*, call_to_action: str, thread_reference: str | None = None, invite_url: str | None = None,
               input_text: str | None = None, note: str | None = None, status: int = 200, **extra):
    """The one entry page; campaigns reuse it with their own heading, thread and sign-up link."""
    lang = current_lang()
    config = current_app.config
    home = current_home()
    return render_template(
        "index.html",
        call_to_action=call_to_action,
        conversation=home.conversation(thread_reference),
        registration=home.registration(lang, invite_url),
        account_url=home.account_url(config["ACCOUNT"]),
        account=config["ACCOUNT"],
        team_text=config.get("TEAM_TEXT"),
        input_text=input_text or config.get("INPUT_TEXT"),
        note=note,
        demo=config["DEMO"],
        entry_page=True,
        reply_url=url_for("residents.reply"),
        **extra,
    ), status


def default_call_to_action() -> str:
    config = current_app.config
    if current_lang() == "en" and config.get("CALL_TO_ACTION_EN"):
        return config["CALL_TO_ACTION_EN"]
    return config.get("CALL_TO_ACTION") or _("Ask the Innovation team your question")


@bp.get("/")
def index():
    return entry_page(call_to_action=default_call_to_action())


@bp.get("/privacy")
def privacy():
    return render_template("privacy.html")


@bp.get("/toegankelijkheid")
def accessibility():
    return render_template("toegankelijkheid.html")


from . import reply  # noqa: E402,F401 - "Reageer direct" views live in their own module, on this blueprint
