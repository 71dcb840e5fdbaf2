"""A fake fediverse for tests: one HTTPS server on 127.0.0.1 that answers as many servers.

It dispatches on the Host header; a trustme CA signs one certificate for every fake name, and
`FakeResolver` maps those names to 127.0.0.1. Bodies are the recorded documents from
``../shared/fixtures`` (host names replaced) where they fit, else ``tests/fixtures/fediverse``.
`connect_spy` makes sure no test ever connects outside 127.0.0.0/8 and ::1.

Use from a test module:  ``from tests.support.fediverse import connect_spy, fake_fediverse_server, fediverse``
and ``pytestmark = pytest.mark.usefixtures("connect_spy")``.
"""
from __future__ import annotations

import ipaddress
import json
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable
from urllib.parse import parse_qs, urlsplit

import pytest
import trustme

from praatmee_site.remote_interaction.netguard import NetGuard

SHARED_FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "shared"
LOCAL_FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "fediverse"

# The city's post, as its ActivityPub id: what every interaction URL must carry.
POST_URI = "https://social.amsterdam.test/users/OpenStad_HVA/statuses/113000000000000001"
POST_URI_ENCODED = "https%3A%2F%2Fsocial.amsterdam.test%2Fusers%2FOpenStad_HVA%2Fstatuses%2F113000000000000001"

NODEINFO_20 = "http://nodeinfo.diaspora.software/ns/schema/2.0"
NODEINFO_21 = "http://nodeinfo.diaspora.software/ns/schema/2.1"

# Names that exist only in the resolver, each pointing at an address no test may contact.
FORBIDDEN_NAMES = {
    "metadata.test": ["169.254.169.254"],
    "intranet.test": ["10.0.0.1"],
    "localhost": ["127.0.0.1"],
}


# --- documents ----------------------------------------------------------------------------------

def shared_text(relative: str) -> str:
    return (SHARED_FIXTURES / relative).read_text(encoding="utf-8")


def shared_document(relative: str, **hosts: str) -> Any:
    """A recorded JSON document with host names replaced: ``{"mastodon.social": "x.test"}``."""
    text = shared_text(relative)
    for old, new in hosts.items():
        text = text.replace(old, new)
    return json.loads(text)


def local_document(name: str) -> Any:
    return json.loads((LOCAL_FIXTURES / name).read_text(encoding="utf-8"))


def raw_http_response(relative: str) -> tuple[int, dict[str, str], str]:
    """A raw recorded response (status line, headers, body), CRLF or LF."""
    text = shared_text(relative).replace("\r\n", "\n")
    head, _, body = text.partition("\n\n")
    status_line, *header_lines = head.split("\n")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(status_line.split()[1]), headers, body.strip()


def nodeinfo_document(name: str, version: str = "1.0.0") -> dict:
    return {
        "version": "2.0",
        "software": {"name": name, "version": version},
        "protocols": ["activitypub"],
        "services": {"outbound": [], "inbound": []},
        "usage": {"users": {}},
        "openRegistrations": False,
        "metadata": {},
    }


# --- the server ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: Any = None  # bytes/str are sent as they are, anything else as JSON
    content_type: str = "application/jrd+json; charset=utf-8"
    headers: tuple[tuple[str, str], ...] = ()
    behaviour: str | None = None  # "hang", "trickle", "no_length"


NOT_FOUND = Reply(404, b"<h1>Not Found</h1>", "text/html; charset=utf-8")
Route = Callable[[str, dict[str, list[str]]], Reply]


@dataclass
class Site:
    """One fake server: exact paths to replies (or to functions of path and query)."""

    routes: dict[str, Reply | Route] = field(default_factory=dict)
    default: Reply = NOT_FOUND

    def answer(self, path: str, query: dict[str, list[str]]) -> Reply:
        route = self.routes.get(path, self.default)
        return route(path, query) if callable(route) else route


def redirect(location: str, status: int = 302) -> Reply:
    return Reply(status, b"", "text/html", headers=(("Location", location),))


def json_reply(document: Any, content_type: str = "application/json; charset=utf-8") -> Reply:
    return Reply(200, document, content_type)


def fediverse_server(host: str, *, webfinger: Reply | Route | None = None,
                     nodeinfo: str | dict | None = None, nodeinfo_rel: str = NODEINFO_20) -> Site:
    """A server with WebFinger and nodeinfo (software name, or a whole 2.x document)."""
    routes: dict[str, Reply | Route] = {}
    if webfinger is not None:
        routes["/.well-known/webfinger"] = webfinger
    if nodeinfo is not None:
        document = nodeinfo_document(nodeinfo) if isinstance(nodeinfo, str) else nodeinfo
        routes["/.well-known/nodeinfo"] = json_reply(
            {"links": [{"rel": nodeinfo_rel, "href": f"https://{host}/nodeinfo/2.x"}]})
        routes["/nodeinfo/2.x"] = json_reply(document)
    return Site(routes)


