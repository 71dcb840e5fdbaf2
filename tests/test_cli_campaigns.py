"""`flask campaign …`: every happy path, and every bad input gives a clear message in English and
Dutch, a non-zero exit, an unchanged database and no output file."""
from __future__ import annotations

import io
import os

import pytest
import zxingcpp
from PIL import Image
from sqlalchemy import text

from praatmee_site import campaigns
from praatmee_site.campaigns import posters
from tests.conftest import HOME
from tests.test_posters import rasterize_qr_svg

PUBLIC = "https://amsterdam.test/praatmee"
URL = f"{PUBLIC}/c/bieb-oost"
THREAD = f"{HOME}/@stad/100"
INVITE = f"{HOME}/invite/Ab3dE9xy"
PHONE = {"User-Agent": "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
                       "Chrome/126.0.0.0 Mobile Safari/537.36"}
CREATE = ["campaign", "create", "bieb-oost", "--name", "OBA Oost", "--place", "bibliotheek",
          "--cta", "Stel je vraag aan het Innovatieteam"]


def invoke(runner, *args):
    return runner.invoke(args=[str(arg) for arg in args])


def ok(runner, *args):
    result = invoke(runner, *args)
    assert result.exit_code == 0, result.output
    return result.output


def refused(runner, *args, code: int = 1):
    result = invoke(runner, *args)
    assert result.exit_code == code, result.output
    return result.output


def snapshot(app) -> list:
    """Every stored row, to show that a refused command changed nothing."""
    with app.extensions["praatmee_db"].engine.connect() as connection:
        return [tuple(row) for table in ("campaigns", "scan_counts")
                for row in connection.execute(text(f"SELECT * FROM {table} ORDER BY 1"))]


def stored(app, slug="bieb-oost"):
    return campaigns.get(app.extensions["praatmee_db"], slug)


def decode(data: bytes, fmt: str, dpi: int = 100) -> list:
    if fmt == "pdf":
        ((_, image),) = posters.rendered_pages(data, dpi=dpi)
    elif fmt == "png":
        image = Image.open(io.BytesIO(data))
    else:
        image = rasterize_qr_svg(data.decode())
    return zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)


# --- the "done when" scenario ----------------------------------------------------------------

def test_create_poster_scan_show(app, runner, mastodon, tmp_path):
    mastodon.standard()
    assert f"Created campaign bieb-oost (OBA Oost): {URL}" in ok(runner, *CREATE)
    poster = tmp_path / "poster.pdf"
    ok(runner, "campaign", "poster", "bieb-oost", "--size", "A3", "--format", "pdf", "--output", poster)
    ((size, image),) = posters.rendered_pages(poster.read_bytes(), dpi=100)
    assert size == pytest.approx((841.89, 1190.55), abs=0.5)
    (code,) = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    assert code.text == URL and code.ec_level == "Q"

    client = app.test_client()
    assert client.get("/c/bieb-oost", headers=PHONE).status_code == 200
    shown = ok(runner, "campaign", "show", "bieb-oost")
    assert "today 1, last 7 days 1, total 1" in shown
    assert f"  {campaigns.today().isoformat()}  1" in shown
    assert "public URL:" in shown and URL in shown


def test_every_size_and_format_scans_to_exactly_the_campaign_url(runner, tmp_path):
    ok(runner, *CREATE)
    for size in posters.SIZES:
        for fmt in posters.FORMATS:
            if fmt == "png" and size not in ("A6", "A4"):
                continue  # a large PNG takes seconds to encode; tests/test_posters.py renders the PDFs
            output = tmp_path / f"poster-{size}.{fmt}"
            out = ok(runner, "campaign", "poster", "bieb-oost", "--size", size, "--format", fmt, "--output", output)
            assert f"the QR code leads to {URL}" in out
            codes = decode(output.read_bytes(), fmt, dpi=100 if size in ("A6", "A5", "A4", "A3") else 25)
            assert [(code.text, code.ec_level) for code in codes] == [(URL, "Q")], (size, fmt)


