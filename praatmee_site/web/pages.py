"""The entry page and its copies: what `/`, `/c/<slug>` and the helpers' pages share.

`entry_page` renders the conversation with a call to action; campaigns reuse it with their own
heading, thread and sign-up link. The default call to action (and its language) is decided here,
for every page that shows it.
"""
from __future__ import annotations

from flask import current_app, g, render_template, request, url_for
from flask_babel import gettext as _

from .http import ENTRY_PAGES, KeptPages, current_lang
from .results import newest_outcome
from .services import current_home_server


def entry_page(*, call_to_action: str, thread_reference: str | None = None, invite_url: str | None = None,
               input_text: str | None = None, note: str | None = None, status: int = 200,
               campaign_slug: str | None = None, call_to_action_lang: str | None = None,
               page_path: str | None = None, **extra):
    """The one entry page; campaigns reuse it with their own heading, thread and sign-up link.

    The HTML is kept per everything it depends on (language, mount, page, campaign, thread version,
    registration state; pages take nothing from the query string), so a burst of visitors costs one
    render; `/c/` still counts each scan. `page_path` is the page this one stands for (its language
    link leads there), the request's own path by default: the page for every unknown slug stands
    for `/`, so made-up slugs share one copy instead of making a copy each.
    """
    lang = current_lang()
    config = current_app.config
    home = current_home_server()
    conversation = home.conversation(thread_reference)
    registration = home.registration(lang, invite_url)
    outcome = newest_outcome(conversation, campaign_slug)  # "what happened with your input" (issue 16)
    call_to_action_lang = call_to_action_lang or default_call_to_action_lang()
    g.language_path = page_path or request.path
    key = (lang, request.script_root, g.language_path, call_to_action, call_to_action_lang, input_text, note,
           campaign_slug, conversation.version, conversation.problem, registration, outcome,
           tuple(sorted(extra.items())))
    pages = kept_entry_pages()
    mount = request.environ.get("praatmee.root", "")
    html = pages.get(mount, key)
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
            outcome=outcome,
            campaign_slug=campaign_slug,  # "Reageer" links name the campaign, so its thread's posts are found
            reply_url=url_for("residents.reply", c=campaign_slug),
            **extra,
        )
        pages.put(mount, key, html)
    return html, status


def kept_entry_pages() -> KeptPages:
    """This worker's rendered entry pages (see `http.KeptPages`: made-up mounts have a pool of their own)."""
    return current_app.extensions[ENTRY_PAGES]


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


