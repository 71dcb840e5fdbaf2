"""An outcome's text as residents read it: plain text with paragraphs and links, nothing else.

Staff type plain text; a blank line starts a paragraph, a line break stays a line break, and an
http(s) address becomes a link. Nothing is HTML: the pieces go to templates, which escape them.
No Flask in this module.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

# An address runs to the next space or character no URL needs here; punctuation that usually ends a
# sentence (".", ",", ")", …) is left out of the link when it comes last.
_URL = re.compile(r"https?://[^\s<>\"'`]+", re.IGNORECASE)
_TRAILING = ".,;:!?)]}»”’"


@dataclass(frozen=True)
class Piece:
    text: str
    href: str | None = None  # set for a link; `text` is then the address as typed


def _pieces(line: str) -> tuple[Piece, ...]:
    pieces: list[Piece] = []
    position = 0
    for match in _URL.finditer(line):
        url = match.group(0)
        while url and url[-1] in _TRAILING and not (url[-1] == ")" and url.count("(") >= url.count(")")):
            url = url[:-1]
        if len(url) <= len("https://"):
            continue
        start, end = match.start(), match.start() + len(url)
        if start > position:
            pieces.append(Piece(line[position:start]))
        pieces.append(Piece(url, url))
        position = end
    if position < len(line):
        pieces.append(Piece(line[position:]))
    return tuple(pieces)


def paragraphs(text: str) -> tuple[tuple[tuple[Piece, ...], ...], ...]:
    """Paragraphs, each a tuple of lines, each a tuple of pieces (text or link)."""
    blocks = [block for block in re.split(r"\n\s*\n", text.strip()) if block.strip()]
    return tuple(tuple(_pieces(line) for line in block.split("\n")) for block in blocks)


def urls(text: str) -> list[str]:
    """Every address `paragraphs` would link, in order (for counting a Mastodon post's length)."""
    return [piece.href for block in paragraphs(text) for line in block for piece in line if piece.href]


def shortened(text: str, limit: int) -> str:
    """`text` cut at a word boundary to at most `limit` characters, with "…" when it was cut."""
    if len(text) <= limit:
        return text
    if limit <= 1:
        return ""
    cut = text[:limit - 1]
    space = max(cut.rfind(" "), cut.rfind("\n"))
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" \n,;:") + "…"
