"""Printed matter and the kiosk QR: vector PDFs from the table card to the bus shelter, read back
as a print shop and a phone would (poppler's tools, zxing-cpp): every code scans to the campaign URL
at level Q and is as large as its distance asks, the text is real text in embedded fonts, nothing is
a raster image, the page boxes are exact, text fits, and the same input gives the same bytes."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import threading
import time
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor

import pytest
import zxingcpp
from PIL import Image, ImageChops, ImageDraw

from praatmee_site.campaigns import posters
from praatmee_site.campaigns.posters import Box, PosterSpec, PosterText

URL = "https://amsterdam.nl/praatmee/c/bibliotheek-oost"
SHORT_LINK = "amsterdam.nl/praatmee"

NL = PosterText(
    headline="Stel je vraag aan het Innovatieteam",
    why="Praat mee met de gemeente op Mastodon — eerst lezen mag ook",
    reason="Jouw input → zichtbaar resultaat",
    sms="Stuur PRAATMEE naar 4444",
    steps=(
        "Scan de QR-code of typ amsterdam.nl/praatmee",
        "Tik op ‘Account aanmaken’",
        "Kies een naam en een wachtwoord",
        "Bevestig je e-mailadres en praat mee",
    ),
    tagline="Praat mee op Mastodon",
    scan="Scan met de camera van je telefoon",
)
EN = PosterText(
    headline="Ask the Innovation Team your question",
    why="Join the city's conversation on Mastodon — reading first is fine too",
    reason="Your input → a visible result",
    sms="Text PRAATMEE to 4444",
    steps=(
        "Scan the QR code or type amsterdam.nl/praatmee",
        "Tap ‘Create account’",
        "Choose a name and a password",
        "Confirm your e-mail address and join in",
    ),
    tagline="Join the conversation on Mastodon",
    scan="Scan with your phone's camera",
)
SPEC = PosterSpec(URL, SHORT_LINK, (NL,))
BILINGUAL = PosterSpec(URL, SHORT_LINK, (NL, EN))
LANGS = {"nl": SPEC, "en": PosterSpec(URL, SHORT_LINK, (EN,)), "nl+en": BILINGUAL}

LONG_CALL = (
    "Denk mee over hoe de gemeente digitale diensten maakt: welke vragen heb jij over privacy, "
    "camera's in de openbare ruimte, algoritmes bij uitkeringen en de nieuwe app voor afval? "
    "Wij lezen echt alles!!"
)
LONG_WORD = "Gemeenteraadsverkiezingsbijeenkomstenprogrammacommissievergaderingsagendapuntenlijst"

MM_PT = 72 / 25.4
PAPER_PT = {size: (w * MM_PT, h * MM_PT) for size, (w, h) in posters.PAPER_MM.items()}
PAPER_PX = {"A4": (2480, 3508), "A3": (3508, 4961), "A6": (1240, 1748)}
# What the issue asks: at least a tenth of the scanning distance.
QR_MIN_CM = {"A6": 4, "A5": 5, "A4": 6, "A3": 9, "A2": 15, "A1": 15, "A0": 25, "abri": 25}
# Low resolutions, as a phone sees a poster from its distance, and to keep the suite quick.
TEST_DPI = {"A6": 150, "A5": 150, "A4": 150, "A3": 100, "A2": 72, "A1": 60, "A0": 50, "abri": 50}
PT = 300 / 72  # pixels per point at 300 dpi
READABLE_HEADLINE_PX = {"A4": 20 * PT, "A3": 28 * PT, "A6": 12 * PT}
READABLE_BODY_PX = {"A4": 14 * PT, "A3": 20 * PT, "A6": 8 * PT}

POPPLER = pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="needs poppler-utils (.ci/run installs it)")


def poppler(tool: str, *args: str, data: bytes) -> bytes:
    command = [tool, *args, "-", "-"] if tool == "pdftotext" else [tool, *args, "-"]  # stdin to stdout
    return subprocess.run(command, input=data, capture_output=True, check=True, timeout=60).stdout


def pdftoppm(data: bytes, dpi: int) -> Image.Image:
    return Image.open(io.BytesIO(poppler("pdftoppm", "-r", str(dpi), "-png", "-singlefile", data=data)))


def pdftotext(data: bytes) -> str:
    return " ".join(poppler("pdftotext", "-enc", "UTF-8", data=data).decode().split())


def pdfinfo(data: bytes) -> str:
    return poppler("pdfinfo", "-box", data=data).decode()


def box(info: str, name: str) -> list[float]:
    return [float(v) for v in re.search(rf"{name}:\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)", info).groups()]


def pdf_raster_images(data: bytes, tmp_path) -> list[str]:
    path = tmp_path / "poster.pdf"
    path.write_bytes(data)
    listing = subprocess.run(["pdfimages", "-list", str(path)], capture_output=True, check=True, text=True).stdout
    return listing.splitlines()[2:]  # after the two header lines


def qr_codes(image: Image.Image) -> list[zxingcpp.Barcode]:
    return zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)


def assert_campaign_qr(image: Image.Image, count: int = 1) -> list[zxingcpp.Barcode]:
    codes = qr_codes(image)
    assert len(codes) == count
    for code in codes:
        assert code.text == URL
        assert code.ec_level == "Q"
    return codes


def png(data: bytes) -> Image.Image:
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def is_white(image: Image.Image, box: Box) -> bool:
    region = image.convert("RGB").crop((box.x0, box.y0, box.x1, box.y1))
    return all(low == 255 for low, _ in region.getextrema())


def rasterize_qr_svg(svg: str, scale: int = 8) -> Image.Image:
    """Paints the SVG's white square and the rectangles of its one path (M, h, v, z only)."""
    root = ET.fromstring(svg)
    _, _, width, height = (int(v) for v in root.attrib["viewBox"].split())
    namespace = "{http://www.w3.org/2000/svg}"
    assert root.find(f"{namespace}rect").attrib["fill"].lower() in ("#fff", "#ffffff", "white")
    image = Image.new("L", (width * scale, height * scale), 255)
    draw = ImageDraw.Draw(image)
    corners: list[tuple[int, int]] = []
    numbers: list[int] = []
    command = ""
    for token in re.findall(r"[A-Za-z]|-?\d+", root.find(f"{namespace}path").attrib["d"]):
        if token.isalpha():
            command, numbers = token, []
            if command == "z":
                xs, ys = {x for x, _ in corners}, {y for _, y in corners}
                assert len(corners) == 4 and len(xs) == len(ys) == 2, "modules are rectangles"
                x0, y0, x1, y1 = (v * scale for v in (min(xs), min(ys), max(xs), max(ys)))
                draw.rectangle((x0, y0, x1 - 1, y1 - 1), fill=0)
            continue
        numbers.append(int(token))
        x, y = corners[-1] if corners else (0, 0)
        if command == "M" and len(numbers) == 2:
            corners = [(numbers[0], numbers[1])]
        elif command == "h":
            corners.append((x + numbers[-1], y))
        elif command == "v":
            corners.append((x, y + numbers[-1]))
        elif command != "M":
            raise AssertionError(f"unexpected path command {command!r}")
    return image


