"""Configuration: defaults, then PRAATMEE_* environment variables, then test overrides.

`validate()` checks the result once at start-up and raises `ConfigError` with one line that
names the variable and says what to set; `create_app` turns that into a clean exit.
"""
from __future__ import annotations

import importlib.util
import os
import re
from urllib.parse import urlsplit

DEFAULTS: dict[str, object] = {
    # The city's home Mastodon server and the account whose pinned post is the conversation.
    "MASTODON_URL": "https://social.amsterdam.nl",
    "ACCOUNT": "OpenStad_HVA",
    # What posters print and QR codes encode.
    "PUBLIC_URL": "https://amsterdam.nl/praatmee",
    "DATABASE_URL": None,  # None: SQLite in the instance folder
    "SECRET_KEY": None,
    "DEMO": False,
    "ALLOW_PRIVATE_HOSTS": False,
    # Who staff ask for an account or a new password, on the login page: a name, a team or an e-mail
    # address (which becomes a mail link), e.g. "innovatie@amsterdam.nl". None: "the colleague who
    # manages praatmee in your team".
    "STAFF_CONTACT": None,
    # Optional read-only user token: lifts the logged-out cap on thread context.
    "MASTODON_TOKEN": None,
    "CONNECT_TIMEOUT": 2.0,
    "READ_TIMEOUT": 3.0,
    "CACHE_TTL": 60,  # seconds, statuses and threads
    "INSTANCE_CACHE_TTL": 900,  # seconds, registration state and rules
    # Copy the campaign staff may change without a campaign.
    # Unset: the translated default ("Stel je vraag aan het Innovatieteam").
    "CALL_TO_ACTION": None,
    "CALL_TO_ACTION_EN": None,
    "TEAM_TEXT": None,
    "INPUT_TEXT": None,
    "MEDIA_URL": None,  # a second image origin, when the home server serves media from a CDN
    "SOURCE_URL": "https://github.com/gemeente-amsterdam/praatmee",
    # What residents read about who answers, how soon, and how to reach the city (footer, entry page).
    # Texts: None gives the translated default; the *_EN variant is shown on English pages.
    "ACCOUNT_TEXT": None,  # who PRAATMEE_ACCOUNT is, e.g. "Het account van het Innovatieteam van de gemeente."
    "ACCOUNT_TEXT_EN": None,
    "REPLY_TIME": None,  # e.g. "We reageren binnen 3 werkdagen."
    "REPLY_TIME_EN": None,
    "CONTACT_PHONE": "14 020",  # shown as written, dialled without spaces
    "CONTACT_URL": "https://www.amsterdam.nl",
    "CONTACT_EMAIL": "digitaal@amsterdam.nl",  # the accessibility and privacy pages' address
    # "Stuur PRAATMEE naar …" (SMS and WhatsApp). A gateway is on only when all of its secrets are set;
    # posters, handouts, the kiosk and /hulp print a number only when it is set here.
    "SMS_NUMBER": None,  # e.g. 4444: what posters print for SMS
    "WHATSAPP_NUMBER": None,  # e.g. +31 20 123 4567: what posters print, and /hulp's wa.me link
    "TWILIO_AUTH_TOKEN": None,  # Twilio: POST /sms/twilio
    "WHATSAPP_APP_SECRET": None,  # WhatsApp Cloud API (Meta): GET|POST /sms/whatsapp, all four
    "WHATSAPP_VERIFY_TOKEN": None,
    "WHATSAPP_ACCESS_TOKEN": None,
    "WHATSAPP_PHONE_NUMBER_ID": None,
    "WHATSAPP_API_URL": "https://graph.facebook.com/v21.0",
    "CM_WEBHOOK_TOKEN": None,  # CM.com: POST /sms/cm/<token>, with the API key
    "CM_API_KEY": None,
    "CM_API_URL": "https://gateway.cm.com",
    "SMS_REPLIES_PER_MINUTE": 60,  # every gateway together, every instance together (with Redis)
    "SMS_API_TIMEOUT": 4.0,  # seconds for a whole reply through the WhatsApp or CM API (one retry after it)
    # Number of reverse proxies in front of the app whose X-Forwarded-* headers we trust.
    "PROXIES": 1,
    # Strict-Transport-Security max-age in seconds on https answers; 0: none. None: a year, except in
    # demo, debug and test runs (which often run on plain http or on a developer's own host name).
    "HSTS": None,
    "RESOLVER_LIMIT": "10 per minute;60 per hour",
    # "Reageer direct" look-ups running at once in one instance (all its workers together). A hostile
    # server can hold a look-up for its whole 5 s deadline: keep this below the number of workers.
    "LOOKUP_SLOTS": 2,
    "KIOSK_REFRESH": 60,  # seconds between kiosk screen refreshes
    # Seconds a worker may answer `/` and `/en/` from its own copy (0: off). Bursts then cost one render.
    "PAGE_CACHE": 1,
    # Flask-Limiter storage; "memory://" is per process. With REDIS_URL set, Redis is used instead.
    "RATELIMIT_STORAGE_URI": "memory://",
    # Posting outcomes back to Mastodon (issue 16): a token of the city account with only the scope
    # write:statuses. None: the site never posts, and the publish button is not there.
    "MASTODON_WRITE_TOKEN": None,
    # Optional shared state for several app instances: the home-server cache and the rate limits.
    # None: both live in each process, as on a single machine.
    "REDIS_URL": None,
    # Moderation (issue 15). Which replies a kiosk screen in a public place shows: "all" (every reply
    # not hidden), "approved" (only those staff approved or the city's account favourited) or "none".
    "KIOSK_REPLIES": "approved",
    # Replies from accounts younger than this many days (when they replied) wait for approval before
    # any page shows them. 0 or unset: off.
    "HOLD_NEW_ACCOUNTS_DAYS": 0,
}

