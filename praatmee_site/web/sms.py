"""Blueprint "sms": the gateways' webhooks, `POST /sms/twilio`, `GET|POST /sms/whatsapp`, `POST /sms/cm/<token>`.

Thin: each route hands the request to its gateway's adapter (`praatmee_site.sms`), which checks
the gateway's own signature before anything else happens (403, nothing counted, nothing sent),
and then to `KeywordDesk`. A gateway whose secrets are not set is not there (404). These are no
pages: no CSRF token (the signature is the check), no cookie, `Cache-Control: no-store`, and the
answer's words are translated here. Whatever fails is logged by its class only, never with the
number, and the gateway still gets its 200, so it does not send the message again and again.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import Blueprint, Flask, abort, current_app, request
from flask_babel import force_locale
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

from ..kept import KeptCopies
from ..sms import core, replies
from ..sms.cm import CmGateway
from ..sms.limits import SenderLimits
from ..sms.outbox import Outbox
from ..sms.twilio_gateway import TwilioGateway
from ..sms.whatsapp_cloud import WhatsAppCloud
from ..staff.login_limits import KeyRing
from ..version import user_agent
from .extensions import csrf, limiter
from .services import current_db

log = logging.getLogger(__name__)

bp = Blueprint("sms", __name__, url_prefix="/sms")
SERVICES = "praatmee_sms"
WORDINGS = "praatmee_sms_wordings"
MAX_BODY = 256 * 1024  # bytes of a webhook we read; Meta batches a few messages, never this many


@dataclass
class SmsServices:
    desk: core.KeywordDesk
    outbox: Outbox
    twilio: TwilioGateway | None
    whatsapp: WhatsAppCloud | None
    cm: CmGateway | None


def init_app(app: Flask) -> None:
    config = app.config
    with app.app_context():
        limits = SenderLimits(*_shared_storage(config), replies_per_minute=config["SMS_REPLIES_PER_MINUTE"])
        desk = core.KeywordDesk(current_db(), limits, config["PUBLIC_URL"])
    app.extensions[SERVICES] = SmsServices(
        desk=desk,
        outbox=Outbox(user_agent=user_agent(config["PUBLIC_URL"]), deadline=config["SMS_API_TIMEOUT"]),
        twilio=TwilioGateway(config["TWILIO_AUTH_TOKEN"], config["PUBLIC_URL"]) if config["TWILIO_AUTH_TOKEN"] else None,
        whatsapp=WhatsAppCloud(
            app_secret=config["WHATSAPP_APP_SECRET"], verify_token=config["WHATSAPP_VERIFY_TOKEN"],
            access_token=config["WHATSAPP_ACCESS_TOKEN"], phone_number_id=config["WHATSAPP_PHONE_NUMBER_ID"],
            api_url=config["WHATSAPP_API_URL"]) if config["WHATSAPP_APP_SECRET"] else None,
        cm=CmGateway(webhook_token=config["CM_WEBHOOK_TOKEN"], api_key=config["CM_API_KEY"],
                     api_url=config["CM_API_URL"]) if config["CM_WEBHOOK_TOKEN"] else None,
    )
    app.extensions[WORDINGS] = KeptCopies(256)
    csrf.exempt(bp)
    limiter.exempt(bp)  # the gateways' own calls: the sender limits are ours (praatmee_site.sms.limits)
    app.register_blueprint(bp)


def _shared_storage(config):
    """Counted where Flask-Limiter counts (memory, or Redis with PRAATMEE_REDIS_URL), as the login limits."""
    from limits.storage import MemoryStorage, storage_from_string
    uri = config.get("RATELIMIT_STORAGE_URI") or "memory://"
    options = {} if uri.startswith("memory") else (config.get("RATELIMIT_STORAGE_OPTIONS") or {})
    storage = storage_from_string(uri, **options)
    shared = None if isinstance(storage, MemoryStorage) or not hasattr(storage, "get_connection") else storage
    return storage, KeyRing(shared, purpose="sms")


def services() -> SmsServices:
    return current_app.extensions[SERVICES]


@bp.before_request
def only_where_the_gateway_calls():
    # The gateways call the Dutch address; /en/sms/… is not one.
    if request.environ.get("praatmee.lang") == "en":
        abort(404)
    if (request.content_length or 0) > MAX_BODY:
        abort(413)
    request.max_content_length = MAX_BODY  # also for a chunked body, which names no length


@bp.errorhandler(HTTPException)
def plain_refusal(error: HTTPException):
    # A gateway reads the status; a flood of bad signatures costs no page render.
    return current_app.response_class(f"{error.code} {error.name}\n", status=error.code, mimetype="text/plain")


@bp.after_request
def never_kept(response):
    response.headers["Cache-Control"] = "no-store"
    return response


def _translate(msgid: str, lang: str, **params) -> str:
    with force_locale(lang):
        return _(msgid, **params)


def _wording(reply: replies.Reply) -> str:
    # A few kinds times the campaigns' links: each worded once per worker (force_locale is not free).
    words = current_app.extensions[WORDINGS]
    key = (reply.kind, reply.link)
    text = words.get(key)
    if text is None:
        text = replies.wording(reply, _translate)
        words.put(key, text)
    return text


def _answer(message: core.Incoming) -> str | None:
    """The desk's answer to one message, in words; None for no answer."""
    reply = services().desk.answer(message)
    return _wording(reply) if reply is not None else None


