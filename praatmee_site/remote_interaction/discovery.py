"""Remote interaction: from the address a resident types to a URL on their own server that opens
our post, ready for a reply (WebFinger, FEP-3b86, the OStatus subscribe template, nodeinfo).

Every request goes through the SSRF guard. Results are data for the web layer: no redirects, no
user-facing text here. Where no way in exists, the answer is "copy the link" instead.
No Flask in this module.
"""
from __future__ import annotations

import ipaddress
import logging
import os
import random
import re
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, Literal, Union
from urllib.parse import quote, urlsplit

try:
    import fcntl
except ImportError:  # pragma: no cover - not on Linux or BSD
    fcntl = None  # type: ignore[assignment]

from ..kept import KeptCopies
from ..urls import is_resident_target, looks_like_ip_literal, to_ascii_hostname
from .netguard import FetchFailed, GuardRefused, NetGuard

log = logging.getLogger(__name__)

MAX_HANDLE_LENGTH = 320  # the one limit: parse_handle, the form's maxlength and its messages use it

REL_FEP_3B86_OBJECT = "https://w3id.org/fep/3b86/Object"
REL_OSTATUS_SUBSCRIBE = "http://ostatus.org/schema/1.0/subscribe"
NODEINFO_RELS = (  # best first
    "http://nodeinfo.diaspora.software/ns/schema/2.1",
    "http://nodeinfo.diaspora.software/ns/schema/2.0",
)

_MASTODON = "/authorize_interaction?uri={uri}"
_PLEROMA = "/ostatus_subscribe?acct={uri}"
_MISSKEY = "/authorize-follow?acct={uri}"
_FRIENDICA = "/contact/follow?url={uri}"

# Used only when WebFinger gave no template: nodeinfo's software.name -> path on the visitor's
# server. Each path accepts a post's URI and opens that post (read in each project's source):
# - mastodon/mastodon app/controllers/authorize_interactions_controller.rb redirects a Status to
#   its web view; the interaction modal falls back to this path too
#   (app/javascript/entrypoints/remote_interaction_helper.ts).
# - pixelfed/pixelfed app/Http/Controllers/AuthorizeInteractionController.php (same path)
#   fetches the status and opens /i/web/post/<id>.
# - Pleroma's RemoteFollowController test "adds status to pleroma instance if the `acct` is a
#   status": /ostatus_subscribe?acct=<status URI> redirects to /notice/<id>. Akkoma is a fork.
# - misskey-dev/misskey packages/frontend/src/pages/follow.vue (/authorize-follow): an `acct`
#   starting with https:// goes through ap/show, and a Note opens /notes/<id>.
# - friendica/friendica src/Module/Contact/Follow.php: a `url` that is no account goes through
#   followRemoteItem() to display/<guid>.
# Forks are listed by lineage (cherrypick's and fedired's copies of follow.vue were checked);
# an unlisted fork still gets Mastodon's path, the best bet for a server that says nothing.
KNOWN_SOFTWARE: dict[str, str] = {
    **dict.fromkeys(
        ("mastodon", "hometown", "glitch", "glitchsoc", "glitch-soc", "fedibird", "kmyblue",
         "chuckya", "pixelfed"), _MASTODON),
    **dict.fromkeys(("pleroma", "akkoma", "rebased"), _PLEROMA),
    **dict.fromkeys(
        ("misskey", "sharkey", "firefish", "iceshrimp", "foundkey", "calckey", "catodon",
         "cherrypick", "meisskey", "magnetar", "fedired"), _MISSKEY),
    "friendica": _FRIENDICA,
}
# Software with no page that opens a remote post; its users paste the link into their app:
# - GoToSocial has no web client of its own ("GoToSocial does not provide its own frontend, but
#   implements the Mastodon client API", its landing page) and its WebFinger has no template.
NO_WAY_IN = frozenset({"gotosocial"})

SUCCESS_TTL = 24 * 60 * 60
FAILURE_TTL = 5 * 60


# --- handles ------------------------------------------------------------------------------------