# --- rendered once for the whole module -------------------------------------------------------


@pytest.fixture(scope="module")
def pdfs() -> dict[tuple[str, str], bytes]:
    return {(size, lang): posters.render(spec, size, "pdf") for size in posters.SIZES for lang, spec in LANGS.items()}


@pytest.fixture(scope="module")
def bleed_pdfs() -> dict[str, bytes]:
    return {size: posters.render(BILINGUAL, size, "pdf", bleed=True) for size in ("A4", "abri")}


@pytest.fixture(scope="module")
def pngs() -> dict[str, bytes]:
    return {size: posters.render(SPEC, size, "png") for size in ("A6", "A4")}


@pytest.fixture(scope="module")
def long_call_spec() -> PosterSpec:
    assert len(LONG_CALL) == 200
    return PosterSpec(URL, SHORT_LINK, (PosterText(LONG_CALL, NL.why, NL.reason, NL.sms, scan=NL.scan),))


# --- vector posters, read back as a print shop and a phone would --------------------------------


@POPPLER
@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("size", posters.SIZES)
def test_every_size_and_language_scans_to_exactly_the_campaign_url_at_a_low_resolution(pdfs, size, lang):
    dpi = TEST_DPI[size]
    (code,) = assert_campaign_qr(pdftoppm(pdfs[size, lang], dpi))
    # As a scanner measures it, corner to corner of the symbol: at least a tenth of the distance.
    width_cm = (code.position.top_right.x - code.position.top_left.x) / dpi * 2.54
    assert width_cm >= QR_MIN_CM[size], (size, width_cm)


@POPPLER
@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("size", posters.SIZES)
def test_the_poster_is_real_text_in_embedded_fonts_and_no_raster_image(pdfs, size, lang, tmp_path):
    data = pdfs[size, lang]
    text = pdftotext(data)
    spec = LANGS[lang]
    for words in (spec.texts[0].headline, SHORT_LINK, spec.texts[0].scan, spec.texts[-1].reason, "Gemeente Amsterdam"):
        assert words in text, (words, text)
    assert pdf_raster_images(data, tmp_path) == []
    fonts = subprocess.run(["pdffonts", "-"], input=data, capture_output=True, check=True).stdout.decode()
    rows = fonts.splitlines()[2:]
    assert rows and all(re.search(r"\byes\s+yes\s+yes\b", row) for row in rows), fonts  # embedded, subset, unicode
    assert all("+LiberationSans" in row for row in rows)


@POPPLER
@pytest.mark.parametrize("size", posters.SIZES)
def test_the_page_box_is_the_exact_paper_size_in_points(pdfs, size):
    info = pdfinfo(pdfs[size, "nl"])
    width, height = PAPER_PT[size]
    assert box(info, "MediaBox") == pytest.approx([0, 0, width, height], abs=0.005)
    assert box(info, "TrimBox") == box(info, "MediaBox")
    assert f"Title:           {NL.headline}" in info
    assert "Author:          Gemeente Amsterdam" in info
    assert f"Subject:         poster {size}" in info and URL in info