def _failed(gateway: str, exc: Exception) -> None:
    # Never the exception's text or traceback: either may hold the number.
    log.error("sms: the %s webhook failed: %s", gateway, exc.__class__.__name__)


# --- Twilio ---------------------------------------------------------------------------------

@bp.post("/twilio")
def twilio():
    gateway = services().twilio
    if gateway is None:
        abort(404)
    form = request.form.to_dict(flat=False)
    if not gateway.verify(form, request.headers.get("X-Twilio-Signature"), request.query_string.decode("latin-1")):
        abort(403)
    text = None
    try:
        message = gateway.incoming(form)
        text = _answer(message) if message is not None else None
    except Exception as exc:  # noqa: BLE001 - see _failed
        _failed("twilio", exc)
    return current_app.response_class(gateway.twiml(text), mimetype="text/xml")


# --- WhatsApp Cloud API ----------------------------------------------------------------------

@bp.get("/whatsapp")
def whatsapp_handshake():
    gateway = services().whatsapp
    if gateway is None:
        abort(404)
    challenge = gateway.handshake(request.args.get("hub.mode"), request.args.get("hub.verify_token"),
                                  request.args.get("hub.challenge"))
    if challenge is None:
        abort(403)
    return current_app.response_class(challenge, mimetype="text/plain")


@bp.post("/whatsapp")
def whatsapp():
    gateway = services().whatsapp
    if gateway is None:
        abort(404)
    body = request.get_data(cache=False)
    if not gateway.verify(body, request.headers.get("X-Hub-Signature-256")):
        abort(403)
    _answer_later(gateway, body)
    return current_app.response_class("", status=200, mimetype="text/plain")


# --- CM.com --------------------------------------------------------------------------------

@bp.post("/cm/<token>")
def cm(token: str):
    gateway = services().cm
    if gateway is None:
        abort(404)
    if not gateway.verify(token):
        abort(403)
    _answer_later(gateway, request.get_data(cache=False))
    return current_app.response_class("", status=200, mimetype="text/plain")


def _answer_later(gateway, body: bytes) -> None:
    """Decide now (the limits and counts), send afterwards: the webhook answers 200 at once."""
    try:
        for message in gateway.incoming(body):
            text = _answer(message)
            if text is not None:
                services().outbox.send(gateway.outgoing(message, text))
    except Exception as exc:  # noqa: BLE001 - see _failed
        _failed(gateway.name, exc)