class HandleError(ValueError):
    """The text is not an address we can use. ``code`` is for the web layer's message catalog.

    Codes: ``empty``, ``too_long`` (over 320 characters), ``contains_space``, ``missing_domain``
    (``@naam`` or ``naam@``), ``no_dot`` (``naam@localhost``), ``ip_literal`` (an address in any
    notation instead of a name), ``credentials`` (``https://a:b@x.nl``), ``port`` (any port),
    ``not_https`` (another URL scheme), ``invalid`` (anything else we cannot read).
    """

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


HANDLE_ERROR_CODES = frozenset({
    "empty", "too_long", "contains_space", "missing_domain", "no_dot", "ip_literal",
    "credentials", "port", "not_https", "invalid",
})


@dataclass(frozen=True)
class Handle:
    """Where a resident's account lives: a server, and the account name when they gave one."""

    domain: str  # lower-case ASCII (punycode), no trailing dot
    username: str | None = None

    @property
    def acct(self) -> str | None:
        return f"{self.username}@{self.domain}" if self.username else None


_USERNAME = re.compile(r"[\w.\-]+")
_SCHEME = re.compile(r"([a-z][a-z0-9+.\-]*):", re.IGNORECASE)
_PROFILE_PATHS = (
    re.compile(r"/@(?P<user>[\w.\-]+)(?:@(?P<domain>[^/@]+))?/?"),  # Mastodon, Misskey, GoToSocial
    re.compile(r"/users/(?P<user>[\w.\-]+)/?"),  # Pleroma, Akkoma, Mastodon's actor URI
)


def parse_handle(text: str) -> Handle:
    """Read ``@naam@server.nl``, ``naam@server.nl``, ``server.nl`` or ``https://server.nl/@naam``.

    Tolerates surrounding whitespace, upper case, a trailing slash or dot, ``acct:`` and IDN
    domains (returned as punycode). Any https URL on a server counts as that server; a profile
    path (``/@naam``, ``/users/naam``) also gives the account. Raises HandleError.
    """
    text = (text or "").strip()
    if not text:
        raise HandleError("empty")
    if len(text) > MAX_HANDLE_LENGTH:
        raise HandleError("too_long")
    if any(ch.isspace() for ch in text):
        raise HandleError("contains_space")
    if "://" in text:
        return _parse_url(text)
    if _is_ip(text.rsplit("@", 1)[-1].rstrip("/").strip("[]")):
        raise HandleError("ip_literal")  # before the scheme check: "fe80::1" is no scheme
    if text.lower().startswith("acct:"):
        text = text[len("acct:"):]
    elif _SCHEME.match(text) and "@" not in text.split(":", 1)[0]:
        # "mailto:x@y.nl", "javascript:…", but not "server.nl:8080" (a port, below).
        if not text.rstrip("/").rpartition(":")[2].isdigit():
            raise HandleError("not_https")
    if text.startswith("@"):
        text = text[1:]
        if "@" not in text:
            raise HandleError("missing_domain")  # "@naam": a name without its server
    if "@" not in text:
        return Handle(domain=_parse_domain(text.rstrip("/")))
    user, _, domain = text.partition("@")
    if not domain:
        raise HandleError("missing_domain")
    if "@" in domain or not user or not _USERNAME.fullmatch(user):
        raise HandleError("invalid")
    return Handle(domain=_parse_domain(domain.rstrip("/")), username=user)


def _parse_url(text: str) -> Handle:
    scheme = text.split("://", 1)[0]
    if scheme.lower() != "https":
        raise HandleError("not_https")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        # urlsplit rejects unbalanced brackets and non-numeric ports alike.
        raise HandleError("ip_literal" if "[" in text else "invalid") from exc
    if parts.username is not None or parts.password is not None:
        raise HandleError("credentials")
    host = parts.hostname or ""
    if "[" in parts.netloc or (host and looks_like_ip_literal(host)):
        raise HandleError("ip_literal")  # the more basic problem, even with a port
    if port is not None or parts.netloc.endswith(":"):
        raise HandleError("port")
    if not host:
        raise HandleError("invalid")
    domain = _parse_domain(host)
    for pattern in _PROFILE_PATHS:
        match = pattern.fullmatch(parts.path)
        if match:
            other = match.groupdict().get("domain")
            # /@naam@other.nl is a remote profile seen from this server: the account lives there.
            return Handle(domain=_parse_domain(other) if other else domain, username=match["user"])
    return Handle(domain=domain)


