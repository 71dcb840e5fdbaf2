"""A campaign's printed matter in words: the translated texts and the `posters.PosterSpec` to draw.

The one place the CLI, the staff pages, the kiosk, the handout and the social images get a spec
from. `campaigns` gives the campaign and its URL, this module the wording (Flask-Babel, so it
needs an app context), `posters` draws it.
"""
from __future__ import annotations

from collections.abc import Mapping

from flask_babel import force_locale
from flask_babel import gettext as _

from . import campaigns
from .config import short_link
from .db import Campaign
from .posters import PosterSpec, PosterText

# What `--lang` (and later the staff form) offers: one language, or both with Dutch first.
LANGUAGES: dict[str, tuple[str, ...]] = {"nl": ("nl",), "en": ("en",), "nl+en": ("nl", "en")}


def poster_text(campaign: Campaign, lang: str, config: Mapping) -> PosterText:
    with force_locale(lang):
        sms = None
        if config.get("SMS_KEYWORD") and config.get("SMS_NUMBER"):
            sms = _("Text %(keyword)s to %(number)s", keyword=config["SMS_KEYWORD"], number=config["SMS_NUMBER"])
        return PosterText(
            headline=campaigns.call_to_action(campaign, lang),
            why=_("Join the conversation with the city on Mastodon — reading first is fine too"),
            signup=_("Creating an account takes 2 minutes"),
            sms=sms,
        )


def poster_spec(campaign: Campaign, config: Mapping, langs: tuple[str, ...] = ("nl",)) -> PosterSpec:
    """The QR encodes exactly `campaigns.public_url`; the short link is the public URL to type."""
    with force_locale(langs[0]):
        city = _("City of Amsterdam")
    return PosterSpec(
        url=campaigns.public_url(config["PUBLIC_URL"], campaign.slug),
        short_link=short_link(config["PUBLIC_URL"]),
        texts=tuple(poster_text(campaign, lang, config) for lang in langs),
        city=city,
    )
