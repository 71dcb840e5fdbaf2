"""Printed matter of a campaign: posters from the A6 table card to the bus shelter (abri), the
handout, the social images and the bare QR code.

Posters and the handout are vector PDFs (reportlab): real text in the committed open fonts, embedded
as subsets, and the QR code as paths drawn from the `qrcode` matrix, never an image. A poster PNG is
that PDF rendered by pypdfium2, so the two always match. Social images are raster (Pillow). One
layout serves them all: positions in pixels at 300 dpi, which the PDF turns into points.
No Flask and no translation here: the caller hands over text that is already in the right language.
"""

from __future__ import annotations

import io
import math
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from html import escape
from typing import Literal, TypeVar

import arabic_reshaper
import pypdfium2
import qrcode
from bidi import get_display
from PIL import Image, ImageDraw, ImageFont
from qrcode.constants import ERROR_CORRECT_Q
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from ..resources import FONTS

Size = str  # one of SIZES
Format = Literal["pdf", "png", "svg"]
SocialKind = Literal["square", "story"]
HandoutSheet = Literal["A4", "A5"]

SIZES: tuple[str, ...] = ("A6", "A5", "A4", "A3", "A2", "A1", "A0", "abri")
FORMATS: tuple[str, ...] = ("pdf", "png", "svg")
SOCIAL_KINDS: tuple[str, ...] = ("square", "story")
HANDOUT_SHEETS: tuple[str, ...] = ("A4", "A5")

DPI = 300  # the layout's unit: a pixel at 300 dpi; the PDF turns it into points
QUIET_ZONE = 4  # modules of white around the symbol, as ISO/IEC 18004 asks
BLEED_MM = 3  # what --bleed adds on each side, with crop marks in it
ABRI_SAFE_MM = 30  # a bus shelter's frame hides the edge: text and code stay this far inside

FONT_DIR = FONTS

WHITE = (255, 255, 255)
INK = (0x18, 0x18, 0x18)
CITY_RED = (0xEC, 0x00, 0x00)  # identity only: the crosses and the band, never text
# Pure black rather than INK: printers set #181818 as a halftone, which frays the module edges.
QR_DARK = (0, 0, 0)
CUT_MARK = (0xB4, 0xB4, 0xB4)

# Trimmed paper, portrait (width, height) in millimetres; the abri is the bus-shelter poster.
PAPER_MM: dict[str, tuple[int, int]] = {
    "A6": (105, 148), "A5": (148, 210), "A4": (210, 297), "A3": (297, 420), "A2": (420, 594),
    "A1": (594, 841), "A0": (841, 1189), "abri": (1185, 1750),
}
# How far away each product is read and scanned from, in metres.
READING_DISTANCE_M: dict[str, float] = {
    "A6": 0.4, "A5": 0.5, "A4": 0.6, "A3": 0.9, "A2": 1.5, "A1": 1.5, "A0": 2.5, "abri": 2.5,
    "handout": 0.4,
}
# The smallest the QR symbol may print (quiet zone not counted): at least a tenth of the distance
# it is scanned from (a printing rule of thumb, not part of ISO/IEC 18004).
QR_MIN_CM: dict[str, float] = {
    "A6": 4, "A5": 5, "A4": 6, "A3": 9, "A2": 15, "A1": 15, "A0": 25, "abri": 25,
}


def _mm_px(mm: float) -> int:
    return round(mm / 25.4 * DPI)


# Paper at 300 dpi, portrait (width, height).
_PAPER_PX = {size: (_mm_px(w), _mm_px(h)) for size, (w, h) in PAPER_MM.items()}
_QR_MIN_SYMBOL_PX = {size: math.ceil(cm * 10 / 25.4 * DPI) for size, cm in QR_MIN_CM.items()}
# The handout's cards are held in the hand, about 0.3 m from the phone: 3 cm.
_HANDOUT_QR_MIN_SYMBOL_PX = 355

