"""Twilio (SMS, and WhatsApp through Twilio): `POST /sms/twilio`, answered with TwiML.

The signature (`X-Twilio-Signature`) is checked with the twilio package's own `RequestValidator`
over the URL Twilio called, which is built from PRAATMEE_PUBLIC_URL (behind the proxy the app
sees another one), and the form's parameters. The answer goes back in the webhook's own response,
so no API call is made. No Flask in this module.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache

from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from .core import Incoming

PATH = "/sms/twilio"
MAX_BODY = 1600  # Twilio's own limit on an SMS body


class _Form:
    """The form as the validator reads it (`getlist`), every value of every name."""

    def __init__(self, form: Mapping[str, Sequence[str]]):
        self._form = form

    def __iter__(self):
        return iter(self._form)

    def getlist(self, name: str) -> list[str]:
        return list(self._form[name])


class TwilioGateway:
    name = "twilio"

    def __init__(self, auth_token: str, public_url: str):
        self.validator = RequestValidator(auth_token)
        self.url = public_url.rstrip("/") + PATH

    def signed_url(self, query: str = "") -> str:
        return self.url + (f"?{query}" if query else "")

    def verify(self, form: Mapping[str, Sequence[str]], signature: str | None, query: str = "") -> bool:
        if not signature:
            return False
        return self.validator.validate(self.signed_url(query), _Form(form), signature)

    def incoming(self, form: Mapping[str, Sequence[str]]) -> Incoming | None:
        """The message in the form, or None when it names no sender."""
        def first(name: str) -> str:
            values = form.get(name) or [""]
            return str(values[0])
        sender = first("From")
        if not sender:
            return None
        channel = "whatsapp" if sender.startswith("whatsapp:") else "sms"
        return Incoming("twilio", channel, sender, first("Body")[:MAX_BODY],
                        first("MessageSid") or first("SmsSid"), recipient=first("To"))

    @staticmethod
    @lru_cache(maxsize=64)  # a few answers times the campaigns' links
    def twiml(text: str | None) -> str:
        """<Response><Message>…</Message></Response>, or an empty <Response/> for no answer."""
        response = MessagingResponse()
        if text:
            response.message(text)
        return response.to_xml()