def _parse_domain(raw: str) -> str:
    if not raw:
        raise HandleError("missing_domain")
    if raw.startswith("["):
        raise HandleError("ip_literal")
    if ":" in raw:
        host, _, port = raw.rpartition(":")
        if _is_ip(raw) or _is_ip(host.strip("[]")):
            raise HandleError("ip_literal")
        raise HandleError("port" if port.isdigit() and host else "invalid")
    try:
        ascii_host = to_ascii_hostname(raw)
    except ValueError as exc:
        raise HandleError("ip_literal" if looks_like_ip_literal(raw) else "invalid") from exc
    if looks_like_ip_literal(ascii_host):
        raise HandleError("ip_literal")
    if "." not in ascii_host:
        raise HandleError("no_dot")
    return ascii_host


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _home_domain(home_server: str) -> str | None:
    host = urlsplit(home_server).hostname if "://" in home_server else home_server.strip().rstrip("/")
    try:
        return to_ascii_hostname(host or "")
    except ValueError:
        return None


def is_home_server(handle: Handle, home_servers: str | Iterable[str]) -> bool:
    """True when the handle is on our own server (``PRAATMEE_MASTODON_URL``, a URL or a domain).

    Pass several when the server's account domain differs from its web domain.
    """
    servers = [home_servers] if isinstance(home_servers, str) else list(home_servers)
    return any(handle.domain == _home_domain(server) for server in servers)


# --- results ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Redirect:
    """Send the resident here (303): their server, with our post open."""

    url: str
    software: str | None = None  # nodeinfo's software.name, when we asked nodeinfo
    via: str = "fallback"  # "fep-3b86", "ostatus-subscribe", "nodeinfo" or "fallback"


CopyLinkReason = Literal["no_way_in", "unreachable", "refused", "busy"]


@dataclass(frozen=True)
class CopyLink:
    """Show the post's link to copy into the resident's own app, and say why.

    ``no_way_in``: the server answered, but its software has no page for a remote post.
    ``unreachable``: no usable answer from ``domain`` (DNS, timeout, refused, TLS, 5xx), or the
    guard would not contact it.
    ``refused``: the server offered a URL we will not send anyone to.
    ``busy``: we did not ask at all, because every look-up slot of this instance was taken (see
    `LookupSlots`); nothing is known about ``domain``, and nothing is remembered.
    """

    domain: str
    reason: CopyLinkReason
    software: str | None = None


InteractionResult = Union[Redirect, CopyLink]


# --- WebFinger documents ------------------------------------------------------------------------

@dataclass(frozen=True)
class JrdLink:
    rel: str
    type: str | None = None
    href: str | None = None
    template: str | None = None


@dataclass(frozen=True)
class Jrd:
    subject: str | None
    aliases: tuple[str, ...]
    links: tuple[JrdLink, ...]

    def named_hosts(self) -> frozenset[str]:
        """Hosts this document names outside its templates: subject, aliases and link hrefs.

        A template's own host does not count, or every template would vouch for itself.
        """
        hosts = set()
        for value in (self.subject, *self.aliases, *(link.href for link in self.links)):
            host = _host_of(value)
            if host:
                hosts.add(host)
        return frozenset(hosts)


def _string_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def parse_jrd(data: Any) -> Jrd | None:
    """A JSON Resource Descriptor, read tolerantly (real servers send nulls and odd types)."""
    if not isinstance(data, dict):
        return None
    raw_links = data.get("links")
    links = tuple(
        JrdLink(rel=item["rel"], type=_string_or_none(item.get("type")), href=_string_or_none(item.get("href")),
                template=_string_or_none(item.get("template")))
        for item in (raw_links if isinstance(raw_links, list) else [])
        if isinstance(item, dict) and isinstance(item.get("rel"), str)
    )
    raw_aliases = data.get("aliases")
    aliases = tuple(a for a in (raw_aliases if isinstance(raw_aliases, list) else [])
                    if isinstance(a, str))
    return Jrd(subject=_string_or_none(data.get("subject")), aliases=aliases, links=links)


