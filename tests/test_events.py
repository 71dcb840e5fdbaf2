"""Event helpers: the guide follows the server's registration state; the kiosk shows QR, link and replies."""
from __future__ import annotations

import re

import pytest

from tests.conftest import HOME, fixture_json
from tests.support.qr import codes_in_pdf, texts


def test_guide_walks_through_sign_up_when_registration_is_open(client, mastodon):
    mastodon.standard("instance_open.json")
    page = client.get("/hulp").text
    assert "Mensen helpen meepraten: gids voor helpers" in page
    assert "Stel je vraag aan het Innovatieteam" in page  # what to say
    assert "geen advertenties" in page.lower()
    assert "Tik op „Account aanmaken (2 min)”." in page
    assert "Bevestig de leeftijd: je moet 16 jaar of ouder zijn." in page
    assert "Open de e-mail van social.test" in page
    assert "Wacht op goedkeuring" not in page
    assert "<li>Wees aardig.</li>" in page  # the server's own rules


def test_guide_mentions_approval_when_the_server_requires_it(client, mastodon):
    mastodon.standard("instance_approval.json")
    page = client.get("/hulp").text
    assert "Wacht op goedkeuring: een moderator bekijkt elk nieuw account." in page
    assert "Bevestig de leeftijd" not in page  # this server sets no minimum age
    assert "Kijk in de regels van de server of er een minimumleeftijd is." in page


def test_guide_says_sign_up_is_closed_and_points_to_reply_directly(client, mastodon):
    mastodon.standard("instance_closed.json")
    page = client.get("/hulp").text
    assert "Nieuwe accounts maken op social.test kan op dit moment niet." in page
    assert "Tik op „Account aanmaken" not in page


def test_guide_has_fixes_for_the_common_snags(client, mastodon):
    mastodon.standard()
    page = client.get("/hulp").text
    for snag in ("De bevestigingsmail komt niet aan", "map met spam", "De gebruikersnaam is al bezet",
                 "Het account wacht op goedkeuring", "Te jong", "Wachtwoord vergeten",
                 "„Ik heb al een account ergens anders”"):
        assert snag in page
    assert 'href="https://social.test/auth/password/new"' in page
    assert 'href="https://social.test/auth/confirmation/new"' in page
    assert 'href="/reageer">Reageer direct vanaf dat account</a>' in page
    assert 'href="/kiosk">Kioskscherm voor het gesprek van nu</a>' in page


def test_guide_in_english(client, mastodon):
    mastodon.standard()
    page = client.get("/en/hulp").text
    assert "Helping people join: a guide for helpers" in page
    assert "The confirmation email does not arrive" in page


def test_guide_still_helps_when_mastodon_is_down(client, mastodon):
    mastodon.add("/api/v2/instance", status=503, body="down")
    page = client.get("/hulp")
    assert page.status_code == 200
    assert "We kunnen social.test nu niet bereiken. Dit zijn de gewone stappen." in page.text


def test_kiosk_shows_call_to_action_qr_short_link_and_the_three_newest_replies(make_app, mastodon):
    mastodon.standard()
    page = make_app(KIOSK_REPLIES="all").test_client().get("/kiosk").text  # every reply not hidden
    assert "<h1 dir=\"auto\">Stel je vraag aan het Innovatieteam</h1>" in page
    assert re.search(r'<svg [^>]*viewBox="0 0 \d+ \d+"[^>]*role="img"[^>]*aria-label="QR-code voor '
                     r'https://amsterdam.test/praatmee"', page)
    assert re.search(r'<p class="kiosk-link fit-\d+">amsterdam.test/praatmee</p>', page)
    replies = re.findall(r'<li><bdi class="kiosk-name">', page)
    assert len(replies) == 3
    newest_first = [m for m in re.findall(r"(Een video|أحب الدراجات|Nog een vraag over de kosten)", page)]
    assert newest_first == ["Een video", "أحب الدراجات", "Nog een vraag over de kosten"]


