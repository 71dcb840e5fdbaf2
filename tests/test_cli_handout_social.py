"""`campaign handout` and `campaign social`: files for event tables and other channels, straight from the CLI."""
from __future__ import annotations

import io

import pytest
from PIL import Image

from praatmee_site.campaigns.posters import rendered_pages
from tests.support.qr import codes_in_pdf, codes_in_png, texts

URL = "https://amsterdam.test/praatmee/c/bieb-oost"


@pytest.fixture
def campaign(runner):
    result = runner.invoke(args=["campaign", "create", "bieb-oost", "--name", "OBA Oost", "--place", "bibliotheek",
                                 "--cta", "Stel je vraag aan het Innovatieteam"])
    assert result.exit_code == 0, result.output


def test_handout_is_four_a6_cards_on_a4_whose_qr_codes_lead_to_the_campaign(runner, campaign, tmp_path):
    output = tmp_path / "flyer.pdf"
    result = runner.invoke(args=["campaign", "handout", "bieb-oost", "--output", str(output)])
    assert result.exit_code == 0, result.output
    ((width, height), _image), = rendered_pages(output.read_bytes(), dpi=10)
    assert abs(width - 595.3) < 1.5 and abs(height - 841.9) < 1.5  # A4 portrait, points
    codes = codes_in_pdf(output.read_bytes(), dpi=150)
    assert len(codes) == 4 and texts(codes) == {URL}


def test_handout_on_a5_has_two_cards(runner, campaign, tmp_path):
    output = tmp_path / "flyer-a5.pdf"
    assert runner.invoke(args=["campaign", "handout", "bieb-oost", "--sheet", "A5", "--output", str(output)]).exit_code == 0
    assert len(codes_in_pdf(output.read_bytes(), dpi=150)) == 2


@pytest.mark.parametrize("kind, size", [("square", (1080, 1080)), ("story", (1080, 1920))])
def test_social_images_have_exact_sizes_and_no_qr_by_default(runner, campaign, tmp_path, kind, size):
    output = tmp_path / f"{kind}.png"
    result = runner.invoke(args=["campaign", "social", "bieb-oost", "--format", kind, "--output", str(output)])
    assert result.exit_code == 0, result.output
    assert Image.open(io.BytesIO(output.read_bytes())).size == size
    assert codes_in_png(output.read_bytes()) == []


@pytest.mark.parametrize("kind", ["square", "story"])
def test_social_images_with_qr_decode_to_the_campaign(runner, campaign, tmp_path, kind):
    output = tmp_path / f"{kind}.png"
    result = runner.invoke(args=["campaign", "social", "bieb-oost", "--format", kind, "--qr", "--output", str(output)])
    assert result.exit_code == 0, result.output
    assert texts(codes_in_png(output.read_bytes())) == {URL}


@pytest.mark.parametrize("command", [["handout"], ["social", "--format", "square"]])
def test_unknown_campaign_and_unwritable_output_fail_clearly_and_write_nothing(runner, campaign, tmp_path, command):
    output = tmp_path / "x.out"
    unknown = runner.invoke(args=["campaign", command[0], "bestaat-niet", *command[1:], "--output", str(output)])
    assert unknown.exit_code != 0
    assert "There is no campaign with the slug 'bestaat-niet'" in unknown.output
    assert "Er is geen campagne" in unknown.output
    missing_folder = runner.invoke(args=["campaign", command[0], "bieb-oost", *command[1:],
                                         "--output", str(tmp_path / "nope" / "x.out")])
    assert missing_folder.exit_code != 0 and "does not exist" in missing_folder.output
    assert not output.exists()


def test_social_format_must_be_square_or_story(runner, campaign, tmp_path):
    result = runner.invoke(args=["campaign", "social", "bieb-oost", "--format", "banner", "--output",
                                 str(tmp_path / "x.png")])
    assert result.exit_code != 0 and "square" in result.output


# --- a campaign saved before the rules checked that its call to action prints ------------------

UNPRINTABLE = "W" * 300  # far past what the rules accept today; stored as if an old version had let it in


@pytest.fixture
def legacy_campaign(app):
    from praatmee_site.db import Campaign
    from praatmee_site.web.services import current_db
    with app.app_context():
        with current_db().Session.begin() as session:
            session.add(Campaign(slug="oud", name="Oud", place="overig", cta_nl=UNPRINTABLE, cta_en=""))


def test_cli_handout_of_an_unprintable_campaign_says_why_in_both_languages(runner, legacy_campaign, tmp_path):
    output = tmp_path / "flyer.pdf"
    result = runner.invoke(args=["campaign", "handout", "oud", "--output", str(output)])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert "The poster could not be made" in result.output and "kon niet worden gemaakt" in result.output
    assert "Traceback" not in result.output
    assert not output.exists()


def test_public_handout_of_an_unprintable_campaign_is_not_a_server_error(app, legacy_campaign):
    response = app.test_client().get("/hulp/flyer/oud.pdf", headers={"User-Agent": "Mozilla/5.0"})
    assert response.status_code == 404
    assert response.mimetype == "text/html" and "%PDF" not in response.text  # the calm page, not a broken file


def test_staff_download_of_an_unprintable_campaign_explains_what_to_do(make_app, tmp_path):
    from praatmee_site.db import Campaign
    from praatmee_site.staff.accounts import StaffDirectory
    from praatmee_site.web.services import current_db
    from tests.test_staff import log_in
    app = make_app()
    with app.app_context():
        StaffDirectory(current_db()).add("medewerker@amsterdam.test", "een lang wachtwoord 123")
        with current_db().Session.begin() as session:
            session.add(Campaign(slug="oud", name="Oud", place="overig", cta_nl=UNPRINTABLE, cta_en=""))
    client = app.test_client()
    assert log_in(client).status_code == 302
    response = client.get("/beheer/campagnes/oud/download/handout.pdf")
    assert response.status_code == 422
    assert "De oproep past niet leesbaar op dit drukwerk" in response.text


# --- the poster sizes of issue 17 from the CLI -----------------------------------------------------


def test_cli_abri_poster_with_bleed_in_both_languages_scans_and_is_exactly_the_size(runner, campaign, tmp_path):
    import re
    import subprocess
    output = tmp_path / "abri.pdf"
    result = runner.invoke(args=["campaign", "poster", "bieb-oost", "--size", "abri", "--format", "pdf",
                                 "--lang", "nl+en", "--bleed", "--output", str(output)])
    assert result.exit_code == 0, result.output
    assert "abri pdf, nl+en, 3 mm bleed and crop marks" in result.output
    info = subprocess.run(["pdfinfo", "-box", str(output)], capture_output=True, check=True, text=True).stdout
    media = [float(v) for v in re.search(r"MediaBox:\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)", info).groups()]
    assert media[2:] == pytest.approx([(1185 + 6) / 25.4 * 72, (1750 + 6) / 25.4 * 72], abs=0.01)
    assert texts(codes_in_pdf(output.read_bytes(), dpi=40)) == {URL}


@pytest.mark.parametrize("size", ["A5", "A2", "A1", "A0"])
def test_cli_offers_every_size_from_a5_to_a0(runner, campaign, tmp_path, size):
    output = tmp_path / f"{size}.pdf"
    result = runner.invoke(args=["campaign", "poster", "bieb-oost", "--size", size, "--format", "pdf",
                                 "--output", str(output)])
    assert result.exit_code == 0, result.output
    assert texts(codes_in_pdf(output.read_bytes(), dpi=150 if size == "A5" else 30)) == {URL}
