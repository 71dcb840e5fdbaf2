"""A small cache for upstream JSON: fresh for a TTL, served stale when the upstream fails.

One fetch per key at a time (concurrent misses wait for it and share its answer). An optional
persistent store keeps the last good copy across restarts and gunicorn workers. An optional shared
tier (Redis: `shared_cache.py`) shares entries between processes and hosts, and its lock stretches
"one fetch per key" over all of them; while the tier cannot be reached, each process goes on alone.
No Flask in this module.
"""
from __future__ import annotations

import contextlib
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Protocol

log = logging.getLogger(__name__)


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


class SharedTierUnavailable(Exception):
    """The shared tier cannot be reached now; the cache carries on with what this process has."""


@dataclass(frozen=True)
class SharedEntry:
    value: Any
    fetched_at: float
    expires_at: float


class SharedTier(Protocol):
    """Entries, a lock per key and failure notes that every process sees. Each call may raise
    `SharedTierUnavailable`."""

    lock_seconds: float  # how long a lock holder may take; waiters give up after that

    def read(self, key: str) -> SharedEntry | None: ...
    def write(self, key: str, entry: SharedEntry) -> None: ...
    def try_lock(self, key: str) -> str | None: ...  # a token, or None: another process holds it
    def unlock(self, key: str, token: str) -> None: ...
    def note_failure(self, key: str, at: float) -> None: ...
    def failed_at(self, key: str) -> float | None: ...


@dataclass
class _Entry:
    value: Any
    fetched_at: float
    expires_at: float
    failed: bool = False  # the last refresh failed: what we hold is an older copy