def only_for(resources: set[str], reply: Reply) -> Route:
    """WebFinger that knows these resources only, as real servers do."""
    def route(path: str, query: dict[str, list[str]]) -> Reply:
        return reply if query.get("resource", [""])[0] in resources else NOT_FOUND
    return route


def build_sites() -> dict[str, Site]:
    mastodon_nodeinfo = shared_document("nodeinfo/mastodon.social_2.0.json")
    misskey_2_0 = nodeinfo_document("misskey")
    sites = {
        # A current Mastodon: FEP-3b86 intents and the OStatus template.
        "mastodon.test": fediverse_server(
            "mastodon.test",
            webfinger=only_for({"acct:naam@mastodon.test", "https://mastodon.test/"},
                               Reply(body=local_document("mastodon-fep-3b86-webfinger.json"))),
            nodeinfo=mastodon_nodeinfo),
        # mastodon.social as recorded in 2024: the OStatus template only.
        "oldmastodon.test": fediverse_server(
            "oldmastodon.test",
            webfinger=Reply(body=shared_document("webfinger/real/mastodon.json",
                                                 **{"mastodon.social": "oldmastodon.test"})),
            nodeinfo=mastodon_nodeinfo),
        # WebFinger answers 404, nodeinfo says mastodon (the recorded mastodon.social index).
        "quietmastodon.test": Site({
            "/.well-known/nodeinfo": json_reply(shared_document(
                "nodeinfo/mastodon.social_well-known.json", **{"mastodon.social": "quietmastodon.test"})),
            "/nodeinfo/2.0": json_reply(mastodon_nodeinfo),
        }),
        "pleroma.test": fediverse_server(
            "pleroma.test",
            webfinger=Reply(body=shared_document("webfinger/real/pleroma.json",
                                                 **{"stereophonic.space": "pleroma.test"})),
            nodeinfo="pleroma"),
        # Akkoma found through nodeinfo: its WebFinger (the recorded Pleroma one) lost the template.
        "akkoma.test": fediverse_server(
            "akkoma.test",
            webfinger=Reply(body=_without_templates(shared_document(
                "webfinger/real/pleroma.json", **{"stereophonic.space": "akkoma.test"}))),
            nodeinfo="akkoma"),
        "misskey.test": fediverse_server(
            "misskey.test",
            webfinger=Reply(body=shared_document("webfinger/real/misskey.json",
                                                 **{"misskey.io": "misskey.test"})),
            nodeinfo="misskey"),
        # Sharkey publishes nodeinfo 2.0 and 2.1; the 2.0 document lies, so a test can tell.
        "sharkey.test": Site({
            "/.well-known/nodeinfo": json_reply({"links": [
                {"rel": NODEINFO_20, "href": "https://sharkey.test/nodeinfo/2.0"},
                {"rel": NODEINFO_21, "href": "https://sharkey.test/nodeinfo/2.1"},
            ]}),
            "/nodeinfo/2.0": json_reply(misskey_2_0),
            "/nodeinfo/2.1": json_reply(nodeinfo_document("Sharkey")),
        }),
        # The recorded "Friendica" document has no template (it is WordPress-shaped, see README).
        "friendica.test": fediverse_server(
            "friendica.test",
            webfinger=Reply(body=shared_document("webfinger/real/friendica.json",
                                                 **{"friendi.ca": "friendica.test"})),
            nodeinfo="friendica"),
        "pixelfed.test": fediverse_server(
            "pixelfed.test",
            webfinger=Reply(body=shared_document("webfinger/real/pixelfed.json",
                                                 **{"pixelfed.social": "pixelfed.test"})),
            nodeinfo="pixelfed"),
        "gts.test": fediverse_server(
            "gts.test", webfinger=Reply(body=local_document("gotosocial-webfinger.json")),
            nodeinfo="gotosocial"),
        "unknown.test": fediverse_server("unknown.test", nodeinfo="someserver"),
        "silent.test": Site(),
        "broken.test": Site(default=Reply(503, b"<h1>Service Unavailable</h1>", "text/html")),
        # micro.blog: the account is on manton.test, the template on micro.test.
        "manton.test": fediverse_server(
            "manton.test",
            webfinger=Reply(body=shared_document("webfinger/real/micro-blog.json",
                                                 **{"manton.org": "manton.test",
                                                    "micro.blog": "micro.test"}))),
        # The same account, but the document also names micro.test outside the template (an alias).
        "manton-alias.test": fediverse_server(
            "manton-alias.test",
            webfinger=Reply(body=dict(shared_document("webfinger/real/micro-blog.json",
                                                      **{"manton.org": "manton-alias.test",
                                                         "micro.blog": "micro.test"}),
                                      aliases=["https://micro.test/manton"]))),
        # A stranger's server whose template leads to a host it names nowhere else.
        "stranger.test": fediverse_server("stranger.test", webfinger=Reply(body={
            "subject": "acct:naam@stranger.test",
            "aliases": ["https://stranger.test/@naam"],
            "links": [
                {"rel": "self", "type": "application/activity+json", "href": "https://stranger.test/users/naam"},
                {"rel": "http://ostatus.org/schema/1.0/subscribe",
                 "template": "https://phish.test/authorize_interaction?uri={uri}"},
            ]})),
        # Templates we must not send anyone to.
        "offsite.test": fediverse_server("offsite.test", webfinger=Reply(body={
            "subject": "acct:naam@offsite.test",
            "links": [
                {"rel": "https://w3id.org/fep/3b86/Object",
                 "template": "http://offsite.test/authorize_interaction?uri={object}"},
                {"rel": "http://ostatus.org/schema/1.0/subscribe",
                 "template": "https://127.0.0.1/authorize_interaction?uri={uri}"},
            ]})),
        # A custom domain whose WebFinger lives on another server.
        "hop.test": Site({"/.well-known/webfinger": lambda path, query: redirect(
            "https://mastodon.test/.well-known/webfinger?resource=acct:naam@mastodon.test", 301)}),
        "redirector.test": Site({"/.well-known/webfinger": redirect(
            "https://metadata.test/latest/meta-data/")}),
        "literal.test": Site({"/.well-known/webfinger": redirect(
            "https://10.0.0.1/.well-known/webfinger")}),
        "plaintext.test": Site({"/.well-known/webfinger": redirect(
            "http://mastodon.test/.well-known/webfinger")}),
        "loop.test": Site({"/.well-known/webfinger": redirect(
            "https://loop.test/.well-known/webfinger?again=1")}),
        "hang.test": Site(default=Reply(behaviour="hang")),
        "trickle.test": Site(default=Reply(behaviour="trickle", content_type="application/json")),
        "big.test": Site(default=Reply(body=b"[" + b"0," * 50_000 + b"0]",
                                       content_type="application/json", behaviour="no_length")),
        "bigdeclared.test": Site(default=Reply(body=b"[" + b"0," * 50_000 + b"0]",
                                               content_type="application/json")),
        "html.test": Site(default=Reply(body=b"<!doctype html><p>hallo</p>", content_type="text/html")),
        "badjson.test": Site(default=Reply(body=b"{not json", content_type="application/json")),
    }
    status, headers, body = raw_http_response("webfinger/mastodon-spec/localdomain-webfinger.txt")
    sites["xrd.test"] = Site({"/.well-known/webfinger": Reply(status, body, headers["content-type"])})
    return sites


