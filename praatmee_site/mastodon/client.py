"""The home-server client: HTTP with timeouts, a stale-on-error cache and a shared 429 pause.

Answers are parsed by `entities` at this edge. No Flask in this module.
"""
from __future__ import annotations

import email.utils
import random
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Protocol

import requests

from ..kept import KeptCopies
from ..urls import home_status_id
from .cache import Fetched, UpstreamCache
from .entities import (
    BadResponse,
    MastodonError,
    NotFound,
    RateLimited,
    Timeout,
    Unavailable,
    _checked,
    _checked_instance,
    build_thread,
    parse_account,
    parse_accounts,
    parse_context,
    parse_instance,
    parse_status,
    parse_statuses,
    parse_time,
)

# --- thread references --------------------------------------------------------------------------

def status_id_from_reference(reference: str, home_url: str) -> str | None:
    """A thread is named by an id or by a status URL on the home server; None when it is neither."""
    return home_status_id(reference, home_url)


# --- the client ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Result:
    """An entity plus when we got it, and whether it is an older copy served during an outage.

    `version` changes whenever any upstream answer behind the value changes, so callers may keep
    work derived from it (a shaped thread, a rendered fragment) until it does.
    """

    value: Any
    fetched_at: float
    stale: bool = False
    version: tuple = ()


class SharedPause(Protocol):
    """Where workers tell each other not to call the home server before a moment (epoch seconds)."""

    def until(self) -> float | None: ...
    def hold(self, until: float) -> None: ...


@dataclass
class ClientSettings:
    base_url: str
    account: str
    user_agent: str
    connect_timeout: float = 2.0
    read_timeout: float = 3.0
    ttl: float = 60.0
    instance_ttl: float = 900.0
    token: str | None = None
    # After a timeout or refused connection, skip calls for this long so a page stays within
    # one timeout instead of one per call.
    breaker_seconds: float = 30.0