KIOSK_REPLIES_MODES = ("all", "approved", "none")

BOOLEAN = {"DEMO", "ALLOW_PRIVATE_HOSTS"}
NUMBERS = {"CONNECT_TIMEOUT", "READ_TIMEOUT", "CACHE_TTL", "INSTANCE_CACHE_TTL", "PROXIES", "KIOSK_REFRESH", "PAGE_CACHE",
           "LOOKUP_SLOTS", "SMS_REPLIES_PER_MINUTE", "SMS_API_TIMEOUT"}
# The secrets that turn a gateway on; every one of a group, or none.
SMS_GATEWAYS: dict[str, tuple[str, ...]] = {
    "twilio": ("TWILIO_AUTH_TOKEN",),
    "whatsapp": ("WHATSAPP_APP_SECRET", "WHATSAPP_VERIFY_TOKEN", "WHATSAPP_ACCESS_TOKEN", "WHATSAPP_PHONE_NUMBER_ID"),
    "cm": ("CM_WEBHOOK_TOKEN", "CM_API_KEY"),
}
CM_TOKEN_MIN = 32  # characters: the webhook's only secret is in its URL


class ConfigError(Exception):
    """One line for the operator: which variable, and what to set."""


def _shown(url: str) -> str:
    """A URL as it may appear in an error message: without a password."""
    return repr(re.sub(r"(://[^/:@]*):[^/@]*@", r"\1:***@", url))


def _as_bool(name: str, value: object) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off", ""}:
        return False
    raise ConfigError(f"PRAATMEE_{name} must be 1 or 0, not {value!r}.")


def _as_number(name: str, value: object) -> float:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ConfigError(f"PRAATMEE_{name} must be a number, not {value!r}.") from None
    if number < 0:
        raise ConfigError(f"PRAATMEE_{name} must not be negative.")
    return number


def _origin_url(name: str, value: object, *, allow_path: bool) -> str:
    text = str(value or "").strip().rstrip("/")
    parts = urlsplit(text)
    example = "https://social.amsterdam.nl" if not allow_path else "https://amsterdam.nl/praatmee"
    if parts.scheme != "https" or not parts.hostname:
        raise ConfigError(f"PRAATMEE_{name} must be an https:// address, e.g. {example} (got {_shown(text)}).")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise ConfigError(f"PRAATMEE_{name} must be a plain address like {example} (got {_shown(text)}).")
    if not allow_path and parts.path not in ("", "/"):
        raise ConfigError(f"PRAATMEE_{name} must be the server address without a path, e.g. {example} (got {_shown(text)}).")
    return text


