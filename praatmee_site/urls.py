"""Every rule that decides whether a URL is acceptable, in one place, and why they differ.

They are not one rule, because the risks are not one risk:

- `is_absolute_http`: a link or image *shown* on our pages, from a Mastodon answer. http is fine
  (it is the author's link, and the CSP decides what loads); it must be absolute, with a host.
- `origin`: scheme and host, the unit the image policy and the CSP's `img-src` compare.
- `home_status_id`, `is_home_invite`: a campaign's thread or invite link must be *our own* home
  server's post or invite (https, the home host, port 443), because we fetch the one and print the
  other on posters.
- `profile_acct`: the account a profile link names (`https://server/@user`, and on the home server
  `https://home/@user@other.server`), for moderation, which only compares it with accounts it knows.
- `is_city_decision`: an outcome's link to the decision: https on amsterdam.nl (or a subdomain),
  because residents follow it from a page that speaks for the city.
- `https_origin_problem`: a setting (`PRAATMEE_MASTODON_URL`, …) is a plain https address.
- `is_resident_target`: where "Reageer direct" may *send a resident* (a Location header): https,
  printable ASCII, a DNS name (no IP literal), port 443, and a host the resident's server named
  outside the template itself.
- `remote_interaction.netguard.NetGuard.check_url`: what we may *fetch* from a host a visitor
  typed; it adds DNS resolution and address classes, so it lives beside the guard, built on the
  host helpers here (`looks_like_ip_literal`, `to_ascii_hostname`).

No Flask in this module.
"""
from __future__ import annotations

import re
from typing import Iterable
from urllib.parse import SplitResult, urlsplit

import idna

_HEX_NUMBER = re.compile(r"0x[0-9a-f]*", re.IGNORECASE)
# A post on the home server: /@name/<id> (also /@name@other.server/<id>, how it shows a post from
# another server) or the ActivityPub form /users/name/statuses/<id>.
_STATUS_PATH = re.compile(r"/(?:@[A-Za-z0-9_]+(?:@[A-Za-z0-9.-]+)?|users/[A-Za-z0-9_]+/statuses)/([0-9]{1,30})/?")
_PROFILE_PATH = re.compile(r"/(?:@|users/)([A-Za-z0-9_.-]{1,64})(?:@([A-Za-z0-9.-]{1,253}))?/?")
_STATUS_ID = re.compile(r"[0-9]{1,30}")
_INVITE_PATH = re.compile(r"/invite/[A-Za-z0-9_-]{1,64}")


def is_absolute_http(value: str) -> bool:
    """The one rule for links and images from Mastodon: an absolute http(s) URL with a host."""
    try:
        parts = urlsplit(value.strip())
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc)


def origin(url: str) -> str:
    """``https://host[:port]`` in lower case: what image policies and the CSP compare."""
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{(parts.netloc or '').lower()}"


def _plain_https(url: str) -> SplitResult | None:
    """The parts of an https URL on the default port without credentials, else None (also for what
    `urlsplit` cannot read: a port that is not a number, a broken IPv6 literal). The common ground
    of the rules below that send people somewhere or name an account."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme != "https" or port not in (None, 443) or parts.username is not None or parts.password is not None:
        return None
    return parts


def _printable_ascii(url: str, also_refused: str = "") -> bool:
    """No space, control character or non-ASCII letter (nor any of ``also_refused``) anywhere."""
    return url.isascii() and not any(ord(ch) <= 0x20 or ord(ch) == 0x7F or ch in also_refused for ch in url)


def _on_home_server(url: str, home_url: str) -> SplitResult | None:
    parts = _plain_https(url.strip())
    if parts is None or parts.hostname != urlsplit(home_url).hostname:
        return None
    return parts


def home_status_id(reference: str, home_url: str) -> str | None:
    """A post named by its id or by its URL on the home server (web or ActivityPub form); else None."""
    reference = reference.strip()
    if _STATUS_ID.fullmatch(reference):
        return reference
    parts = _on_home_server(reference, home_url)
    if parts is None:
        return None
    match = _STATUS_PATH.fullmatch(parts.path)
    return match.group(1) if match else None


def profile_acct(url: str, home_url: str) -> str | None:
    """``user@domain`` (lower case) for a profile link, or None when ``url`` is not one.

    ``https://server/@user`` and ``https://server/users/user`` name user@server; the home server also
    shows accounts of other servers as ``https://home/@user@other.server``. Only https, no port,
    query, fragment or credentials. Nothing is fetched: callers compare the result with accounts
    they already know.
    """
    parts = _plain_https(url.strip())
    if parts is None or not parts.hostname or parts.query or parts.fragment:
        return None
    match = _PROFILE_PATH.fullmatch(parts.path)
    if match is None:
        return None
    user, domain = match.group(1), match.group(2)
    if domain is not None and parts.hostname != urlsplit(home_url).hostname:
        return None  # only the home server shows other servers' accounts under its own name
    try:
        domain = to_ascii_hostname(domain or parts.hostname)
    except ValueError:
        return None
    return f"{user.lower()}@{domain}"


def is_home_invite(url: str, home_url: str) -> bool:
    """``https://<home>/invite/<code>``: the only sign-up link a campaign may print instead of ours."""
    parts = _on_home_server(url, home_url)
    return (parts is not None and bool(_INVITE_PATH.fullmatch(parts.path))
            and not (parts.query or parts.fragment))