class MastodonClient:
    """One `requests.Session` for the home server; thread-safe; every call cached."""

    def __init__(self, settings: ClientSettings, *, cache: UpstreamCache | None = None,
                 session: requests.Session | None = None, clock: Callable[[], float] = time.time,
                 shared_pause: "SharedPause | None" = None):
        self.settings = settings
        # After a 429, every worker (and host) must hold back, not only the one that got it.
        self.shared_pause = shared_pause
        self.base_url = settings.base_url.rstrip("/")
        self.clock = clock
        self.cache = cache or UpstreamCache(clock=clock)
        self.session = session or requests.Session()
        self.session.headers["User-Agent"] = settings.user_agent
        self.session.headers["Accept"] = "application/json"
        if settings.token:
            self.session.headers["Authorization"] = f"Bearer {settings.token}"
        self._blocked_until = 0.0
        self._block_lock = threading.Lock()
        self.requests_made = 0  # upstream requests, for tests and benchmarks
        # The home server's X-RateLimit-Remaining as of the last answer (None: not told yet). The
        # budget is per client IP, so it is shared by the pages and `kpi collect`.
        self.rate_limit_remaining: int | None = None
        # Parsed entities per cache key and answer, so a warm page does not parse JSON again.
        # Parsed answers per key, while their fetch is the same; keys are our own URLs, the bound a net.
        self._parsed: KeptCopies[tuple[float, Any]] = KeptCopies(2048)
        self._rng = random.Random()

    # -- HTTP --------------------------------------------------------------------------------
    def _get(self, path: str, params: dict | None = None) -> Any:
        now = self.clock()
        if now < self._blocked_until:
            raise RateLimited("waiting for the rate limit or an outage to pass", self._blocked_until)
        if self.shared_pause is not None:
            until = self.shared_pause.until()
            if until and now < until:
                self._block(until)
                raise RateLimited("another worker was told to wait", until)
        with self._block_lock:
            self.requests_made += 1
        try:
            response = self.session.get(
                self.base_url + path, params=params, allow_redirects=False,
                timeout=(self.settings.connect_timeout, self.settings.read_timeout),
            )
        except requests.Timeout as exc:
            self._block(self.clock() + self.settings.breaker_seconds)
            raise Timeout(f"{path}: {exc.__class__.__name__}") from None
        except requests.RequestException as exc:
            self._block(self.clock() + self.settings.breaker_seconds)
            raise Unavailable(f"{path}: {exc.__class__.__name__}") from None
        self._note_rate_limit(response)
        if response.status_code == 429:
            until = self._reset_time(response)
            self._block(until)
            if self.shared_pause is not None:
                self.shared_pause.hold(until)
            raise RateLimited(f"{path}: 429", until)
        if response.status_code in (404, 410):
            raise NotFound(f"{path}: {response.status_code}")
        if response.status_code != 200:
            raise Unavailable(f"{path}: HTTP {response.status_code}")
        if "json" not in response.headers.get("Content-Type", ""):
            raise BadResponse(f"{path}: not JSON ({response.headers.get('Content-Type', '?')})")
        try:
            return response.json()
        except ValueError:
            raise BadResponse(f"{path}: invalid JSON") from None

    def _note_rate_limit(self, response: requests.Response) -> None:
        remaining = response.headers.get("X-RateLimit-Remaining", "").strip()
        if remaining.isdigit():
            self.rate_limit_remaining = int(remaining)
        elif response.status_code == 429:
            self.rate_limit_remaining = 0

    def _block(self, until: float) -> None:
        with self._block_lock:
            self._blocked_until = max(self._blocked_until, until)

    def _reset_time(self, response: requests.Response) -> float:
        now = self.clock()
        retry_after = response.headers.get("Retry-After", "").strip()
        if retry_after.isdigit():
            return now + int(retry_after)
        if retry_after:
            try:
                return email.utils.parsedate_to_datetime(retry_after).timestamp()
            except (TypeError, ValueError):
                pass
        reset = parse_time(response.headers.get("X-RateLimit-Reset"))
        if reset is not None:
            return max(reset.timestamp(), now + 1)
        return now + 60  # Mastodon's window is 5 minutes; a minute's pause is a fair guess

    def fetch(self, path: str, params: dict | None = None, *, ttl: float | None = None,
              parse: Callable[[Any], Any] = lambda raw: raw, fresh: bool = False) -> Result:
        """Cached GET; raw JSON is kept (and persisted) so a restart can serve it, parsed once per answer.

        `fresh=True` asks the home server now and leaves the cache alone (no stale copy on failure,
        nothing kept): for `kpi collect`, which must see today's counts and must know when it failed.
        The rate-limit pause and the outage breaker still apply.
        """
        if fresh:
            return Result(_checked(parse, self._get(path, params)), self.clock())
        key = self.base_url + path + ("?" + "&".join(f"{k}={v}" for k, v in sorted(params.items())) if params else "")

        def load() -> Any:
            raw = self._get(path, params)
            _checked(parse, raw)  # refuse to cache what we cannot show
            return raw

        ttl = self.settings.ttl if ttl is None else ttl
        # Up to 20 % longer: workers that warmed up together should not all refresh in the same second.
        fetched: Fetched = self.cache.get(key, load, ttl=ttl * self._rng.uniform(1.0, 1.2))
        memo = self._parsed.get(key)
        if memo is not None and memo[0] == fetched.fetched_at:
            value = memo[1]
        else:
            value = _checked(parse, fetched.value)
            self._parsed.put(key, (fetched.fetched_at, value))
        return Result(value, fetched.fetched_at, fetched.stale, (key, fetched.fetched_at))

    # -- endpoints ---------------------------------------------------------------------------
    def lookup_account(self, acct: str | None = None, *, fresh: bool = False) -> Result:
        return self.fetch("/api/v1/accounts/lookup", {"acct": acct or self.settings.account},
                          ttl=self.settings.instance_ttl, parse=parse_account, fresh=fresh)

    def account_statuses(self, account_id: str, *, pinned: bool = False, exclude_replies: bool = False,
                         limit: int = 20, max_id: str | None = None, fresh: bool = False) -> Result:
        """Newest first; `max_id` pages back (statuses older than that id)."""
        params: dict[str, Any] = {"limit": limit}
        if pinned:
            params["pinned"] = "true"
        if exclude_replies:
            params["exclude_replies"] = "true"
            params["exclude_reblogs"] = "true"
        if max_id is not None:
            params["max_id"] = max_id
        return self.fetch(f"/api/v1/accounts/{account_id}/statuses", params, parse=parse_statuses, fresh=fresh)

    def status(self, status_id: str, *, fresh: bool = False) -> Result:
        return self.fetch(f"/api/v1/statuses/{status_id}", parse=parse_status, fresh=fresh)

    def context(self, status_id: str, *, fresh: bool = False) -> Result:
        return self.fetch(f"/api/v1/statuses/{status_id}/context", parse=parse_context, fresh=fresh)

    def favourited_by(self, status_id: str) -> Result:
        """Who favourited a public post: public in Mastodon's API (no token needed), newest first.

        One page of at most 80 accounts; a post with more favourites than that is read no further.
        """
        return self.fetch(f"/api/v1/statuses/{status_id}/favourited_by", {"limit": 80}, parse=parse_accounts)

    def instance(self) -> Result:
        try:
            raw = self.fetch("/api/v2/instance", ttl=self.settings.instance_ttl, parse=_checked_instance)
        except NotFound:
            raw = self.fetch("/api/v1/instance", ttl=self.settings.instance_ttl, parse=_checked_instance)
        rules = None
        if not isinstance(raw.value.get("rules"), list):
            try:
                rules = self.fetch("/api/v1/instance/rules", ttl=self.settings.instance_ttl).value
            except MastodonError:
                rules = None
        return Result(parse_instance(raw.value, rules), raw.fetched_at, raw.stale)


    # -- the conversation ------------------------------------------------------------------
    def current_thread_id(self) -> Result:
        """The newest pinned public post of the city's account, else its newest public original post."""
        account = self.lookup_account()
        pinned = self.account_statuses(account.value.id, pinned=True)
        candidates = [s for s in pinned.value if s.is_public and not s.is_reblog]
        source = pinned
        if not candidates:
            source = self.account_statuses(account.value.id, exclude_replies=True)
            candidates = [s for s in source.value
                          if s.is_public and not s.is_reblog and s.in_reply_to_id is None]
        if not candidates:
            raise NotFound("the account has no public posts")
        newest = max(candidates, key=lambda s: s.created_at)
        return Result(newest.id, min(account.fetched_at, source.fetched_at), account.stale or source.stale)

    def thread(self, status_id: str) -> Result:
        root = self.status(status_id)
        context = self.context(status_id)
        thread = build_thread(root.value, context.value, capped_reader=not self.settings.token)
        if not thread.root.is_public:
            raise NotFound("the thread's post is not public")
        return Result(thread, min(root.fetched_at, context.fetched_at), root.stale or context.stale,
                      root.version + context.version)
