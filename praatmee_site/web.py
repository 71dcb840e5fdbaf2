"""What every page shares: language from the URL, security headers, static URLs, error pages.

English lives under an `/en` prefix that a small WSGI wrapper moves into SCRIPT_NAME, so every
`url_for` link keeps the language (and the proxy's `/praatmee` mount) without cookies or JS.
"""
from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from pathlib import Path

from flask import Flask, g, jsonify, render_template, request
from flask_babel import Babel, format_datetime, format_time
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from .content import origin

LANGUAGES = ("nl", "en")
babel = Babel()
# Per client address (after ProxyFix); in memory per process unless RATELIMIT_STORAGE_URI is configured.
limiter = Limiter(get_remote_address, default_limits=[], headers_enabled=True)


class LanguagePrefix:
    """`/en/...` → language en, with `/en` appended to SCRIPT_NAME; anything else is Dutch."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "") or "/"
        environ["praatmee.root"] = environ.get("SCRIPT_NAME", "").rstrip("/")
        environ["praatmee.lang"] = "nl"
        if path == "/en" or path.startswith("/en/"):
            environ["SCRIPT_NAME"] = environ["praatmee.root"] + "/en"
            environ["PATH_INFO"] = path[3:] or "/"
            environ["praatmee.lang"] = "en"
        return self.app(environ, start_response)


def current_lang() -> str:
    return request.environ.get("praatmee.lang", "nl") if request else "nl"


def language_url(lang: str) -> str:
    """The current page in another language."""
    root = request.environ.get("praatmee.root", "")
    prefix = "/en" if lang == "en" else ""
    query = request.query_string.decode("latin-1")
    return f"{root}{prefix}{request.path}" + (f"?{query}" if query else "")


def configure_web(app: Flask) -> None:
    inner = LanguagePrefix(app.wsgi_app)
    proxies = app.config["PROXIES"]
    app.wsgi_app = ProxyFix(inner, x_for=proxies, x_proto=proxies, x_host=proxies, x_prefix=proxies) if proxies else inner
    babel.init_app(app, locale_selector=current_lang)
    limiter.init_app(app)

    static_versions = _static_versions(Path(app.static_folder))

    def static_url(filename: str) -> str:
        # Static files are language-free: build from the mount root, not the /en script root.
        root = request.environ.get("praatmee.root", "")
        return f"{root}/static/{filename}?v={static_versions.get(filename, app.config['APP_VERSION'])}"

    app.jinja_env.globals.update(static_url=static_url, language_url=language_url, current_lang=current_lang,
                                 format_datetime=format_datetime, format_time=format_time)
    app.jinja_env.filters["datetime_from_timestamp"] = lambda ts: datetime.fromtimestamp(ts, timezone.utc)

    image_sources = " ".join(sorted({origin(app.config["MASTODON_URL"])}
                                    | ({origin(app.config["MEDIA_URL"])} if app.config.get("MEDIA_URL") else set())))

    @app.after_request
    def security_headers(response):
        form_action = "'self'" + (" https:" if g.get("form_leaves_site") else "")
        response.headers["Content-Security-Policy"] = (
            f"default-src 'self'; img-src 'self' {image_sources}; style-src 'self'; script-src 'self'; "
            f"object-src 'none'; frame-ancestors 'none'; form-action {form_action}; base-uri 'none'"
        )
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
        response.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), interest-cohort=()"
        response.headers.setdefault("X-Frame-Options", "DENY")
        if request.path.startswith("/static/"):
            response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        return response

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if request.path == "/healthz" or request.accept_mimetypes.best == "application/json":
            return jsonify(error=error.name, status=error.code), error.code
        template = "error.html"
        return render_template(template, error=error), error.code

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):
        app.logger.exception("unexpected error on %s", request.path)
        return render_template("error.html", error=None), 500

    @app.get("/healthz")
    def healthz():
        from .db import current_db
        database = "ok"
        try:
            current_db().current_version()
        except Exception:  # noqa: BLE001 - health must answer, not crash
            database = "unavailable"
        return jsonify(status="ok" if database == "ok" else "degraded", version=app.config["APP_VERSION"],
                       database=database, demo=app.config["DEMO"])


def _static_versions(folder: Path) -> dict[str, str]:
    """A short content hash per static file, so URLs change when files do and may be cached a year."""
    versions = {}
    for path in folder.rglob("*"):
        if path.is_file():
            versions[path.relative_to(folder).as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()[:10]
    return versions
