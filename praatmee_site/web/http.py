"""What every page shares: language from the URL, the proxy headers we take, the kept pages and the
page cache, security headers, static URLs, caching rules, error pages and /healthz.

English lives under an `/en` prefix that a small WSGI wrapper moves into SCRIPT_NAME, so every
`url_for` link keeps the language (and the proxy's `/praatmee` mount) without cookies or JS.
"""
from __future__ import annotations

import hashlib
import re
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Hashable, Iterable, NamedTuple
from urllib.parse import quote, urlencode, urlsplit

from flask import Flask, current_app, g, jsonify, render_template, request
from flask_babel import format_datetime, format_time
from werkzeug.exceptions import BadRequest, HTTPException
from werkzeug.http import parse_list_header
from werkzeug.middleware.proxy_fix import ProxyFix

from ..config import short_link, tel_number
from ..kept import KeptCopies
from .extensions import babel, limiter
from .services import HOME_SERVER, current_db, current_home_server

LANGUAGES = ("nl", "en")
PUBLIC_FOR_A_MINUTE = "public, max-age=60"


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


class RequestAsBrowsersSendIt:
    """What a server hands over, made safe to parse: a hostile request gets a 4xx, never a 500.

    The query string's raw bytes outside printable ASCII (browsers never send them) are
    percent-encoded as a browser would, so a bad UTF-8 byte becomes text instead of an exception.
    A body the server cannot read (a chunk size that is not hex, a connection that ends early) is
    the sender's fault: reading it raises 400. Werkzeug's dev server raises OSError there,
    gunicorn its own ParseException subclasses, so every error of the server's reader counts.
    """

    QUERY_SAFE = "".join(chr(c) for c in range(0x21, 0x7F))

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        query = environ.get("QUERY_STRING", "")
        if query and not (query.isascii() and query.isprintable()):
            environ["QUERY_STRING"] = quote(query.encode("latin-1", "replace"), safe=self.QUERY_SAFE)
        if "wsgi.input" in environ:
            environ["wsgi.input"] = _ReadableBody(environ["wsgi.input"])
        return self.app(environ, start_response)


class _ReadableBody:
    def __init__(self, stream):
        self._stream = stream

    def _read(self, method, *args):
        try:
            return method(*args)
        except HTTPException:
            raise
        except Exception as exc:  # noqa: BLE001 - whatever the server's reader raises, see above
            raise BadRequest(f"unreadable request body ({exc.__class__.__name__})") from exc

    def read(self, *args):
        return self._read(self._stream.read, *args)

    def readline(self, *args):
        return self._read(self._stream.readline, *args)

    def readlines(self, *args):
        return self._read(self._stream.readlines, *args)

    def readinto(self, buffer):
        if not hasattr(self._stream, "readinto"):  # WSGI promises read(), not readinto()
            data = self.read(len(buffer))
            buffer[:len(data)] = data
            return len(data)
        return self._read(self._stream.readinto, buffer)

    def __iter__(self):
        return iter(self.readline, b"")

    def __getattr__(self, name):
        return getattr(self._stream, name)


class KeptPages:
    """Rendered pages a worker keeps, in two pools, so that neither can push the other's pages out.

    `real` holds pages under the mounts the site expects (none, or the path of PRAATMEE_PUBLIC_URL);
    `elsewhere` holds pages under any other mount, which only a visitor's own X-Forwarded-Prefix can
    ask for (PRAATMEE_PROXIES trusting more proxies than there are). Both keep the pages used most
    recently; the rest of the key (language, page, versions) comes from our own configuration and
    campaigns.
    """

    def __init__(self, mounts: Iterable[str], *, real: int, elsewhere: int):
        self.mounts = frozenset(mounts)
        self.real: KeptCopies = KeptCopies(real)
        self.elsewhere: KeptCopies = KeptCopies(elsewhere)

    def pool(self, mount: str) -> KeptCopies:
        return self.real if mount in self.mounts else self.elsewhere

    def get(self, mount: str, key: Hashable):
        return self.pool(mount).get((mount, key))

    def put(self, mount: str, key: Hashable, value) -> None:
        self.pool(mount).put((mount, key), value)

    def __len__(self) -> int:
        return len(self.real) + len(self.elsewhere)


def expected_mounts(public_url: str) -> frozenset[str]:
    """Where the app expects to be mounted: at the root (gunicorn, tests) or at the public URL's path."""
    return frozenset({"", urlsplit(public_url).path.rstrip("/")})


