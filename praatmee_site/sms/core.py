"""The keyword line's core: one incoming message in, at most one answer out, the same for every gateway.

A gateway's adapter (`twilio_gateway`, `whatsapp_cloud`, `cm`) verifies its webhook, turns the
request into `Incoming` messages and sends the answer back its own way; `KeywordDesk.answer`
decides in between: a retry or a limited sender gets nothing, PRAATMEE gets the general or the
campaign's link (and is counted), STOP an acknowledgement, anything else how to ask.

A phone number passes through here and is never kept: it is not stored, not logged, and not in
the text of any exception (`Incoming` leaves it out of its repr). No Flask in this module.
"""
from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from .. import campaigns, clock
from ..db import Database
from . import counts, keyword
from .limits import SenderLimits
from .replies import Reply

log = logging.getLogger(__name__)

GATEWAYS = ("twilio", "whatsapp", "cm")


@dataclass(frozen=True)
class Incoming:
    """One message as a gateway delivered it. `sender` and `text` never appear in its repr."""

    gateway: str  # "twilio", "whatsapp" or "cm"
    channel: str  # "sms" or "whatsapp"
    sender: str = field(repr=False)  # the number: for the limits (as an HMAC) and the answer only
    text: str = field(repr=False)
    message_id: str = ""  # MessageSid, WhatsApp message id, CM reference: what a retry repeats
    recipient: str = field(default="", repr=False)  # our own number, as the gateway names it

    def __str__(self) -> str:
        return f"{self.gateway} {self.channel} message"

    @property
    def reply_id(self) -> str:
        """The answer's own id, the same on every attempt to send it: a hash of the gateway's id, in
        32 letters and digits (what CM's `reference` takes)."""
        source = f"{self.gateway}\x00{self.message_id}"
        return "pm" + hashlib.sha256(source.encode("utf-8", "replace")).hexdigest()[:30]


class KeywordDesk:
    def __init__(self, db: Database, limits: SenderLimits, public_url: str, *,
                 today: Callable[[], date] = clock.today):
        self.db = db
        self.limits = limits
        self.public_url = public_url.rstrip("/")
        self.today = today

    def answer(self, message: Incoming) -> Reply | None:
        """The answer to send, or None: a gateway's retry, or a limit that says no (logged, without
        the number). A keyword message is counted once, also when the global ceiling holds its answer."""
        if not self.limits.first_delivery(message.gateway, message.message_id):
            log.info("sms: %s is a retry of one already answered; not answered again", message)
            return None
        reply = self.decide(keyword.parse(message.text))
        refusal = self.limits.refusal(message.sender, message.text)
        if refusal in ("sender", "same_message"):
            log.info("sms: %s not answered (limit: %s)", message, refusal)
            return None
        if reply.kind in ("general", "campaign", "unknown_word"):
            counts.count_message(self.db, reply.campaign_id, message.channel, self.today())
        if refusal == "ceiling":
            log.warning("sms: %s not answered: the ceiling of answers per minute is reached", message)
            return None
        return reply

    def decide(self, parsed: keyword.Parsed) -> Reply:
        if parsed.kind == "stop":
            return Reply("stop")
        if parsed.kind == "other":
            return Reply("help")
        for word in parsed.words:
            campaign = campaigns.by_keyword(self.db, word) if len(word) <= campaigns.KEYWORD_MAX else None
            if campaign is not None:
                if campaigns.has_ended(campaign, self.today()):
                    return Reply("general", self.public_url)  # as /c/<slug> after its end: the current one
                return Reply("campaign", campaigns.public_url(self.public_url, campaign.slug), campaign.id)
        return Reply("unknown_word" if parsed.words else "general", self.public_url)
