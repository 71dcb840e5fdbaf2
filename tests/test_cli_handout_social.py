"""`campaign handout` and `campaign social`: files for event tables and other channels, straight from the CLI."""
from __future__ import annotations

import io

import pypdfium2 as pdfium
import pytest
from PIL import Image

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
    document = pdfium.PdfDocument(output.read_bytes())
    width, height = document[0].get_size()
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
