"""The login limits' own rules, without the web layer: the back-off curve and the daily hashing key.

What staff and guessers experience through the login form is in test_staff.py.
"""
from __future__ import annotations

import time

import pytest
from limits.storage import MemoryStorage

from praatmee_site.staff.login_limits import KEY_PERIOD, LoginLimits, wait_after

EMAIL = "medewerker@amsterdam.test"


@pytest.fixture
def clock(monkeypatch):
    """time.time under the test's control, for the storage's expiries and the limits alike."""
    class Clock:
        now = (int(time.time() // KEY_PERIOD) + 1) * KEY_PERIOD - 120  # two minutes before a new key

        def __call__(self):
            return self.now
    fake = Clock()
    monkeypatch.setattr(time, "time", fake)
    return fake


def test_the_wait_doubles_from_30_seconds_to_at_most_15_minutes():
    assert [wait_after(n) for n in (0, 4, 5, 6, 7, 8, 9, 10, 11, 10**6)] == [0, 0, 30, 60, 120, 240, 480, 900, 900, 900]


def test_failures_still_count_after_the_hashing_key_changes(clock):
    limits = LoginLimits(MemoryStorage())
    for _ in range(5):
        limits.failed("198.51.100.1", EMAIL)
    names_before = set(limits.counters.storage.storage)
    clock.now += 130  # past the day's end: a new key
    assert limits.wait_before_trying("198.51.100.1", EMAIL) is None  # its 30 seconds are over
    limits.failed("198.51.100.1", EMAIL)  # the 6th failure of the account, counted across both keys
    wait = limits.wait_before_trying("198.51.100.1", EMAIL)
    assert wait is not None and wait.seconds(clock.now) == 60
    # The same address gets names no one can match with yesterday's.
    assert set(limits.counters.storage.storage) - names_before
    assert limits.wait_before_trying("203.0.113.7", EMAIL) is None  # a clean address never waits


def test_a_key_from_two_days_ago_is_forgotten(clock):
    limits = LoginLimits(MemoryStorage())
    limits.failed("198.51.100.1", EMAIL)
    first = limits.keyring.keys()
    clock.now += 2 * KEY_PERIOD + 130
    assert not set(first) & set(limits.keyring.keys())
