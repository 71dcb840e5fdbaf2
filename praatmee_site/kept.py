"""Copies a worker keeps in memory (shaped threads, rendered pages), never more than a set number.

When full, the copy used longest ago makes room for the new one, instead of everything being
thrown away at once. A bound alone does not protect real copies from keys a visitor chooses (each
new key pushes the oldest out): callers keep such keys out, or in a `KeptCopies` of their own.
No Flask in this module.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Generic, Hashable, TypeVar

V = TypeVar("V")


class KeptCopies(Generic[V]):
    """At most ``size`` copies; when full, the one used longest ago makes room. Thread-safe."""

    def __init__(self, size: int):
        if size < 1:
            raise ValueError("size must be at least 1")
        self.size = size
        self._copies: OrderedDict[Hashable, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> V | None:
        with self._lock:
            value = self._copies.get(key)
            if value is not None:
                self._copies.move_to_end(key)
            return value

    def put(self, key: Hashable, value: V) -> None:
        with self._lock:
            self._copies[key] = value
            self._copies.move_to_end(key)
            while len(self._copies) > self.size:
                self._copies.popitem(last=False)

    def pop(self, key: Hashable) -> None:
        with self._lock:
            self._copies.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._copies.clear()

    def __len__(self) -> int:
        return len(self._copies)
