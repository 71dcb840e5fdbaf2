"""praatmee: the site behind amsterdam.nl/praatmee.

`create_app()` builds the app from defaults, the environment (PRAATMEE_*) and test overrides,
then binds extensions, blueprints, CLI commands and error handlers — nothing else lives here.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path

from flask import Flask

from . import config as config_module
from .config import ConfigError

__version__ = "0.1.0"
ROOT = Path(__file__).resolve().parent.parent
log = logging.getLogger("praatmee")


def create_app(test_config: dict | None = None) -> Flask:
    # Each instance on a host may keep its own folder (only the default SQLite database lives there).
    instance_path = os.environ.get("PRAATMEE_INSTANCE_PATH") or None
    app = Flask(
        __name__,
        instance_relative_config=True,
        instance_path=os.path.abspath(instance_path) if instance_path else None,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    try:
        configure(app, test_config)
    except ConfigError as exc:
        # One clear line for the operator instead of a traceback.
        raise SystemExit(f"praatmee: configuration error: {exc}") from None
    configure_logging(app)
    from .web import configure_web
    configure_web(app)
    configure_database(app)
    configure_mastodon(app)
    register_blueprints(app)
    from .cli import register_cli
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
        BABEL_DEFAULT_TIMEZONE="Europe/Amsterdam",
        BABEL_TRANSLATION_DIRECTORIES=str(ROOT / "translations"),
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
    from . import db
    try:
        db.init_app(app)
    except db.SchemaError as exc:
        # Logged at ERROR with its traceback in `upgrade`; the operator gets one line.
        raise SystemExit(f"praatmee: {exc}") from None


def configure_mastodon(app: Flask) -> None:
    from . import home
    home.init_app(app)


def register_blueprints(app: Flask) -> None:
    from . import reply
    from .residents import bp as residents
    from .helpers import bp as helpers
    reply.init_app(app)
    from . import staff
    app.register_blueprint(residents)
    app.register_blueprint(helpers)
    staff.init_app(app)
