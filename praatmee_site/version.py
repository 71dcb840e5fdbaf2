"""Who we are to the servers we call: the version, and the one User-Agent built from it.

No Flask in this module.
"""
from __future__ import annotations

__version__ = "0.1.0"


DEFAULT_PUBLIC_URL = "https://amsterdam.nl/praatmee"


def user_agent(public_url: str = DEFAULT_PUBLIC_URL) -> str:
    """``praatmee/0.1.0 (+https://amsterdam.nl/praatmee)``: the home server and every visitor-named
    server see the same name, with the page that explains who we are."""
    return f"praatmee/{__version__} (+{public_url})"
