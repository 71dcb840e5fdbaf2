"""WhatsApp Business Cloud API (Meta): `GET /sms/whatsapp` (the subscription handshake) and
`POST /sms/whatsapp` (messages), answered through the Graph API.

POST bodies are signed: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body under the
app secret>`, compared in constant time before the body is even parsed. The webhook answers 200 at
once; the answer goes out afterwards (`outbox`) to
`POST {PRAATMEE_WHATSAPP_API_URL}/{phone-number-id}/messages` with the access token. Status
updates and messages for another phone number id are ignored. No Flask in this module.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import re

from .core import Incoming
from .outbox import Outgoing

MAX_TEXT = 4096  # WhatsApp's own limit on a text message
CHALLENGE = re.compile(r"[A-Za-z0-9._~-]{1,200}")  # what we echo: plain, short, never markup


class WhatsAppCloud:
    name = "whatsapp"

    def __init__(self, *, app_secret: str, verify_token: str, access_token: str, phone_number_id: str,
                 api_url: str):
        self.app_secret = app_secret.encode("utf-8")
        self.verify_token = verify_token
        self.access_token = access_token
        self.phone_number_id = phone_number_id
        self.messages_url = f"{api_url.rstrip('/')}/{phone_number_id}/messages"

    def handshake(self, mode: str | None, token: str | None, challenge: str | None) -> str | None:
        """The challenge to echo when Meta subscribes with our verify token; None otherwise."""
        if mode != "subscribe" or not token or not challenge or not CHALLENGE.fullmatch(challenge):
            return None
        if not hmac.compare_digest(token.encode("utf-8", "replace"), self.verify_token.encode("utf-8")):
            return None
        return challenge

    def signature(self, body: bytes) -> str:
        return "sha256=" + hmac.new(self.app_secret, body, hashlib.sha256).hexdigest()

    def verify(self, body: bytes, header: str | None) -> bool:
        if not header:
            return False
        return hmac.compare_digest(header.strip().lower().encode("ascii", "replace"), self.signature(body).encode())

    def incoming(self, body: bytes) -> list[Incoming]:
        """The text messages to our phone number id; any shape nobody foresaw is no message."""
        try:
            payload = json.loads(body)
        except ValueError:
            return []
        found = []
        for entry in _list(payload, "entry"):
            for change in _list(entry, "changes"):
                value = change.get("value") if isinstance(change, dict) else None
                if not isinstance(value, dict) or change.get("field", "messages") != "messages":
                    continue
                metadata = value.get("metadata") if isinstance(value.get("metadata"), dict) else {}
                if str(metadata.get("phone_number_id", "")) != self.phone_number_id:
                    continue
                for message in _list(value, "messages"):
                    sender, message_id = message.get("from"), message.get("id")
                    if not isinstance(sender, str) or not sender or not isinstance(message_id, str):
                        continue
                    text = message.get("text", {}).get("body", "") if message.get("type") == "text" else ""
                    found.append(Incoming("whatsapp", "whatsapp", sender, str(text)[:MAX_TEXT], message_id))
        return found

    def outgoing(self, message: Incoming, text: str) -> Outgoing:
        # biz_opaque_callback_data carries our id, the same on the retry; Meta sends it back with
        # the message's status, so a doubled answer can be recognised there.
        body = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": message.sender,
                "type": "text", "text": {"preview_url": False, "body": text},
                "biz_opaque_callback_data": message.reply_id}
        return Outgoing("whatsapp", self.messages_url, message.reply_id,
                        headers={"Authorization": f"Bearer {self.access_token}"}, body=body)


def _list(container, name: str) -> list[dict]:
    value = container.get(name) if isinstance(container, dict) else None
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []
