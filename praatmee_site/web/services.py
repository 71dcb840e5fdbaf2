"""Typed access to what `create_app` puts in `app.extensions`: one accessor per service.

Views and CLI commands call these instead of reaching into `current_app.extensions` by string.
"""
from __future__ import annotations

from flask import current_app

from ..conversation.home_server import HomeServer
from ..db import Database
from ..outcomes import Publisher
from ..remote_interaction.discovery import Resolver

DATABASE = "praatmee_db"
HOME_SERVER = "praatmee_home_server"
RESOLVER = "praatmee_resolver"
PUBLISHER = "praatmee_publisher"


def current_db() -> Database:
    return current_app.extensions[DATABASE]


def current_home_server() -> HomeServer:
    return current_app.extensions[HOME_SERVER]


def current_resolver() -> Resolver:
    return current_app.extensions[RESOLVER]


def current_publisher() -> Publisher | None:
    """None without PRAATMEE_MASTODON_WRITE_TOKEN: then nothing offers to post."""
    return current_app.extensions.get(PUBLISHER)
