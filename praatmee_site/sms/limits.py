"""Limits on answering, so that a flood neither annoys a person nor runs up the city's bill.

- a gateway's retry (the same MessageSid, WhatsApp message id or CM reference) is answered once:
  its id is remembered for 24 hours;
- at most 3 answers per sender per hour, and 1 per identical message per minute (moving windows);
- at most PRAATMEE_SMS_REPLIES_PER_MINUTE answers per minute in all, over every gateway.

A sender is recognised by an HMAC of the number under a random key made anew every day and kept
only in memory or in the rate limiter's Redis (`staff.login_limits.KeyRing`, with keys of its own),
never on disk, so no file holds anything that leads back to a number. Names are read under the
day's key and the day before's, so a rotation forgets nothing early. With Redis every instance
counts against the same limits; when Redis fails, each process counts on its own for a while.
No Flask in this module.
"""
from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections import deque
from typing import Literal

from limits.storage import MemoryStorage, Storage

from ..staff.login_limits import Counters, KeyRing

SENDER_LIMIT, SENDER_WINDOW = 3, 3600
SAME_MESSAGE_LIMIT, SAME_MESSAGE_WINDOW = 1, 60
SEEN_FOR = 24 * 3600  # seconds a gateway's message id is remembered
CEILING_WINDOW = 60

Refusal = Literal["sender", "same_message", "ceiling"]


class _Counters(Counters):
    """`Counters` with the moving-window calls too (same fallback while the storage is away)."""

    def acquire_entry(self, key: str, limit: int, expiry: int) -> bool:
        return self._call("acquire_entry", key, limit, expiry)

    def get_moving_window(self, key: str, limit: int, expiry: int) -> tuple[float, int]:
        return self._call("get_moving_window", key, limit, expiry)


class LocalCounters:
    """The same calls in this process alone, for when the limiter counts in memory anyway.

    `limits`' MemoryStorage starts a timer thread to forget expired keys, up to a hundred a second
    under load; here what has expired is forgotten by the calls themselves (a sweep a minute), under
    one lock. Every entry expires (a day at most), so memory follows the messages of one day.
    """

    SWEEP_SECONDS = 60

    def __init__(self, clock=time.time):
        self.clock = clock
        self._counts: dict[str, tuple[int, float]] = {}  # name → (count, expires at)
        self._windows: dict[str, tuple[deque[float], float]] = {}  # name → (moments, expires at)
        self._lock = threading.Lock()
        self._sweep_at = 0.0

    def _sweep(self, now: float) -> None:
        if now < self._sweep_at:
            return
        self._sweep_at = now + self.SWEEP_SECONDS
        for table in (self._counts, self._windows):
            for name in [name for name, (_value, until) in table.items() if until <= now]:
                del table[name]

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        with self._lock:
            now = self.clock()
            self._sweep(now)
            count, until = self._counts.get(key, (0, 0.0))
            if until <= now:
                count, until = 0, now + expiry
            self._counts[key] = (count + amount, until)
            return count + amount

    def get(self, key: str) -> int:
        with self._lock:
            count, until = self._counts.get(key, (0, 0.0))
            return count if until > self.clock() else 0

    def _moments(self, key: str, expiry: int, now: float) -> deque[float]:
        moments = self._windows.get(key, (deque(), 0.0))[0]
        while moments and moments[0] <= now - expiry:
            moments.popleft()
        return moments

    def acquire_entry(self, key: str, limit: int, expiry: int) -> bool:
        with self._lock:
            now = self.clock()
            self._sweep(now)
            moments = self._moments(key, expiry, now)
            if len(moments) >= limit:
                return False
            moments.append(now)
            self._windows[key] = (moments, now + expiry)
            return True

    def get_moving_window(self, key: str, limit: int, expiry: int) -> tuple[float, int]:
        with self._lock:
            now = self.clock()
            moments = self._moments(key, expiry, now) if key in self._windows else deque()
            return (moments[0] if moments else now), len(moments)


class SenderLimits:
    def __init__(self, storage: Storage, keys: KeyRing, *, replies_per_minute: int):
        # In memory anyway: our own counters. Redis: its storage, with a fallback while it is away.
        self.counters = LocalCounters() if isinstance(storage, MemoryStorage) else _Counters(storage, what="sms limits")
        self.keyring = keys
        self.replies_per_minute = replies_per_minute

    def _names(self, kind: str, *parts: str) -> list[str]:
        """The counter's name under today's key, then yesterday's: an HMAC, never the number."""
        message = "\x00".join((kind, *parts)).encode("utf-8", "replace")
        return [f"praatmee:sms:{kind}:{hmac.new(key, message, hashlib.sha256).hexdigest()[:32]}"
                for key in self.keyring.keys()]

    def first_delivery(self, gateway: str, message_id: str) -> bool:
        """True the first time a gateway delivers this message id (in 24 hours); False for a retry."""
        if not message_id:
            return True
        names = self._names("seen", gateway, message_id)
        if any(self.counters.get(name) for name in names[1:]):
            return False
        return self.counters.incr(names[0], SEEN_FOR) == 1

    def refusal(self, sender: str, text: str) -> Refusal | None:
        """None, and the answer is counted against the limits; else the limit that says no."""
        same = " ".join(text.split()).casefold()
        if not self._acquire(self._names("same", sender, same), SAME_MESSAGE_LIMIT, SAME_MESSAGE_WINDOW):
            return "same_message"
        if not self._acquire(self._names("sender", sender), SENDER_LIMIT, SENDER_WINDOW):
            return "sender"
        if not self.counters.acquire_entry("praatmee:sms:ceiling", self.replies_per_minute, CEILING_WINDOW):
            return "ceiling"
        return None

    def _acquire(self, names: list[str], limit: int, window: int) -> bool:
        # What the day before's key still holds counts against today's room.
        used = sum(self.counters.get_moving_window(name, limit, window)[1] for name in names[1:])
        return limit - used > 0 and self.counters.acquire_entry(names[0], limit - used, window)