@dataclass(frozen=True)
class Template:
    """A URL template from WebFinger, with the variable that takes the post's URI."""

    template: str
    variable: str
    via: str


def interaction_templates(jrd: Jrd) -> list[Template]:
    """The templates that could open a post, best first: FEP-3b86 Object, then OStatus subscribe."""
    found = []
    for rel, variable, via in ((REL_FEP_3B86_OBJECT, "object", "fep-3b86"),
                               (REL_OSTATUS_SUBSCRIBE, "uri", "ostatus-subscribe")):
        for link in jrd.links:
            if link.rel == rel and link.template:
                found.append(Template(link.template, variable, via))
                break
    return found


_VARIABLE = re.compile(r"\{([^{}]*)\}")


def fill_template(template: str, values: dict[str, str]) -> str:
    """Fill ``{name}`` with the percent-encoded value; unknown variables become empty (FEP-3b86)."""
    return _VARIABLE.sub(lambda m: quote(values.get(m.group(1), ""), safe=""), template)


# --- where we may send a resident ---------------------------------------------------------------

def _host_of(value: str | None) -> str | None:
    if not value:
        return None
    if value.startswith("acct:"):
        if "@" not in value:
            return None
        value = "https://" + value.rsplit("@", 1)[-1]
    try:
        host = urlsplit(value).hostname
        return to_ascii_hostname(host) if host else None
    except ValueError:
        return None


def acceptable_target(url: str, allowed_hosts: Iterable[str]) -> bool:
    """May we send a resident to ``url``? The rule is `urls.is_resident_target`, with the others."""
    return is_resident_target(url, allowed_hosts)


# --- discovery and its cache --------------------------------------------------------------------

@dataclass(frozen=True)
class Discovery:
    """What we learned about one domain; kept in the cache, filled in per post."""

    domain: str
    template: Template | None = None
    allowed_hosts: frozenset[str] = frozenset()
    software: str | None = None
    copy_reason: CopyLinkReason | None = None
    # Something failed on the way (timeout, 5xx): the answer may be a second best, keep it briefly.
    transient: bool = False
    # False when we could not even ask (our own look-up slots were all taken): ask again next time.
    keep: bool = True

    @property
    def lasting(self) -> bool:
        return self.copy_reason in (None, "no_way_in") and not self.transient

    def result_for(self, post_uri: str) -> InteractionResult:
        if self.template is None:
            return CopyLink(self.domain, self.copy_reason or "no_way_in", self.software)
        url = fill_template(self.template.template, {self.template.variable: post_uri})
        if not acceptable_target(url, self.allowed_hosts):
            return CopyLink(self.domain, "refused", self.software)
        return Redirect(url, self.software, self.template.via)


class DiscoveryCache:
    """Per-domain discoveries, in this process: a day when the server answered, five minutes when
    it did not. Visitors choose the keys, so it is bounded, and the domain used longest ago makes
    room: a server residents keep using stays, whatever strangers look up. Thread-safe; ``clock``
    is injectable for tests.
    """

    def __init__(self, *, clock: Callable[[], float] = time.monotonic, success_ttl: float = SUCCESS_TTL,
                 failure_ttl: float = FAILURE_TTL, max_entries: int = 4096):
        self.clock = clock
        self.success_ttl = success_ttl
        self.failure_ttl = failure_ttl
        self.max_entries = max_entries
        self._entries: KeptCopies[tuple[float, Discovery]] = KeptCopies(max_entries)

    def get(self, domain: str) -> Discovery | None:
        entry = self._entries.get(domain)
        if entry is None:
            return None
        if self.clock() >= entry[0]:
            self._entries.pop(domain)
            return None
        return entry[1]

    def put(self, discovery: Discovery) -> None:
        ttl = self.success_ttl if discovery.lasting else self.failure_ttl
        self._entries.put(discovery.domain, (self.clock() + ttl, discovery))

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