def _without_templates(document: dict) -> dict:
    document["links"] = [link for link in document["links"] if "template" not in link]
    return document


class _Handler(BaseHTTPRequestHandler):
    server: "_FakeServer"

    def setup(self) -> None:
        self.request.settimeout(10)
        try:
            self.request.do_handshake()
        except (ssl.SSLError, OSError):
            self.close_connection = True
        super().setup()

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        host = (self.headers.get("Host") or "").split(":")[0].lower()
        parts = urlsplit(self.path)
        self.server.log(host, self.path)
        site = self.server.sites.get(host)
        reply = site.answer(parts.path, parse_qs(parts.query)) if site else NOT_FOUND
        if reply.behaviour == "hang":
            self.server.stopping.wait(10)
            return
        body = reply.body
        if not isinstance(body, (bytes, str)) and body is not None:
            body = json.dumps(body)
        data = body.encode() if isinstance(body, str) else (body or b"")
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        for name, value in reply.headers:
            self.send_header(name, value)
        if reply.behaviour == "trickle":
            self.send_header("Content-Length", "100000")
            self.end_headers()
            self._trickle()
            return
        if reply.behaviour != "no_length":
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        try:
            self.wfile.write(data)
        except OSError:
            pass  # the client stopped reading, which is what the cap tests want

    def _trickle(self) -> None:
        try:
            self.wfile.write(b"[")
            while not self.server.stopping.wait(0.05):
                self.wfile.write(b"0,")
                self.wfile.flush()
        except OSError:
            pass

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's naming
        pass


