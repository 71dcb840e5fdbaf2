"""Posters (A4, A3, A6 table card), the handout, social images and the bare QR code of a campaign.

Everything is drawn with Pillow at 300 dpi; a PDF is that raster on a page of the exact paper size.
No Flask and no translation here: the caller hands over text that is already in the right language.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from html import escape
from pathlib import Path
from typing import Literal, TypeVar

import qrcode
from PIL import Image, ImageDraw, ImageFont
from qrcode.constants import ERROR_CORRECT_Q

Size = Literal["A4", "A3", "A6"]
Format = Literal["pdf", "png", "svg"]
SocialKind = Literal["square", "story"]
HandoutSheet = Literal["A4", "A5"]

SIZES: tuple[str, ...] = ("A4", "A3", "A6")
FORMATS: tuple[str, ...] = ("pdf", "png", "svg")
SOCIAL_KINDS: tuple[str, ...] = ("square", "story")
HANDOUT_SHEETS: tuple[str, ...] = ("A4", "A5")

DPI = 300
QUIET_ZONE = 4  # modules of white around the symbol, as ISO/IEC 18004 asks

FONT_DIR = Path(__file__).parent.parent / "static" / "fonts"

WHITE = (255, 255, 255)
INK = (0x18, 0x18, 0x18)
CITY_RED = (0xEC, 0x00, 0x00)  # identity only: the crosses and the band, never text
# Pure black rather than INK: printers set #181818 as a halftone, which frays the module edges.
QR_DARK = (0, 0, 0)
CUT_MARK = (0xB4, 0xB4, 0xB4)

# Paper at 300 dpi, portrait (width, height).
_PAPER_PX = {"A3": (3508, 4961), "A4": (2480, 3508), "A5": (1748, 2480), "A6": (1240, 1748)}
# The smallest the symbol itself may print (quiet zone not counted): 6 cm on A4, 9 cm on A3, 4 cm
# on the cards that are scanned from close by.
_QR_MIN_SYMBOL_PX = {"A4": 709, "A3": 1063, "A6": 473}
# The handout's cards are held in the hand, about 0.3 m from the phone: 3 cm.
_HANDOUT_QR_MIN_SYMBOL_PX = 355

# How far away each product is read from, in metres. No headline is set smaller than capitals of
# 1/170 of that distance (Liberation Sans' capitals are 0.73 em): about 14 pt on A4 at 0.6 m,
# 21 pt on A3 at 0.9 m and 9.5 pt on the cards at 0.4 m. Social images are seen on a phone's
# screen, about 7 cm wide at 0.3 m: no headline there under 40 px of 1080.
READING_DISTANCE_M = {"A4": 0.6, "A3": 0.9, "A6": 0.4, "handout": 0.4}
_SOCIAL_FLOOR_PX = 40


def _readable_px(distance_m: float) -> int:
    return math.ceil(distance_m * 1000 / 170 / 0.729 / 25.4 * DPI)


# --- what the caller hands over ----------------------------------------------------------------


@dataclass(frozen=True)
class PosterText:
    """One language's wording, already translated by the caller."""

    headline: str  # the campaign's call to action, e.g. "Stel je vraag aan het Innovatieteam"
    why: str = ""  # one line on why: "Praat mee met de gemeente op Mastodon — eerst lezen mag ook"
    signup: str = ""  # "Account aanmaken kost 2 minuten"
    sms: str | None = None  # "Stuur PRAATMEE naar 4444", or None for no SMS line
    steps: tuple[str, ...] = ()  # the numbered steps of the handout (four, ideally)
    tagline: str = ""  # "Praat mee op Mastodon", for the social images

    def __post_init__(self) -> None:
        if not self.headline.strip():
            raise ValueError("a poster needs a headline (the campaign's call to action)")


@dataclass(frozen=True)
class PosterSpec:
    """One campaign's printed matter; two texts (nl, en) make the bilingual variant."""

    url: str  # what the QR encodes: f"{PRAATMEE_PUBLIC_URL}/c/{slug}", nothing longer
    short_link: str  # printed large, to type by hand: "amsterdam.nl/praatmee"
    texts: tuple[PosterText, ...]
    city: str = "Gemeente Amsterdam"

    def __post_init__(self) -> None:
        if not self.url.startswith(("https://", "http://")):
            raise ValueError(f"the QR code must encode an http(s) URL, not {self.url!r}")
        if not self.short_link.strip():
            raise ValueError("a poster needs the short link to type by hand")
        if len(self.texts) not in (1, 2):
            raise ValueError(f"a poster has one or two languages, not {len(self.texts)}")


# --- what a layout says ------------------------------------------------------------------------