HSTS_DEFAULT = 365 * 24 * 3600


def _hsts(config: dict) -> int:
    value = config.get("HSTS")
    if value is None or value == "":
        return 0 if config["DEMO"] or config.get("DEBUG") or config.get("TESTING") else HSTS_DEFAULT
    text = str(value).strip()
    # bool is an int in Python, and from_prefixed_env turns "true" into True: not a number of seconds.
    if isinstance(value, bool) or not text.isdigit():
        raise ConfigError(f"PRAATMEE_HSTS must be the Strict-Transport-Security max-age in whole seconds, "
                          f"e.g. {HSTS_DEFAULT} (a year), or 0 to send none (got {value!r}).")
    return int(text)


STAFF_CONTACT_MAX = 200


def _staff_contact(value: object) -> str | None:
    text = " ".join(str(value or "").split())
    if len(text) > STAFF_CONTACT_MAX or any(not ch.isprintable() for ch in str(value or "").strip()):
        raise ConfigError(f"PRAATMEE_STAFF_CONTACT must be one line of at most {STAFF_CONTACT_MAX} characters: "
                          "a name, a team or an e-mail address, e.g. innovatie@amsterdam.nl.")
    return text or None


def validate(config: dict) -> None:
    """Normalise types in place and stop at the first setting that cannot work."""
    for name in BOOLEAN:
        config[name] = _as_bool(name, config.get(name))
    for name in NUMBERS:
        config[name] = _as_number(name, config.get(name))
    config["PROXIES"] = int(config["PROXIES"])
    config["HSTS"] = _hsts(config)
    if config["LOOKUP_SLOTS"] < 1 or config["LOOKUP_SLOTS"] != int(config["LOOKUP_SLOTS"]):
        raise ConfigError("PRAATMEE_LOOKUP_SLOTS must be a whole number of at least 1, e.g. 2.")
    config["LOOKUP_SLOTS"] = int(config["LOOKUP_SLOTS"])
    config["MASTODON_URL"] = _origin_url("MASTODON_URL", config.get("MASTODON_URL"), allow_path=False)
    config["PUBLIC_URL"] = _origin_url("PUBLIC_URL", config.get("PUBLIC_URL"), allow_path=True)
    if config.get("MEDIA_URL"):
        config["MEDIA_URL"] = _origin_url("MEDIA_URL", config["MEDIA_URL"], allow_path=False)
    account = str(config.get("ACCOUNT") or "").strip().lstrip("@")
    if not account or any(ch in account for ch in "/?#@ "):
        raise ConfigError("PRAATMEE_ACCOUNT must be the city's user name on the home server, e.g. OpenStad_HVA.")
    config["ACCOUNT"] = account
    config["STAFF_CONTACT"] = _staff_contact(config.get("STAFF_CONTACT"))
    if not config.get("SECRET_KEY"):
        if config["DEMO"] or config.get("DEBUG") or config.get("TESTING"):
            # Demo and development runs need no set-up; a per-process key is fine there.
            config["SECRET_KEY"] = os.urandom(32).hex()
        else:
            raise ConfigError(
                "PRAATMEE_SECRET_KEY is not set: set it to a long random string, "
                "e.g. PRAATMEE_SECRET_KEY=$(python -c 'import secrets; print(secrets.token_hex(32))')."
            )
    _moderation(config)
    write_token = config.get("MASTODON_WRITE_TOKEN")
    if write_token is not None and not isinstance(write_token, str):
        write_token = str(write_token)
    config["MASTODON_WRITE_TOKEN"] = write_token = (write_token or "").strip() or None
    if write_token:
        if not re.fullmatch(r"[A-Za-z0-9_\-.~+/=]{8,400}", write_token):
            raise ConfigError("PRAATMEE_MASTODON_WRITE_TOKEN must be the access token itself (letters, digits, "
                              "- and _), as Mastodon shows it under Preferences > Development.")
        if config["DEMO"]:
            raise ConfigError("PRAATMEE_MASTODON_WRITE_TOKEN cannot be used with PRAATMEE_DEMO=1: the demo has "
                              "no real Mastodon server to post to.")
    _contact(config)
    _validate_sms(config)
    url = config.get("DATABASE_URL")
    if url:
        config["DATABASE_URL"] = url = database_url(str(url))
        if url.startswith("postgresql+psycopg") and not _installed("psycopg"):
            raise ConfigError("PRAATMEE_DATABASE_URL names PostgreSQL, but psycopg is not installed: "
                              "pip install 'praatmee-site[postgres]'.")
    if config.get("REDIS_URL"):
        config["REDIS_URL"] = redis_url = str(config["REDIS_URL"]).strip()
        if not redis_url.startswith(("redis://", "rediss://", "unix://")):
            raise ConfigError("PRAATMEE_REDIS_URL must start with redis://, rediss:// or unix://, "
                              f"e.g. redis://127.0.0.1:6379/0 (got {_shown(redis_url)}).")
        if not _installed("redis"):
            raise ConfigError("PRAATMEE_REDIS_URL is set, but the redis package is not installed: "
                              "pip install 'praatmee-site[redis]'.")