class LookupSlots:
    """At most ``count`` discoveries in flight in one instance, over all its worker processes and threads.

    A discovery may hold its worker for the whole deadline (a hostile server can make sure of that),
    so a handful of them must never take every worker from residents' pages. A slot is an exclusive
    ``flock`` on one of ``count`` small files in ``folder`` (the instance folder): the kernel frees
    it when the holder's descriptor closes, also when a worker is killed, so no slot is ever lost.
    Run more workers (or threads) than slots. Without ``fcntl`` (not Linux or BSD) the cap is per
    process only.
    """

    def __init__(self, folder: str | os.PathLike[str], count: int):
        if count < 1:
            raise ValueError("at least one look-up slot")
        self.count = count
        self.paths = [os.path.join(folder, f"lookup-slot-{number}.lock") for number in range(count)]
        self._local = threading.BoundedSemaphore(count) if fcntl is None else None

    @contextmanager
    def slot(self) -> Iterator[bool]:
        """Yields True while holding a slot, or False at once when every slot is taken."""
        if self._local is not None:
            taken = self._local.acquire(blocking=False)
            try:
                yield taken
            finally:
                if taken:
                    self._local.release()
            return
        held = self._take()
        try:
            yield held is not None
        finally:
            if held is not None:
                os.close(held)  # closing the descriptor releases its lock

    def _take(self) -> int | None:
        # A random first slot spreads the holders, so a freed slot is found at the first try.
        start = random.randrange(self.count)
        for offset in range(self.count):
            path = self.paths[(start + offset) % self.count]
            descriptor = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o600)
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(descriptor)
                continue
            return descriptor
        return None


class _Unreachable(Exception):
    pass


class _Busy(_Unreachable):
    """We did not ask at all (see netguard.LookupPool): no answer about the domain to keep."""


def _transient(exc: FetchFailed) -> bool:
    # A timeout is one even when the status line had arrived: the rest of the answer never did.
    return exc.code == "timeout" or exc.status is None or exc.status >= 500 or exc.status == 429