# No headline is set smaller than capitals of 1/170 of the reading distance (Liberation Sans'
# capitals are 0.73 em): about 9.5 pt on the cards at 0.4 m, 14 pt on A4 at 0.6 m, 21 pt on A3 at
# 0.9 m, 36 pt on A2/A1 at 1.5 m and 59 pt on A0 and the abri at 2.5 m. Social images are seen on a
# phone's screen, about 7 cm wide at 0.3 m: no headline there under 40 px of 1080.
_SOCIAL_FLOOR_PX = 40


def _readable_px(distance_m: float) -> int:
    return math.ceil(distance_m * 1000 / 170 / 0.729 / 25.4 * DPI)


# --- what the caller hands over ----------------------------------------------------------------


@dataclass(frozen=True)
class PosterText:
    """One language's wording, already translated by the caller."""

    headline: str  # the campaign's call to action, e.g. "Stel je vraag aan het Innovatieteam"
    why: str = ""  # one line on why: "Praat mee met de gemeente op Mastodon — eerst lezen mag ook"
    reason: str = ""  # the last line, the reason to join: "Jouw input → zichtbaar resultaat"
    sms: str | None = None  # "Stuur PRAATMEE BIEB naar 4444", or None for no keyword line
    steps: tuple[str, ...] = ()  # the numbered steps of the handout (four, ideally)
    tagline: str = ""  # "Praat mee op Mastodon", for the social images
    scan: str = ""  # beside the QR code on posters: "Scan met de camera van je telefoon"

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
    role: str  # "city", "headline", "why", "link", "footer", "tagline", "steps" or "sms" (the handout's)
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


def render(spec: PosterSpec, size: Size, fmt: Format, *, bleed: bool = False,
           dpi: int | None = None) -> bytes:
    """The poster of `size` as a vector PDF, as PNG (the same PDF rendered), or "svg": the bare QR.

    `bleed` adds BLEED_MM on each side with crop marks (PDF and PNG). A PNG is 300 dpi up to A3
    and less for the larger sizes (at most about 40 megapixels); `dpi` asks for another.
    """
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
    layout = poster_layout(spec, size)
    pdf = _pdf([(layout, 0, 0)], (layout.width, layout.height), spec, _product_name(size),
               bleed=bleed)
    if fmt == "pdf":
        return pdf
    return pdf_to_png(pdf, dpi or png_dpi(size))


def png_dpi(size: Size) -> int:
    """300 dpi where that stays under about 40 megapixels, else the most that does (in steps)."""
    width_mm, height_mm = PAPER_MM[size]
    inches = width_mm * height_mm / 25.4**2
    return next(dpi for dpi in (300, 200, 150, 100, 72, 50) if inches * dpi * dpi <= 40e6)


# PDFium is not thread-safe: no two of its calls may run at the same time in one process, not even
# on different documents (pypdfium2's docs), or the process crashes. A threaded server (`flask run`,
# gunicorn with --threads, the staff page's previews loading side by side) renders posters at once,
# so every use of PDFium goes through `rendered_pages`, which holds this lock.
PDFIUM_LOCK = threading.Lock()


def rendered_pages(pdf: bytes, dpi: float, *, first_only: bool = False) -> list[tuple[tuple[float, float], Image.Image]]:
    """The pages of `pdf` (or its first), each as its size in points and an RGB image at `dpi`,
    rendered by PDFium under `PDFIUM_LOCK`. Also how the tests read printed matter back."""
    with PDFIUM_LOCK:
        document = pypdfium2.PdfDocument(pdf)
        try:
            pages = []
            for number in range(1 if first_only else len(document)):
                page = document[number]
                bitmap = page.render(scale=dpi / 72)
                try:
                    pages.append((page.get_size(), bitmap.to_pil().convert("RGB")))  # a copy of its own
                finally:
                    bitmap.close()  # here, under the lock, not by a finalizer in some other thread later
        finally:
            document.close()  # and its pages with it
    return pages


