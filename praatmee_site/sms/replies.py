"""The answers, short: a Dutch line with the right link, then one line in English.

The texts are English msgids (`MESSAGES`), as everywhere; the caller renders the first of each pair
in Dutch and the second in English (`wording`). Every answer stays within the GSM 03.38 alphabet,
so an SMS carries 160 characters, not the 70 of Unicode. No Flask in this module.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from ..messages import N_

Kind = Literal["general", "campaign", "unknown_word", "stop", "help"]
KINDS: tuple[str, ...] = ("general", "campaign", "unknown_word", "stop", "help")
# The answers that carry a link are keyword messages: those are counted (see `counts`).
WITH_LINK = frozenset({"general", "campaign", "unknown_word"})

# kind → (the Dutch line, shown in Dutch; the English line, shown in English)
MESSAGES: dict[str, tuple[str, str]] = {
    "general": (N_("Join the conversation with the City of Amsterdam: %(link)s"),
                N_('EN: open it, tap "Read this page in English".')),
    "campaign": (N_("Join the conversation with the City of Amsterdam: %(link)s"),
                 N_('EN: open it, tap "Read this page in English".')),
    "unknown_word": (N_("We do not know that word. Join the conversation with the City of Amsterdam: %(link)s"),
                     N_('EN: unknown word. Open the link, tap "Read this page in English".')),
    "stop": (N_("Fine. We never send you anything: we only answer a message you send us."),
             N_("EN: fine, we only ever answer your own messages.")),
    "help": (N_("Send %(keyword)s to get the link to the conversation with the city."),
             N_("EN: send %(keyword)s to get the link.")),
}


@dataclass(frozen=True)
class Reply:
    kind: Kind
    link: str = ""  # the public URL, or a campaign's <PUBLIC_URL>/c/<slug>; "" for stop and help
    campaign_id: int = 0  # the campaign it was counted for; 0: "algemeen"


Translate = Callable[..., str]  # (msgid, lang, **params) → text


def wording(reply: Reply, translate: Translate, keyword: str = "PRAATMEE") -> str:
    """The answer's text: the Dutch line, a line break, the English line."""
    dutch, english = MESSAGES[reply.kind]
    return "\n".join((translate(dutch, "nl", link=reply.link, keyword=keyword),
                      translate(english, "en", link=reply.link, keyword=keyword)))


# GSM 03.38: the default alphabet and its extension table (each of those costs two characters).
GSM_BASIC = ("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
             "¿abcdefghijklmnopqrstuvwxyzäöñüà")
GSM_EXTENSION = "^{}\\[~]|€\f"


def gsm_length(text: str) -> int | None:
    """Characters this text takes in an SMS (extension characters count twice); None: not GSM 03.38."""
    length = 0
    for char in text:
        if char in GSM_BASIC:
            length += 1
        elif char in GSM_EXTENSION:
            length += 2
        else:
            return None
    return length