_PHONE = re.compile(r"\+?[0-9][0-9 ()-]{1,30}")
_EMAIL = re.compile(r"[^@\s<>\"']+@[^@\s<>\"'/]+\.[^@\s<>\"'/]+")


def _contact(config: dict) -> None:
    """The city's contact in the footer: a phone number people can dial, a web page, an e-mail address."""
    phone = str(config.get("CONTACT_PHONE") or "").strip()
    if not _PHONE.fullmatch(phone):
        raise ConfigError(f"PRAATMEE_CONTACT_PHONE must be a phone number of digits and spaces, e.g. 14 020 "
                          f"(got {phone!r}).")
    config["CONTACT_PHONE"] = phone
    config["CONTACT_URL"] = _origin_url("CONTACT_URL", config.get("CONTACT_URL"), allow_path=True)
    email = str(config.get("CONTACT_EMAIL") or "").strip()
    if not _EMAIL.fullmatch(email):
        raise ConfigError(f"PRAATMEE_CONTACT_EMAIL must be an e-mail address, e.g. digitaal@amsterdam.nl "
                          f"(got {email!r}).")
    config["CONTACT_EMAIL"] = email
    for name in ("ACCOUNT_TEXT", "ACCOUNT_TEXT_EN", "REPLY_TIME", "REPLY_TIME_EN"):
        text = config.get(name)
        config[name] = str(text).strip() or None if text is not None else None


def tel_number(phone: str) -> str:
    """A phone number as a `tel:` link dials it: digits and a leading +, nothing else."""
    return ("+" if phone.strip().startswith("+") else "") + re.sub(r"[^0-9]", "", phone)


def _moderation(config: dict) -> None:
    mode = str(config.get("KIOSK_REPLIES") or "").strip().lower()
    if mode not in KIOSK_REPLIES_MODES:
        raise ConfigError(f"PRAATMEE_KIOSK_REPLIES must be all, approved or none (got {config.get('KIOSK_REPLIES')!r}).")
    config["KIOSK_REPLIES"] = mode
    days = config.get("HOLD_NEW_ACCOUNTS_DAYS")
    text = "" if days is None else str(days).strip()
    # bool is an int in Python, and from_prefixed_env turns "true" into True: not a number of days.
    if isinstance(days, bool) or not (text == "" or (text.isdigit() and int(text) <= 3650)):
        raise ConfigError("PRAATMEE_HOLD_NEW_ACCOUNTS_DAYS must be a whole number of days (0 to 3650; 0: off), "
                          f"e.g. 7 (got {days!r}).")
    config["HOLD_NEW_ACCOUNTS_DAYS"] = int(text or 0)