def pdf_to_png(pdf: bytes, dpi: int) -> bytes:
    """The first page of `pdf` rendered at `dpi` (pypdfium2), tagged with that resolution."""
    ((points, image),) = rendered_pages(pdf, dpi, first_only=True)
    # pdfium rounds up: a last column that is mostly off the paper is cut, so A4 at 300 dpi is
    # 2480 × 3508 pixels like every other A4 at 300 dpi.
    width, height = (round(size * dpi / 72) for size in points)
    return _png(image.crop((0, 0, width, height)), dpi=dpi)


def _product_name(size: Size) -> str:
    width, height = PAPER_MM[size]
    return f"poster {size} ({width} × {height} mm)"


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
    """A6 handout cards to cut, as a vector PDF: four on an A4 sheet, or two on A5 (landscape).

    With two languages the cards alternate between them. Dashed cut lines run between the cards,
    with cut marks where they meet the sheet's edges.
    """
    _check("sheet", sheet, HANDOUT_SHEETS)
    cards = [handout_card_layout(spec, language) for language in range(len(spec.texts))]
    card_w, card_h = _PAPER_PX["A6"]
    if sheet == "A4":
        (width, height), rows = _PAPER_PX["A4"], 2
    else:
        (height, width), rows = _PAPER_PX["A5"], 1
    top = (height - rows * card_h) // 2  # A6 is a hair shorter than half an A4
    placed = [
        (cards[column % len(cards)], column * card_w, top + row * card_h)
        for row in range(rows) for column in range(2)
    ]
    cuts = [("v", card_w)] + [("h", top + row * card_h) for row in range(rows + 1)]
    return _pdf(placed, (width, height), spec, f"handout: {2 * rows} A6 cards on {sheet}", cuts=cuts)


def social_png(spec: PosterSpec, kind: SocialKind = "square", with_qr: bool = False) -> bytes:
    """The campaign's image for social media: call to action, tagline, short link; QR on request."""
    return _png(_paint(social_layout(spec, kind, with_qr)), dpi=None)


