"""A small cache for upstream JSON: fresh for a TTL, served stale when the upstream fails.

One fetch per key at a time (concurrent misses wait for it and share its answer). An optional
persistent store keeps the last good copy across restarts and gunicorn workers.
No Flask in this module.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Protocol


class UpstreamError(Exception):
    """Raised by a loader when the upstream gave nothing usable; lets the cache serve stale."""


@dataclass(frozen=True)
class Fetched:
    value: Any
    fetched_at: float
    stale: bool = False


class LastGoodStore(Protocol):
    def load(self, key: str) -> tuple[Any, float] | None: ...
    def save(self, key: str, value: Any, fetched_at: float) -> None: ...


@dataclass
class _Entry:
    value: Any
    fetched_at: float
    expires_at: float
    failed: bool = False  # the last refresh failed: what we hold is an older copy


class UpstreamCache:
    def __init__(self, *, store: LastGoodStore | None = None, clock: Callable[[], float] = time.time,
                 max_entries: int = 2048, refresh_in_background: bool = True):
        self.store = store
        self.refresh_in_background = refresh_in_background
        self.clock = clock
        self.max_entries = max_entries
        self._entries: dict[str, _Entry] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def _lock_for(self, key: str) -> threading.Lock:
        with self._guard:
            lock = self._locks.get(key)
            if lock is None:
                lock = self._locks[key] = threading.Lock()
            return lock

    def peek(self, key: str) -> Fetched | None:
        entry = self._entries.get(key)
        return Fetched(entry.value, entry.fetched_at, self.clock() >= entry.expires_at) if entry else None

    def get(self, key: str, load: Callable[[], Any], *, ttl: float) -> Fetched:
        entry = self._entries.get(key)
        if entry is not None and self.clock() < entry.expires_at:
            return Fetched(entry.value, entry.fetched_at)
        lock = self._lock_for(key)
        if entry is not None and self.refresh_in_background:
            # A warm page never waits for the upstream: refresh behind the scenes, serve what we have.
            if lock.acquire(blocking=False):
                threading.Thread(target=self._refresh_and_release, args=(key, load, ttl, lock),
                                 daemon=True).start()
            return Fetched(entry.value, entry.fetched_at, stale=entry.failed)
        with lock:
            return self._refresh(key, load, ttl)

    def _refresh_and_release(self, key: str, load: Callable[[], Any], ttl: float, lock: threading.Lock) -> None:
        try:
            self._refresh(key, load, ttl)
        except Exception:  # noqa: BLE001 - a background refresh must never kill the worker
            pass
        finally:
            lock.release()

    def _refresh(self, key: str, load: Callable[[], Any], ttl: float) -> Fetched:
        """Called with the key's lock held."""
        entry = self._entries.get(key)  # someone else may have refreshed it while we waited
        if entry is not None and self.clock() < entry.expires_at:
            return Fetched(entry.value, entry.fetched_at)
        try:
            value = load()
        except UpstreamError:
            if entry is None and self.store is not None:
                kept = self.store.load(key)
                if kept is not None:
                    entry = _Entry(kept[0], kept[1], 0.0)
            if entry is None:
                raise
            entry.failed = True
            self._remember(key, entry)
            return Fetched(entry.value, entry.fetched_at, stale=True)
        now = self.clock()
        self._remember(key, _Entry(value, now, now + ttl))
        if self.store is not None:
            self.store.save(key, value, now)
        return Fetched(value, now)

    def _remember(self, key: str, entry: _Entry) -> None:
        if len(self._entries) >= self.max_entries and key not in self._entries:
            # Keys come from our own configuration and campaigns, so this is a safety net only.
            oldest = min(self._entries, key=lambda k: self._entries[k].fetched_at)
            del self._entries[oldest]
        self._entries[key] = entry

    def clear(self) -> None:
        self._entries.clear()