class Resolver:
    """Finds the way in for a handle's server. Create one per process and share it.

    ``budget`` bounds one whole discovery (every request of it together, each under the guard's own
    deadline as well); ``slots`` caps how many discoveries run at once in this instance.
    """

    def __init__(self, guard: NetGuard, cache: DiscoveryCache | None = None, *, budget: float = 5.0,
                 slots: LookupSlots | None = None):
        self.guard = guard
        self.cache = cache
        self.budget = budget  # seconds for all requests of one discovery together
        self.slots = slots

    def resolve(self, handle: Handle, post_uri: str) -> InteractionResult:
        discovery = self.cache.get(handle.domain) if self.cache is not None else None
        if discovery is None:
            if self.slots is None:
                discovery = self.discover(handle)
            else:
                with self.slots.slot() as free:
                    discovery = self.discover(handle) if free else Discovery(
                        handle.domain, copy_reason="busy", keep=False)
            if self.cache is not None and discovery.keep:
                self.cache.put(discovery)
        return discovery.result_for(post_uri)

    def discover(self, handle: Handle) -> Discovery:
        """What ``handle.domain`` offers. Never raises: strangers' documents can be any shape, and
        whatever we failed to foresee in them makes the server "unreachable", not our page a 500.
        """
        try:
            return self._discover(handle)
        except Exception as exc:  # noqa: BLE001 - see the docstring
            detail = repr(exc)  # repr: one line, whatever the stranger's text holds
            if handle.username:
                detail = detail.replace(handle.username, "…")  # the server goes in our logs, not the account
            log.warning("could not read what %s answered, treating it as unreachable: %s", handle.domain, detail)
            return Discovery(handle.domain, copy_reason="unreachable")

    def _discover(self, handle: Handle) -> Discovery:
        ends_at = time.monotonic() + self.budget
        domain = handle.domain
        try:
            found = self._from_webfinger(handle, ends_at)
        except _Busy:
            return Discovery(domain, copy_reason="busy", keep=False)
        except _Unreachable:
            return Discovery(domain, copy_reason="unreachable")
        if found is not None:
            return found
        return self._from_nodeinfo(domain, ends_at)

    def _get(self, url: str, ends_at: float) -> Any:
        remaining = ends_at - time.monotonic()
        if remaining <= 0:
            raise FetchFailed("timeout", url=url)
        return self.guard.get_json(url, deadline=remaining)[1]

    def _from_webfinger(self, handle: Handle, ends_at: float) -> Discovery | None:
        domain = handle.domain
        # For a bare domain, ask as Mastodon's interaction modal does, then the domain's own acct.
        resources = ([f"acct:{handle.acct}"] if handle.username
                     else [f"https://{domain}/", f"acct:{domain}@{domain}"])
        templates_seen = False
        for resource in resources:
            url = f"https://{domain}/.well-known/webfinger?resource={quote(resource, safe=':@')}"
            try:
                jrd = parse_jrd(self._get(url, ends_at))
            except GuardRefused as exc:
                raise _Unreachable from exc
            except FetchFailed as exc:
                if exc.code == "busy":
                    raise _Busy from exc
                if _transient(exc):
                    raise _Unreachable from exc
                continue  # it answered, with nothing for this resource
            if jrd is None:
                continue
            allowed = jrd.named_hosts() | {domain}
            templates = interaction_templates(jrd)
            templates_seen = templates_seen or bool(templates)
            for template in templates:
                probe = fill_template(template.template, {template.variable: "https://example.org/x"})
                if acceptable_target(probe, allowed):
                    return Discovery(domain, template, frozenset(allowed))
        if templates_seen:
            return Discovery(domain, copy_reason="refused")
        return None

    def _from_nodeinfo(self, domain: str, ends_at: float) -> Discovery:
        software, transient, keep = None, False, True
        try:
            index = self._get(f"https://{domain}/.well-known/nodeinfo", ends_at)
            href = _nodeinfo_href(index)
            if href is not None:
                software = _software_name(self._get(href, ends_at))
        except GuardRefused:
            pass  # a nodeinfo link we will not follow tells us nothing
        except FetchFailed as exc:
            transient = _transient(exc)
            keep = exc.code != "busy"
        if software in NO_WAY_IN:
            return Discovery(domain, software=software, copy_reason="no_way_in")
        path = KNOWN_SOFTWARE.get(software or "")
        via = "nodeinfo" if path else "fallback"
        # The server answered WebFinger but said nothing useful: Mastodon's path is the best bet,
        # as in Mastodon's own interaction modal.
        template = Template(f"https://{domain}{path or _MASTODON}", "uri", via)
        return Discovery(domain, template, frozenset({domain}), software, transient=transient, keep=keep)


def _nodeinfo_href(index: Any) -> str | None:
    """The link to the best nodeinfo schema in a /.well-known/nodeinfo document, read tolerantly."""
    links = index.get("links") if isinstance(index, dict) else None
    if not isinstance(links, list):
        return None
    for rel in NODEINFO_RELS:
        for link in links:
            # Only a string equals a rel; a list, an object or a number in its place is skipped.
            if isinstance(link, dict) and isinstance(link.get("rel"), str) and link["rel"] == rel:
                href = link.get("href")
                if isinstance(href, str):
                    return href
    return None


def _software_name(document: Any) -> str | None:
    software = document.get("software") if isinstance(document, dict) else None
    name = software.get("name") if isinstance(software, dict) else None
    return name.strip().lower() if isinstance(name, str) and name.strip() else None


def resolve_interaction_url(handle: Handle, post_uri: str, *, guard: NetGuard,
                            cache: DiscoveryCache | None = None) -> InteractionResult:
    """The URL that opens ``post_uri`` (our post's ActivityPub id) on the handle's server.

    ``cache=None`` asks the network every time; the app keeps one DiscoveryCache per process.
    """
    return Resolver(guard, cache).resolve(handle, post_uri)
