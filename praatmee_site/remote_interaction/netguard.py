"""The SSRF guard: every request to a host a visitor typed goes through `NetGuard.get_json`.

We resolve the name ourselves, refuse addresses that are not on the public internet, and connect to
exactly the address we checked (the name is still used for SNI and certificate checks). Small JSON
over https only: GET, port 443, no cookies, proxies or .netrc, at most a few redirects.
No Flask in this module.
"""
from __future__ import annotations

import contextvars
import ipaddress
import json
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any, Callable, Iterable
from urllib.parse import urljoin, urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPSConnection
from urllib3.connectionpool import HTTPSConnectionPool

from ..urls import looks_like_ip_literal, to_ascii_hostname
from ..version import user_agent

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
NameResolver = Callable[[str], Iterable[str]]  # host name -> IP addresses

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})

# Why an address is refused, as returned by `classify_address` (and `GuardRefused.detail`).
ADDRESS_REASONS = frozenset({
    "unspecified", "this_network", "loopback", "private", "shared", "link_local", "ietf_protocol",
    "documentation", "benchmarking", "multicast", "broadcast", "reserved",
})


# --- errors -------------------------------------------------------------------------------------

class GuardRefused(Exception):
    """We would not send this request at all; nothing was contacted for the refused hop.

    Codes: ``scheme`` (not https), ``credentials`` (user:pass@ in the URL), ``port`` (not 443),
    ``bad_url`` (no usable host name), ``ip_literal`` (an address instead of a name),
    ``address`` (the name resolves to a non-public address; ``detail`` says which class),
    ``too_many_redirects``.
    """

    def __init__(self, code: str, detail: str | None = None, *, url: str | None = None):
        super().__init__(code if detail is None else f"{code}: {detail}")
        self.code = code
        self.detail = detail
        self.url = url


class FetchFailed(Exception):
    """We tried, and got nothing usable.

    Codes: ``dns`` (the name does not resolve), ``timeout``, ``busy`` (every name look-up slot is
    taken, see `LookupPool`; nothing was asked), ``connect`` (refused, reset),
    ``tls`` (handshake or certificate), ``protocol`` (not valid HTTP), ``status`` (an answer
    outside 2xx; see ``status``), ``bad_redirect`` (a redirect without a usable Location),
    ``not_json`` (wrong content type or unparsable), ``too_large``.
    ``status`` is the HTTP status when the server answered, else None.
    """

    def __init__(self, code: str, *, status: int | None = None, url: str | None = None):
        super().__init__(code if status is None else f"{code} ({status})")
        self.code = code
        self.status = status
        self.url = url


# --- addresses ----------------------------------------------------------------------------------

def _nets(*cidrs: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(c) for c in cidrs)


# Order matters: the first match names the reason. Sources: IANA IPv4/IPv6 special-purpose
# address registries (RFC 6890 and updates), RFC 9637 for 3fff::/20.
_IPV4_RULES = (
    (_nets("0.0.0.0/32"), "unspecified"),
    (_nets("0.0.0.0/8"), "this_network"),
    (_nets("127.0.0.0/8"), "loopback"),
    (_nets("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"), "private"),
    (_nets("100.64.0.0/10"), "shared"),
    (_nets("169.254.0.0/16"), "link_local"),
    (_nets("192.0.0.0/24"), "ietf_protocol"),
    (_nets("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24"), "documentation"),
    (_nets("198.18.0.0/15"), "benchmarking"),
    (_nets("224.0.0.0/4"), "multicast"),
    (_nets("255.255.255.255/32"), "broadcast"),
    (_nets("240.0.0.0/4", "192.88.99.0/24"), "reserved"),
)
_IPV6_RULES = (
    (_nets("::/128"), "unspecified"),
    (_nets("::1/128"), "loopback"),
    (_nets("fe80::/10"), "link_local"),
    (_nets("fc00::/7", "fec0::/10", "64:ff9b:1::/48"), "private"),
    (_nets("ff00::/8"), "multicast"),
    (_nets("2001:db8::/32", "3fff::/20"), "documentation"),
    (_nets("2001:2::/48"), "benchmarking"),
    (_nets("100::/64", "2001:10::/28", "2001:20::/28", "5f00::/16"), "reserved"),
)
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_GLOBAL_UNICAST = ipaddress.ip_network("2000::/3")


