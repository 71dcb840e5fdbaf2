"""The gateways' sending APIs as local fakes (WhatsApp's Graph API, CM.com's Business Messaging API)
that record what was sent, and requests signed the way the gateways sign them.

`FakeApi` is a threaded HTTP server on 127.0.0.1 with a free port. It answers every POST with
`status` (default 200) after `delay` seconds and keeps each request's path, headers and JSON body.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from twilio.request_validator import RequestValidator

TWILIO_TOKEN = "twilio-auth-token-for-tests-0123456789"
WHATSAPP_SECRET = "meta-app-secret-for-tests"
WHATSAPP_VERIFY = "verify-token-for-tests"
WHATSAPP_ACCESS = "EAAG-access-token-for-tests"
WHATSAPP_PHONE_ID = "106540352242922"
CM_TOKEN = "cm-webhook-token-for-tests-0123456789abcdef"
CM_KEY = "00000000-0000-0000-0000-000000000000"
PUBLIC = "https://amsterdam.test/praatmee"


class FakeApi:
    def __init__(self):
        self.requests: list[dict] = []
        self.status = 200
        self.delay = 0.0
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with fake.lock:
                    fake.requests.append({"path": self.path, "headers": dict(self.headers),
                                          "json": json.loads(body or b"null")})
                    status, delay = fake.status, fake.delay
                if delay:
                    time.sleep(delay)
                answer = json.dumps({"messages": [{"id": "wamid.out"}]}).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)
                except OSError:  # the client gave up (a timeout test)
                    pass

            def log_message(self, *args):  # quiet: the test reads `requests`
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def sent(self, path_part: str = "") -> list[dict]:
        with self.lock:
            return [request for request in self.requests if path_part in request["path"]]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def gateway_config(api: FakeApi, **overrides) -> dict:
    """Every gateway on, answering through `api`."""
    return {
        "PUBLIC_URL": PUBLIC,
        "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
        "WHATSAPP_APP_SECRET": WHATSAPP_SECRET, "WHATSAPP_VERIFY_TOKEN": WHATSAPP_VERIFY,
        "WHATSAPP_ACCESS_TOKEN": WHATSAPP_ACCESS, "WHATSAPP_PHONE_NUMBER_ID": WHATSAPP_PHONE_ID,
        "WHATSAPP_API_URL": f"{api.url}/v21.0",
        "CM_WEBHOOK_TOKEN": CM_TOKEN, "CM_API_KEY": CM_KEY, "CM_API_URL": api.url,
        "SMS_NUMBER": "4444", "WHATSAPP_NUMBER": "+31 20 123 4567",
        "SMS_API_TIMEOUT": 1.0,
        **overrides,
    }


# --- signed requests -----------------------------------------------------------------------------

_counter = iter(range(10**9))


def twilio_form(body: str, sender: str = "+31612345678", *, sid: str | None = None, to: str = "4444") -> dict:
    return {"From": sender, "To": to, "Body": body, "MessageSid": sid or f"SM{next(_counter):032x}",
            "AccountSid": "AC" + "0" * 32, "NumMedia": "0"}


def twilio_signature(form: dict, url: str = f"{PUBLIC}/sms/twilio", token: str = TWILIO_TOKEN) -> str:
    """What Twilio sends in X-Twilio-Signature: the twilio package's own algorithm."""
    return RequestValidator(token).compute_signature(url, form)


def whatsapp_payload(body: str, sender: str = "31687654321", *, message_id: str | None = None,
                     phone_number_id: str = WHATSAPP_PHONE_ID, kind: str = "text") -> bytes:
    """An incoming text message as the Cloud API delivers it."""
    message = {"from": sender, "id": message_id or f"wamid.HBgL{next(_counter):020d}", "timestamp": "1764700000",
               "type": kind}
    if kind == "text":
        message["text"] = {"body": body}
    value = {"messaging_product": "whatsapp",
             "metadata": {"display_phone_number": "31201234567", "phone_number_id": phone_number_id},
             "contacts": [{"profile": {"name": "Test"}, "wa_id": sender}], "messages": [message]}
    return json.dumps({"object": "whatsapp_business_account",
                       "entry": [{"id": "102290129340398", "changes": [{"field": "messages", "value": value}]}]}
                      ).encode()


def meta_signature(body: bytes, secret: str = WHATSAPP_SECRET) -> str:
    """X-Hub-Signature-256: sha256= and the hex HMAC-SHA256 of the raw body under the app secret."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def cm_payload(body: str, sender: str = "+31611112222", *, reference: str | None = None,
               channel: str = "SMS", to: str = "4444") -> bytes:
    """A Business Messaging MO webhook."""
    return json.dumps({"reference": reference or f"{next(_counter):08d}-cm-ref", "messageContext": "",
                       "from": {"number": sender, "name": "Test"}, "to": {"number": to},
                       "message": {"text": body, "media": {}, "custom": {}}, "groupings": ["", "", ""],
                       "timeUtc": "2026-12-02T10:00:00", "channel": channel}).encode()


def post_twilio(client, body: str, sender: str = "+31612345678", *, signature: str | None = "sign", **kwargs):
    form = twilio_form(body, sender, **kwargs)
    headers = {"X-Twilio-Signature": twilio_signature(form) if signature == "sign" else signature} \
        if signature is not None else {}
    return client.post("/sms/twilio", data=form, headers=headers)


def post_whatsapp(client, body: str, sender: str = "31687654321", *, signature: str | None = "sign", **kwargs):
    payload = whatsapp_payload(body, sender, **kwargs)
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["X-Hub-Signature-256"] = meta_signature(payload) if signature == "sign" else signature
    return client.post("/sms/whatsapp", data=payload, headers=headers)


def post_cm(client, body: str, sender: str = "+31611112222", *, token: str = CM_TOKEN, **kwargs):
    return client.post(f"/sms/cm/{token}", data=cm_payload(body, sender, **kwargs),
                       headers={"Content-Type": "application/json"})