class PageCache:
    """Answers GET `/` and `/en/` from a copy at most `seconds` old, per mount and scheme.

    Those pages carry nothing per visitor (no cookie, language from the URL) and are public for a
    minute anyway; a burst of scans at one event then costs one render a second per worker. It sits
    behind `ForwardedHeaders`, so the mount and scheme are the ones the app itself sees; the host
    is not in the key, because nothing on these pages depends on it (every link is a path). A copy
    made under other moderation rules (`version()`, the moderation version every worker sees) is
    never answered: a hidden reply does not wait for the copy to expire.
    """

    PATHS = frozenset({"/", "/en", "/en/"})

    def __init__(self, app, seconds: float, mounts: Iterable[str] = ("",), clock=time.monotonic,
                 version: Callable[[], Hashable] = lambda: None):
        self.app = app
        self.seconds = seconds
        self.clock = clock
        self.version = version
        # 3 paths × 2 schemes per mount: the real pool never needs to drop a live copy.
        self.copies = KeptPages(mounts, real=16, elsewhere=8)

    def __len__(self) -> int:
        return len(self.copies)

    def __call__(self, environ, start_response):
        if (environ.get("REQUEST_METHOD") != "GET" or environ.get("QUERY_STRING")
                or environ.get("PATH_INFO") not in self.PATHS):
            return self.app(environ, start_response)
        mount = environ.get("SCRIPT_NAME", "").rstrip("/")
        # The scheme decides one header (Strict-Transport-Security), so https and the rest differ.
        key = (environ["PATH_INFO"], environ.get("wsgi.url_scheme") in ("https", "wss"))
        copy = self.copies.get(mount, key)
        version = self.version()
        if copy is not None and self.clock() - copy[0] < self.seconds and copy[4] == version:
            start_response(copy[1], list(copy[2]))
            return [copy[3]]
        captured = {}

        def capture(status, headers, exc_info=None):
            captured.update(status=status, headers=headers)
            return start_response(status, headers, exc_info)

        result = self.app(environ, capture)
        try:
            body = b"".join(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        headers = captured.get("headers", [])
        if captured.get("status", "").startswith("200") and not any(k.lower() == "set-cookie" for k, _ in headers):
            self.copies.put(mount, key, (self.clock(), captured["status"], list(headers), body, version))
        return [body]


# A mount as a proxy may name it: plain segments after "/", none starting with a dot (so no "." or
# ".."), none empty (so no "//host"); no scheme, backslash, escape, space or control character:
# nothing that could make our links lead off the site.
_PLAIN_PREFIX = re.compile(r"(?:/[A-Za-z0-9_~-][A-Za-z0-9._~-]*)*/?")
MAX_PREFIX_LENGTH = 100


def plain_prefix(value: str) -> bool:
    """True for a mount like `/praatmee`: what `X-Forwarded-Prefix` may set SCRIPT_NAME to."""
    return len(value) <= MAX_PREFIX_LENGTH and _PLAIN_PREFIX.fullmatch(value) is not None


class ForwardedHeaders(ProxyFix):
    """werkzeug's ProxyFix, except that an `X-Forwarded-Prefix` that is not a plain path is ignored.

    The prefix becomes SCRIPT_NAME, the start of every link on our pages: `//evil.example` would
    make each of them lead off the site. Ignored means the mount stays what the WSGI server says.
    """

    def __call__(self, environ, start_response):
        if self.x_prefix and "HTTP_X_FORWARDED_PREFIX" in environ:
            # The value ProxyFix would take: the x_prefix-th from the right (each proxy appends one).
            values = parse_list_header(environ["HTTP_X_FORWARDED_PREFIX"])
            chosen = values[-self.x_prefix] if len(values) >= self.x_prefix else None
            if chosen is not None and not plain_prefix(chosen):
                del environ["HTTP_X_FORWARDED_PREFIX"]
        return super().__call__(environ, start_response)


def current_lang() -> str:
    return request.environ.get("praatmee.lang", "nl") if request else "nl"


# The query parameters a page's language link carries over; anything else a visitor put in the URL
# stays out of the page (so it cannot end up in a copy other visitors get).
LANGUAGE_LINK_KEEPS = {"residents.reply": ("post", "c"), "staff.kpis": ("van", "tot")}


def language_url(lang: str) -> str:
    """The current page in another language."""
    root = request.environ.get("praatmee.root", "")
    prefix = "/en" if lang == "en" else ""
    keep = LANGUAGE_LINK_KEEPS.get(request.endpoint or "", ())
    query = urlencode([(name, request.args[name]) for name in keep if request.args.get(name)])
    # A page may stand for another one (the page for an unknown slug stands for the entry page).
    path = g.get("language_path") or request.path
    return f"{root}{prefix}{path}" + (f"?{query}" if query else "")


class ConfiguredText(NamedTuple):
    text: str
    lang: str  # the language it is written in: a Dutch setting stays Dutch on English pages


def configured_text(name: str, default: str) -> ConfiguredText:
    """A text the city may set (PRAATMEE_<NAME>, Dutch; PRAATMEE_<NAME>_EN for English pages), else
    `default` (already translated), with the language it is in."""
    config = current_app.config
    lang = current_lang()
    if lang == "en" and config.get(f"{name}_EN"):
        return ConfiguredText(config[f"{name}_EN"], "en")
    if config.get(name):
        return ConfiguredText(config[name], "nl")
    return ConfiguredText(default, lang)


def public_for_a_minute(response):
    """The resident and event-helper pages' default: the same for everyone, fine to keep a minute.
    Views that differ per visitor or count something set their own Cache-Control first."""
    if response.status_code == 200:
        response.headers.setdefault("Cache-Control", PUBLIC_FOR_A_MINUTE)
    return response


PAGE_CACHE = "praatmee_page_cache"
ENTRY_PAGES = "praatmee_entry_pages"


def init_app(app: Flask) -> None:
    mounts = expected_mounts(app.config["PUBLIC_URL"])
    app.wsgi_app = LanguagePrefix(RequestAsBrowsersSendIt(app.wsgi_app))
    if app.config["PAGE_CACHE"] > 0:
        # Keyed by the moderation version too (read before the page is made, so never newer than it).
        moderation_version = app.extensions[HOME_SERVER].moderation.version
        app.wsgi_app = app.extensions[PAGE_CACHE] = PageCache(app.wsgi_app, app.config["PAGE_CACHE"], mounts,
                                                              version=moderation_version)
    proxies = app.config["PROXIES"]
    if proxies:
        app.wsgi_app = ForwardedHeaders(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies,
                                        x_prefix=proxies)
    app.extensions[ENTRY_PAGES] = KeptPages(mounts, real=512, elsewhere=16)
    babel.init_app(app, locale_selector=current_lang)
    configure_rate_limits(app)
    limiter.init_app(app)

    static_versions = _static_versions(Path(app.static_folder))

    def static_url(filename: str) -> str:
        # Static files are language-free: build from the mount root, not the /en script root.
        root = request.environ.get("praatmee.root", "")
        return f"{root}/static/{filename}?v={static_versions.get(filename, app.config['APP_VERSION'])}"

    app.jinja_env.globals.update(static_url=static_url, language_url=language_url, current_lang=current_lang,
                                 format_datetime=format_datetime, format_time=format_time,
                                 configured_text=configured_text,
                                 home_reply_url=lambda uri: current_home_server().interaction_url(uri))
    app.jinja_env.filters["tel_number"] = tel_number
    app.jinja_env.filters["datetime_from_timestamp"] = lambda ts: datetime.fromtimestamp(ts, timezone.utc)
    app.jinja_env.filters["short_link"] = short_link

    # The one image policy (conversation.display.ImagePolicy) decides both what we show and the CSP.
    with app.app_context():
        image_sources = " ".join(sorted(current_home_server().images.origins))
    hsts = app.config["HSTS"]

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
        if hsts and request.is_secure:
            # Only on https (RFC 6797 §7.2); request.is_secure follows X-Forwarded-Proto behind a trusted proxy.
            response.headers["Strict-Transport-Security"] = f"max-age={hsts}"
        if request.path.startswith("/static/"):
            response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        return response

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if request.path == "/healthz" or request.accept_mimetypes.best == "application/json":
            return jsonify(error=error.name, status=error.code), error.code
        return render_template("error.html", error=error), error.code

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):
        app.logger.exception("unexpected error on %s", request.path)
        return render_template("error.html", error=None), 500

    @app.get("/healthz")
    def healthz():
        database = "ok"
        try:
            current_db().current_version()
        except Exception:  # noqa: BLE001 - health must answer, not crash
            database = "unavailable"
        # Rendered from a template, so a deployment without its templates is not "ok" (it is a 500).
        body = render_template("healthz.json", status="ok" if database == "ok" else "degraded",
                               version=app.config["APP_VERSION"], database=database, demo=app.config["DEMO"])
        return app.response_class(body, mimetype="application/json")


