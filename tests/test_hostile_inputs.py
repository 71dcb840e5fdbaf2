"""No request makes the site fail: every route in the URL map gets hostile inputs, and none may give a 5xx.

The walk fills each rule's converters with plausible values (a real campaign slug, a real download)
and with hostile ones, then sends bad UTF-8, CR/LF, huge values, wrong methods and bodies that are
not what their headers say — logged out, and as staff with and without a valid CSRF token. A broken
chunked body can only really happen in a server's own reader, so that case also goes through the
dev server (werkzeug) and through gunicorn, on a raw socket.
"""
from __future__ import annotations

import functools
import os
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from gunicorn.http.errors import InvalidChunkSize

from praatmee_site import campaigns
from praatmee_site.remote_interaction.netguard import NetGuard
from praatmee_site.staff.accounts import StaffDirectory
from praatmee_site.web.services import current_db
from tests.conftest import HOME

EMAIL = "medewerker@amsterdam.test"
PASSWORD = "een lang wachtwoord 123"
SLUG = "bieb-oost"
BROWSER = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36",
           "Accept": "text/html,application/xhtml+xml,*/*;q=0.8", "Accept-Language": "nl-NL,nl;q=0.9",
           "Origin": "http://localhost", "Sec-Fetch-Site": "same-origin", "Sec-Fetch-Mode": "navigate"}
# Our own re-login comes from another address, so the hostile requests' login limits do not stop it.
STAFF_ADDRESS = {"REMOTE_ADDR": "192.0.2.10"}

PLAUSIBLE = {"slug": SLUG, "name": "qr.svg", "kind": "posts", "filename": "css/site.css"}
# As a server hands them over: PATH_INFO and QUERY_STRING are the raw bytes, read as latin-1.
HOSTILE_SEGMENTS = {
    "bad utf-8": "\xff\xfe\xc3(",
    "cr/lf": "a\r\nLocation: //evil.example",
    "percent cr/lf": "a%0d%0aX: y",
    "nul": "a\x00b",
    "traversal": "../../etc/passwd",
    "huge": "x" * 8_000,  # beyond what servers take in a request line (gunicorn: 4094)
    "markup": "<script>alert(1)</script>",
}
QUERY_NAMES = ("post", "c", "adres", "next", "van", "tot", "lang", "preview", "formaat", "x")
HOSTILE_VALUES = {
    "bad utf-8": "%ff%fe%c3%28",
    "raw bad utf-8": "\xff\xfe",
    "cr/lf": "%0d%0aSet-Cookie:%20x=1",
    "raw cr/lf": "a\r\nb",
    "nul": "%00",
    "huge": "A" * 10_000,  # for each of the ten names: a 100 KB query
    "slash": "/beheer/%0d%0a//evil.example",
    "date-like": "2026-13-45",
}
BOUNDARY = "----praatmee"


@dataclass
class Body:
    content_type: str | None
    data: bytes = b""
    chunked_error: type[BaseException] | None = None  # what the server's chunked reader raises
    content_length: int | None = None


def urlencoded(fields: dict[str, str | bytes]) -> bytes:
    """Raw on purpose: values are sent as given (bytes unencoded), so bad bytes reach the parser."""
    parts = []
    for name, value in fields.items():
        raw = value if isinstance(value, bytes) else value.encode()
        parts.append(name.encode() + b"=" + raw)
    return b"&".join(parts)


