"""The app factory: `create_app()` builds the app from defaults, the environment (PRAATMEE_*) and
test overrides, then binds the database, the home server, the extensions, the blueprints and the CLI.

Small `configure_*` steps, each doing one thing, in the order they depend on each other.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path

from flask import Flask

from .. import config as config_module
from .. import resources
from ..clock import TIMEZONE_NAME
from ..config import ConfigError
from ..conversation.home_server import build_home_server
from ..db import Database, SchemaError
from ..version import __version__
from . import services

log = logging.getLogger("praatmee")


def create_app(test_config: dict | None = None) -> Flask:
    # Each instance on a host may keep its own folder (only the default SQLite database lives there).
    instance_path = os.environ.get("PRAATMEE_INSTANCE_PATH") or None
    missing = resources.missing()
    if missing:
        raise SystemExit("praatmee: cannot start, missing: " + "; ".join(missing))
    app = Flask(
        "praatmee_site",
        instance_relative_config=True,
        instance_path=os.path.abspath(instance_path) if instance_path else None,
        template_folder=str(resources.TEMPLATES),
        static_folder=str(resources.STATIC),
    )
    try:
        configure(app, test_config)
    except ConfigError as exc:
        # One clear line for the operator instead of a traceback.
        raise SystemExit(f"praatmee: configuration error: {exc}") from None
    configure_logging(app)
    configure_database(app)
    configure_home_server(app)
    configure_publishing(app)
    configure_http(app)
    register_blueprints(app)
    register_cli(app)
    return app


def configure(app: Flask, test_config: dict | None) -> None:
    app.config.from_mapping(config_module.DEFAULTS)
    app.config.from_prefixed_env("PRAATMEE")
    if test_config:
        app.config.from_mapping(test_config)
    for name in ("SECRET_KEY", "ACCOUNT", "MASTODON_URL", "PUBLIC_URL", "MASTODON_TOKEN", "SMS_NUMBER",
                 "WHATSAPP_NUMBER", "DATABASE_URL", "MEDIA_URL", "MASTODON_WRITE_TOKEN",
                 *(n for names in config_module.SMS_GATEWAYS.values() for n in names)):
        # from_prefixed_env parses JSON, so PRAATMEE_SMS_NUMBER=4444 arrives as an int.
        if app.config.get(name) is not None and not isinstance(app.config[name], str):
            app.config[name] = str(app.config[name])
    config_module.validate(app.config)
    os.makedirs(app.instance_path, exist_ok=True)
    if not app.config.get("DATABASE_URL"):
        app.config["DATABASE_URL"] = f"sqlite:///{Path(app.instance_path) / 'praatmee.sqlite'}"
    app.config.update(
        APP_VERSION=__version__,
        SEND_FILE_MAX_AGE_DEFAULT=365 * 24 * 3600,  # static URLs carry a version
        BABEL_DEFAULT_LOCALE="nl",
        BABEL_DEFAULT_TIMEZONE=TIMEZONE_NAME,
        BABEL_TRANSLATION_DIRECTORIES=str(resources.TRANSLATIONS),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
    )


def configure_logging(app: Flask) -> None:
    if app.config["ALLOW_PRIVATE_HOSTS"]:
        app.logger.warning(
            "PRAATMEE_ALLOW_PRIVATE_HOSTS is on: visitor-typed servers may resolve to private and "
            "loopback addresses. Use this only for tests and closed test networks."
        )
    if app.config["DEMO"]:
        app.logger.info("demo mode: Mastodon answers come from bundled example data, no network is used")


def configure_database(app: Flask) -> None:
    """Bind a database to the app and bring its schema up to date (safe with many workers)."""
    database = Database(app.config["DATABASE_URL"])
    try:
        database.upgrade()
    except SchemaError as exc:
        # Logged at ERROR with its traceback in `upgrade`; the operator gets one line.
        raise SystemExit(f"praatmee: {exc}") from None
    app.extensions[services.DATABASE] = database


def configure_home_server(app: Flask) -> None:
    app.extensions[services.HOME_SERVER] = build_home_server(app.config, app.extensions[services.DATABASE])


def configure_publishing(app: Flask) -> None:
    """With PRAATMEE_MASTODON_WRITE_TOKEN, a publisher for outcomes; it refuses to start with a token
    that may do more than post statuses, where Mastodon lets us check (see mastodon.writer)."""
    token = app.config.get("MASTODON_WRITE_TOKEN")
    if not token:
        return
    from ..mastodon.writer import StatusWriter
    from ..outcomes import Publisher
    from ..version import user_agent
    writer = StatusWriter(app.config["MASTODON_URL"], token, user_agent=user_agent(app.config["PUBLIC_URL"]),
                          connect_timeout=app.config["CONNECT_TIMEOUT"],
                          read_timeout=max(app.config["READ_TIMEOUT"], 10.0))
    publisher = Publisher(writer, app.extensions[services.HOME_SERVER].client, account=app.config["ACCOUNT"],
                          public_url=app.config["PUBLIC_URL"], home_url=app.config["MASTODON_URL"])
    check = publisher.check_token()
    if check.problem == "unreachable":
        # Not a reason to keep the site down: the token is checked again before the first post.
        log.warning("could not check PRAATMEE_MASTODON_WRITE_TOKEN now (%s); it is checked before posting",
                    check.detail)
    elif not check.ok:
        reason = {"invalid": "Mastodon does not accept it (wrong, revoked or expired)",
                  "too_broad": f"its app has the scopes {', '.join(check.scopes)}",
                  "can_read": "it can read the account (GET /api/v1/accounts/verify_credentials answered)"}
        app.extensions[services.DATABASE].engine.dispose()  # no pooled connection outlives the refusal
        raise SystemExit(f"praatmee: configuration error: PRAATMEE_MASTODON_WRITE_TOKEN may not be used: "
                         f"{reason[check.problem]}. Make a token with only the scope write:statuses "
                         "(README: Resultaten).")
    app.extensions[services.PUBLISHER] = publisher


def configure_http(app: Flask) -> None:
    from . import http
    http.init_app(app)


def register_blueprints(app: Flask) -> None:
    from . import (
        events,
        moderation,
        reply,
        residents,
        results,
        sms,
        staff,
        staff_outcomes,  # noqa: F401 - its routes (outcomes, issue 16) are on the staff blueprint
    )
    reply.init_app(app)
    moderation.init_app(app)
    app.register_blueprint(residents.bp)
    app.register_blueprint(events.bp)
    results.init_app(app)
    staff.init_app(app)
    sms.init_app(app)


def register_cli(app: Flask) -> None:
    from .cli import register_cli as register
    register(app)