@pytest.mark.parametrize("lang", ["nl", "en", "nl+en"])
def test_poster_in_each_language_choice(make_app, tmp_path, lang):
    runner = make_app(SMS_NUMBER="4444").test_cli_runner()
    ok(runner, *CREATE, "--cta-en", "Ask the Innovation team your question")
    output = tmp_path / "kaart.png"
    ok(runner, "campaign", "poster", "bieb-oost", "--size", "A6", "--format", "png", "--lang", lang, "--output", output)
    assert [code.text for code in decode(output.read_bytes(), "png")] == [URL]


def test_poster_file_gets_ordinary_permissions_and_replaces_an_old_one(runner, tmp_path):
    ok(runner, *CREATE)
    output = tmp_path / "poster.svg"
    output.write_text("old")
    ok(runner, "campaign", "poster", "bieb-oost", "--size", "A4", "--format", "svg", "--output", output)
    assert output.read_text().startswith("<?xml")
    umask = os.umask(0)
    os.umask(umask)
    assert output.stat().st_mode & 0o777 == 0o666 & ~umask
    assert [p.name for p in tmp_path.iterdir() if "poster" in p.name] == ["poster.svg"]  # no temporary left


# --- create, update, end, list, show ---------------------------------------------------------

def test_create_with_every_option(app, runner):
    ok(runner, *CREATE, "--cta-en", "Ask the Innovation team your question", "--thread", THREAD,
       "--invite", INVITE, "--input-text", "We bespreken alles in de raad.", "--start", "2026-12-01",
       "--end", "2026-12-31")
    campaign = stored(app)
    assert (campaign.cta_en, campaign.thread_url, campaign.invite_url, campaign.input_text) == (
        "Ask the Innovation team your question", THREAD, INVITE, "We bespreken alles in de raad.")
    assert (campaign.starts_on.isoformat(), campaign.ends_on.isoformat()) == ("2026-12-01", "2026-12-31")
    shown = ok(runner, "campaign", "show", "bieb-oost")
    for value in ("OBA Oost", "bibliotheek", THREAD, INVITE, "2026-12-01", "2026-12-31",
                  "Ask the Innovation team your question", "We bespreken alles in de raad."):
        assert value in shown


def test_list_shows_every_campaign_with_its_scan_totals(app, runner, mastodon):
    mastodon.standard()
    assert "No campaigns yet" in ok(runner, "campaign", "list")
    ok(runner, *CREATE)
    ok(runner, "campaign", "create", "markt-west", "--name", "Markt West", "--place", "evenement", "--cta", "Praat mee")
    client = app.test_client()
    for _ in range(3):
        client.get("/c/bieb-oost", headers=PHONE)
    lines = ok(runner, "campaign", "list").splitlines()
    assert lines[0].split() == ["slug", "name", "place", "status", "today", "7", "days", "total"]
    assert [line.split()[0] for line in lines[1:]] == ["markt-west", "bieb-oost"]  # newest first
    assert lines[2].split()[-3:] == ["3", "3", "3"]
    assert lines[1].split()[-3:] == ["0", "0", "0"]


def test_update_changes_the_given_options_and_clears_empty_ones(app, runner):
    ok(runner, *CREATE, "--cta-en", "Ask us", "--thread", THREAD)
    out = ok(runner, "campaign", "update", "bieb-oost", "--name", "OBA Oosterdok", "--cta-en", "",
             "--end", "2027-01-31")
    assert "Updated campaign bieb-oost" in out
    campaign = stored(app)
    assert (campaign.name, campaign.cta_en, campaign.thread_url, campaign.ends_on.isoformat()) == (
        "OBA Oosterdok", "", THREAD, "2027-01-31")


def test_update_has_no_way_to_change_the_slug(app, runner):
    ok(runner, *CREATE)
    before = snapshot(app)
    assert "No such option" in refused(runner, "campaign", "update", "bieb-oost", "--slug", "bieb-west", code=2)
    assert snapshot(app) == before


def test_update_without_options_says_what_to_give(app, runner):
    ok(runner, *CREATE)
    out = refused(runner, "campaign", "update", "bieb-oost", code=2)
    assert "Nothing to change" in out and "Niets te wijzigen" in out