class UpstreamCache:
    def __init__(self, *, store: LastGoodStore | None = None, clock: Callable[[], float] = time.time,
                 max_entries: int = 2048, refresh_in_background: bool = True, shared: SharedTier | None = None,
                 unavailable: Callable[[str], Exception] = UpstreamError, wait_interval: float = 0.02):
        self.store = store
        self.refresh_in_background = refresh_in_background
        self.clock = clock
        self.max_entries = max_entries
        self.shared = shared
        # Raised when another process's fetch failed and nothing is kept: the caller's own error type.
        self.unavailable = unavailable
        self.wait_interval = wait_interval
        self._entries: dict[str, _Entry] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def _lock_for(self, key: str) -> threading.Lock:
        with self._guard:
            lock = self._locks.get(key)
            if lock is None:
                if len(self._locks) > 4 * self.max_entries:
                    # Forget locks nobody holds; keys are our own URLs, so this is a safety net.
                    self._locks = {k: held for k, held in self._locks.items() if held.locked()}
                lock = self._locks[key] = threading.Lock()
            return lock

    def get(self, key: str, load: Callable[[], Any], *, ttl: float) -> Fetched:
        entry = self._entries.get(key)
        if entry is not None and self.clock() < entry.expires_at:
            return Fetched(entry.value, entry.fetched_at)
        entry = self._newer_shared(key, entry)  # another process may have refreshed it
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
            self._refresh(key, load, ttl, wait=False)
        except UpstreamError:
            pass  # the stale copy stays; the failure is already noted on the entry
        except Exception:  # noqa: BLE001 - a background refresh must never kill the worker
            log.warning("background refresh of %s failed", key, exc_info=True)
        finally:
            lock.release()

    def _refresh(self, key: str, load: Callable[[], Any], ttl: float, *, wait: bool = True) -> Fetched | None:
        """Called with the key's lock held. With `wait=False` (a background refresh) it leaves the
        key alone when another process is already fetching it, and returns None."""
        entry = self._entries.get(key)  # someone else may have refreshed it while we waited
        if entry is not None and self.clock() < entry.expires_at:
            return Fetched(entry.value, entry.fetched_at)
        if self.shared is not None:
            try:
                return self._refresh_shared(key, load, ttl, entry, wait)
            except SharedTierUnavailable:
                entry = self._entries.get(key)  # on our own, as without a shared tier
        return self._load(key, load, ttl, entry)

    def _refresh_shared(self, key: str, load: Callable[[], Any], ttl: float, entry: _Entry | None,
                        wait: bool) -> Fetched | None:
        """One process fetches (the lock holder); the others wait for its answer, or for its failure."""
        shared = self.shared
        assert shared is not None
        asked_at = self.clock()
        deadline = time.monotonic() + shared.lock_seconds
        first = True
        while True:
            current = shared.read(key)
            if current is not None and self.clock() < current.expires_at:
                return self._adopt(key, current)
            if not first and self._failed_elsewhere(key, asked_at):
                return self._fall_back(key, entry)
            token = shared.try_lock(key)
            if token is not None:
                try:
                    # Between our read and the lock, the last holder may have finished.
                    current = shared.read(key)
                    if current is not None and self.clock() < current.expires_at:
                        return self._adopt(key, current)
                    if not first and self._failed_elsewhere(key, asked_at):
                        return self._fall_back(key, entry)
                    return self._load(key, load, ttl, entry, shared_lock=True)
                finally:
                    with contextlib.suppress(SharedTierUnavailable):
                        shared.unlock(key, token)
            if not wait:
                return None  # a background refresh: the holder will share its answer
            if time.monotonic() >= deadline:
                return self._fall_back(key, entry)
            first = False
            time.sleep(self.wait_interval)

    def _failed_elsewhere(self, key: str, since: float) -> bool:
        assert self.shared is not None
        failed = self.shared.failed_at(key)
        return failed is not None and failed >= since

    def _load(self, key: str, load: Callable[[], Any], ttl: float, entry: _Entry | None, *,
              shared_lock: bool = False) -> Fetched:
        try:
            value = load()
        except UpstreamError:
            if shared_lock:
                self._quietly(lambda shared: shared.note_failure(key, self.clock()))
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
        self._quietly(lambda shared: shared.write(key, SharedEntry(value, now, now + ttl)))
        if self.store is not None:
            self.store.save(key, value, now)
        return Fetched(value, now)

    def _fall_back(self, key: str, entry: _Entry | None) -> Fetched:
        """The process that fetched got nothing (or took too long): serve what is there, never ask again."""
        if entry is None and self.store is not None:
            kept = self.store.load(key)
            if kept is not None:
                entry = _Entry(kept[0], kept[1], 0.0)
        if entry is None:
            raise self.unavailable("the upstream answered another process with an error, and nothing is kept")
        entry.failed = True
        self._remember(key, entry)
        return Fetched(entry.value, entry.fetched_at, stale=True)

    def _newer_shared(self, key: str, entry: _Entry | None) -> _Entry | None:
        if self.shared is None:
            return entry
        try:
            current = self.shared.read(key)
        except SharedTierUnavailable:
            return entry
        # Only a newer copy: ours may be the same one, marked failed by our own refresh.
        if current is None or (entry is not None and current.fetched_at <= entry.fetched_at):
            return entry
        adopted = _Entry(current.value, current.fetched_at, current.expires_at)
        self._remember(key, adopted)
        return adopted

    def _adopt(self, key: str, current: SharedEntry) -> Fetched:
        self._remember(key, _Entry(current.value, current.fetched_at, current.expires_at))
        return Fetched(current.value, current.fetched_at)

    def _quietly(self, action: Callable[[SharedTier], None]) -> None:
        """Tell the shared tier, if it is there; the page does not depend on it."""
        if self.shared is not None:
            with contextlib.suppress(SharedTierUnavailable):
                action(self.shared)

    def _remember(self, key: str, entry: _Entry) -> None:
        if len(self._entries) >= self.max_entries and key not in self._entries:
            # Keys come from our own configuration and campaigns, so this is a safety net only.
            oldest = min(self._entries, key=lambda k: self._entries[k].fetched_at)
            del self._entries[oldest]
        self._entries[key] = entry

    def clear(self) -> None:
        self._entries.clear()
