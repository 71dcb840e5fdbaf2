"""Redis as the shared tier of the upstream cache: entries, a lock per key, failure notes.

Several app instances then make one request per key to the home server between them. Redis is a
convenience, never a dependency: every call has short timeouts, and after a failure the tier says
"unavailable" at once (no network call) for `retry_seconds`, so pages keep being served from each
process's own cache. Going away and coming back are each logged once. No Flask in this module.
"""
from __future__ import annotations

import json
import logging
import secrets
import threading
import time
from typing import Any, Callable

from .cache import SharedEntry, SharedTierUnavailable

log = logging.getLogger(__name__)

# Compare-and-delete: only the holder's token releases the lock (it may have expired and been retaken).
_UNLOCK = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""


def client_options() -> dict[str, Any]:
    """redis-py settings for a page that must not wait on Redis: short timeouts, one quick retry
    (a pooled connection may be stale after a Redis restart), no back-off sleeps."""
    from redis.backoff import NoBackoff
    from redis.retry import Retry
    return {"socket_connect_timeout": 0.5, "socket_timeout": 1.0, "retry": Retry(NoBackoff(), 1)}


class RedisSharedCache:
    """Implements `cache.SharedTier`. Keys: `<prefix>cache:`, `<prefix>lock:`, `<prefix>failed:` + cache key."""

    def __init__(self, url: str, *, lock_seconds: float = 7.0, keep_seconds: float = 24 * 3600,
                 retry_seconds: float = 5.0, prefix: str = "praatmee:", clock: Callable[[], float] = time.time,
                 client=None) -> None:
        if client is None:
            import redis
            client = redis.Redis.from_url(url, **client_options())
        self.redis = client
        self.where = _without_password(url)
        self.lock_seconds = lock_seconds
        self.keep_seconds = keep_seconds  # how long an expired copy stays to be served during an outage
        self.retry_seconds = retry_seconds
        self.prefix = prefix
        self.clock = clock
        self._unlock = client.register_script(_UNLOCK)
        self._down = False
        self._retry_at = 0.0
        self._state = threading.Lock()

    # -- cache.SharedTier ---------------------------------------------------------------------
    def read(self, key: str) -> SharedEntry | None:
        raw = self._call(lambda: self.redis.get(self.prefix + "cache:" + key))
        if raw is None:
            return None
        try:
            data = json.loads(raw)
            return SharedEntry(data["value"], float(data["fetched_at"]), float(data["expires_at"]))
        except (ValueError, KeyError, TypeError):
            return None  # not ours, or from an incompatible version: as if missing

    def write(self, key: str, entry: SharedEntry) -> None:
        body = json.dumps({"value": entry.value, "fetched_at": entry.fetched_at, "expires_at": entry.expires_at},
                          separators=(",", ":"))
        keep = max(1.0, entry.expires_at - self.clock() + self.keep_seconds)
        self._call(lambda: self.redis.set(self.prefix + "cache:" + key, body, px=int(keep * 1000)))

    def try_lock(self, key: str) -> str | None:
        token = secrets.token_hex(8)
        taken = self._call(lambda: self.redis.set(self.prefix + "lock:" + key, token,
                                                  px=int(self.lock_seconds * 1000), nx=True))
        return token if taken else None

    def unlock(self, key: str, token: str) -> None:
        self._call(lambda: self._unlock(keys=[self.prefix + "lock:" + key], args=[token]))

    def note_failure(self, key: str, at: float) -> None:
        self._call(lambda: self.redis.set(self.prefix + "failed:" + key, repr(at), px=int(self.lock_seconds * 1000)))

    def failed_at(self, key: str) -> float | None:
        raw = self._call(lambda: self.redis.get(self.prefix + "failed:" + key))
        try:
            return float(raw) if raw is not None else None
        except ValueError:
            return None

    # -- availability -------------------------------------------------------------------------
    @property
    def available(self) -> bool:
        return not self._down

    def _call(self, operation: Callable[[], Any]):
        import redis
        if self._down and time.monotonic() < self._retry_at:
            raise SharedTierUnavailable(f"Redis at {self.where} was unavailable moments ago")
        try:
            result = operation()
        except redis.RedisError as exc:
            self._went_down(exc)
            raise SharedTierUnavailable(str(exc)) from None
        if self._down:
            self._came_back()
        return result

    def _went_down(self, exc: Exception) -> None:
        with self._state:
            self._retry_at = time.monotonic() + self.retry_seconds
            if self._down:
                return
            self._down = True
        log.warning("Redis at %s is unavailable (%s: %s): each process serves from its own cache "
                    "meanwhile", self.where, exc.__class__.__name__, exc)

    def _came_back(self) -> None:
        with self._state:
            if not self._down:
                return
            self._down = False
        log.warning("Redis at %s is back: the cache is shared again", self.where)


def _without_password(url: str) -> str:
    """host:port/db for the log, never the password."""
    rest = url.split("://", 1)[-1]
    return rest.rsplit("@", 1)[-1]