class _FakeServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, context: ssl.SSLContext, sites: dict[str, Site]):
        self.context = context
        self.sites = sites
        self.stopping = threading.Event()
        self.requests: list[tuple[str, str]] = []
        self._log_lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Handler)

    def get_request(self):  # type: ignore[override]
        sock, address = self.socket.accept()
        # Handshake in the handler's thread, so a slow client cannot stall the accept loop.
        return self.context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), address

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # handshake failures are the point of some tests; keep the output clean

    def log(self, host: str, path: str) -> None:
        with self._log_lock:
            self.requests.append((host, path))


@dataclass
class FakeFediverseServer:
    port: int
    ca_path: str
    sites: dict[str, Site]
    _server: _FakeServer

    @property
    def requests(self) -> list[tuple[str, str]]:
        return self._server.requests


@pytest.fixture(scope="session")
def fake_fediverse_server(tmp_path_factory: pytest.TempPathFactory):
    sites = build_sites()
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    # One certificate for every site; "nocert.test" resolves like them but is left out on purpose.
    ca.issue_cert(*sorted(sites)).configure_cert(context)
    ca_path = tmp_path_factory.mktemp("fediverse-ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_path))
    server = _FakeServer(context, sites)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield FakeFediverseServer(server.server_address[1], str(ca_path), sites, server)
    finally:
        server.stopping.set()
        server.shutdown()
        server.server_close()


# --- resolver and guard -------------------------------------------------------------------------

class FakeResolver:
    """Resolves fake names from a table and remembers every question."""

    def __init__(self, names: dict[str, list[str]], delay: float = 0.0):
        self.names = names
        self.delay = delay
        self.calls: list[str] = []
        self._lock = threading.Lock()

    def __call__(self, host: str) -> list[str]:
        with self._lock:
            self.calls.append(host)
        if self.delay:
            time.sleep(self.delay)
        try:
            return list(self.names[host])
        except KeyError:
            raise socket.gaierror(socket.EAI_NONAME, f"{host} is not a test name") from None


@dataclass
class Fediverse:
    """The fake fediverse as one test sees it: a fresh resolver and an empty request log."""

    server: FakeFediverseServer
    resolver: FakeResolver
    _seen: int

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def ca_path(self) -> str:
        return self.server.ca_path

    @property
    def requests(self) -> list[tuple[str, str]]:
        return self.server.requests[self._seen:]

    def hosts_contacted(self) -> list[str]:
        return [host for host, _ in self.requests]

    def guard(self, **overrides: Any) -> NetGuard:
        """A guard that reaches the fake servers on loopback, and nothing else private."""
        settings: dict[str, Any] = dict(resolver=self.resolver, port=self.port,
                                        allowed_networks=("127.0.0.0/8", "::1/128"))
        settings.update(overrides)
        return NetGuard(**settings)


@pytest.fixture
def fediverse(fake_fediverse_server: FakeFediverseServer, monkeypatch: pytest.MonkeyPatch) -> Fediverse:
    # The CA reaches the guard the way operators configure it: through requests' own variable.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", fake_fediverse_server.ca_path)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    names = {name: ["127.0.0.1"] for name in fake_fediverse_server.sites}
    names["nocert.test"] = ["127.0.0.1"]
    names.update(FORBIDDEN_NAMES)
    return Fediverse(fake_fediverse_server, FakeResolver(names), len(fake_fediverse_server.requests))


# --- the safety net -----------------------------------------------------------------------------

_LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))


class ConnectSpy:
    """Every outgoing connect() of the test; anything beyond loopback is stopped and reported."""

    def __init__(self) -> None:
        self.addresses: list[str] = []
        self.outside: list[str] = []

    def allows(self, address: Any) -> bool:
        if isinstance(address, (str, bytes)):
            return True  # a Unix socket (a local Redis, say): a path on this machine, not a network
        host = address[0] if isinstance(address, tuple) else str(address)
        self.addresses.append(host)
        try:
            ip = ipaddress.ip_address(host.split("%")[0])
        except ValueError:
            ip = None
        if ip is None or not any(ip.version == net.version and ip in net for net in _LOOPBACK):
            self.outside.append(host)
            return False
        return True


@pytest.fixture
def connect_spy(monkeypatch: pytest.MonkeyPatch):
    spy = ConnectSpy()
    real_connect = socket.socket.connect

    def connect(sock: socket.socket, address: Any) -> Any:
        if not spy.allows(address):
            raise ConnectionRefusedError(f"test tried to reach {address!r}")
        return real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    yield spy
    assert not spy.outside, f"a test tried to connect outside loopback: {spy.outside}"