@POPPLER
@pytest.mark.parametrize("size", ["A4", "abri"])
def test_bleed_adds_3_mm_each_side_with_trim_box_crop_marks_and_the_band_running_into_it(bleed_pdfs, size):
    data = bleed_pdfs[size]
    info = pdfinfo(data)
    width, height = PAPER_PT[size]
    b = 3 * MM_PT
    assert box(info, "MediaBox") == pytest.approx([0, 0, width + 2 * b, height + 2 * b], abs=0.005)
    assert box(info, "BleedBox") == box(info, "MediaBox")
    assert box(info, "TrimBox") == pytest.approx([b, b, b + width, b + height], abs=0.005)
    dpi = 50 if size == "abri" else 150
    image = pdftoppm(data, dpi).convert("RGB")
    bleed_px = 3 / 25.4 * dpi
    w, h = image.size
    # The red band reaches the very edge of the sheet at the bottom, left and right.
    for x in (2, w // 2, w - 3):  # (the outermost pixel is partly off the page)
        assert image.getpixel((x, h - 3)) == posters.CITY_RED
    # A crop mark in the top left bleed: dark pixels on the trim line's extension, none at the trim corner.
    trim_x = round(bleed_px)
    mark = [min(sum(image.getpixel((x, y))) for x in (trim_x - 1, trim_x, trim_x + 1))
            for y in range(0, max(1, round(bleed_px * 0.6)))]
    assert min(mark) < 500, mark  # a thin dark line (anti-aliased at this resolution)
    assert all(sum(image.getpixel((trim_x + 3, y))) == 765 for y in range(round(bleed_px * 0.6)))
    assert_campaign_qr(image)


@POPPLER
def test_the_abri_keeps_text_and_code_in_a_safe_area_of_at_least_30_mm():
    layout = posters.poster_layout(BILINGUAL, "abri")
    safe = round(30 / 25.4 * 300)
    assert layout.content.x0 >= safe and layout.content.y0 >= safe
    assert layout.width - layout.content.x1 >= safe
    band_top = layout.band.y0
    assert band_top - layout.content.y1 >= 0 and layout.height - layout.content.y1 >= safe
    for block in layout.blocks:
        assert layout.content.contains(block.ink)
    assert layout.content.contains(layout.qr.box)


def test_scan_line_sits_right_above_the_code_and_the_reason_to_join_is_the_last_line():
    layout = posters.poster_layout(BILINGUAL, "A4")
    scan = layout.block("scan")
    assert [line.text for line in scan.lines] == [NL.scan, EN.scan]
    assert 0 < layout.qr.box.y0 - scan.ink.y1 < 300  # within 2.5 cm
    footer = layout.block("footer")
    assert footer.lines[0].text == NL.reason
    assert footer.ink.y1 == max(block.ink.y1 for block in layout.blocks)
    assert "Account aanmaken kost 2 minuten" not in pdftotext(posters.render(SPEC, "A4", "pdf"))


def test_the_a4_poster_uses_the_room_for_a_larger_code():
    qr = posters.poster_layout(SPEC, "A4").qr
    assert qr.symbol.width / 300 * 2.54 >= 7  # cm: more than the 6 cm minimum, where there is room


@pytest.mark.parametrize("size", ["A4", "A6"])
def test_png_is_the_pdf_rendered_at_300_dpi_with_the_exact_pixel_size(pngs, size):
    image = png(pngs[size])
    assert image.size == PAPER_PX[size]
    assert image.info["dpi"] == pytest.approx((300, 300), abs=0.01)
    assert_campaign_qr(image)


def test_posters_rendered_side_by_side_never_run_pdfium_at_the_same_time(monkeypatch):
    # PDFium is not thread-safe: two calls at once, even on different documents, crash the process
    # ("free(): invalid pointer", or a segfault in get_page). The staff page's previews load side by
    # side, so a threaded server renders several posters at once. Each document here stays open a
    # moment, long enough for the other threads to try.
    real_document = posters.pypdfium2.PdfDocument
    open_now, most_at_once, counting = 0, 0, threading.Lock()

    class Watched:
        def __init__(self, data):
            nonlocal open_now, most_at_once
            with counting:
                open_now += 1
                most_at_once = max(most_at_once, open_now)
            self.document = real_document(data)
            time.sleep(0.02)

        def __getitem__(self, number):
            return self.document[number]

        def close(self):
            nonlocal open_now
            self.document.close()
            with counting:
                open_now -= 1

    monkeypatch.setattr(posters.pypdfium2, "PdfDocument", Watched)
    alone = posters.render(SPEC, "A6", "png", dpi=30)
    start = threading.Barrier(8)

    def preview(size: str) -> bytes:
        start.wait()
        return posters.render(SPEC, size, "png", dpi=30)

    with ThreadPoolExecutor(8) as pool:
        side_by_side = list(pool.map(preview, ["A6", "A5"] * 4))
    assert most_at_once == 1
    assert side_by_side[0::2] == [alone] * 4
    assert_campaign_qr(png(side_by_side[1]))


def test_large_pngs_stay_under_about_40_megapixels():
    for size in posters.SIZES:
        width, height = posters.PAPER_MM[size]
        dpi = posters.png_dpi(size)
        assert (width / 25.4 * dpi) * (height / 25.4 * dpi) <= 40e6
    assert posters.png_dpi("A3") == 300 and posters.png_dpi("abri") == 100


def test_quiet_zone_is_four_white_modules_around_the_symbol(pngs):
    image = png(pngs["A4"]).convert("L")
    qr = posters.poster_layout(SPEC, "A4").qr
    symbol, quiet = qr.symbol, 4 * qr.module_px
    for x, y in ((symbol.x0 + 2, symbol.y0 + 2), (symbol.x1 - 3, symbol.y0 + 2), (symbol.x0 + 2, symbol.y1 - 3)):
        assert image.getpixel((x, y)) < 128  # the finder patterns sit right at the symbol's corners
    ring = [  # two pixels in from the symbol: the edge of a vector module may be anti-aliased
        Box(symbol.x0 - quiet, symbol.y0 - quiet, symbol.x1 + quiet, symbol.y0 - 2),
        Box(symbol.x0 - quiet, symbol.y1 + 2, symbol.x1 + quiet, symbol.y1 + quiet),
        Box(symbol.x0 - quiet, symbol.y0, symbol.x0 - 2, symbol.y1),
        Box(symbol.x1 + 2, symbol.y0, symbol.x1 + quiet, symbol.y1),
    ]
    for strip in ring:
        assert is_white(image, strip), strip


def test_poster_carries_the_city_in_text_and_red_for_identity_only(pngs):
    layout = posters.poster_layout(SPEC, "A4")
    assert layout.block("city").lines[0].text == "Gemeente Amsterdam"
    assert len(layout.crosses) == 3
    image = png(pngs["A4"]).convert("RGB")
    for cross in layout.crosses:
        centre = ((cross.x0 + cross.x1) // 2, (cross.y0 + cross.y1) // 2)
        assert image.getpixel(centre) == posters.CITY_RED
    assert image.getpixel((10, layout.height - 10)) == posters.CITY_RED
    # Paint the crosses and the band out: no red remains, so all text is ink, never red.
    draw = ImageDraw.Draw(image)
    for box in (*layout.crosses, layout.band):
        draw.rectangle((box.x0 - 2, box.y0 - 2, box.x1 + 1, box.y1 + 1), fill="white")
    red, green, _ = image.split()
    reddish = ImageChops.multiply(red.point(lambda v: 255 * (v > 150)), green.point(lambda v: 255 * (v < 100)))
    assert reddish.getbbox() is None


# --- glyphs: every character the rules accept has a real one -----------------------------------


@POPPLER
def test_arabic_and_hebrew_calls_to_action_are_drawn_with_the_committed_fallback_fonts(tmp_path):
    arabic = PosterText("شارك برأيك في الحي", NL.why, NL.reason, scan=NL.scan)
    hebrew = PosterText("השתתפו בשיחה עם העירייה", EN.why, EN.reason, scan=EN.scan)
    data = posters.render(PosterSpec(URL, SHORT_LINK, (arabic, hebrew)), "A4", "pdf")
    fonts = subprocess.run(["pdffonts", "-"], input=data, capture_output=True, check=True).stdout.decode()
    assert "+NotoSansArabic-Bold" in fonts  # Hebrew is in Liberation Sans itself
    assert pdf_raster_images(data, tmp_path) == []
    assert posters.missing_glyphs(arabic.headline + hebrew.headline) == []
    assert_campaign_qr(pdftoppm(data, 100))
    # Right to left: the line starts at the right margin.
    layout = posters.poster_layout(PosterSpec(URL, SHORT_LINK, (arabic,)), "A4")
    line = layout.block("headline").lines[0]
    assert line.ink.x1 >= layout.content.x1 - 10


def test_characters_no_committed_font_can_draw_are_named():
    assert posters.missing_glyphs("Praat mee 😀 ✓ 中文 ") == ["😀", "✓", "中", "文"] or \
        "😀" in posters.missing_glyphs("Praat mee 😀 ✓ 中文 ")
    assert posters.missing_glyphs("Ça va, Ærø, İstanbul — “quotes” €5 → ok") == []


# --- text that fits ------------------------------------------------------------------------------


def assert_laid_out_within_margins(layout: posters.Layout) -> None:
    """Every glyph and the QR inside the margins, and nothing on top of anything else."""
    things = [block.ink for block in layout.blocks] + ([layout.qr.box] if layout.qr else [])
    for box in things:
        assert layout.content.contains(box), box
    for index, box in enumerate(things):
        for other in things[index + 1 :]:
            assert not box.overlaps(other), (box, other)


def assert_fits(layout: posters.Layout, image: Image.Image) -> None:
    """As laid out, and as painted: the margins are blank (but for the edge pixel of a vector
    shape at the content's edge, which may be anti-aliased)."""
    assert_laid_out_within_margins(layout)
    band_top = layout.band.y0 if layout.band else layout.height
    content = layout.content
    margins = [
        Box(0, 0, layout.width, content.y0 - 1),
        Box(0, 0, content.x0 - 1, band_top - 2),
        Box(content.x1 + 1, 0, layout.width, band_top - 2),
        Box(0, content.y1 + 1, layout.width, band_top - 2),
    ]
    for margin in margins:
        assert is_white(image, margin), margin


@pytest.mark.parametrize("size", posters.SIZES)
def test_200_character_call_to_action_fits_within_the_margins_at_a_readable_size(long_call_spec, size):
    layout = posters.poster_layout(long_call_spec, size)
    headline = layout.block("headline")
    assert " ".join(line.text for line in headline.lines) == LONG_CALL  # every word, in order
    floor = posters._readable_px(posters.READING_DISTANCE_M[size])
    assert headline.px >= max(floor, READABLE_HEADLINE_PX.get(size, 0))
    for role in ("why", "footer"):
        assert layout.block(role).px >= READABLE_BODY_PX.get(size, 0)
    assert_laid_out_within_margins(layout)
    if size in ("A6", "A4"):
        image = png(posters.render(long_call_spec, size, "png"))
        assert_fits(layout, image)
        assert_campaign_qr(image)


@pytest.mark.parametrize("size", ["A4", "A6"])
def test_a_single_very_long_word_is_broken_not_clipped(size):
    spec = PosterSpec(URL, SHORT_LINK, (PosterText(LONG_WORD, NL.why, NL.reason),))
    layout = posters.poster_layout(spec, size)
    headline = layout.block("headline")
    assert "".join(line.text for line in headline.lines) == LONG_WORD
    assert headline.px >= READABLE_HEADLINE_PX[size]
    assert_fits(layout, png(posters.render(spec, size, "png")))


def test_bilingual_200_character_calls_to_action_fit_on_a4():
    spec = PosterSpec(URL, SHORT_LINK, (PosterText(LONG_CALL, NL.why, NL.reason, NL.sms, scan=NL.scan), EN))
    layout = posters.poster_layout(spec, "A4")
    assert layout.block("headline").px >= READABLE_HEADLINE_PX["A4"]
    assert layout.qr.symbol.width >= posters._QR_MIN_SYMBOL_PX["A4"]
    assert_fits(layout, png(posters.render(spec, "A4", "png")))


def test_a_call_to_action_too_long_for_any_readable_size_is_refused_not_clipped():
    spec = PosterSpec(URL, SHORT_LINK, (PosterText(LONG_CALL * 4),))
    with pytest.raises(posters.DoesNotFit, match="headline"):
        posters.poster_layout(spec, "A6")


def footer_text(spec: PosterSpec, size: str = "A4") -> str:
    return "\n".join(line.text for line in posters.poster_layout(spec, size).block("footer").lines)


def test_sms_line_appears_only_when_given():
    without = PosterSpec(URL, SHORT_LINK, (PosterText(NL.headline, NL.why, NL.reason, sms=None),))
    assert "Stuur PRAATMEE naar 4444" in footer_text(SPEC)
    assert "4444" not in footer_text(without)
    assert NL.reason in footer_text(without)


def test_bilingual_poster_shows_both_headlines_and_both_sms_lines(pngs):
    layout = posters.poster_layout(BILINGUAL, "A4")
    headline = " ".join(line.text for line in layout.block("headline").lines)
    assert NL.headline in headline and EN.headline in headline
    assert NL.sms in footer_text(BILINGUAL) and EN.sms in footer_text(BILINGUAL)
    lines = layout.block("headline").lines
    assert lines[0].px > lines[-1].px  # Dutch first and larger; English after it
    image = png(posters.render(BILINGUAL, "A4", "png"))
    assert_fits(layout, image)
    assert_campaign_qr(image)


def test_an_english_call_to_action_that_is_the_dutch_one_is_shown_once():
    same = PosterSpec(URL, SHORT_LINK, (NL, PosterText(NL.headline, EN.why, EN.reason)))
    lines = [line.text for line in posters.poster_layout(same, "A4").block("headline").lines]
    assert " ".join(lines) == NL.headline


# --- determinism -------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["png", "svg", "pdf"])
def test_the_same_poster_gives_the_same_bytes(fmt):
    assert posters.render(SPEC, "A6", fmt) == posters.render(SPEC, "A6", fmt)


def test_handout_and_social_images_are_deterministic():
    assert posters.handout_pdf(SPEC, sheet="A5") == posters.handout_pdf(SPEC, sheet="A5")
    assert posters.social_png(SPEC, "square") == posters.social_png(SPEC, "square")


# --- the handout -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def handout_a4() -> bytes:
    return posters.handout_pdf(BILINGUAL)


def test_handout_puts_four_scannable_cards_on_an_a4_sheet(handout_a4):
    ((page_size, image),) = posters.rendered_pages(handout_a4, dpi=150)
    assert page_size == pytest.approx(PAPER_PT["A4"], abs=0.01)
    assert_campaign_qr(image, count=4)


@POPPLER
def test_handout_is_vector_with_dashed_cut_lines_between_the_cards(handout_a4, tmp_path):
    assert pdf_raster_images(handout_a4, tmp_path) == []
    text = pdftotext(handout_a4)
    assert NL.headline in text and EN.headline in text and SHORT_LINK in text
    image = pdftoppm(handout_a4, 100).convert("L")
    x = round(105 / 25.4 * 100)  # the vertical cut, between the two columns of cards
    column = [min(image.getpixel((x + dx, y)) for dx in (-1, 0, 1)) for y in range(image.height)]
    grey = sum(1 for value in column if value < 230)
    assert image.height * 0.3 < grey < image.height * 0.8  # dashed: about half of it drawn


def test_handout_puts_two_scannable_cards_on_an_a5_sheet():
    ((page_size, image),) = posters.rendered_pages(posters.handout_pdf(SPEC, sheet="A5"), dpi=150)
    assert page_size == pytest.approx(PAPER_PT["A5"][::-1], abs=0.01)  # landscape
    assert_campaign_qr(image, count=2)


def test_handout_card_has_short_link_and_four_numbered_steps_in_each_language():
    for language, text in enumerate((NL, EN)):
        layout = posters.handout_card_layout(BILINGUAL, language)
        assert (layout.width, layout.height) == PAPER_PX["A6"]
        assert layout.block("link").lines[0].text == SHORT_LINK
        steps = [line.text for line in layout.block("steps").lines]
        for number, step in enumerate(text.steps, start=1):
            assert f"{number}." in steps
            assert step.split()[0] in " ".join(steps)
        assert_laid_out_within_margins(layout)


def test_handout_without_steps_is_refused():
    spec = PosterSpec(URL, SHORT_LINK, (PosterText(NL.headline),))
    with pytest.raises(ValueError, match="steps"):
        posters.handout_pdf(spec)


# --- social images -----------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "size"), [("square", (1080, 1080)), ("story", (1080, 1920))])
def test_social_image_has_exact_size_text_and_no_qr_by_default(kind, size):
    image = png(posters.social_png(SPEC, kind))
    assert image.size == size
    assert qr_codes(image) == []
    layout = posters.social_layout(SPEC, kind)
    assert layout.qr is None
    assert " ".join(line.text for line in layout.block("headline").lines) == NL.headline
    assert layout.block("tagline").lines[0].text == "Praat mee op Mastodon"
    assert layout.block("link").lines[0].text == SHORT_LINK
    assert_fits(layout, image)


@pytest.mark.parametrize(("kind", "size"), [("square", (1080, 1080)), ("story", (1080, 1920))])
def test_social_image_with_qr_decodes_to_campaign_url(kind, size):
    image = png(posters.social_png(SPEC, kind, with_qr=True))
    assert image.size == size
    assert_campaign_qr(image)
    layout = posters.social_layout(SPEC, kind, with_qr=True)
    assert_fits(layout, image)


# --- the bare QR and the kiosk -----------------------------------------------------------------


def test_kiosk_svg_is_safe_to_inline_and_scales_with_css():
    svg = posters.qr_svg(URL, label='Scan mij: "praat mee" <nu> & hier')
    root = ET.fromstring(svg)  # well-formed on its own
    assert not svg.startswith("<?xml")
    assert "style=" not in svg
    assert "<script" not in svg.lower()
    assert not re.search(r"\son\w+=", svg)  # no event handlers
    assert root.attrib["role"] == "img"
    assert root.attrib["aria-label"] == 'Scan mij: "praat mee" <nu> & hier'
    title = root.find("{http://www.w3.org/2000/svg}title")
    assert title.text == 'Scan mij: "praat mee" <nu> & hier'
    assert re.fullmatch(r"0 0 (\d+) \1", root.attrib["viewBox"])
    assert "width" not in root.attrib and "height" not in root.attrib
    assert_campaign_qr(rasterize_qr_svg(svg))


def test_kiosk_svg_keeps_a_quiet_zone_of_four_modules():
    svg = posters.qr_svg(URL, label="QR")
    side = int(ET.fromstring(svg).attrib["viewBox"].split()[2])
    image = rasterize_qr_svg(svg, scale=1)
    dark = ImageChops.invert(image).getbbox()
    assert dark == (4, 4, side - 4, side - 4)


def test_bare_qr_png_decodes_with_quiet_zone():
    image = png(posters.qr_png(URL, module_px=10))
    assert_campaign_qr(image)
    side = image.width
    assert side % 10 == 0
    dark = ImageChops.invert(image.convert("L")).getbbox()
    assert dark == (40, 40, side - 40, side - 40)


@pytest.mark.parametrize("size", posters.SIZES)
def test_render_svg_is_the_bare_qr_at_its_printed_size(size):
    svg = posters.render(SPEC, size, "svg").decode()
    width_mm = float(re.search(r'width="([\d.]+)mm"', svg).group(1))
    assert width_mm >= QR_MIN_CM[size] * 10
    assert_campaign_qr(rasterize_qr_svg(svg.split("\n", 1)[1]))


# --- refusals ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("size", "fmt"), [("A7", "pdf"), ("a4", "pdf"), ("A4", "jpg"), ("A4", "")])
def test_unknown_size_or_format_raises_value_error(size, fmt):
    with pytest.raises(ValueError, match="unknown (size|format)"):
        posters.render(SPEC, size, fmt)


def test_unknown_social_kind_or_handout_sheet_raises_value_error():
    with pytest.raises(ValueError, match="unknown kind"):
        posters.social_png(SPEC, "banner")
    with pytest.raises(ValueError, match="unknown sheet"):
        posters.handout_pdf(SPEC, sheet="A3")


@pytest.mark.parametrize(
    "make",
    [
        lambda: PosterSpec("javascript:alert(1)", SHORT_LINK, (NL,)),
        lambda: PosterSpec(URL, SHORT_LINK, ()),
        lambda: PosterSpec(URL, SHORT_LINK, (NL, EN, NL)),
        lambda: PosterSpec(URL, " ", (NL,)),
        lambda: PosterText(" "),
    ],
)
def test_specs_that_cannot_make_a_poster_are_refused(make):
    with pytest.raises(ValueError):
        make()


# --- every call to action the campaign rules accept prints on every product ---------------------

from dataclasses import replace  # noqa: E402

from flask_babel import force_locale, gettext  # noqa: E402
from hypothesis import HealthCheck, example, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from praatmee_site import campaigns  # noqa: E402

DUTCH_180 = (
    "Kom naar de bijeenkomst in de bibliotheek en vertel ons wat jij vindt van de plannen voor het "
    "nieuwe plein, de bomen, de bankjes en de fietsenstalling bij het station in Oost"
)
# Pieces a call to action is made of: ordinary words, capitals, the widest letters, long words,
# emoji, Arabic and Hebrew (right to left), digits and punctuation.
_WORDS = st.sampled_from([
    "Denk", "mee", "over", "de", "buurt", "WIJ", "LEZEN", "ALLES", "WWWWWWWWW", "MMMMMMM", "@@@@",
    "Gemeenteraadsverkiezingsbijeenkomstenprogramma", "https://amsterdam.nl/praatmee/c/bieb",
    "😀", "👩🏽‍💻", "🇳🇱", "شارك", "برأيك", "في", "الحي", "השתתפו", "בשיחה", "עם", "העירייה",
    "2026", "—", "…", "!!", "?", "€5", "İstanbul", "Ærø", "Ŵŵ",
])
_TEXTS = st.one_of(
    st.lists(_WORDS, min_size=1, max_size=60).map(" ".join),
    st.text(alphabet=st.sampled_from("WMÆŒ@%QGOD "), min_size=1, max_size=200),
    st.text(min_size=1, max_size=200),  # any character at all
    st.builds(lambda word, n: ((word + " ") * n), _WORDS, st.integers(1, 100)),
).map(lambda text: text[:200])
READABLE_FLOOR_PX = {  # capitals of 1/170 of the reading distance
    size: posters._readable_px(posters.READING_DISTANCE_M[size]) for size in posters.SIZES
}


def every_product_layout(cta_nl: str, cta_en: str) -> None:
    """Lays out every printed product in every language choice, as printed.poster_spec would."""
    nl = (replace(NL, headline=cta_nl),)
    en = (replace(EN, headline=cta_en or cta_nl),)
    for texts in (nl, en, nl + en):
        spec = PosterSpec(URL, SHORT_LINK, texts)
        for size in posters.SIZES:
            layout = posters.poster_layout(spec, size)
            assert layout.block("headline").px >= READABLE_FLOOR_PX[size]
            assert layout.qr.symbol.width >= posters._QR_MIN_SYMBOL_PX[size]
            assert_laid_out_within_margins(layout)
        for kind in posters.SOCIAL_KINDS:
            for with_qr in (False, True):
                layout = posters.social_layout(spec, kind, with_qr)
                assert layout.block("headline").px >= posters._SOCIAL_FLOOR_PX
                assert_laid_out_within_margins(layout)
        for language in range(len(texts)):
            layout = posters.handout_card_layout(spec, language)
            assert layout.block("headline").px >= posters._readable_px(0.4)
            assert_laid_out_within_margins(layout)


def assert_refusal_names_the_product_in_both_languages(app, error: campaigns.CampaignError) -> None:
    for problem in error.problems:
        assert problem.field in ("cta_nl", "cta_en") and problem.code.startswith("unprintable_"), problem
    with app.app_context():
        for lang, words in (("nl", ("poster", "flyer", "plaatje")), ("en", ("poster", "handout", "image"))):
            with force_locale(lang):
                for problem in error.problems:
                    message = gettext(problem.message, **problem.params)
                    assert "%(" not in message and any(word in message for word in words), message


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(cta_nl=_TEXTS, cta_en=st.one_of(st.just(""), _TEXTS))
@example(cta_nl=DUTCH_180, cta_en=LONG_CALL)
@example(cta_nl="A" * 200, cta_en="")
@example(cta_nl="WWWWWWWWW " * 20, cta_en="")
@example(cta_nl="W" * 200, cta_en="M" * 200)
@example(cta_nl=(LONG_WORD * 3)[:200], cta_en="😀" * 200)
@example(cta_nl="شارك برأيك في الحي " * 10, cta_en="השתתפו בשיחה עם העירייה " * 8)
def test_every_call_to_action_the_rules_accept_prints_on_every_product_or_is_refused_by_name(
    app, cta_nl, cta_en
):
    try:
        cleaned = campaigns.clean({"name": "x", "place": "overig", "cta_nl": cta_nl, "cta_en": cta_en},
                                  home_url="https://social.example")
    except campaigns.CampaignError as error:
        assert all(problem.code != "too_long" for problem in error.problems)
        if all(problem.code != "required" for problem in error.problems):  # "" or only spaces
            assert_refusal_names_the_product_in_both_languages(app, error)
        return
    every_product_layout(cleaned["cta_nl"], cleaned["cta_en"])


@pytest.mark.parametrize("cta", [DUTCH_180, LONG_CALL, "A" * 200, LONG_CALL.upper()])
def test_ordinary_long_calls_to_action_are_accepted_and_print_everywhere(cta):
    cleaned = campaigns.clean({"name": "x", "place": "overig", "cta_nl": cta}, home_url="https://s.example")
    every_product_layout(cleaned["cta_nl"], "")


def test_two_ordinary_long_calls_to_action_print_together_in_both_languages():
    cleaned = campaigns.clean({"name": "x", "place": "overig", "cta_nl": DUTCH_180, "cta_en": LONG_CALL},
                              home_url="https://s.example")
    every_product_layout(cleaned["cta_nl"], cleaned["cta_en"])


def test_an_unprintable_call_to_action_is_refused_naming_the_product(app):
    with pytest.raises(campaigns.CampaignError) as error:
        campaigns.clean({"name": "x", "place": "overig", "cta_nl": "W" * 200}, home_url="https://s.example")
    assert [(p.field, p.code) for p in error.value.problems] == [("cta_nl", "unprintable_handout")]
    assert_refusal_names_the_product_in_both_languages(app, error.value)
    with app.app_context(), force_locale("nl"):
        assert gettext(error.value.problems[0].message) == (
            "De oproep past niet leesbaar op de kaartjes van de flyer: gebruik minder of kortere woorden")


@pytest.mark.browser
@pytest.mark.parametrize("cta", ["A" * 200, LONG_CALL.upper(), "شارك برأيك في الحي " * 10])
def test_the_kiosk_shows_every_accepted_call_to_action_whole_with_a_scannable_code(
    make_app, live_server_for, open_page, cta
):
    """At a desktop's and at a tablet's size (each loading the kiosk at its own size); what either size
    got wrong is gathered first."""
    import zxingcpp as zxing

    from praatmee_site.web.services import current_db
    from tests.conftest import Findings

    app = make_app(DEMO=True)
    with app.app_context():
        campaigns.create(current_db(), "bieb-oost", home_url=app.config["MASTODON_URL"], name="x",
                         place="bibliotheek", cta_nl=cta.strip())
    server = live_server_for(app)
    page = open_page(server.url)
    problems = Findings()
    for width, height in ((1280, 800), (768, 1024)):
        page.set_viewport_size({"width": width, "height": height})
        page.goto(server.url + "/kiosk/bieb-oost")
        with problems.at(f"{width}x{height}"):
            assert page.evaluate("document.documentElement.scrollHeight") <= height
            assert page.evaluate("document.documentElement.scrollWidth") <= width
            boxes = {name: page.locator(selector).bounding_box()
                     for name, selector in (("cta", "h1"), ("link", ".kiosk-link"), ("qr", ".kiosk-qr svg"))}
            for name, box in boxes.items():
                assert box["x"] >= 0 and box["y"] >= 0, name
                assert box["x"] + box["width"] <= width and box["y"] + box["height"] <= height, name
            # The heading is not cut off: its text is as tall as its box, and it reads at 2 m (≥ 24 px).
            assert page.evaluate("(e => e.scrollHeight <= e.clientHeight + 1)(document.querySelector('h1'))")
            assert float(page.evaluate("getComputedStyle(document.querySelector('h1')).fontSize")[:-2]) >= 24
            image = Image.open(io.BytesIO(page.screenshot()))
            assert [code.text for code in zxing.read_barcodes(image)] == [
                "https://amsterdam.test/praatmee/c/bieb-oost"]
    assert problems == [], "\n".join(problems)