def hostile_bodies(fields: dict[str, str]) -> dict[str, Body]:
    """Bodies for a form whose plausible fields (with or without a CSRF token) are `fields`."""
    form = "application/x-www-form-urlencoded"
    names = list(fields) or ["adres"]
    with_values = lambda value: urlencoded({**fields, **{n: value for n in names if n != "csrf_token"}})  # noqa: E731
    token = fields.get("csrf_token", "")
    multipart_token = (f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{token}\r\n'
                       if token else "").encode()
    return {
        "plausible": Body(form, urlencoded(fields)),
        "bad utf-8 (encoded)": Body(form, with_values("%ff%fe%c3%28")),
        "bad utf-8 (raw)": Body(form, with_values(b"\xff\xfe\xc3(")),
        "cr/lf": Body(form, with_values("a%0d%0aLocation:%20//evil.example")),
        "1 MB value": Body(form, with_values("B" * 1_000_000)),
        "malformed urlencoded": Body(form, b"%%%&&==&a=%zz&=&" + urlencoded(fields) + b"&%"),
        "malformed multipart": Body(f"multipart/form-data; boundary={BOUNDARY}", multipart_token + (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="adres"\r\n\r\nno end').encode()),
        "multipart without boundary": Body("multipart/form-data", b"--x\r\n\r\n"),
        "multipart with a huge part name": Body(f"multipart/form-data; boundary={BOUNDARY}", multipart_token + (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{"n" * 100_000}"\r\n\r\nv\r\n'
            f'--{BOUNDARY}--\r\n').encode()),
        "bad json": Body("application/json", b'{"adres": "\xff' + b"[" * 10_000),
        "body shorter than its length": Body(form, urlencoded(fields), content_length=10_000),
        "malformed chunked (werkzeug)": Body(form, b"zz\r\n", chunked_error=OSError),
        "malformed chunked (gunicorn)": Body(form, b"zz\r\n", chunked_error=InvalidChunkSize),
    }


class BrokenChunkedInput:
    """wsgi.input as a server's chunked reader hands it over when the chunk size is not hex."""

    def __init__(self, error: type[BaseException]):
        self.error = error

    def _fail(self):
        raise self.error("zz") if self.error is not InvalidChunkSize else self.error(b"zz")

    def read(self, size: int = -1) -> bytes:
        self._fail()

    def readline(self, size: int = -1) -> bytes:
        self._fail()

    readinto = read


@dataclass
class Walk:
    app: object
    failures: list = field(default_factory=list)
    sent: int = 0
    set_a_cookie: bool = False  # the last answer did: the session, and with it the CSRF token, may have changed

    def send(self, client, method: str, path_info: str, query: str = "", body: Body | None = None,
             label: str = "", extra_environ: dict | None = None) -> int:
        environ = {"PATH_INFO": path_info, "QUERY_STRING": query, **(extra_environ or {})}
        headers = dict(BROWSER)
        kwargs = {}
        if body is not None and method not in ("GET", "HEAD"):
            if body.content_type:
                headers["Content-Type"] = body.content_type
            if body.chunked_error is not None:
                headers["Transfer-Encoding"] = "chunked"
                environ.update({"wsgi.input": BrokenChunkedInput(body.chunked_error), "wsgi.input_terminated": True})
            else:
                kwargs["data"] = body.data
                if body.content_length is not None:
                    environ["CONTENT_LENGTH"] = str(body.content_length)
        self.sent += 1
        try:
            response = client.open("/", method=method, headers=headers, environ_overrides=environ, **kwargs)
        except Exception as exc:  # noqa: BLE001 - an exception the app let through is a failure too
            self.failures.append((method, path_info[:120], query[:120], label, repr(exc)[:200]))
            self.set_a_cookie = True  # unknown: assume the session changed
            return 599
        status = response.status_code
        self.set_a_cookie = "Set-Cookie" in response.headers
        response.close()  # a static file's answer holds its file open until closed
        if status >= 500:
            self.failures.append((method, path_info[:120], query[:120], label, status))
        return status


def paths_for(rule) -> dict[str, str]:
    """The rule's path with plausible values, then with each hostile value in each argument."""
    def build(values: dict[str, str]) -> str:
        path = rule.rule
        for name, value in values.items():
            path = re.sub(rf"<(?:[\w()]+:)?{name}>", lambda _m, v=value: v, path)
        return path
    plausible = {name: PLAUSIBLE.get(name, "x") for name in rule.arguments}
    paths = {"plausible": build(plausible)}
    for name in sorted(rule.arguments):
        for label, value in HOSTILE_SEGMENTS.items():
            paths[f"{name}: {label}"] = build(plausible | {name: value})
    return paths


def plausible_form(endpoint: str) -> dict[str, str]:
    return {
        "staff.login": {"email": EMAIL, "password": PASSWORD},
        "staff.campaign_new": {"slug": "nieuw-1", "name": "Nieuw", "place": "bibliotheek", "cta_nl": "Praat mee"},
        "staff.campaign_edit": {"name": "OBA Oost", "place": "bibliotheek", "cta_nl": "Praat mee"},
        "residents.reply": {"adres": "@iemand@mastodon.test"},
    }.get(endpoint, {})


def csrf_token(client) -> str:
    page = client.get("/beheer/login", headers=BROWSER).text
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


@pytest.fixture
def walk_app(make_app, mastodon):
    mastodon.standard()
    # A resolver that knows no names: nothing typed here ever leaves the machine.
    app = make_app(WTF_CSRF_ENABLED=True, TESTING_NET_GUARD=NetGuard(resolver=lambda host: []))
    with app.app_context():
        StaffDirectory(current_db()).add(EMAIL, PASSWORD)
        campaigns.create(current_db(), SLUG, home_url=HOME, name="OBA Oost", place="bibliotheek",
                         cta_nl="Stel je vraag aan het Innovatieteam")
    return app


def logged_in(app):
    client = app.test_client()
    token = csrf_token(client)
    response = client.post("/beheer/login", data={"email": EMAIL, "password": PASSWORD, "csrf_token": token},
                           headers=BROWSER, environ_base=STAFF_ADDRESS)
    assert response.status_code == 302, response.status_code
    return client


ENDS_SESSION = {"staff.logout", "staff.logout_everywhere"}


SHARDS = 4  # the walk in four parts, so the suite's workers share it


@pytest.mark.parametrize("as_staff", [False, True], ids=["visitor", "staff"])
@pytest.mark.parametrize("shard", range(SHARDS))
def test_no_hostile_request_to_any_route_gives_a_server_error(walk_app, as_staff, shard):
    walk = Walk(walk_app)
    every_rule = sorted(walk_app.url_map.iter_rules(), key=lambda rule: (rule.rule, rule.endpoint))
    assert len(every_rule) >= 20 and any("<slug>" in rule.rule for rule in every_rule)
    rules = every_rule[shard::SHARDS]  # every route is in exactly one shard
    form = "application/x-www-form-urlencoded"
    for as_staff in (as_staff,):  # noqa: B020 - ruff 0.17 flags this one-value loop
        who = "staff" if as_staff else "visitor"
        client = logged_in(walk_app) if as_staff else walk_app.test_client()
        for rule in rules:
            paths = paths_for(rule)
            plausible = plausible_form(rule.endpoint)
            for method in sorted(rule.methods | {"PUT", "DELETE", "BREW"}):
                # (label, path, query, body made from a fresh CSRF token or None): a login or a logout
                # changes the session, and with it the token.
                requests = [(f"path {label}", path, "", lambda token: None) for label, path in paths.items()]
                if method in ("GET", "HEAD", "OPTIONS"):
                    requests += [(f"query {label}", paths["plausible"], "&".join(f"{n}={value}" for n in QUERY_NAMES),
                                  lambda token: None) for label, value in HOSTILE_VALUES.items()]
                else:
                    with_token = lambda token: {"csrf_token": token} if token else {}  # noqa: E731
                    requests += [(f"query {label}", paths["plausible"], "&".join(f"{n}={value}" for n in QUERY_NAMES),
                                  lambda token, plausible=plausible, with_token=with_token: Body(
                                      form, urlencoded(plausible | with_token(token))))
                                 for label, value in HOSTILE_VALUES.items()]
                    bodies = functools.lru_cache(maxsize=4)(
                        lambda token, plausible=plausible, with_token=with_token: hostile_bodies(
                            plausible | with_token(token)))
                    for label in hostile_bodies({}):
                        requests.append((f"body {label}", paths["plausible"], "",
                                         lambda token, label=label, bodies=bodies: bodies(token)[label]))
                        if as_staff:
                            requests.append((f"body {label} without token", paths["plausible"], "",
                                             lambda token, label=label, bodies=bodies: bodies(None)[label]))
                needs_token = method not in ("GET", "HEAD", "OPTIONS") and (as_staff or rule.endpoint == "staff.login")
                # A token holds for its session: fetched again after an answer that set a cookie (a login,
                # a logout, a new session), since only such an answer can have changed the session.
                token = None
                for label, path, query, body in requests:
                    if needs_token and (token is None or walk.set_a_cookie):
                        token = csrf_token(client)
                    status = walk.send(client, method, path, query, body(token), f"{who} | {rule.endpoint} | {label}")
                    if as_staff and rule.endpoint in ENDS_SESSION and status in (302, 303):
                        client = logged_in(walk_app)
                        token = None
    assert walk.sent > 1000 / (2 * SHARDS)
    assert not walk.failures, f"{len(walk.failures)} of {walk.sent} requests gave a 5xx:\n" + "\n".join(
        map(repr, walk.failures[:40]))


# --- through real servers: the chunked reader is theirs -----------------------------------------

def raw_request(port: int, request: bytes, timeout: float = 5.0) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as connection:
        connection.sendall(request)
        received = b""
        while True:
            try:
                data = connection.recv(65536)
            except (ConnectionResetError, socket.timeout):
                break
            if not data:
                break
            received += data
        return received


MALFORMED_CHUNKED = (b"POST /reageer HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     b"Content-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n"
                     b"Connection: close\r\n\r\nzz\r\nadres=x\r\n0\r\n\r\n")


def status_of(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


def test_a_malformed_chunked_body_is_a_calm_400_under_the_dev_server(walk_app, live_server_for):
    server = live_server_for(walk_app)
    answer = raw_request(server.server.server_port, MALFORMED_CHUNKED)
    assert status_of(answer) == 400, answer[:300]
    assert "Dit lukte niet".encode() in answer


@pytest.fixture
def gunicorn_port(tmp_path):
    """One gunicorn worker in demo mode (no network) on a socket bound here, as in test_smoke."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    port = listener.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PRAATMEE_")}
    env.update(PRAATMEE_DEMO="1", PRAATMEE_SECRET_KEY="test-secret",
               PRAATMEE_DATABASE_URL=f"sqlite:///{tmp_path / 'gunicorn.sqlite'}")
    log_path = tmp_path / "gunicorn.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", "1", "--bind", f"fd://{listener.fileno()}",
             "--chdir", str(Path(__file__).resolve().parents[1]), "--log-level", "warning", "--no-control-socket",
             "praatmee_site:create_app()"],
            env=env, pass_fds=(listener.fileno(),), stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    listener.close()
    try:
        deadline = time.monotonic() + 60
        health = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        while not raw_request(port, health).startswith(b"HTTP/1.1 200"):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"gunicorn did not start:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.2)
        yield port
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def test_a_malformed_chunked_body_is_a_calm_400_under_gunicorn(gunicorn_port):
    answer = raw_request(gunicorn_port, MALFORMED_CHUNKED)
    assert status_of(answer) == 400, answer[:300]
    assert "Dit lukte niet".encode() in answer