def _validate_sms(config: dict) -> None:
    if config.get("SMS_KEYWORD") is not None:
        raise ConfigError("PRAATMEE_SMS_KEYWORD is no longer used: the keyword is always PRAATMEE, and a campaign "
                          "has its own word (campaign update SLUG --keyword WORD). Remove it; keep PRAATMEE_SMS_NUMBER.")
    for name in ("SMS_NUMBER", "WHATSAPP_NUMBER"):
        value = config.get(name)
        if value is None or str(value).strip() == "":
            config[name] = None
            continue
        text = " ".join(str(value).split())
        digits = phone_digits(text)
        if not re.fullmatch(r"\+?[0-9][0-9 ()-]*", text) or not 3 <= len(digits) <= 15 or (
                name == "WHATSAPP_NUMBER" and len(digits) < 8):
            example = "4444 or +31 6 12345678" if name == "SMS_NUMBER" else "+31 20 123 4567"
            raise ConfigError(f"PRAATMEE_{name} must be a phone number as it is printed, e.g. {example} "
                              f"(digits, spaces, hyphens and a leading +; got {value!r}).")
        config[name] = text
    for gateway, names in SMS_GATEWAYS.items():
        for name in names:
            value = config.get(name)
            config[name] = str(value).strip() if value is not None and str(value).strip() else None
        given = [name for name in names if config[name]]
        if given and len(given) != len(names):
            missing = ", ".join(f"PRAATMEE_{name}" for name in names if not config[name])
            raise ConfigError(f"The {gateway} gateway needs all of its settings: {missing} is not set "
                              f"(or unset {', '.join('PRAATMEE_' + name for name in given)} to turn it off).")
    token = config.get("CM_WEBHOOK_TOKEN")
    if token and (len(token) < CM_TOKEN_MIN or not re.fullmatch(r"[A-Za-z0-9_-]+", token)):
        raise ConfigError(f"PRAATMEE_CM_WEBHOOK_TOKEN must be at least {CM_TOKEN_MIN} letters, digits, - or _, "
                          "e.g. $(python -c 'import secrets; print(secrets.token_urlsafe(32))'): it is the "
                          "webhook's only secret.")
    for name in ("WHATSAPP_API_URL", "CM_API_URL"):
        config[name] = _api_url(name, config.get(name))
    if config["SMS_REPLIES_PER_MINUTE"] < 1 or config["SMS_REPLIES_PER_MINUTE"] != int(config["SMS_REPLIES_PER_MINUTE"]):
        raise ConfigError("PRAATMEE_SMS_REPLIES_PER_MINUTE must be a whole number of at least 1, e.g. 60.")
    config["SMS_REPLIES_PER_MINUTE"] = int(config["SMS_REPLIES_PER_MINUTE"])
    if not 0.5 <= config["SMS_API_TIMEOUT"] <= 30:
        raise ConfigError("PRAATMEE_SMS_API_TIMEOUT must be between 0.5 and 30 seconds, e.g. 4.")


def _api_url(name: str, value: object) -> str:
    """An outgoing API's base: https, or http on this machine's loopback (a local fake, for tests)."""
    text = str(value or "").strip().rstrip("/")
    parts = urlsplit(text)
    loopback = parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost", "::1")
    if not (parts.scheme == "https" or loopback) or not parts.hostname or parts.username or parts.password \
            or parts.query or parts.fragment:
        raise ConfigError(f"PRAATMEE_{name} must be an https:// address without a query, "
                          f"e.g. {DEFAULTS[name]} (got {_shown(text)}).")
    return text


def phone_digits(number: str) -> str:
    """The digits of a printed number: "+31 20 123 4567" → "31201234567" (as wa.me wants it)."""
    return "".join(char for char in number if char.isdigit())


def database_url(url: str) -> str:
    """SQLAlchemy's URL for the database; plain postgres(ql):// addresses get the psycopg 3 driver."""
    url = url.strip()
    for plain in ("postgres://", "postgresql://"):
        if url.startswith(plain):
            return "postgresql+psycopg://" + url[len(plain):]
    if not url.startswith(("sqlite", "postgresql")):
        raise ConfigError("PRAATMEE_DATABASE_URL must start with sqlite:// or postgresql+psycopg://.")
    return url


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def short_link(public_url: str) -> str:
    """The address people type by hand: the public URL without its scheme."""
    return public_url.split("://", 1)[-1].rstrip("/")