def test_end_makes_today_the_last_day_once(app, runner):
    ok(runner, *CREATE)
    today = campaigns.today().isoformat()
    assert f"ends today ({today})" in ok(runner, "campaign", "end", "bieb-oost")
    assert stored(app).ends_on.isoformat() == today
    campaigns.update(app.extensions["praatmee_db"], "bieb-oost", home_url=HOME, ends_on="2020-01-31")
    assert "already ended on 2020-01-31" in ok(runner, "campaign", "end", "bieb-oost")
    assert stored(app).ends_on.isoformat() == "2020-01-31"
    assert "ended 2020-01-31" in ok(runner, "campaign", "list")


# --- bad input: a clear message in both languages, a non-zero exit, nothing changed ------------

BAD_CREATES = {
    "slug-with-space": (["campaign", "create", "Bieb Oost", *CREATE[3:]],
                        ["Invalid slug 'Bieb Oost': use 2–40 lowercase letters", "Ongeldige slug 'Bieb Oost'"]),
    "slug-1-char": (["campaign", "create", "b", *CREATE[3:]], ["Invalid slug 'b'", "Ongeldige slug 'b'"]),
    "slug-41-chars": (["campaign", "create", "b" * 41, *CREATE[3:]], ["Invalid slug", "Ongeldige slug"]),
    "slug-uppercase": (["campaign", "create", "Bieb-Oost", *CREATE[3:]], ["Invalid slug", "Ongeldige slug"]),
    "slug-reserved": (["campaign", "create", "beheer", *CREATE[3:]],
                      ["is reserved for the site itself", "is bedoeld voor de site zelf"]),
    "duplicate": (CREATE, ["There is already a campaign with the slug 'bieb-oost'",
                           "Er is al een campagne met de slug 'bieb-oost'"]),
    "place": ([*CREATE[:3], "--name", "x", "--place", "kroeg", "--cta", "x"],
              ["Unknown place type 'kroeg'", "Onbekende soort plek 'kroeg'"]),
    "thread-elsewhere": ([*CREATE, "--thread", "https://evil.example/@stad/100"],
                         ["must be the link of a post on social.test",
                          "moet de link van een bericht op social.test zijn"]),
    "invite-elsewhere": ([*CREATE, "--invite", "https://evil.example/invite/abc"],
                         ["must be an invite of social.test", "moet een uitnodiging van social.test zijn"]),
    "end-before-start": ([*CREATE, "--start", "2026-12-10", "--end", "2026-12-01"],
                         ["The end date 2026-12-01 is before the start date 2026-12-10",
                          "De einddatum 2026-12-01 ligt voor de startdatum 2026-12-10"]),
    "bad-date": ([*CREATE, "--start", "1 december"],
                 ["Invalid start date '1 december': use YYYY-MM-DD", "Ongeldige startdatum '1 december'"]),
    "cta-too-long": ([*CREATE[:-1], "x" * 201], ["use at most 200 characters", "gebruik hoogstens 200 tekens"]),
}


@pytest.mark.parametrize("case", BAD_CREATES, ids=list(BAD_CREATES))
def test_bad_create_is_refused_in_both_languages_and_changes_nothing(app, runner, case):
    # The duplicate case needs the campaign to exist; the others start from one too, to prove it stays.
    ok(runner, "campaign", "create", "bieb-oost", "--name", "OBA Oost", "--place", "bibliotheek",
       "--cta", "Stel je vraag aan het Innovatieteam")
    before = snapshot(app)
    args, messages = BAD_CREATES[case]
    out = refused(runner, *args)
    for message in messages:
        assert message in out
    assert snapshot(app) == before


def test_missing_required_options_are_a_usage_error(app, runner):
    out = refused(runner, "campaign", "create", "bieb-oost", "--name", "OBA Oost", code=2)
    assert "Missing option" in out
    assert snapshot(app) == []