@dataclass(frozen=True)
class Box:
    """A rectangle in pixels; x1 and y1 are exclusive."""

    x0: int
    y0: int
    x1: int
    y1: int

    @property
    def width(self) -> int:
        return self.x1 - self.x0

    @property
    def height(self) -> int:
        return self.y1 - self.y0

    def contains(self, other: Box) -> bool:
        return (
            self.x0 <= other.x0
            and self.y0 <= other.y0
            and other.x1 <= self.x1
            and other.y1 <= self.y1
        )

    def overlaps(self, other: Box) -> bool:
        return (
            self.x0 < other.x1
            and other.x0 < self.x1
            and self.y0 < other.y1
            and other.y0 < self.y1
        )


@dataclass(frozen=True)
class Line:
    """One line of text as drawn; (x, y) is the left end of its ascender line."""

    text: str
    x: int
    y: int
    px: int  # font size in pixels; at 300 dpi one point is 300/72 px
    bold: bool
    ink: Box  # the pixels its glyphs cover


@dataclass(frozen=True)
class TextBlock:
    role: str  # "city", "headline", "why", "link", "footer", "tagline" or "steps"
    px: int  # the block's size after shrinking to fit (the first language's, if two)
    lines: tuple[Line, ...]
    ink: Box


@dataclass(frozen=True)
class QrPlacement:
    box: Box  # the symbol and its quiet zone
    module_px: int
    matrix: tuple[tuple[bool, ...], ...]  # the symbol without quiet zone; True is dark

    @property
    def symbol(self) -> Box:
        inset = QUIET_ZONE * self.module_px
        box = self.box
        return Box(box.x0 + inset, box.y0 + inset, box.x1 - inset, box.y1 - inset)


@dataclass(frozen=True)
class Layout:
    """Where everything goes on one page, card or image; painting only follows it."""

    width: int
    height: int
    content: Box  # inside the margins: all text and the QR stay within it
    blocks: tuple[TextBlock, ...]
    qr: QrPlacement | None
    crosses: tuple[Box, ...]  # the three St. Andrew's crosses, stacked
    band: Box | None  # the red band along the bottom edge

    def block(self, role: str) -> TextBlock | None:
        return next((block for block in self.blocks if block.role == role), None)


# --- the public entries ------------------------------------------------------------------------


def render(spec: PosterSpec, size: Size, fmt: Format) -> bytes:
    """The poster of `size` as PDF or PNG (300 dpi); "svg" is the bare QR at the poster's size."""
    _check("size", size, SIZES)
    _check("format", fmt, FORMATS)
    if fmt == "svg":
        # The bare QR as a vector, printed at (at least) the poster's minimum QR size. It needs no
        # text layout, so it is quick; being a vector, it scales up without loss.
        modules = len(_qr_matrix(spec.url))
        module_px = -(-_QR_MIN_SYMBOL_PX[size] // modules)
        width_mm = module_px * (modules + 2 * QUIET_ZONE) / DPI * 25.4
        svg = qr_svg(spec.url, label=spec.url, width_mm=width_mm)
        return f'<?xml version="1.0" encoding="UTF-8"?>\n{svg}\n'.encode()
    image = _paint(poster_layout(spec, size))
    return _pdf(image, title=spec.texts[0].headline) if fmt == "pdf" else _png(image)


def qr_svg(url: str, label: str, *, width_mm: float | None = None) -> str:
    """The QR code (level Q, quiet zone of 4 modules) as an <svg> element to inline in HTML.

    Only a viewBox, so CSS decides the size; colours are fill attributes because the site's CSP
    forbids style attributes. `width_mm` adds a printed size, for a standalone file.
    """
    matrix = _qr_matrix(url)
    side = len(matrix) + 2 * QUIET_ZONE
    path = "".join(
        f"M{start + QUIET_ZONE} {y + QUIET_ZONE}h{length}v1h-{length}z"
        for y, row in enumerate(matrix)
        for start, length in _dark_runs(row)
    )
    label = escape(label, quote=True)
    size = f' width="{width_mm:.1f}mm" height="{width_mm:.1f}mm"' if width_mm else ""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {side} {side}"{size} role="img"'
        f' aria-label="{label}" shape-rendering="crispEdges"><title>{label}</title>'
        f'<rect width="{side}" height="{side}" fill="#fff"/><path fill="#000" d="{path}"/></svg>'
    )