def configure_rate_limits(app: Flask) -> None:
    """With Redis, every instance counts against the same limits. When Redis is unreachable the
    limiter counts in memory per process (Flask-Limiter logs the switch once, and checks Redis again
    with a growing pause); pages never fail because of it."""
    config = app.config
    redis_url = config.get("REDIS_URL")
    if redis_url and config.get("RATELIMIT_STORAGE_URI", "memory://") == "memory://":
        # The limits library spells a Unix socket redis+unix://.
        config["RATELIMIT_STORAGE_URI"] = "redis+" + redis_url if redis_url.startswith("unix://") else redis_url
    if str(config.get("RATELIMIT_STORAGE_URI", "memory://")).startswith("redis"):
        from ..mastodon.shared_cache import client_options
        config.setdefault("RATELIMIT_STORAGE_OPTIONS", client_options())
        config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
        config.setdefault("RATELIMIT_KEY_PREFIX", "praatmee")


# Each file's hash with the size and modification time it was read at: an app made again in the same
# process (the tests make a thousand) reads only files that changed. One entry per static file.
_HASHED: dict[str, tuple[int, int, str]] = {}


def _static_versions(folder: Path) -> dict[str, str]:
    """A short content hash per static file, so URLs change when files do and may be cached a year."""
    versions = {}
    for path in folder.rglob("*"):
        if path.is_file():
            stat = path.stat()
            size, mtime, digest = _HASHED.get(str(path), (-1, -1, ""))
            if (size, mtime) != (stat.st_size, stat.st_mtime_ns):
                digest = hashlib.sha256(path.read_bytes()).hexdigest()[:10]
                _HASHED[str(path)] = (stat.st_size, stat.st_mtime_ns, digest)
            versions[path.relative_to(folder).as_posix()] = digest
    return versions
