"""Staff login limits: guessing stays slow, and no stranger can lock the real person out.

Two rules, after the OWASP Authentication Cheat Sheet ("Protect against automated attacks"):
- per client address, a hard limit: after 20 failed logins in 15 minutes, none from there until
  that window ends;
- per account, a back-off instead of a lock: once an account has had 5 failed logins (from
  anywhere, within a day), an address that has itself failed for that account waits before its
  next try: 30 seconds, doubling with every further failure of the account, at most 15 minutes
  after its own last failure. An address that never failed for the account never waits for it, so
  a correct password from a clean address always gets in, however many strangers guess.
Only failures count. A successful login forgets the caller's failures for that account.

The counters live in the rate limiter's storage (`limits`: memory per process, or Redis when the
limiter uses it), never in the database. Keys hold no address or e-mail address in the clear: each
is an HMAC under a random key that is made anew every day and kept only in that same storage (in
Redis, so every instance uses the same one). When Redis fails, each process counts on its own for
a while, like Flask-Limiter's fallback. No Flask here.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import math
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Callable

from limits.storage import MemoryStorage, Storage

log = logging.getLogger(__name__)

ADDRESS_LIMIT = 20  # failed logins per client address …
ADDRESS_WINDOW = 15 * 60  # … per 15 minutes, then a hard stop until the window ends
FREE_FAILURES = 5  # failures an account may have (per day) before addresses that failed must wait
ACCOUNT_WINDOW = 24 * 3600
FIRST_WAIT = 30  # seconds, doubled with every further failure of the account
LONGEST_WAIT = 15 * 60
KEY_PERIOD = 24 * 3600  # a new hashing key every day; counters are read under this one and the last
MAX_EMAIL = 320
# Seconds: a wait that ends within this is over. Times come back from expiries, and Redis rounds
# those to whole seconds.
SLACK = 1.0


@dataclass(frozen=True)
class Wait:
    """A try that must wait: until when, and why ("address": the hard limit, "account": the back-off)."""

    until: float
    reason: str

    def seconds(self, now: float) -> int:
        return max(1, math.ceil(self.until - now))


def wait_after(failures: int) -> int:
    """Seconds an address that failed for an account waits after its own failure, at `failures` in all."""
    if failures < FREE_FAILURES:
        return 0
    return min(FIRST_WAIT * 2 ** min(failures - FREE_FAILURES, 16), LONGEST_WAIT)


class KeyRing:
    """The random keys the counters' names are hashed with, one per KEY_PERIOD.

    With a shared store (a `limits` RedisStorage) the first process to need a period's key writes it
    there (SET NX, expiring after two periods) and everyone reads that one; otherwise, or while the
    store is unreachable, each process keeps its own.
    """

    def __init__(self, shared: Storage | None = None, *, clock: Callable[[], float] | None = None,
                 reread_seconds: float = 60.0, purpose: str = "login"):
        self.shared = shared
        self.purpose = purpose  # each user of a key ring (staff logins, SMS senders) has keys of its own
        self.clock = clock or (lambda: time.time())  # looked up at each call, as the storage does
        self.reread_seconds = reread_seconds
        self._keys: dict[int, tuple[float, bytes]] = {}
        self._own: dict[int, bytes] = {}
        self._lock = threading.Lock()

    def keys(self) -> list[bytes]:
        """This period's key, then the last one's if it was made (counters may still be under it)."""
        period = int(self.clock() // KEY_PERIOD)
        return [key for key in (self._key(period, make=True), self._key(period - 1, make=False)) if key]

    def _key(self, period: int, *, make: bool) -> bytes | None:
        now = time.monotonic()
        with self._lock:
            known = self._keys.get(period)
            if known is not None and now - known[0] < self.reread_seconds:
                return known[1]
        key = self._shared_key(period, make) if self.shared is not None else None
        with self._lock:
            if key is None:
                key = self._own.setdefault(period, secrets.token_bytes(32)) if make else self._own.get(period)
            self._keys[period] = (now, key)
            for old in [p for p in self._keys if p < period - 1]:
                self._keys.pop(old, None)
                self._own.pop(old, None)
            return key

    def _shared_key(self, period: int, make: bool) -> bytes | None:
        name = self.shared.prefixed_key(f"praatmee:{self.purpose}-key:{period}")
        try:
            connection = self.shared.get_connection()
            if make:
                connection.set(name, secrets.token_hex(32), nx=True, ex=2 * KEY_PERIOD + 3600)
            value = connection.get(name)
        except self.shared.base_exceptions:
            return None  # the counters fall back to this process too (see Counters)
        return bytes.fromhex(value.decode() if isinstance(value, bytes) else value) if value else None


class Counters:
    """`limits` storage calls, with a per-process MemoryStorage while the shared one is unreachable."""

    def __init__(self, storage: Storage, *, retry_seconds: float = 5.0, what: str = "login limits"):
        self.storage = storage
        self.what = what
        self.fallback = MemoryStorage() if not isinstance(storage, MemoryStorage) else None
        self.retry_seconds = retry_seconds
        self._retry_at = 0.0
        self._down = False

    def _call(self, name: str, *args):
        if self.fallback is not None:
            if self._down and time.monotonic() < self._retry_at:
                return getattr(self.fallback, name)(*args)
            try:
                result = getattr(self.storage, name)(*args)
            except self.storage.base_exceptions as exc:
                if not self._down:
                    log.warning("%s: storage unreachable (%s), counting in this process meanwhile",
                                self.what, exc.__class__.__name__)
                self._down, self._retry_at = True, time.monotonic() + self.retry_seconds
                return getattr(self.fallback, name)(*args)
            if self._down:
                self._down = False
                log.warning("%s: storage is back", self.what)
            return result
        return getattr(self.storage, name)(*args)

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        return self._call("incr", key, expiry, amount)

    def get(self, key: str) -> int:
        return self._call("get", key)

    def get_expiry(self, key: str) -> float:
        return self._call("get_expiry", key)

    def clear(self, key: str) -> None:
        self._call("clear", key)


class LoginLimits:
    """Ask `wait_before_trying` before checking a password; then report `failed` or `succeeded`."""

    def __init__(self, storage: Storage, keys: KeyRing | None = None, *, clock: Callable[[], float] | None = None):
        self.counters = Counters(storage)
        self.keyring = keys or KeyRing(clock=clock)
        # The storage's expiries follow time.time, so the waits must too (looked up at each call).
        self.clock = clock or (lambda: time.time())

    # Each counter's name under this period's key and the last one's: written under the first,
    # read under both, so nothing is forgotten when the key changes.
    def _names(self, kind: str, *parts: str) -> list[str]:
        message = "\x00".join((kind, *parts)).encode("utf-8", "replace")
        return [f"praatmee:login:{kind}:{hmac.new(key, message, hashlib.sha256).hexdigest()[:32]}"
                for key in self.keyring.keys()]

    def _total(self, names) -> int:
        return sum(self.counters.get(name) for name in names)

    def _last_failure(self, address: str, account: str) -> float | None:
        """When this address last failed for this account: the key expires ACCOUNT_WINDOW after it."""
        latest = None
        for name in self._names("last", address, account):
            if self.counters.get(name):
                at = self.counters.get_expiry(name) - ACCOUNT_WINDOW
                latest = at if latest is None else max(latest, at)
        return latest

    def wait_before_trying(self, address: str, email: str) -> Wait | None:
        """None when this address may try this account now (nothing is counted for asking)."""
        account, now = _account(email), self.clock()
        by_address = self._names("address", address)
        if self._total(by_address) >= ADDRESS_LIMIT:
            until = max(self.counters.get_expiry(name) for name in by_address if self.counters.get(name))
            if until - now > SLACK:
                return Wait(until, "address")
        last = self._last_failure(address, account)
        wait = wait_after(self._total(self._names("account", account))) if last is not None else 0
        if wait and last + wait - now > SLACK:
            return Wait(last + wait, "account")
        return None

    def failed(self, address: str, email: str) -> Wait | None:
        """Count a wrong password; returns what this address's next try for the account must wait."""
        account = _account(email)
        self.counters.incr(self._names("address", address)[0], ADDRESS_WINDOW)
        self.counters.incr(self._names("pair", address, account)[0], ADDRESS_WINDOW)
        self.counters.incr(self._names("account", account)[0], ACCOUNT_WINDOW)
        last = self._names("last", address, account)
        for name in last:
            self.counters.clear(name)
        self.counters.incr(last[0], ACCOUNT_WINDOW)  # re-made, so its expiry tells the time of this failure
        return self.wait_before_trying(address, email)

    def succeeded(self, address: str, email: str) -> None:
        """Forget this address's failures for this account (the account's own count stays)."""
        account = _account(email)
        by_address = self._names("address", address)
        for pair in self._names("pair", address, account):
            forgiven = min(self.counters.get(pair), self.counters.get(by_address[0]))
            if forgiven > 0:
                self.counters.incr(by_address[0], ADDRESS_WINDOW, -forgiven)
            self.counters.clear(pair)
        for name in self._names("last", address, account):
            self.counters.clear(name)


def _account(email: str) -> str:
    # The same for an unknown address as for a real one: the limits never tell which accounts exist.
    return (email or "").strip().lower()[:MAX_EMAIL]
