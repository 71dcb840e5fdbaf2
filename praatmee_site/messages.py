"""Messages are English msgids, translated where they are shown (`nl` is the default locale).

`N_` marks a msgid for extraction (pybabel knows it by default) without translating it: the
domain has no locale, so it hands msgids and their parameters to the web layer or the CLI, which
translate them. No Flask in this module.
"""
from __future__ import annotations


def N_(message: str) -> str:
    """Mark ``message`` for the catalog; translate it where it is shown."""
    return message