def qr_png(url: str, *, module_px: int = 20) -> bytes:
    """The bare QR code as a black-and-white PNG, `module_px` pixels a module, tagged 300 dpi."""
    if module_px < 1:
        raise ValueError(f"module_px must be at least 1, not {module_px}")
    matrix = _qr_matrix(url)
    side = (len(matrix) + 2 * QUIET_ZONE) * module_px
    image = Image.new("1", (side, side), 255)
    placement = QrPlacement(Box(0, 0, side, side), module_px, matrix)
    _draw_qr(ImageDraw.Draw(image), placement, dark=0, light=255)
    return _png(image)


def handout_pdf(spec: PosterSpec, sheet: HandoutSheet = "A4") -> bytes:
    """A6 handout cards to cut: four on an A4 sheet, or two on an A5 sheet (landscape).

    With two languages the cards alternate between them.
    """
    _check("sheet", sheet, HANDOUT_SHEETS)
    cards = [_paint(handout_card_layout(spec, language)) for language in range(len(spec.texts))]
    card_w, card_h = _PAPER_PX["A6"]
    if sheet == "A4":
        (width, height), rows = _PAPER_PX["A4"], 2
    else:
        (height, width), rows = _PAPER_PX["A5"], 1
    page = Image.new("RGB", (width, height), WHITE)
    top = (height - rows * card_h) // 2  # A6 is a hair shorter than half an A4
    for row in range(rows):
        for column in range(2):
            page.paste(cards[column % len(cards)], (column * card_w, top + row * card_h))
    # Light dashed cut lines between the cards; the sheet's own edges are the outer cuts.
    draw = ImageDraw.Draw(page)
    dash = 24
    for y in range(0, height, 2 * dash):
        draw.rectangle((card_w - 1, y, card_w, y + dash - 1), fill=CUT_MARK)
    for row in range(1, rows):
        y = top + row * card_h
        for x in range(0, width, 2 * dash):
            draw.rectangle((x, y - 1, x + dash - 1, y), fill=CUT_MARK)
    return _pdf(page, title=spec.texts[0].headline)


def social_png(spec: PosterSpec, kind: SocialKind = "square", with_qr: bool = False) -> bytes:
    """The campaign's image for social media: call to action, tagline, short link; QR on request."""
    return _png(_paint(social_layout(spec, kind, with_qr)), dpi=None)


def poster_layout(spec: PosterSpec, size: Size) -> Layout:
    """The poster of `size` at 300 dpi: A4 and A3 posters, or the A6 table card."""
    _check("size", size, SIZES)
    return _layout(_poster_design(spec, size), spec.url, spec.city)


def handout_card_layout(spec: PosterSpec, language: int = 0) -> Layout:
    """One A6 handout card in the language of `spec.texts[language]`."""
    return _layout(_card_design(spec, spec.texts[language]), spec.url, spec.city)


def social_layout(spec: PosterSpec, kind: SocialKind = "square", with_qr: bool = False) -> Layout:
    """A social image: square 1080×1080 or story 1080×1920."""
    _check("kind", kind, SOCIAL_KINDS)
    return _layout(_social_design(spec, kind, with_qr), spec.url, spec.city)


# What a campaign's call to action is printed on, as the rules name it: (product, size or kind).
PRODUCTS: tuple[tuple[str, str], ...] = (
    ("poster", "A4"), ("poster", "A3"), ("poster", "A6"), ("handout", "A6"),
    ("social", "square"), ("social", "story"),
)


def fit_problems(headlines: tuple[str, ...]) -> list[tuple[str, str]]:
    """The PRODUCTS on which these calls to action cannot be set at a readable size.

    One headline is a one-language product; two are the bilingual one (the handout has a card per
    language, so it is checked for one headline only). The answer holds whatever the other texts,
    the SMS line and the URL are: it is checked against the last arrangement `_layout` tries, with
    every other block at the most room it may take. Campaign rules call this, so every call to
    action they accept renders on every product.
    """
    headlines = tuple(dict.fromkeys(text for text in headlines if text.strip()))
    if not headlines:
        return []
    spec = PosterSpec("https://example.org/c/xx", "x", tuple(PosterText(text, steps=("x",)) for text in headlines))
    problems = []
    for product, option in PRODUCTS:
        if product == "handout" and len(headlines) > 1:
            continue
        if product == "poster":
            design = _poster_design(spec, option)
        elif product == "handout":
            design = _card_design(spec, spec.texts[0])
        else:
            design = _social_design(spec, option, with_qr=True)
        headline = next(item for item in design.flow if isinstance(item, _Slot) and item.cap is None)
        fitted = _set(headline, headline.floor_px or headline.min_px, _content(design).width, True)
        if _within(fitted, _guaranteed_headline_room(design)) is None:
            problems.append((product, option))
    return problems


