"""The city's clock: its timezone and "today", in one place.

Scan counts, campaign dates, KPI days and the times staff read are all Europe/Amsterdam days;
Babel's display timezone is set from `TIMEZONE_NAME` too. No Flask in this module.
"""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

TIMEZONE_NAME = "Europe/Amsterdam"
TIMEZONE = ZoneInfo(TIMEZONE_NAME)


def today() -> date:
    """The city's date now."""
    return datetime.now(TIMEZONE).date()


def local_day(moment: datetime) -> date:
    """The city's date at an aware moment."""
    return moment.astimezone(TIMEZONE).date()


def local_time(moment: datetime) -> str:
    """``2026-12-01 14:05`` in the city's time, for logs and exports staff read."""
    return moment.astimezone(TIMEZONE).strftime("%Y-%m-%d %H:%M")