def classify_address(address: str | IPAddress) -> str | None:
    """None when a server may be contacted at this address, else why not (see ADDRESS_REASONS).

    IPv6 forms that carry an IPv4 address (mapped, compatible, NAT64, 6to4, Teredo) are judged by
    the address they carry, so ``::ffff:127.0.0.1`` is ``loopback``.
    """
    ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    if ip.version == 4:
        for networks, reason in _IPV4_RULES:
            if any(ip in net for net in networks):
                return reason
        # Safety net for anything the registry gains that the table above does not name yet.
        return None if ip.is_global else "reserved"

    if ip.ipv4_mapped is not None:
        return classify_address(ip.ipv4_mapped)
    for networks, reason in _IPV6_RULES:
        if any(ip in net for net in networks):
            return reason
    if ip in _IPV4_COMPATIBLE:
        # Deprecated since 2006; nobody serves from it, so refuse even a public payload.
        return classify_address(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)) or "reserved"
    if ip in _NAT64:
        return classify_address(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    if ip.sixtofour is not None:
        return classify_address(ip.sixtofour)
    if ip.teredo is not None:
        server, client = ip.teredo
        return classify_address(server) or classify_address(client) or "reserved"
    if ip not in _GLOBAL_UNICAST:
        return "reserved"
    return None if ip.is_global else "reserved"


# --- host names ---------------------------------------------------------------------------------

# The host-name helpers (looks_like_ip_literal, to_ascii_hostname) live with every other URL rule,
# in `praatmee_site.urls`; the guard's static check below is built on them.


# --- the guard ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Target:
    """A URL that passed the static checks, with its host name in ASCII."""

    url: str
    host: str


def _system_resolver(host: str) -> list[str]:
    infos = socket.getaddrinfo(host, 443, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    return [info[4][0] for info in infos]


class PoolBusy(Exception):
    """Every look-up slot is taken; the caller should give up at once."""


class LookupPool:
    """Runs name look-ups on a few threads, so that a fetch can stop waiting at its deadline.

    getaddrinfo cannot be interrupted: a look-up whose name servers hang keeps its thread until the
    system resolver gives up, which can take far longer than our deadline. So the pool takes at most
    ``workers + waiting`` look-ups at a time and refuses the next one at once (`PoolBusy`) instead of
    queueing it behind the hanging ones, and a look-up whose caller stopped waiting is cancelled if
    it has not started yet. A handful of hanging domains then cost their own callers a few seconds,
    not every resident a growing queue.
    """

    def __init__(self, workers: int = 16, waiting: int = 16):
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="netguard-dns")
        self._slots = threading.BoundedSemaphore(workers + waiting)

    def lookup(self, resolver: NameResolver, host: str, timeout: float) -> Iterable[str]:
        """``resolver(host)`` on a pool thread; FutureTimeout after ``timeout`` seconds, PoolBusy when full."""
        if not self._slots.acquire(blocking=False):
            raise PoolBusy(host)
        try:
            future = self._executor.submit(resolver, host)
        except BaseException:
            self._slots.release()
            raise
        # The slot is free again when the look-up ends, or at once when it is cancelled unstarted.
        future.add_done_callback(lambda _done: self._slots.release())
        try:
            return future.result(timeout=timeout)
        except FutureTimeout:
            future.cancel()
            raise

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


_LOOKUPS = LookupPool()


class _Deadline:
    """Cuts every connection of one fetch when its time is up: one clock for the whole exchange.

    Per-read timeouts alone let a server trickle one byte at a time for ever (during the TLS
    handshake, the status line, the headers or the body); shutting the connection down from a timer
    ends any blocking read at once. We keep our own duplicate of each socket's descriptor: urllib3
    wraps the socket in TLS, which detaches the original object (its fd becomes -1), so shutting
    *that* down would do nothing. ``shutdown`` on the duplicate acts on the connection itself,
    whichever object is reading from it, and the duplicate is closed when the fetch ends, so its
    number can never point at somebody else's socket.
    """

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.ends_at = time.monotonic() + seconds
        self.expired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def remaining(self) -> float:
        return max(0.0, self.ends_at - time.monotonic())

    def watch(self, sock: socket.socket) -> None:
        try:
            duplicate = sock.dup()
        except OSError:
            _cut(sock)  # cannot watch it: do not let it run unwatched
            raise
        with self._lock:
            if self.expired:
                _cut(duplicate)
                duplicate.close()
                _cut(sock)
            else:
                self._sockets.append(duplicate)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            for sock in self._sockets:
                _cut(sock)

    def cancel(self) -> None:
        self._timer.cancel()
        with self._lock:
            self.expired = self.expired or time.monotonic() >= self.ends_at
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            sock.close()


def _cut(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already closed by its peer or by us: nothing left to cut


_current_deadline: contextvars.ContextVar[_Deadline | None] = contextvars.ContextVar(
    "netguard_deadline", default=None)


class _WatchedHTTPSConnection(HTTPSConnection):
    def _new_conn(self) -> socket.socket:
        # Hand the connection to the deadline before the TLS handshake, which can stall too; the
        # deadline keeps its own descriptor, so wrapping the socket in TLS does not lose it.
        sock = super()._new_conn()
        deadline = _current_deadline.get()
        if deadline is not None:
            deadline.watch(sock)
        return sock


class _WatchedHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


class _PinnedAdapter(HTTPAdapter):
    """Connects to the address we checked; the name stays in SNI, the certificate check and Host.

    Without this, urllib3 would resolve the name a second time and a DNS answer that changed in
    between (DNS rebinding) would take us wherever the attacker likes.
    """

    def __init__(self, hostname: str, address: str, port: int):
        self._hostname = hostname
        self._address = address
        self._port = port
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        # No "http" entry: a plain-text request has no pool to run on.
        self.poolmanager.pool_classes_by_scheme = {"https": _WatchedHTTPSConnectionPool}

    def build_connection_pool_key_attributes(self, request, verify, cert=None):  # type: ignore[override]
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(request, verify, cert)
        host_params["host"] = self._address
        host_params["port"] = self._port
        pool_kwargs["server_hostname"] = self._hostname
        pool_kwargs["assert_hostname"] = self._hostname
        return host_params, pool_kwargs

    def send(self, request, **kwargs):  # type: ignore[override]
        request.headers["Host"] = self._hostname
        request.headers.pop("Authorization", None)
        kwargs["proxies"] = {}
        return super().send(request, **kwargs)


class NetGuard:
    """Fetches small JSON documents from hosts a visitor named, and nothing else.

    ``allow_private_hosts`` (PRAATMEE_ALLOW_PRIVATE_HOSTS) lifts only the address-class check, for
    tests against local servers; ``allowed_networks`` lifts it for the listed networks alone (the
    test suite allows 127.0.0.0/8 and nothing more). ``port`` is the port we connect to, for tests
    on an ephemeral port: URLs that name a port other than 443 are refused either way.
    ``ca_bundle`` is a CA file for requests' ``verify``; without it requests' own default applies,
    including ``REQUESTS_CA_BUNDLE``. Certificates are always verified. ``lookups`` is the pool that
    runs ``resolver``; every guard shares one per process unless a test brings its own.
    """

    def __init__(
        self,
        *,
        resolver: NameResolver | None = None,
        allow_private_hosts: bool = False,
        allowed_networks: Iterable[str] = (),
        port: int = 443,
        connect_timeout: float = 2.0,
        read_timeout: float = 2.0,
        deadline: float = 5.0,
        max_bytes: int = 64 * 1024,
        max_redirects: int = 3,
        ca_bundle: str | None = None,
        user_agent: str = user_agent(),
        lookups: LookupPool | None = None,
    ):
        self.resolver = resolver or _system_resolver
        self.lookups = lookups or _LOOKUPS
        self.allow_private_hosts = allow_private_hosts
        self.allowed_networks = tuple(ipaddress.ip_network(n) for n in allowed_networks)
        self.port = port
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.deadline = deadline
        self.max_bytes = max_bytes
        self.max_redirects = max_redirects
        self.ca_bundle = ca_bundle
        self.user_agent = user_agent

    # The public face ---------------------------------------------------------------------------

    def get_json(self, url: str, *, deadline: float | None = None) -> tuple[int, Any]:
        """GET ``url`` and return (status, parsed JSON); the status is always 2xx.

        Redirects are followed up to ``max_redirects`` times and every hop is checked again as if
        the visitor had typed it. ``deadline`` (seconds) may shorten the guard's own deadline.
        Raises GuardRefused before contacting anything we would not contact, FetchFailed otherwise.
        """
        budget = self.deadline if deadline is None else min(deadline, self.deadline)
        clock = _Deadline(budget)
        token = _current_deadline.set(clock)
        try:
            for _hop in range(self.max_redirects + 1):
                target = self.check_url(url)
                address = self._resolve(target, clock)
                status, location, data = self._fetch(target, address, clock)
                if location is None:
                    return status, data
                url = location
            raise GuardRefused("too_many_redirects", url=url)
        finally:
            _current_deadline.reset(token)
            clock.cancel()

    def check_url(self, url: str) -> Target:
        """The static half of the guard: https, no credentials, port 443, a DNS name."""
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as exc:
            raise GuardRefused("bad_url", url=url) from exc
        if parts.scheme.lower() != "https":
            raise GuardRefused("scheme", url=url)
        if parts.username is not None or parts.password is not None:
            raise GuardRefused("credentials", url=url)
        if port is not None and port != 443:
            raise GuardRefused("port", url=url)
        host = parts.hostname or ""
        if not host:
            raise GuardRefused("bad_url", url=url)
        if looks_like_ip_literal(host):
            raise GuardRefused("ip_literal", url=url)
        try:
            ascii_host = to_ascii_hostname(host)
        except ValueError as exc:
            raise GuardRefused("bad_url", url=url) from exc
        if looks_like_ip_literal(ascii_host):
            raise GuardRefused("ip_literal", url=url)
        return Target(url=url, host=ascii_host)

    def is_allowed_address(self, address: str) -> str | None:
        """None when we may connect to this address, else the reason we may not."""
        ip = ipaddress.ip_address(address)
        if self.allow_private_hosts:
            return None
        if any(ip.version == net.version and ip in net for net in self.allowed_networks):
            return None
        return classify_address(ip)

    # The moving parts --------------------------------------------------------------------------

    def _resolve(self, target: Target, clock: _Deadline) -> str:
        try:
            answers = list(dict.fromkeys(self.lookups.lookup(self.resolver, target.host, clock.remaining())))
        except PoolBusy as exc:
            raise FetchFailed("busy", url=target.url) from exc
        except FutureTimeout as exc:
            raise FetchFailed("timeout", url=target.url) from exc
        except (OSError, UnicodeError) as exc:
            raise FetchFailed("dns", url=target.url) from exc
        if not answers:
            raise FetchFailed("dns", url=target.url)
        # Every answer must pass, not just the first: we do not control which one a retry uses.
        for answer in answers:
            reason = self.is_allowed_address(answer)
            if reason is not None:
                raise GuardRefused("address", reason, url=target.url)
        return answers[0]

    def _fetch(self, target: Target, address: str, clock: _Deadline) -> tuple[int, str | None, Any]:
        session = requests.Session()
        try:
            # requests' own rules pick the CA bundle (REQUESTS_CA_BUNDLE included); after that we
            # switch the environment off, so no proxy and no .netrc password comes along.
            verify = session.merge_environment_settings(
                target.url, {}, False, self.ca_bundle or True, None)["verify"]
            session.trust_env = False
            session.mount("https://", _PinnedAdapter(target.host, address, self.port))
            remaining = max(clock.remaining(), 0.01)
            response = session.get(
                target.url,
                headers={
                    "Accept": "application/jrd+json, application/json;q=0.9",
                    "User-Agent": self.user_agent,
                },
                timeout=(min(self.connect_timeout, remaining), min(self.read_timeout, remaining)),
                allow_redirects=False,
                stream=True,
                verify=verify,
            )
            try:
                return self._read(target, response, clock)
            finally:
                response.close()
        except (GuardRefused, FetchFailed):
            raise
        except Exception as exc:  # noqa: BLE001 - every transport error becomes one of our codes
            raise _failure(exc, clock, target.url) from exc
        finally:
            session.close()

    def _read(self, target: Target, response: requests.Response, clock: _Deadline
              ) -> tuple[int, str | None, Any]:
        status = response.status_code
        if clock.expired:
            # Cut while the status line or the headers were still arriving: what came is partial.
            raise FetchFailed("timeout", status=status, url=target.url)
        if status in REDIRECT_STATUSES:
            location = response.headers.get("Location", "").strip()
            if not location:
                raise FetchFailed("bad_redirect", status=status, url=target.url)
            return status, urljoin(target.url, location), None
        if not 200 <= status < 300:
            raise FetchFailed("status", status=status, url=target.url)
        if not _is_json_type(response.headers.get("Content-Type", "")):
            raise FetchFailed("not_json", status=status, url=target.url)
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise FetchFailed("too_large", status=status, url=target.url)
        body = bytearray()
        while True:
            # read1 returns after one socket read, so the deadline is checked between reads.
            chunk = response.raw.read1(8192, decode_content=True)
            if clock.expired:
                raise FetchFailed("timeout", status=status, url=target.url)
            if not chunk:
                break
            body += chunk
            if len(body) > self.max_bytes:
                raise FetchFailed("too_large", status=status, url=target.url)
        try:
            return status, None, json.loads(bytes(body))
        except (ValueError, RecursionError) as exc:  # RecursionError: 64 KB of "[[[[…"
            raise FetchFailed("not_json", status=status, url=target.url) from exc


def _is_json_type(content_type: str) -> bool:
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json"))


def _failure(exc: Exception, clock: _Deadline, url: str) -> FetchFailed:
    if clock.expired:
        return FetchFailed("timeout", url=url)
    if isinstance(exc, (requests.exceptions.SSLError, urllib3.exceptions.SSLError)):
        return FetchFailed("tls", url=url)
    if isinstance(exc, (requests.exceptions.Timeout, urllib3.exceptions.TimeoutError,
                        socket.timeout)):
        return FetchFailed("timeout", url=url)
    if isinstance(exc, (requests.exceptions.ConnectionError, ConnectionError)):
        return FetchFailed("connect", url=url)
    return FetchFailed("protocol", url=url)