def _check(what: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ValueError(f"unknown {what} {value!r}: choose one of {', '.join(allowed)}")


# --- the designs -------------------------------------------------------------------------------
# A design is a vertical flow of text blocks, at most one QR, and springs that share the height
# left over. Sizes are pixels at the output's resolution.


@dataclass(frozen=True)
class _Para:
    text: str
    bold: bool = False
    scale: float = 1.0  # relative to the block's size: the second language is a little smaller
    number: str = ""  # "1." for a step; the text hangs beside it


@dataclass(frozen=True)
class _Slot:
    """A text block; the one without a cap (the headline) takes the room the others leave."""

    role: str
    paras: tuple[_Para, ...]
    max_px: int
    min_px: int
    cap: int | None = None  # the most height it may take
    gap_before: int = 0
    ratio: float | None = None  # its size at most this fraction of the headline's
    align: Literal["left", "center"] = "left"
    leading: float = 1.18
    # The headline only: the smallest size still readable from the product's distance, used as a
    # last resort once every droppable block is gone (the rules guarantee the fit at this size).
    floor_px: int | None = None
    drop: int = 0  # 0: always shown; 1, 2: left out (1 first) when the headline needs the room


@dataclass(frozen=True)
class _QrSlot:
    outer: int  # the wanted width, quiet zone included
    min_symbol: int  # how small it may get when the text needs the room (quiet zone not counted)
    gap_before: int


_SPRING = "spring"


@dataclass(frozen=True)
class _Design:
    width: int
    height: int
    side: int
    top: int
    bottom: int  # white space between the content and the band (or the edge)
    band: int
    crosses: int  # height of the stack of three crosses
    city_px: tuple[int, int]  # largest and smallest size of the city's name
    flow: tuple[_Slot | _QrSlot | str, ...]


def _poster_design(spec: PosterSpec, size: str) -> _Design:
    width, height = _PAPER_PX[size]
    s = width / 2480  # drawn for A4 and scaled with the paper: an A3 is read from further away
    t = s * (1.2 if size == "A6" else 1.0)  # a table card is read from close by: larger type

    def px(value: float, scale: float = t) -> int:
        return round(value * scale)

    # The second language comes after the first, a little smaller and never bold.
    def in_both(attribute: str, bold: bool, second_scale: float) -> tuple[_Para, ...]:
        return tuple(
            _Para(value, bold=bold and index == 0, scale=1.0 if index == 0 else second_scale)
            for index, text in enumerate(spec.texts)
            if (value := getattr(text, attribute)).strip()
        )

    footer: list[_Para] = []
    for index, text in enumerate(spec.texts):
        scale = 1.0 if index == 0 else 0.85
        if text.signup.strip():
            footer.append(_Para(text.signup, bold=index == 0, scale=scale))
        if text.sms and text.sms.strip():
            footer.append(_Para(text.sms, scale=scale))

    flow: list[_Slot | _QrSlot | str] = [
        _Slot(
            "headline", _headlines(spec, second_scale=0.78),
            max_px=px(300), min_px=px(84, s), floor_px=_readable_px(READING_DISTANCE_M[size]),
            gap_before=px(100, s), leading=1.12,
        ),
    ]
    if why := in_both("why", bold=False, second_scale=0.85):
        flow.append(_Slot(
            "why", why, max_px=px(112), min_px=px(62), cap=px(2 * 135 * len(why)),
            gap_before=px(50, s), ratio=0.45, drop=1,
        ))
    flow += [
        _SPRING,
        _QrSlot(
            outer=round(width * (0.5 if size == "A6" else 0.4)),
            min_symbol=_QR_MIN_SYMBOL_PX[size],
            gap_before=px(60, s),
        ),
        _Slot(
            "link", (_Para(spec.short_link, bold=True),), max_px=px(170), min_px=px(84),
            cap=px(210), gap_before=px(20, s), align="center",
        ),
    ]
    if footer:
        flow += [
            _SPRING,
            _Slot(
                "footer", tuple(footer), max_px=px(100), min_px=px(60),
                cap=px(125 * len(footer) + 100), gap_before=px(60, s), ratio=0.4, drop=2,
            ),
        ]
    return _Design(
        width=width, height=height, side=px(150, s), top=px(150, s), bottom=px(100, s),
        band=px(120, s), crosses=px(250, s), city_px=(px(90), px(40)), flow=tuple(flow),
    )


def _headlines(spec: PosterSpec, second_scale: float) -> tuple[_Para, ...]:
    """The call to action in each language; an English one that is the Dutch text is shown once."""
    seen: list[str] = []
    for text in spec.texts:
        if text.headline not in seen:
            seen.append(text.headline)
    return tuple(
        _Para(text, bold=index == 0, scale=1.0 if index == 0 else second_scale)
        for index, text in enumerate(seen)
    )


def _card_design(spec: PosterSpec, text: PosterText) -> _Design:
    width, height = _PAPER_PX["A6"]
    if not text.steps:
        raise ValueError("the handout needs its numbered steps (PosterText.steps) in each language")
    steps = tuple(_Para(step, number=f"{n}.") for n, step in enumerate(text.steps, start=1))
    flow = (
        _Slot(
            "headline", (_Para(text.headline, bold=True),), max_px=96, min_px=44,
            floor_px=_readable_px(READING_DISTANCE_M["handout"]), gap_before=50, leading=1.12,
        ),
        _SPRING,
        _QrSlot(outer=round(width * 0.46), min_symbol=_HANDOUT_QR_MIN_SYMBOL_PX, gap_before=30),
        _Slot(
            "link", (_Para(spec.short_link, bold=True),), max_px=76, min_px=40, cap=100,
            gap_before=10, align="center",
        ),
        _SPRING,
        # The steps are what the card is for: they get their room before the headline does.
        _Slot("steps", steps, max_px=50, min_px=36, cap=400, gap_before=30),
    )
    # Generous margins: the card is cut by hand, and office printers do not print to the edge.
    return _Design(
        width=width, height=height, side=95, top=95, bottom=70, band=0, crosses=120,
        city_px=(46, 26), flow=flow,
    )


def _social_design(spec: PosterSpec, kind: str, with_qr: bool) -> _Design:
    story = kind == "story"
    width, height = (1080, 1920) if story else (1080, 1080)
    headline = _headlines(spec, second_scale=0.75)
    taglines = tuple(
        _Para(text.tagline, bold=index == 0, scale=1.0 if index == 0 else 0.85)
        for index, text in enumerate(spec.texts)
        if text.tagline.strip()
    )
    flow: list[_Slot | _QrSlot | str] = [
        _SPRING,
        _Slot(
            "headline", headline, max_px=140 if story else 110, min_px=44,
            floor_px=_SOCIAL_FLOOR_PX, gap_before=40, leading=1.12,
        ),
    ]
    if taglines:
        flow.append(_Slot(
            "tagline", taglines, max_px=64 if story else 54, min_px=34, cap=200, gap_before=36,
            ratio=0.6, drop=1,
        ))
    flow.append(_SPRING)
    if with_qr:
        flow.append(_QrSlot(
            outer=560 if story else 360, min_symbol=400 if story else 200, gap_before=10,
        ))
    flow.append(_Slot(
        "link", (_Para(spec.short_link, bold=True),), max_px=76 if story else 64, min_px=32,
        cap=110 if story else 90, gap_before=20,
    ))
    # A story keeps clear of the strips at the top and bottom where the apps put their buttons.
    return _Design(
        width=width, height=height, side=80 if story else 60, top=270 if story else 80,
        bottom=250 if story else 50, band=30, crosses=120 if story else 84, city_px=(46, 26),
        flow=tuple(flow),
    )


# --- laying out --------------------------------------------------------------------------------


def _layout(design: _Design, url: str, city: str) -> Layout:
    content = _content(design)
    width = content.width
    crosses, city_block = _header(design, content, city)

    # The headline's size is the one knob: the other blocks follow it (up to `ratio` of it, so the
    # headline stays the largest) and the largest headline that leaves room for them wins. Only if
    # even the smallest headline does not fit does the QR shrink to its minimum, and only after
    # that are long words broken between letters. Then the droppable blocks go, one rank at a time,
    # and last of all the headline may go down to its floor: the smallest size still readable from
    # the product's distance. `fit_problems` holds the rules to that last arrangement.
    qr_index = next((i for i, item in enumerate(design.flow) if isinstance(item, _QrSlot)), None)
    matrix = _qr_matrix(url) if qr_index is not None else ()
    qr_side = len(matrix) + 2 * QUIET_ZONE  # in modules
    module_choices: tuple[int, ...] = (0,)
    if qr_index is not None:
        qr_slot = design.flow[qr_index]
        smallest = -(-qr_slot.min_symbol // len(matrix))
        preferred = max(smallest, qr_slot.outer // qr_side)
        module_choices = (preferred, smallest) if smallest < preferred else (preferred,)
    all_slots = {index: item for index, item in enumerate(design.flow) if isinstance(item, _Slot)}
    (headline_index,) = (index for index, slot in all_slots.items() if slot.cap is None)
    headline_slot = all_slots[headline_index]
    settled: dict[tuple[int, int], _Fitted] = {}

    def arrangement(
        px: int, break_words: bool, module_px: int, shown: dict[int, _Slot], room: int
    ) -> dict[int, _Fitted] | None:
        fitted: dict[int, _Fitted] = {}
        for index, slot in shown.items():
            if index != headline_index:
                limit = round(slot.ratio * px) if slot.ratio else slot.max_px
                if (index, limit) not in settled:
                    settled[index, limit] = _fit(slot, width, slot.cap, limit)
                fitted[index] = settled[index, limit]
        left = room - qr_side * module_px - sum(block.height for block in fitted.values())
        headline = _within(_set(headline_slot, px, width, break_words), left)
        return None if headline is None else {**fitted, headline_index: headline}

    fitted = None
    for dropped, low in _levels(design):
        flow = _shown(design, dropped)
        shown = {index: item for index, item in flow if isinstance(item, _Slot)}
        room = content.height - design.crosses - sum(
            item.gap_before for _, item in flow if not isinstance(item, str)
        )
        for break_words, module_px in ((b, m) for b in (False, True) for m in module_choices):
            fitted = _largest(
                low, headline_slot.max_px,
                lambda px: arrangement(px, break_words, module_px, shown, room),
            )
            if fitted is not None:
                break
        if fitted is not None:
            break
    else:
        raise _too_long(headline_slot)

    heights = {index: block.height for index, block in fitted.items()}
    if qr_index is not None:
        heights[qr_index] = qr_side * module_px
    springs = sum(1 for _, item in flow if item == _SPRING)
    spare = room - sum(heights.values())
    blocks = [city_block]
    qr = None
    y = content.y0 + design.crosses
    for index, item in flow:
        if item == _SPRING:
            y += spare // springs
            continue
        y += item.gap_before
        if isinstance(item, _QrSlot):
            side = heights[index]
            x = content.x0 + (width - side) // 2
            qr = QrPlacement(Box(x, y, x + side, y + side), module_px, matrix)
        else:
            blocks.append(_place(fitted[index], item, content.x0, y, width))
        y += heights[index]

    band = None
    if design.band:
        band = Box(0, design.height - design.band, design.width, design.height)
    return Layout(design.width, design.height, content, tuple(blocks), qr, crosses, band)


def _content(design: _Design) -> Box:
    return Box(
        design.side, design.top, design.width - design.side,
        design.height - design.band - design.bottom,
    )


def _levels(design: _Design) -> list[tuple[int, int]]:
    """(blocks dropped up to this rank, smallest headline size) in the order they are tried."""
    headline = next(item for item in design.flow if isinstance(item, _Slot) and item.cap is None)
    ranks = sorted({item.drop for item in design.flow if isinstance(item, _Slot)} | {0})
    levels = [(rank, headline.min_px) for rank in ranks]
    if headline.floor_px is not None and headline.floor_px < headline.min_px:
        levels.append((ranks[-1], headline.floor_px))
    return levels


def _shown(design: _Design, dropped: int) -> list[tuple[int, _Slot | _QrSlot | str]]:
    return [
        (index, item) for index, item in enumerate(design.flow)
        if not (isinstance(item, _Slot) and 0 < item.drop <= dropped)
    ]


# Every URL of up to 450 bytes is a QR version of 1 to 20 at level Q (21 to 97 modules a side).
_QR_MODULE_COUNTS = range(21, 98, 4)


def _guaranteed_headline_room(design: _Design) -> int:
    """The height the headline has in the last arrangement whatever the other texts and the URL.

    With every droppable block gone, each block that stays takes at most its `cap`, and the QR
    code at its smallest takes at most this much for any URL the posters print.
    """
    flow = [item for _, item in _shown(design, max(rank for rank, _ in _levels(design)))]
    room = _content(design).height - design.crosses
    room -= sum(item.gap_before for item in flow if not isinstance(item, str))
    for item in flow:
        if isinstance(item, _QrSlot):
            room -= max(
                -(-item.min_symbol // modules) * (modules + 2 * QUIET_ZONE)
                for modules in _QR_MODULE_COUNTS
            )
        elif isinstance(item, _Slot) and item.cap is not None:
            room -= item.cap
    return room


def _header(design: _Design, content: Box, city: str) -> tuple[tuple[Box, ...], TextBlock]:
    """Three crosses stacked at the top left, the city's name beside them."""
    cell = round(design.crosses / 3.4)
    step = cell + (design.crosses - 3 * cell) // 2
    x, y = content.x0, content.y0
    crosses = tuple(Box(x, y + i * step, x + cell, y + i * step + cell) for i in range(3))
    slot = _Slot(
        "city", (_Para(city, bold=True),), max_px=design.city_px[0], min_px=design.city_px[1],
    )
    name_x = x + round(cell * 1.7)
    fitted = _fit(slot, content.x1 - name_x, design.crosses)
    block = _place(fitted, slot, name_x, y + (design.crosses - fitted.height) // 2, content.width)
    return crosses, block


@dataclass(frozen=True)
class _Fitted:
    px: int
    height: int
    paras: tuple[tuple[_Para, int, tuple[str, ...]], ...]  # each paragraph, its size, its lines


def _fit(slot: _Slot, width: int, height: int, max_px: int | None = None) -> _Fitted:
    """The largest size at which the block fits: whole words if possible, else broken words."""
    top = slot.max_px if max_px is None else max(slot.min_px, min(slot.max_px, max_px))
    for break_words in (False, True):
        fitted = _largest(
            slot.min_px, top, lambda px: _within(_set(slot, px, width, break_words), height)
        )
        if fitted is not None:
            return fitted
    raise _too_long(slot)


_T = TypeVar("_T")


def _largest(low: int, high: int, attempt: Callable[[int], _T | None]) -> _T | None:
    """What `attempt` gives at the largest size in [low, high] where it gives anything.

    Wrapped text only grows with its size, so bisecting finds it in a handful of tries.
    """
    best = None
    while low <= high:
        middle = (low + high) // 2
        result = attempt(middle)
        if result is not None:
            best, low = result, middle + 1
        else:
            high = middle - 1
    return best


def _within(fitted: _Fitted | None, height: int) -> _Fitted | None:
    return fitted if fitted is not None and fitted.height <= height else None


class DoesNotFit(ValueError):
    """A text cannot be set at a readable size. The campaign rules refuse such calls to action
    (`fit_problems`), so only a campaign stored before that rule can still meet this."""


def _too_long(slot: _Slot) -> DoesNotFit:
    chars = sum(len(para.text) for para in slot.paras)
    return DoesNotFit(
        f"the {slot.role} text ({chars} characters) does not fit at a readable size; shorten it"
    )


def _set(slot: _Slot, px: int, width: int, break_words: bool) -> _Fitted | None:
    """The block set at size `px`, or None if some word is wider than the line."""
    paras = []
    height = 0
    for index, para in enumerate(slot.paras):
        para_px = max(1, round(px * para.scale))
        indent = _indent(para, para_px)
        lines = _wrap(para.text, _font(para_px, para.bold), width - indent, break_words)
        if lines is None:
            return None
        if index:
            height += _para_gap(para_px)
        height += len(lines) * round(para_px * slot.leading)
        paras.append((para, para_px, tuple(lines)))
    return _Fitted(px, height, tuple(paras))


def _indent(para: _Para, px: int) -> int:
    return round(px * 1.5) if para.number else 0


def _para_gap(px: int) -> int:
    return round(px * 0.45)


def _wrap(
    text: str, font: ImageFont.FreeTypeFont, width: int, break_words: bool
) -> list[str] | None:
    """Greedy word wrap; None if it cannot be done within `width`."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        if _fits(font, candidate, width):
            current = candidate
            continue
        if current:
            lines.append(current)
            current = ""
        if _fits(font, word, width):
            current = word
            continue
        if not break_words:
            return None
        # Wider than the line: break it between letters (no hyphen, it may well be a URL), as many
        # letters to a line as fit (found by bisecting: a prefix only grows with its length).
        while word:
            low, high = 0, len(word)
            while low < high:
                middle = (low + high + 1) // 2
                if _fits(font, word[:middle], width):
                    low = middle
                else:
                    high = middle - 1
            if low == 0:
                return None
            if low == len(word):
                current = word
                break
            lines.append(word[:low])
            word = word[low:]
    if current:
        lines.append(current)
    return lines


def _fits(font: ImageFont.FreeTypeFont, text: str, width: int) -> bool:
    left, right = _ink_extent(font, text)
    return right - left <= width


def _ink_extent(font: ImageFont.FreeTypeFont, text: str) -> tuple[int, int]:
    """Left overhang (0 or less) and right edge of the glyphs when drawn from x = 0."""
    left, _, right, _ = font.getbbox(text, anchor="la")
    return min(left, 0), max(right, 0)


def _place(fitted: _Fitted, slot: _Slot, x0: int, y0: int, width: int) -> TextBlock:
    lines: list[Line] = []
    y = y0
    for index, (para, px, texts) in enumerate(fitted.paras):
        font = _font(px, para.bold)
        if index:
            y += _para_gap(px)
        for line_index, text in enumerate(texts):
            left, right = _ink_extent(font, text)
            if slot.align == "center":
                x = x0 + (width - (right - left)) // 2 - left
            else:
                x = x0 + _indent(para, px) - left  # a glyph's overhang must not cross the margin
            if para.number and line_index == 0:
                lines.append(_line(para.number, x0, y, px, bold=True))
            lines.append(_line(text, x, y, px, para.bold))
            y += round(px * slot.leading)
    return TextBlock(slot.role, fitted.px, tuple(lines), _union(line.ink for line in lines))


def _line(text: str, x: int, y: int, px: int, bold: bool) -> Line:
    left, top, right, bottom = _font(px, bold).getbbox(text, anchor="la")
    return Line(text, x, y, px, bold, Box(x + left, y + top, x + right, y + bottom))


def _union(boxes: Iterable[Box]) -> Box:
    boxes = list(boxes)
    return Box(
        min(box.x0 for box in boxes),
        min(box.y0 for box in boxes),
        max(box.x1 for box in boxes),
        max(box.y1 for box in boxes),
    )


@lru_cache(maxsize=512)
def _font(px: int, bold: bool) -> ImageFont.FreeTypeFont:
    name = "LiberationSans-Bold.ttf" if bold else "LiberationSans-Regular.ttf"
    # The basic layout engine gives the same pixels whether or not libraqm is installed.
    return ImageFont.truetype(str(FONT_DIR / name), px, layout_engine=ImageFont.Layout.BASIC)


@lru_cache(maxsize=64)
def _qr_matrix(url: str) -> tuple[tuple[bool, ...], ...]:
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_Q, border=0)
    code.add_data(url)
    code.make(fit=True)
    return tuple(tuple(bool(module) for module in row) for row in code.get_matrix())


def _dark_runs(row: tuple[bool, ...]) -> Iterator[tuple[int, int]]:
    """(start, length) of each run of dark modules in a row: one rectangle each."""
    start = None
    for x, dark in enumerate((*row, False)):
        if dark and start is None:
            start = x
        elif not dark and start is not None:
            yield start, x - start
            start = None


# --- painting ----------------------------------------------------------------------------------


def _paint(layout: Layout) -> Image.Image:
    image = Image.new("RGB", (layout.width, layout.height), WHITE)
    draw = ImageDraw.Draw(image)
    for box in layout.crosses:
        _draw_cross(draw, box)
    if layout.band is not None:
        band = layout.band
        draw.rectangle((band.x0, band.y0, band.x1 - 1, band.y1 - 1), fill=CITY_RED)
    for block in layout.blocks:
        for line in block.lines:
            font = _font(line.px, line.bold)
            draw.text((line.x, line.y), line.text, font=font, fill=INK, anchor="la")
    if layout.qr is not None:
        _draw_qr(draw, layout.qr)
    return image


def _draw_qr(draw: ImageDraw.ImageDraw, qr: QrPlacement, dark=QR_DARK, light=WHITE) -> None:
    """Whole-pixel modules drawn as rectangles: sharp edges, and faster than scaling an image."""
    draw.rectangle((qr.box.x0, qr.box.y0, qr.box.x1 - 1, qr.box.y1 - 1), fill=light)
    m = qr.module_px
    x0, y0 = qr.symbol.x0, qr.symbol.y0
    for row_index, row in enumerate(qr.matrix):
        top = y0 + row_index * m
        for start, length in _dark_runs(row):
            right = x0 + (start + length) * m - 1
            draw.rectangle((x0 + start * m, top, right, top + m - 1), fill=dark)


def _draw_cross(draw: ImageDraw.ImageDraw, box: Box) -> None:
    """A St. Andrew's cross: two bars from corner to corner."""
    x0, y0, size = box.x0, box.y0, box.width - 1  # polygon corners are drawn inclusive
    d = size * 0.12  # half the bar's thickness, measured along the edge
    for corners in (
        ((0, d), (d, 0), (size, size - d), (size - d, size)),
        ((size - d, 0), (size, d), (d, size), (0, size - d)),
    ):
        draw.polygon([(x0 + x, y0 + y) for x, y in corners], fill=CITY_RED)


def _png(image: Image.Image, dpi: int | None = DPI) -> bytes:
    out = io.BytesIO()
    options = {"dpi": (dpi, dpi)} if dpi else {}
    image.save(out, "PNG", compress_level=6, **options)
    return out.getvalue()


def _pdf(image: Image.Image, title: str) -> bytes:
    out = io.BytesIO()
    # No creation or modification date, so the same poster gives the same bytes. High-quality JPEG
    # without chroma subsampling keeps the red and the module edges clean at 300 dpi.
    image.save(
        out, "PDF", resolution=DPI, title=title, creationDate=None, modDate=None,
        quality=92, subsampling=0,
    )
    return out.getvalue()
