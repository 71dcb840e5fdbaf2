"""A campaign's printed matter in words: the translated texts and the `posters.PosterSpec` to draw.

The one place the CLI, the staff pages, the kiosk, the handout and the social images get a spec
from. `campaigns` gives the campaign and its URL, this module the wording (Flask-Babel, so it lives
in the web layer and needs an app context), `campaigns.posters` draws it.
"""
from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from urllib.parse import quote

from flask_babel import force_locale
from flask_babel import gettext as _

from .. import campaigns
from ..campaigns import posters
from ..campaigns.posters import PosterSpec, PosterText
from ..config import phone_digits, short_link
from ..db import Campaign

# What `--lang` (and the staff form) offers: one language, or both with Dutch first.
LANGUAGES: dict[str, tuple[str, ...]] = {"nl": ("nl",), "en": ("en",), "nl+en": ("nl", "en")}
# A campaign's input text longer than this is not a poster's last line (it is on the page).
REASON_MAX = 90


KEYWORD = "PRAATMEE"


def keyword_message(campaign: Campaign | None) -> str:
    """What to send: "PRAATMEE", or "PRAATMEE BIEB" for a campaign with its own word."""
    return f"{KEYWORD} {campaign.keyword}" if campaign is not None and campaign.keyword else KEYWORD


def keyword_line(campaign: Campaign | None, config: Mapping) -> str | None:
    """"Stuur PRAATMEE BIEB naar 4444", in the current language; None when no number is configured."""
    sms, whatsapp = config.get("SMS_NUMBER"), config.get("WHATSAPP_NUMBER")
    message = keyword_message(campaign)
    if sms and whatsapp and phone_digits(sms) == phone_digits(whatsapp):
        return _("Text %(message)s to %(number)s (SMS or WhatsApp)", message=message, number=sms)
    if sms and whatsapp:
        return _("Text %(message)s to %(sms)s (SMS) or %(whatsapp)s (WhatsApp)", message=message, sms=sms,
                 whatsapp=whatsapp)
    if sms:
        return _("Text %(message)s to %(number)s", message=message, number=sms)
    if whatsapp:
        return _("Send %(message)s by WhatsApp to %(number)s", message=message, number=whatsapp)
    return None


def whatsapp_link(campaign: Campaign | None, config: Mapping) -> str | None:
    """https://wa.me/<number>?text=PRAATMEE%20BIEB: WhatsApp opens with the message typed in."""
    number = config.get("WHATSAPP_NUMBER")
    if not number:
        return None
    return f"https://wa.me/{phone_digits(number)}?text={quote(keyword_message(campaign))}"


def poster_text(campaign: Campaign, lang: str, config: Mapping) -> PosterText:
    with force_locale(lang):
        sms = keyword_line(campaign, config)
        link = short_link(config["PUBLIC_URL"])
        # The last line is the reason to join: the campaign's own "what happens with your input"
        # when it is one short line that prints, else the general promise.
        reason = (campaign.input_text or "").strip()
        if lang != "nl" or len(reason) > REASON_MAX or "\n" in reason or posters.missing_glyphs(reason):
            reason = ""
        return PosterText(
            headline=campaigns.call_to_action(campaign, lang),
            why=_("Join the conversation with the city on Mastodon — reading first is fine too"),
            reason=reason or _("Your input → a visible result"),
            scan=_("Scan with your phone's camera"),
            sms=sms,
            # The handout's four steps: what a helper walks someone through at the table.
            steps=(
                _("Scan the QR code, or go to %(link)s", link=link),
                _("Tap “Create an account (2 min)”"),
                _("Choose a name, fill in your email and confirm the email"),
                _("Reply: ask your question or share your idea"),
            ),
            tagline=_("Join the conversation on Mastodon"),
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


# The handout is public (/hulp/flyer/…) and takes a few hundred milliseconds to draw: keep the last
# few per worker. A spec is frozen, so any change to the campaign or its words makes a new entry.
_handout_for_spec = lru_cache(maxsize=8)(posters.handout_pdf)


def handout_pdf(campaign: Campaign, config: Mapping, langs: tuple[str, ...] = ("nl",), sheet: str = "A4") -> bytes:
    """A6 cards with the QR code, the short link and four numbered steps, to cut from A4 (or A5)."""
    return _handout_for_spec(poster_spec(campaign, config, langs), sheet)


def social_png(campaign: Campaign, config: Mapping, kind: str, langs: tuple[str, ...] = ("nl",),
               with_qr: bool = False) -> bytes:
    """Square (1080×1080) or story (1080×1920) image for other channels; no QR unless asked for."""
    return posters.social_png(poster_spec(campaign, config, langs), kind, with_qr)
