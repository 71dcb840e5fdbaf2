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
                 "SMS_KEYWORD", "DATABASE_URL", "MEDIA_URL"):
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


def configure_http(app: Flask) -> None:
    from . import http
    http.init_app(app)


def register_blueprints(app: Flask) -> None:
    from . import events, moderation, reply, residents, staff
    reply.init_app(app)
    moderation.init_app(app)
    app.register_blueprint(residents.bp)
    app.register_blueprint(events.bp)
    staff.init_app(app)


def register_cli(app: Flask) -> None:
    from .cli import register_cli as register
    register(app)
