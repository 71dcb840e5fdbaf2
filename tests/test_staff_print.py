"""The staff download page for printed matter (issue 17): one card per product with a preview, where
it goes, its size, a language choice and one download button; the files are the printed products."""
from __future__ import annotations

import io
import re
import shutil
import subprocess

import pytest
import zxingcpp
from PIL import Image

from praatmee_site.staff.accounts import StaffDirectory
from praatmee_site.web.services import current_db
from tests.test_staff import EMAIL, PASSWORD, csrf_token, log_in  # noqa: F401

URL = "https://amsterdam.test/praatmee/c/bieb-oost"
PAGE = "/beheer/campagnes/bieb-oost"
CARDS = {  # id: (title, where it goes), as staff read them in Dutch
    "tafelkaart": ("Tafelkaart A6", "Op de tafels bij evenementen"),
    "a4": ("Poster A4", "Prikborden"),
    "a3": ("Poster A3", "Bibliotheken en buurthuizen"),
    "groot": ("Poster A2, A1 of A0", "Hallen en evenementen"),
    "abri": ("Abri 118,5 × 175 cm", "Bushokjes, via de drukker, met afloop"),
    "flyer": ("Flyer", "Aan de tafel: vier kaartjes om uit A4 te knippen"),
    "social": ("Plaatjes voor sociale media", "Instagram, LinkedIn"),
    "qr": ("Alleen de QR-code", "Voor je eigen ontwerp"),
}
POPPLER = pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="needs poppler-utils (.ci/run installs it)")


def make_campaign(app) -> None:
    from praatmee_site import campaigns
    with app.app_context():
        campaigns.create(current_db(), "bieb-oost", home_url=app.config["MASTODON_URL"], name="OBA Oost",
                         place="bibliotheek", cta_nl="Stel je vraag aan het Innovatieteam",
                         cta_en="Ask the Innovation Team your question")


@pytest.fixture
def staff_client(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        StaffDirectory(current_db()).add(EMAIL, PASSWORD)
    make_campaign(app)
    client = app.test_client()
    assert log_in(client).status_code == 302
    return client


def cards(page: str) -> dict[str, str]:
    return dict(re.findall(r'<li class="print-card" id="drukwerk-([a-z0-9]+)">(.*?)</li>', page, re.S))


def scan(pdf: bytes, dpi: int) -> list[str]:
    png = subprocess.run(["pdftoppm", "-r", str(dpi), "-png", "-singlefile", "-"], input=pdf,
                         capture_output=True, check=True).stdout
    return [code.text for code in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))]


def test_one_card_per_product_with_preview_where_it_goes_size_language_and_one_button(staff_client):
    page = staff_client.get(PAGE).text
    found = cards(page)
    assert list(found) == list(CARDS)
    for key, (title, where) in CARDS.items():
        card = found[key]
        assert f"<h3>{title}</h3>" in card
        assert where in card
        assert card.count("<button") == 1 and "Download" in card
        assert f'src="/beheer/campagnes/bieb-oost/drukwerk/{key}?preview=1"' in card
        assert 'class="print-size"' in card
        if key != "qr":
            assert all(f'<option value="{lang}">' in card for lang in ("nl", "en", "nl+en"))
    assert "118,5 × 175 cm · met 3 mm afloop en snijtekens" in found["abri"]
    assert "10,5 × 14,8 cm" in found["tafelkaart"]
    assert "poster-a4.png" not in page  # no wall of file names any more


@pytest.mark.parametrize("product", list(CARDS))
def test_every_preview_is_a_small_png_of_the_same_design(staff_client, product):
    response = staff_client.get(f"{PAGE}/drukwerk/{product}?preview=1")
    assert response.status_code == 200 and response.mimetype == "image/png"
    assert "inline" in response.headers["Content-Disposition"]
    image = Image.open(io.BytesIO(response.data))
    assert 100 <= image.width <= 260


@POPPLER
def test_the_abri_download_is_the_bus_shelter_poster_with_bleed_in_both_languages(staff_client):
    response = staff_client.get(f"{PAGE}/drukwerk/abri?lang=nl%2Ben")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="praatmee-bieb-oost-nl-en-poster-abri-bleed.pdf"')
    info = subprocess.run(["pdfinfo", "-box", "-"], input=response.data, capture_output=True, check=True).stdout
    mm = 72 / 25.4
    media = [float(v) for v in re.search(rb"MediaBox:\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)", info).groups()]
    assert media == pytest.approx([0, 0, (1185 + 6) * mm, (1750 + 6) * mm], abs=0.01)
    text = " ".join(subprocess.run(["pdftotext", "-", "-"], input=response.data, capture_output=True,
                                   check=True).stdout.decode().split())
    assert "Stel je vraag aan het Innovatieteam" in text and "Ask the Innovation Team your question" in text
    assert scan(response.data, 50) == [URL]


def test_choices_within_a_card_and_refusals(staff_client):
    a0 = staff_client.get(f"{PAGE}/drukwerk/groot?bestand=poster-a0.pdf&lang=en")
    assert a0.status_code == 200 and b"/MediaBox [ 0 0 2383.937 3370.394 ]" in a0.data
    story = staff_client.get(f"{PAGE}/drukwerk/social?bestand=social-story.png")
    assert Image.open(io.BytesIO(story.data)).size == (1080, 1920)
    svg = staff_client.get(f"{PAGE}/drukwerk/qr?bestand=qr.svg")
    assert svg.mimetype == "image/svg+xml"
    for path in ("/drukwerk/folder", "/drukwerk/groot?bestand=poster-a4.pdf", "/drukwerk/a4?lang=fr",
                 "/drukwerk/qr?bestand=handout.pdf"):
        assert staff_client.get(PAGE + path).status_code == 404, path
    assert staff_client.get("/beheer/campagnes/nope/drukwerk/a4").status_code == 404


@pytest.mark.browser
def test_staff_pick_the_abri_in_dutch_and_english_download_it_and_it_scans(make_app, live_server_for, open_page,
                                                                          tmp_path):
    from tests.conftest import describe_violations, run_axe, screenshot
    app = make_app(DEMO=True)
    with app.app_context():
        StaffDirectory(current_db()).add(EMAIL, PASSWORD)
    make_campaign(app)
    server = live_server_for(app)
    page = open_page(server.url, width=1280, height=800)
    page.goto(server.url + PAGE)
    page.fill("#email", EMAIL)
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")
    assert page.url == server.url + PAGE
    # Every preview loads (they are lazy: scrolled to, as a person would).
    for image in page.locator(".print-card img").all():
        image.scroll_into_view_if_needed()
        page.wait_for_function("i => i.complete && i.naturalWidth > 0", arg=image.element_handle(), timeout=20000)
    violations = run_axe(page)
    screenshot(page, "staff_print_cards")
    assert violations == [], describe_violations(violations)
    card = page.locator("#drukwerk-abri")
    assert "Abri 118,5 × 175 cm" in card.inner_text()
    card.get_by_label("Taal").select_option(label="Nederlands en Engels")
    with page.expect_download() as download:
        card.get_by_role("button", name="Download").click()
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    assert path.name == "praatmee-bieb-oost-nl-en-poster-abri-bleed.pdf"
    assert scan(path.read_bytes(), 50) == [URL]
    assert page.outside_requests == []