def poster_layout(spec: PosterSpec, size: Size) -> Layout:
    """The poster of `size` at 300 dpi: the A6 table card, A5 to A0, or the abri."""
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
    *(("poster", size) for size in SIZES), ("handout", "A6"), ("social", "square"), ("social", "story"),
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
    largest: int = 0  # grows up to this width (quiet zone included) into room left over


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

    def margin(value: float) -> int:
        return max(px(value, s), _mm_px(ABRI_SAFE_MM) if size == "abri" else 0)

    # The second language comes after the first, a little smaller and never bold.
    def in_both(attribute: str, bold: bool, second_scale: float) -> tuple[_Para, ...]:
        return tuple(
            _Para(value, bold=bold and index == 0, scale=1.0 if index == 0 else second_scale)
            for index, text in enumerate(spec.texts)
            if (value := getattr(text, attribute)).strip()
        )

    # The last lines: the reason to join, then the SMS line where there is one.
    footer: list[_Para] = []
    for index, text in enumerate(spec.texts):
        scale = 1.0 if index == 0 else 0.85
        if text.reason.strip():
            footer.append(_Para(text.reason, bold=index == 0, scale=scale))
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
    flow.append(_SPRING)
    scan = in_both("scan", bold=False, second_scale=0.9)
    if scan:  # right above the code: what to do with it
        flow.append(_Slot(
            "scan", scan, max_px=px(84), min_px=px(44), cap=px(105 * len(scan)),
            gap_before=px(60, s), align="center", leading=1.15,
        ))
    flow += [
        _QrSlot(
            outer=round(width * (0.5 if size == "A6" else 0.45)),
            min_symbol=_QR_MIN_SYMBOL_PX[size],
            gap_before=px(24 if scan else 60, s),
            largest=round(width * 0.6),
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
        width=width, height=height, side=margin(150), top=margin(150), bottom=px(100, s),
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
    flow: list[_Slot | _QrSlot | str] = [
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
    ]
    if text.sms and text.sms.strip():
        # "Stuur PRAATMEE BIEB naar 4444", under the link: left out before the headline shrinks.
        flow.append(_Slot("sms", (_Para(text.sms),), max_px=42, min_px=34, cap=110, gap_before=6,
                          align="center", drop=1))
    flow += [
        _SPRING,
        # The steps are what the card is for: they get their room before the headline does.
        _Slot("steps", steps, max_px=50, min_px=36, cap=400, gap_before=30),
    ]
    # Generous margins: the card is cut by hand, and office printers do not print to the edge.
    return _Design(
        width=width, height=height, side=95, top=95, bottom=70, band=0, crosses=120,
        city_px=(46, 26), flow=tuple(flow),
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
    settled: dict[tuple[int, int], _Fitted | None] = {}

    def arrangement(
        px: int, break_words: bool, module_px: int, shown: dict[int, _Slot], room: int
    ) -> dict[int, _Fitted] | None:
        fitted: dict[int, _Fitted] = {}
        for index, slot in shown.items():
            if index != headline_index:
                limit = round(slot.ratio * px) if slot.ratio else slot.max_px
                if (index, limit) not in settled:
                    try:
                        settled[index, limit] = _fit(slot, width, slot.cap, limit)
                    except DoesNotFit:
                        if not slot.drop:
                            raise
                        settled[index, limit] = None  # the next level leaves it out
                if settled[index, limit] is None:
                    return None
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
                lambda px, words=break_words, module=module_px, shown=shown, room=room: arrangement(
                    px, words, module, shown, room),
            )
            if fitted is not None:
                break
        if fitted is not None:
            break
    else:
        raise _too_long(headline_slot)

    heights = {index: block.height for index, block in fitted.items()}
    spare = room - sum(heights.values())
    if qr_index is not None:
        # A larger code where the page has room to spare (A4's bottom quarter, say), keeping a
        # little air between the blocks.
        keep = round(content.height * 0.06)
        while (
            qr_side * (module_px + 1) <= qr_slot.largest
            and spare - qr_side * (module_px + 1) >= keep
        ):
            module_px += 1
        heights[qr_index] = qr_side * module_px
        spare -= heights[qr_index]
    springs = sum(1 for _, item in flow if item == _SPRING)
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
            slot.min_px, top, lambda px, words=break_words: _within(_set(slot, px, width, words), height)
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
        height += sum(_line_room(line, para_px, para.bold, slot.leading)[1] for line in lines)
        paras.append((para, para_px, tuple(lines)))
    return _Fitted(px, height, tuple(paras))


def _line_room(text: str, px: int, bold: bool, leading: float) -> tuple[int, int]:
    """How far a line's top sits below its slot, and the height it takes.

    A fallback font (Arabic's tall letters and marks) may reach above or below Liberation Sans'
    own ascender and descender: such a line moves down and takes the room its glyphs need.
    """
    ascent, descent = _pil_font(0, px, bold).getmetrics()
    above, below = ascent, descent
    for font in {piece.font for piece in _pieces(text, px, bold)} - {0}:
        other_ascent, other_descent = _pil_font(font, px, bold).getmetrics()
        above, below = max(above, other_ascent), max(below, other_descent)
    shift = above - ascent
    return shift, max(round(px * leading), above + below) if shift or below > descent else round(px * leading)


def _indent(para: _Para, px: int) -> int:
    return round(px * 1.5) if para.number else 0


def _para_gap(px: int) -> int:
    return round(px * 0.45)


def _wrap(text: str, font: _Face, width: int, break_words: bool) -> list[str] | None:
    """Greedy word wrap; None if it cannot be done within `width`."""
    lines: list[str] = []
    current = ""
    # Left to right, a line is as wide as its words and spaces (no kerning, no shaping across a
    # space), so a candidate line costs an addition, not a measurement; the ink of its first and
    # last glyph may stick out a little. Right-to-left text is measured whole.
    additive = not _RTL_CHAR.search(text)
    space = _word_extent(" ", font.px, font.bold)[1] if additive else 0.0
    current_left = current_width = 0.0
    for word in text.split():
        if additive:
            word_left, word_advance, word_right = _word_extent(word, font.px, font.bold)
            if current:
                first_left = current_left
                total = current_width + space + word_advance
            else:
                first_left, total = word_left, word_advance
            fits = total - first_left + word_right <= width
        else:
            fits = _fits(font, f"{current} {word}" if current else word, width)
        if fits:
            current = f"{current} {word}" if current else word
            if additive:
                current_left, current_width = first_left, total
            continue
        if current:
            lines.append(current)
            current = ""
        if _fits(font, word, width):
            current = word
            if additive:
                current_left, current_width = word_left, word_advance
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
                if additive:
                    current_left, current_width, _ = _word_extent(word, font.px, font.bold)
                break
            lines.append(word[:low])
            word = word[low:]
    if current:
        lines.append(current)
    return lines


def _fits(font: _Face, text: str, width: int) -> bool:
    left, right = _ink_extent(font, text)
    return right - left <= width


def text_width_em(text: str, *, bold: bool = True) -> float:
    """How wide `text` is set in Liberation Sans (metrically Arial, the site's font), in em.

    The kiosk uses it to pick a size at which its short link stays on one line.
    """
    return sum(piece.width for piece in _pieces(_visual(text), 100, bold)) / 100


def _ink_extent(font: _Face, text: str) -> tuple[int, int]:
    """Left overhang (0 or less) and right edge of the glyphs when drawn from x = 0.

    From the advances and the ink of the first and last glyph only: what lies between them cannot
    reach further out, and measuring every glyph's ink is what made laying out slow.
    """
    pieces = _pieces(text, font.px, font.bold)
    if not pieces:
        return 0, 0
    first, last = pieces[0], pieces[-1]
    total = last.x + last.width
    left = _glyph_ink(first.text[0], first.font, font.px, font.bold)[0]
    last_left, last_right = _glyph_ink(last.text[-1], last.font, font.px, font.bold)
    advance = _pil_font(last.font, font.px, font.bold).getlength(last.text[-1])
    return min(math.floor(left), 0), max(math.ceil(total - advance + last_right), math.ceil(total))


@lru_cache(maxsize=16384)
def _word_extent(word: str, px: int, bold: bool) -> tuple[float, float, float]:
    """A left-to-right word's left overhang (0 or less), advance, and ink past its advance."""
    pieces = _pieces(word, px, bold)
    if not pieces:
        return 0.0, 0.0, 0.0
    first, last = pieces[0], pieces[-1]
    advance = last.x + last.width
    left = min(_glyph_ink(first.text[0], first.font, px, bold)[0], 0)
    last_right = _glyph_ink(last.text[-1], last.font, px, bold)[1]
    last_advance = _pil_font(last.font, px, bold).getlength(last.text[-1])
    return left, advance, max(0.0, last_right - last_advance)


@lru_cache(maxsize=8192)
def _glyph_ink(char: str, font: int, px: int, bold: bool) -> tuple[int, int]:
    left, _, right, _ = _pil_font(font, px, bold).getbbox(char, anchor="ls")
    return left, right


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
            elif _is_rtl(para.text):  # Arabic or Hebrew lines start at the right
                x = x0 + width - right
            else:
                x = x0 + _indent(para, px) - left  # a glyph's overhang must not cross the margin
            shift, room = _line_room(text, px, para.bold, slot.leading)
            if para.number and line_index == 0:
                lines.append(_line(para.number, x0, y + shift, px, bold=True))
            lines.append(_line(text, x, y + shift, px, para.bold))
            y += room
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


# --- fonts ---------------------------------------------------------------------------------------
# Liberation Sans first; what it cannot draw comes from the fallbacks, character by character.
# Everything here is open-licensed (static/fonts/LICENSE-*.txt) and embedded in the PDFs as a
# subset. Characters none of them can draw are refused by the campaign rules (`missing_glyphs`).

FONT_FILES: tuple[tuple[str, str], ...] = (  # (regular, bold)
    ("LiberationSans-Regular.ttf", "LiberationSans-Bold.ttf"),
    ("NotoSansArabic-Regular.ttf", "NotoSansArabic-Bold.ttf"),
    ("NotoSansHebrew-Regular.ttf", "NotoSansHebrew-Bold.ttf"),
)
_RTL = ((0x0590, 0x08FF), (0xFB1D, 0xFDFF), (0xFE70, 0xFEFF))
_RTL_CHAR = re.compile("[" + "".join(f"{chr(low)}-{chr(high)}" for low, high in _RTL) + "]")


@lru_cache(maxsize=None)
def _pdf_font(index: int, bold: bool) -> str:
    """The font registered with reportlab (it embeds the subset a document uses)."""
    name = FONT_FILES[index][bold].removesuffix(".ttf")
    if name not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(name, str(FONT_DIR / FONT_FILES[index][bold])))
    return name


@lru_cache(maxsize=None)
def _coverage(index: int, bold: bool) -> frozenset[int]:
    return frozenset(pdfmetrics.getFont(_pdf_font(index, bold)).face.charToGlyph)


@lru_cache(maxsize=4096)
def _font_for(char: str, bold: bool) -> int:
    code = ord(char)
    for index in range(len(FONT_FILES)):
        if code in _coverage(index, bold):
            return index
    return 0


def _is_rtl(text: str) -> bool:
    """Whether the first letter of `text` belongs to a right-to-left script."""
    for char in text:
        if any(low <= ord(char) <= high for low, high in _RTL):
            return True
        if char.isalpha():
            return False
    return False


def _visual(text: str) -> str:
    """The text in display order: right-to-left runs reversed (Unicode bidi), Arabic joined."""
    if not _RTL_CHAR.search(text):
        return text
    return get_display(arabic_reshaper.reshape(text))


def missing_glyphs(text: str) -> list[str]:
    """The characters of `text`, as printed, that no committed font can draw (in order, once).

    Both weights count: the first language's headline is bold, the second one's regular.
    """
    return [
        char for char in dict.fromkeys(text + _visual(text))
        if char != " " and not all(
            any(ord(char) in _coverage(index, bold) for index in range(len(FONT_FILES)))
            for bold in (False, True)
        )
    ]


@dataclass(frozen=True)
class _Piece:
    text: str  # in display order
    font: int  # index into FONT_FILES
    x: float  # where it starts, from the line's left end
    width: float


@lru_cache(maxsize=4096)
def _pieces(text: str, px: int, bold: bool) -> tuple[_Piece, ...]:
    """A line split into runs of one font each, in display order, with their positions."""
    pieces: list[_Piece] = []
    runs: list[list] = []
    for char in _visual(text):
        index = runs[-1][0] if char == " " and runs else _font_for(char, bold)
        if runs and runs[-1][0] == index:
            runs[-1][1] += char
        else:
            runs.append([index, char])
    x = 0.0
    for index, run in runs:
        width = _pil_font(index, px, bold).getlength(run)
        pieces.append(_Piece(run, index, x, width))
        x += width
    return tuple(pieces)


class _Face:
    """A size and weight of the font stack, measured and drawn with Pillow like one font."""

    def __init__(self, px: int, bold: bool):
        self.px, self.bold = px, bold
        self.ascent = _pil_font(0, px, bold).getmetrics()[0]

    def getbbox(self, text: str, anchor: str = "la") -> tuple[int, int, int, int]:
        """The ink box from the left end of the ascender line (Pillow's "la" anchor)."""
        boxes = []
        for piece in _pieces(text, self.px, self.bold):
            left, top, right, bottom = _pil_font(piece.font, self.px, self.bold).getbbox(
                piece.text, anchor="ls")
            boxes.append((piece.x + left, top + self.ascent, piece.x + right, bottom + self.ascent))
        if not boxes:
            return (0, 0, 0, 0)
        return (math.floor(min(b[0] for b in boxes)), math.floor(min(b[1] for b in boxes)),
                math.ceil(max(b[2] for b in boxes)), math.ceil(max(b[3] for b in boxes)))

    def draw(self, draw: ImageDraw.ImageDraw, x: int, y: int, text: str, fill) -> None:
        for piece in _pieces(text, self.px, self.bold):
            draw.text((x + piece.x, y + self.ascent), piece.text, fill=fill, anchor="ls",
                      font=_pil_font(piece.font, self.px, self.bold))


@lru_cache(maxsize=1024)
def _font(px: int, bold: bool) -> _Face:
    return _Face(px, bold)


@lru_cache(maxsize=1024)
def _pil_font(index: int, px: int, bold: bool) -> ImageFont.FreeTypeFont:
    # The basic layout engine gives the same pixels whether or not libraqm is installed, and the
    # same advances as the PDF (no kerning): the order of right-to-left text is `_visual`'s job.
    path = FONT_DIR / FONT_FILES[index][bold]
    return ImageFont.truetype(str(path), px, layout_engine=ImageFont.Layout.BASIC)


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
            _font(line.px, line.bold).draw(draw, line.x, line.y, line.text, fill=INK)
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


# --- the vector PDF ------------------------------------------------------------------------------


def _rgb(colour: tuple[int, int, int]) -> tuple[float, float, float]:
    return tuple(value / 255 for value in colour)


def _pdf(
    placed: list[tuple[Layout, int, int]], page_px: tuple[int, int], spec: PosterSpec,
    product: str, *, bleed: bool = False, cuts: Iterable[tuple[str, int]] = (),
) -> bytes:
    """Layouts painted as vectors on one page: `placed` is (layout, left, top) in pixels.

    The page is the exact paper size in points (its millimetres, not the rounded pixels); with
    `bleed`, BLEED_MM more on each side, the band running into it, crop marks at the corners and
    the TrimBox and BleedBox set for the print shop.
    """
    size = next((mm for mm in PAPER_MM.values() if (_mm_px(mm[0]), _mm_px(mm[1])) == page_px), None)
    if size is None:  # a landscape sheet (the A5 handout)
        size = next(mm[::-1] for mm in PAPER_MM.values() if (_mm_px(mm[1]), _mm_px(mm[0])) == page_px)
    width, height = (mm / 25.4 * 72 for mm in size)
    kx, ky = width / page_px[0], height / page_px[1]
    b = BLEED_MM / 25.4 * 72 if bleed else 0.0
    out = io.BytesIO()
    # invariant: no dates or random ids, so the same poster gives the same bytes.
    # The initial font is ours too: otherwise reportlab names Helvetica, which is not embedded.
    canvas = Canvas(out, pagesize=(width + 2 * b, height + 2 * b), invariant=1, pageCompression=1,
                    initialFontName=_pdf_font(0, False))
    canvas.setTitle(spec.texts[0].headline)
    canvas.setAuthor(spec.city)
    canvas.setSubject(f"{product}: {spec.url}")
    canvas.setCreator("praatmee")
    canvas.setKeywords([spec.short_link, spec.url])
    if bleed:
        canvas.setTrimBox((b, b, b + width, b + height))
        canvas.setBleedBox((0, 0, width + 2 * b, height + 2 * b))

    def x_pt(px: float) -> float:
        return b + px * kx

    def y_pt(px: float) -> float:
        return b + height - px * ky

    for layout, left, top in placed:
        _paint_vector(canvas, layout, lambda px, left=left: x_pt(left + px), lambda px, top=top: y_pt(top + px),
                      kx, bleed=b)
    canvas.setDash(2, 2)
    canvas.setStrokeColorRGB(*_rgb(CUT_MARK))
    canvas.setLineWidth(0.5)
    for direction, at in cuts:
        if direction == "v":
            canvas.line(x_pt(at), 0, x_pt(at), height + 2 * b)
        else:
            canvas.line(0, y_pt(at), width + 2 * b, y_pt(at))
    canvas.setDash()
    if bleed:
        _crop_marks(canvas, b, width, height)
    canvas.showPage()
    canvas.save()
    return out.getvalue()


def _paint_vector(canvas: Canvas, layout: Layout, x: Callable[[float], float],
                  y: Callable[[float], float], k: float, bleed: float) -> None:
    canvas.setFillColorRGB(*_rgb(CITY_RED))
    for box in layout.crosses:
        size = box.width
        d = size * 0.12  # half the bar's thickness, measured along the edge
        for corners in (
            ((0, d), (d, 0), (size, size - d), (size - d, size)),
            ((size - d, 0), (size, d), (d, size), (0, size - d)),
        ):
            path = canvas.beginPath()
            path.moveTo(x(box.x0 + corners[0][0]), y(box.y0 + corners[0][1]))
            for cx, cy in corners[1:]:
                path.lineTo(x(box.x0 + cx), y(box.y0 + cy))
            path.close()
            canvas.drawPath(path, stroke=0, fill=1)
    if layout.band is not None:
        # With bleed the band runs on past the trim: left, right and bottom.
        left, right = x(layout.band.x0) - bleed, x(layout.band.x1) + bleed
        bottom, top = y(layout.band.y1) - bleed, y(layout.band.y0)
        canvas.rect(left, bottom, right - left, top - bottom, stroke=0, fill=1)
    canvas.setFillColorRGB(*_rgb(INK))
    for block in layout.blocks:
        for line in block.lines:
            face = _font(line.px, line.bold)
            baseline = y(line.y + face.ascent)
            for piece in _pieces(line.text, line.px, line.bold):
                canvas.setFont(_pdf_font(piece.font, line.bold), line.px * k)
                canvas.drawString(x(line.x + piece.x), baseline, piece.text)
    if layout.qr is not None:
        qr = layout.qr
        canvas.setFillColorRGB(*_rgb(WHITE))
        canvas.rect(x(qr.box.x0), y(qr.box.y1), x(qr.box.x1) - x(qr.box.x0),
                    y(qr.box.y0) - y(qr.box.y1), stroke=0, fill=1)
        canvas.setFillColorRGB(*_rgb(QR_DARK))
        path = canvas.beginPath()
        m = qr.module_px
        for row_index, row in enumerate(qr.matrix):
            top = qr.symbol.y0 + row_index * m
            for start, length in _dark_runs(row):
                left = x(qr.symbol.x0 + start * m)
                # A hair taller than a module, so no seam shows between rows where they touch.
                path.rect(left, y(top + m * 1.02), x(qr.symbol.x0 + (start + length) * m) - left,
                          y(top) - y(top + m * 1.02))
        canvas.drawPath(path, stroke=0, fill=1)


def _crop_marks(canvas: Canvas, b: float, width: float, height: float) -> None:
    """Crop marks in the bleed at the four corners, starting 0.5 mm outside the trim."""
    gap = 0.5 / 25.4 * 72
    marks = []
    for cx in (b, b + width):
        for cy in (b, b + height):
            outward_x = -1 if cx == b else 1
            outward_y = -1 if cy == b else 1
            marks.append((cx + outward_x * gap, cy, cx + outward_x * b, cy))
            marks.append((cx, cy + outward_y * gap, cx, cy + outward_y * b))
    for colour, line_width in ((WHITE, 1.2), (QR_DARK, 0.4)):  # white under black: visible on red
        canvas.setStrokeColorRGB(*_rgb(colour))
        canvas.setLineWidth(line_width)
        for x0, y0, x1, y1 in marks:
            canvas.line(x0, y0, x1, y1)