BAD_UPDATES = {
    "unknown": (["campaign", "update", "bestaat-niet", "--name", "x"],
                ["There is no campaign with the slug 'bestaat-niet'", "Er is geen campagne met de slug 'bestaat-niet'"]),
    "thread-elsewhere": (["campaign", "update", "bieb-oost", "--name", "Nieuw",
                          "--thread", "https://evil.example/@a/1"],
                         ["must be the link of a post on social.test"]),
    "invite-elsewhere": (["campaign", "update", "bieb-oost", "--invite", f"{HOME}/auth/sign_up"],
                         ["must be an invite of social.test"]),
    "end-before-start": (["campaign", "update", "bieb-oost", "--end", "2026-11-30"],
                         ["The end date 2026-11-30 is before the start date 2026-12-01"]),
    "bad-date": (["campaign", "update", "bieb-oost", "--end", "2026-02-30"], ["Invalid end date '2026-02-30'"]),
    "empty-cta": (["campaign", "update", "bieb-oost", "--cta", ""],
                  ["Give a call to action in Dutch", "Geef een oproep in het Nederlands"]),
}


@pytest.mark.parametrize("case", BAD_UPDATES, ids=list(BAD_UPDATES))
def test_bad_update_is_refused_and_changes_nothing(app, runner, case):
    ok(runner, *CREATE, "--start", "2026-12-01")
    before = snapshot(app)
    args, messages = BAD_UPDATES[case]
    out = refused(runner, *args)
    for message in messages:
        assert message in out
    assert snapshot(app) == before


@pytest.mark.parametrize("command", [
    ["show"], ["end"], ["update", "--name", "x"], ["poster", "--size", "A4", "--format", "pdf", "--output", "x.pdf"],
], ids=lambda command: command[0])
def test_unknown_campaign_is_refused_everywhere(app, runner, tmp_path, command, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = refused(runner, "campaign", command[0], "bestaat-niet", *command[1:])
    assert "There is no campaign with the slug 'bestaat-niet'" in out
    assert "Er is geen campagne met de slug 'bestaat-niet'" in out
    assert snapshot(app) == []
    assert not (tmp_path / "x.pdf").exists()


def poster_args(output) -> list:
    return ["campaign", "poster", "bieb-oost", "--size", "A4", "--format", "png", "--output", output]


def test_poster_into_a_missing_folder_is_refused_before_rendering(runner, tmp_path, monkeypatch):
    ok(runner, *CREATE)
    monkeypatch.setattr(posters, "render", lambda *a: pytest.fail("rendered for nothing"))
    out = refused(runner, *poster_args(tmp_path / "nope" / "poster.png"))
    assert "the folder" in out and "does not exist" in out and "bestaat niet" in out
    assert not (tmp_path / "nope").exists()


def test_poster_onto_a_folder_is_refused(runner, tmp_path):
    ok(runner, *CREATE)
    out = refused(runner, *poster_args(tmp_path))
    assert "it is a folder" in out and "dat is een map" in out


def test_a_failed_write_leaves_no_file_and_keeps_the_old_one(runner, tmp_path, monkeypatch):
    ok(runner, *CREATE)
    output = tmp_path / "poster.png"
    output.write_bytes(b"the old poster")

    def full_disk(*args):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(os, "replace", full_disk)
    out = refused(runner, *poster_args(output))
    assert "Cannot write" in out and "No space left on device" in out and "Kan" in out
    assert output.read_bytes() == b"the old poster"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".poster.png")]


def test_a_poster_that_cannot_be_rendered_writes_nothing(runner, tmp_path, monkeypatch):
    ok(runner, *CREATE)

    def too_long(*args, **options):
        raise ValueError("the headline text (999 characters) does not fit at a readable size; shorten it")
    monkeypatch.setattr(posters, "render", too_long)
    output = tmp_path / "poster.png"
    out = refused(runner, *poster_args(output))
    assert "The poster could not be made" in out and "De poster kon niet worden gemaakt" in out
    assert [p.name for p in tmp_path.iterdir() if "poster" in p.name] == []


@pytest.mark.parametrize("option,value", [("--size", "A7"), ("--format", "jpg"), ("--lang", "de")])
def test_unknown_size_format_or_language_is_a_usage_error(runner, tmp_path, option, value):
    ok(runner, *CREATE)
    args = {"--size": "A4", "--format": "png", "--lang": "nl", option: value}
    out = refused(runner, "campaign", "poster", "bieb-oost", *[x for pair in args.items() for x in pair],
                  "--output", tmp_path / "poster.out", code=2)
    assert "Invalid value" in out
    assert not (tmp_path / "poster.out").exists()
