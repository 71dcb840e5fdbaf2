"""What a keyword message says: PRAATMEE with an optional campaign word, STOP, or something else.

PRAATMEE is recognised in any case, with spaces or punctuation ("praat mee", "Praatmee!"), with
accents or wide letters, and in a few common misspellings (PRAATME, PRATMEE). The campaign word is
what follows it, in the shape campaign keywords have (letters and digits, see `campaigns.rules`).
Only the message's first words are read, and nothing is kept. No Flask in this module.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

KEYWORD = "PRAATMEE"
# Read after case folding and without accents; the first is the real one.
SPELLINGS = ("praatmee", "praatme", "pratmee", "pratme", "praatmeee", "praatmei")
# STOP and what people and gateways use for it (Twilio's opt-out words among them).
STOP_WORDS = frozenset({"stop", "stopall", "stoppen", "afmelden", "uitschrijven", "unsubscribe", "cancel",
                        "end", "quit"})
READ_CHARACTERS = 320  # two SMS; anything longer is not a keyword message
KEYWORD_WITHIN = 3  # PRAATMEE may come after a greeting ("Hoi, praatmee bieb"), not later

Kind = Literal["keyword", "stop", "other"]


@dataclass(frozen=True)
class Parsed:
    kind: Kind
    # Campaign words to look up, best first: the words after PRAATMEE run together ("BIEB OOST" →
    # BIEBOOST), then the first of them alone ("BIEB graag" → BIEB). Empty: PRAATMEE on its own.
    words: tuple[str, ...] = ()


def _tokens(text: str) -> list[str]:
    folded = unicodedata.normalize("NFKD", text[:READ_CHARACTERS]).casefold()
    plain = "".join(char for char in folded if not unicodedata.combining(char))
    return re.findall(r"[a-z0-9]+", plain)


def _keyword_at(tokens: list[str], index: int) -> int:
    """How many tokens the keyword takes at `index` (0: it is not there)."""
    if tokens[index] in SPELLINGS:
        return 1
    if index + 1 < len(tokens) and tokens[index] + tokens[index + 1] in SPELLINGS:
        return 2
    return 0


def parse(text: str) -> Parsed:
    tokens = _tokens(text or "")
    if not tokens:
        return Parsed("other")
    if tokens[0] in STOP_WORDS and len(tokens) <= 2:
        return Parsed("stop")
    for index in range(min(KEYWORD_WITHIN, len(tokens))):
        taken = _keyword_at(tokens, index)
        if taken:
            rest = tokens[index + taken:]
            break
        glued = next((s for s in SPELLINGS if tokens[index].startswith(s) and tokens[index] != s), None)
        if glued and index == 0:  # "PRAATMEEBIEB"; the longest spelling comes first in SPELLINGS
            rest = [tokens[index][len(glued):], *tokens[index + 1:]]
            break
    else:
        # "P R A A T M E E": letters one by one.
        letters = 0
        while letters < len(tokens) and len(tokens[letters]) == 1:
            letters += 1
        if "".join(tokens[:letters]) not in SPELLINGS:
            return Parsed("other")
        rest = tokens[letters:]
    if rest and rest[0] in STOP_WORDS:
        return Parsed("stop")
    if not rest:
        return Parsed("keyword")
    words = ("".join(rest[:4]).upper(), rest[0].upper())
    return Parsed("keyword", tuple(dict.fromkeys(words)))
