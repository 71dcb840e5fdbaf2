"""CM.com (a Dutch gateway; SMS and WhatsApp on one hook): `POST /sms/cm/<token>`, JSON.

CM documents no signature for incoming messages, so the webhook's address carries a long random
secret (PRAATMEE_CM_WEBHOOK_TOKEN), compared in constant time. The answer goes out afterwards
(`outbox`) through CM's Business Messaging API, `POST {PRAATMEE_CM_API_URL}/v1.0/message` with the
product token (PRAATMEE_CM_API_KEY), on the channel the message came in on, from the number it was
sent to. No Flask in this module.
"""
from __future__ import annotations

import hmac
import json

from .core import Incoming
from .outbox import Outgoing

MAX_TEXT = 4096
CHANNELS = {"sms": "sms", "whatsapp": "whatsapp"}  # CM's channel (case-insensitive) → ours
CM_CHANNEL = {"sms": "SMS", "whatsapp": "WhatsApp"}


class CmGateway:
    name = "cm"

    def __init__(self, *, webhook_token: str, api_key: str, api_url: str):
        self.webhook_token = webhook_token.encode("utf-8")
        self.api_key = api_key
        self.message_url = f"{api_url.rstrip('/')}/v1.0/message"

    def verify(self, token: str) -> bool:
        return hmac.compare_digest(token.encode("utf-8", "replace"), self.webhook_token)

    def incoming(self, body: bytes) -> list[Incoming]:
        """The message of a Business Messaging MO webhook (also the older flat SMS shape)."""
        try:
            payload = json.loads(body)
        except ValueError:
            return []
        found = []
        for item in payload if isinstance(payload, list) else [payload]:
            if not isinstance(item, dict):
                continue
            sender, recipient = _number(item.get("from")), _number(item.get("to"))
            channel = CHANNELS.get(str(item.get("channel") or "SMS").strip().lower())
            message = item.get("message")
            text = message.get("text") if isinstance(message, dict) else (message or item.get("body"))
            if not sender or channel is None:
                continue  # Viber, RCS and the rest are not offered
            reference = item.get("reference") or item.get("messageId") or ""
            found.append(Incoming("cm", channel, sender, str(text or "")[:MAX_TEXT], str(reference)[:200],
                                  recipient=recipient))
        return found

    def outgoing(self, message: Incoming, text: str) -> Outgoing:
        msg = {"from": message.recipient, "to": [{"number": message.sender}],
               "body": {"type": "auto", "content": text}, "allowedChannels": [CM_CHANNEL[message.channel]],
               "reference": message.reply_id}
        body = {"messages": {"authentication": {"producttoken": self.api_key}, "msg": [msg]}}
        return Outgoing("cm", self.message_url, message.reply_id, headers={"X-CM-PRODUCTTOKEN": self.api_key},
                        body=body)


def _number(value) -> str:
    """CM's {"number": "+316…"} (or a bare string in the older shape)."""
    if isinstance(value, dict):
        value = value.get("number")
    return str(value).strip() if isinstance(value, (str, int)) and str(value).strip() else ""