CITY_DOMAIN = "amsterdam.nl"


def is_city_decision(url: str) -> bool:
    """``https://amsterdam.nl/…`` or a subdomain's: where an outcome's decision may be published."""
    parts = _plain_https(url) if _printable_ascii(url, also_refused="<>\"'`\\") else None
    if parts is None:
        return False
    host = (parts.hostname or "").rstrip(".")
    return host == CITY_DOMAIN or host.endswith("." + CITY_DOMAIN)


def https_origin_problem(text: str, *, allow_path: bool) -> str | None:
    """None for a plain https address (``allow_path``: with a path), else why not:
    ``not_https``, ``not_plain`` (credentials, query or fragment) or ``has_path``."""
    try:
        parts = urlsplit(text)
        _ = parts.port  # raises for a port that is not a number
    except ValueError:
        return "not_https"
    if parts.scheme != "https" or not parts.hostname:
        return "not_https"
    if parts.username or parts.password or parts.query or parts.fragment:
        return "not_plain"
    if not allow_path and parts.path not in ("", "/"):
        return "has_path"
    return None


# --- host names: shared with the SSRF guard --------------------------------------------------

def looks_like_ip_literal(host: str) -> bool:
    """True for an IP address in any notation a resolver or browser might accept.

    Besides dotted quads and IPv6 this catches ``2130706433``, ``0177.0.0.1``, ``0x7f.1`` and
    ``127.1``: like the WHATWG URL standard, a host whose last label is a number is an address,
    so no DNS name can smuggle one in (no top-level domain is numeric).
    """
    host = host.strip().rstrip(".")
    if host.startswith("[") or ":" in host:
        return True
    last = host.rsplit(".", 1)[-1]
    return bool(last) and (last.isdigit() or bool(_HEX_NUMBER.fullmatch(last)))


def to_ascii_hostname(host: str) -> str:
    """Lower-case ASCII (punycode) form of a DNS name, without a trailing dot.

    Raises ValueError for anything that is not a valid host name (IDNA 2008 with UTS 46 mapping,
    letters/digits/hyphens only, labels of 1-63 characters, 253 in all). Full-width digits and
    dots are mapped first, so ``１２７。０。０。１`` comes back as ``127.0.0.1`` for the caller's
    IP-literal check.
    """
    if not host or host != host.strip():
        raise ValueError("empty host or surrounding whitespace")
    try:
        ascii_host = idna.encode(host, uts46=True, std3_rules=True, transitional=False).decode("ascii")
    except (idna.IDNAError, UnicodeError) as exc:
        raise ValueError(str(exc)) from exc
    ascii_host = ascii_host.rstrip(".")
    if not ascii_host or len(ascii_host) > 253:
        raise ValueError("host name length")
    return ascii_host


def is_resident_target(url: str, allowed_hosts: Iterable[str]) -> bool:
    """May "Reageer direct" send a resident to ``url``?

    https, no credentials, no port but 443, printable ASCII only (it goes into a Location
    header), a DNS name rather than an address, and a host in ``allowed_hosts``: the visitor's
    domain and the hosts its WebFinger document names outside the template
    (`remote_interaction.discovery.Jrd.named_hosts`). That last rule keeps the target in the hands
    of the resident's own server (micro.blog serves templates on micro.blog for accounts on other
    domains, and must name micro.blog elsewhere in the document too); it cannot stop that server
    from sending its own users elsewhere, which is a trust they already place in it. The web layer
    shows the target's host before following an address the resident did not choose themselves.
    """
    parts = _plain_https(url) if _printable_ascii(url) else None
    if parts is None or not parts.hostname or looks_like_ip_literal(parts.hostname):
        return False
    try:
        host = to_ascii_hostname(parts.hostname)
    except ValueError:
        return False
    return "." in host and host in set(allowed_hosts)