def test_kiosk_has_no_navigation_chrome_and_refreshes_itself(client, mastodon):
    mastodon.standard()
    page = client.get("/kiosk").text
    assert "<nav" not in page and "<footer" not in page and "skip-link" not in page
    assert 'data-refresh="60"' in page and "/static/js/kiosk.js" in page
    assert '<noscript><meta http-equiv="refresh" content="120"></noscript>' in page
    assert "style=" not in page


def test_kiosk_content_warning_shows_only_the_warning(make_app, mastodon):
    context = fixture_json("thread_context.json")
    context["descendants"][5]["created_at"] = "2026-11-02T00:00:00.000Z"  # the reply with a warning, newest
    mastodon.standard()
    mastodon.mock.replace("GET", HOME + "/api/v1/statuses/100/context", json=context)
    page = make_app(KIOSK_REPLIES="all").test_client().get("/kiosk").text
    assert re.search(r'Inhoudswaarschuwing: <span class="kiosk-text" lang="en" dir="auto">Over een ongeluk</span>', page)
    assert "Spoiler inside" not in page


def test_kiosk_stays_calm_when_mastodon_is_down(client, mastodon):
    mastodon.add("/api/v1/accounts/lookup", status=503, body="down")
    page = client.get("/kiosk")
    assert page.status_code == 200
    assert "Het gesprek is even niet te laden." in page.text
    assert "<svg" in page.text


# --- per campaign: kiosk, handout, snippet ------------------------------------------------------

@pytest.fixture
def with_campaign(app, runner):
    result = runner.invoke(args=["campaign", "create", "bieb-oost", "--name", "OBA Oost", "--place", "bibliotheek",
                                 "--cta", "Stel je vraag aan de bieb", "--cta-en", "Ask the library"])
    assert result.exit_code == 0, result.output
    return app


def test_guide_links_kiosk_handout_and_snippet_for_every_active_campaign(with_campaign, client, mastodon, runner):
    mastodon.standard()
    runner.invoke(args=["campaign", "create", "oud", "--name", "Oud", "--place", "online", "--cta", "Oud",
                        "--start", "2020-01-01", "--end", "2020-01-31"])
    page = client.get("/hulp").text
    assert 'href="/kiosk/bieb-oost">kioskscherm</a>' in page
    assert 'href="/hulp/flyer/bieb-oost.pdf">flyer (pdf)</a>' in page
    assert 'href="/embed/bieb-oost">stukje voor een website</a>' in page
    assert "/kiosk/oud" not in page  # ended campaigns are not offered


def test_campaign_kiosk_encodes_the_campaign_address_and_shows_its_call(with_campaign, client, mastodon):
    mastodon.standard()
    page = client.get("/kiosk/bieb-oost").text
    assert "<h1 dir=\"auto\">Stel je vraag aan de bieb</h1>" in page
    assert 'aria-label="QR-code voor https://amsterdam.test/praatmee/c/bieb-oost"' in page
    assert "<h1 dir=\"auto\">Ask the library</h1>" in client.get("/en/kiosk/bieb-oost").text
    assert client.get("/kiosk/bestaat-niet").status_code == 404


def test_public_handout_is_a_pdf_whose_qr_leads_to_the_campaign(with_campaign, client):
    response = client.get("/hulp/flyer/bieb-oost.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert texts(codes_in_pdf(response.data)) == {"https://amsterdam.test/praatmee/c/bieb-oost"}


def test_embed_snippet_is_a_plain_link_block_without_script_or_iframe(with_campaign, client):
    page = client.get("/embed/bieb-oost").text
    snippet = re.search(r'<textarea id="snippet"[^>]*>(.*?)</textarea>', page, re.S).group(1)
    assert "&lt;a href=&#34;https://amsterdam.test/praatmee/c/bieb-oost&#34;&gt;" in snippet \
        or "&lt;a href=&quot;https://amsterdam.test/praatmee/c/bieb-oost&quot;&gt;" in snippet
    for forbidden in ("script", "iframe", "img", "style", "utm_", "onclick"):
        assert forbidden not in snippet.lower()
    assert '<div class="snippet-preview"><aside class="praatmee" lang="nl">' in page
