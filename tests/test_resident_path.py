"""The resident's path (issue 14), as the server answers it: one reply choice that fits everyone, the way
back to the post after signing up, plain words, the city's contact, link previews and the kiosk's link.

The same path in a real browser (taps, the first screen, the kiosk on tablets) is in test_browser_resident_path.py.
"""
from __future__ import annotations

import io
import re
from datetime import date, timedelta
from urllib.parse import quote

import pytest
import responses
from PIL import Image

from praatmee_site import campaigns
from praatmee_site.config import ConfigError, tel_number
from praatmee_site.remote_interaction.discovery import EMAIL_PROVIDERS, is_email_provider, parse_handle
from tests.conftest import HOME, fixture_json

pytestmark = pytest.mark.usefixtures("connect_spy")

PUBLIC = "https://amsterdam.test/praatmee"
PHONE = {"User-Agent": "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
                       "Chrome/126.0 Mobile Safari/537.36"}
FROM_OUR_FORM = {"Sec-Fetch-Site": "same-origin"}
INVITE = f"{HOME}/invite/Ab3dE-9_"


def home_reply(uri: str) -> str:
    """What "Log in en reageer" opens: the post on our own server, after a login (any post, any server)."""
    return f"{HOME}/authorize_interaction?uri={quote(uri, safe='')}"


def database(app):
    return app.extensions["praatmee_db"]


def make(app, slug="bieb-oost", **values):
    basics = dict(name="OBA Oost", place="bibliotheek", cta_nl="Stel je vraag aan het Innovatieteam")
    return campaigns.create(database(app), slug, home_url=HOME, **{**basics, **values})


def scans(app, slug="bieb-oost") -> int:
    db = database(app)
    return campaigns.totals(db, campaigns.require(db, slug), campaigns.today()).all_time


@pytest.fixture
def reply_app(make_app, mastodon, fediverse):
    mastodon.standard()
    return make_app(TESTING_NET_GUARD=fediverse.guard())


@pytest.fixture
def reply_client(reply_app):
    return reply_app.test_client()


def ask(client, address, post="100", campaign=None, lang=""):
    query = {"post": post} | ({"c": campaign} if campaign else {})
    return client.post(f"{lang}/reageer", query_string=query, data={"adres": address}, headers=FROM_OUR_FORM)


# --- 1. one reply choice that fits everyone -----------------------------------------------------

def test_every_post_on_the_page_offers_the_three_ways_to_reply(client, mastodon):
    mastodon.standard()
    page = client.get("/").text
    for status_id, uri in (("100", "https://social.test/users/stad/statuses/100"),
                           ("101", "https://social.test/users/ann/statuses/101"),
                           ("106", "https://other.example/users/bob/statuses/106")):  # from another server
        post = page[page.index(f'id="post-{status_id}"'):]
        choice = post[post.index('<details class="reply-choice">'):]
        choice = choice[:choice.index("</details>")]
        assert '<a href="https://social.test/auth/sign_up?lang=nl">Nog geen account? Account aanmaken (2 min)</a>' in choice
        assert f'<a href="{home_reply(uri)}">Account op social.test? Log in en reageer</a>' in choice
        assert f'<a href="/reageer?post={status_id}">Account op een andere server? Vul je adres in</a>' in choice


def test_a_campaign_s_reply_choices_carry_its_invite_and_its_name(app, client, mastodon):
    mastodon.standard()
    make(app, invite_url=INVITE)
    page = client.get("/c/bieb-oost", headers=PHONE).text
    choice = page[page.index('<details class="reply-choice">'):]
    assert f'<a href="{INVITE}">Nog geen account? Account aanmaken (2 min)</a>' in choice
    assert 'href="/reageer?post=100&amp;c=bieb-oost"' in choice


def test_closed_sign_up_leaves_the_sign_up_choice_out(client, mastodon):
    mastodon.standard("instance_closed.json")
    page = client.get("/").text
    assert "Nog geen account? Account aanmaken" not in page
    assert "Log in en reageer" in page


def test_the_reply_page_shows_the_post_and_the_whole_choice(reply_app, reply_client):
    make(reply_app, invite_url=INVITE)
    page = reply_client.get("/reageer?post=106&c=bieb-oost").text
    # The post being replied to: its author and how it begins (here its content warning).
    replying_to = page[page.index('<figure class="replying-to">'):page.index("</figure>")]
    assert "@bob@other.example" in replying_to and "Over een ongeluk" in replying_to
    # No account yet: the same sign-up link as the page's big button, the campaign's invite included.
    assert f'<a class="button" href="{INVITE}">Account aanmaken (2 min)</a>' in page
    # An account on our own server: one tap to this post there, though it lives on another server.
    assert f'href="{home_reply("https://other.example/users/bob/statuses/106")}">Log in en reageer</a>' in page
    # Another server: the address form, with what a server is.
    assert "Account op een andere server?" in page and "Een server is de plek waar je Mastodon-account staat" in page
    assert 'action="/reageer?post=106&amp;c=bieb-oost"' in page
    # "Terug" leads back where the resident came from: the campaign page, at the post.
    assert '<a href="/c/bieb-oost#post-106">Terug naar het gesprek</a>' in page
    assert page.index("Nog geen account?") < page.index("Account op social.test?") < page.index("Account op een andere")


def test_going_back_from_the_reply_page_is_no_new_scan(reply_app, reply_client):
    make(reply_app)
    reply_client.get("/c/bieb-oost", headers=PHONE)
    reply_client.get("/c/bieb-oost#post-106", headers=PHONE | {"Sec-Fetch-Site": "same-origin"})
    reply_client.get("/en/c/bieb-oost", headers=PHONE | {"Sec-Fetch-Site": "same-origin"})  # the language link
    assert scans(reply_app) == 1
    reply_client.get("/c/bieb-oost", headers=PHONE | {"Sec-Fetch-Site": "none"})  # a camera, a typed address
    reply_client.get("/c/bieb-oost", headers=PHONE | {"Sec-Fetch-Site": "cross-site"})  # a link elsewhere
    assert scans(reply_app) == 3


def test_typing_a_home_server_address_gives_the_same_one_tap_link(reply_client, fediverse):
    for address in ("@jan@social.test", "jan@social.test", "https://social.test/@jan"):
        page = ask(reply_client, address, post="106").text
        assert "Je hebt al een account bij ons: log in en reageer." in page
        # Not the post's own server (mastodon.nl, other.example): Jan cannot log in there.
        assert f'href="{home_reply("https://other.example/users/bob/statuses/106")}"' in page
        assert 'href="https://other.example/@bob/106"' not in page
    assert fediverse.requests == []


@pytest.mark.parametrize("address", ["jan@gmail.com", "@jan@gmail.com", "jan@outlook.com", "JAN@Hotmail.com",
                                     "piet@ziggo.nl", "marie@kpnmail.nl", "gmail.com"])
def test_an_email_address_is_recognised_before_any_look_up(make_app, mastodon, fediverse, address):
    mastodon.standard()
    client = make_app(TESTING_NET_GUARD=fediverse.guard(), RESOLVER_LIMIT="1 per minute").test_client()
    for _ in range(3):  # it costs no try either
        page = ask(client, address)
        assert page.status_code == 400
        assert ("Dit lijkt een e-mailadres. Je Mastodon-adres ziet eruit als @naam@server.nl." in page.text)
        assert "niet bereiken" not in page.text
        assert 'aria-invalid="true"' in page.text
    assert fediverse.requests == []
    english = ask(client, address, lang="/en")
    assert "This looks like an email address. Your Mastodon address looks like @name@server.nl." in english.text


def test_the_email_providers_are_domains_and_ordinary_servers_are_not_among_them():
    assert {"gmail.com", "outlook.com", "hotmail.com", "ziggo.nl", "kpnmail.nl"} <= EMAIL_PROVIDERS
    assert all("." in domain and domain == domain.lower() for domain in EMAIL_PROVIDERS)
    for server in ("mastodon.nl", "mastodon.social", "social.amsterdam.nl", "toot.community"):
        assert not is_email_provider(parse_handle(f"jan@{server}"))


def test_the_copy_link_instructions_appear_once(reply_client):
    page = ask(reply_client, "naam@gts.test").text
    assert page.count("Open de app van je eigen") == 1
    assert page.count('id="post-link"') == 1
    assert "Of doe het zelf" not in page


# --- 2. back to the post after signing up -------------------------------------------------------

def test_the_entry_page_leads_a_new_account_back_to_the_post_in_one_tap(app, client, mastodon):
    mastodon.standard()
    make(app, thread_url=f"{HOME}/@stad/100", invite_url=INVITE)
    for path in ("/", "/c/bieb-oost"):
        page = client.get(path, headers=PHONE).text
        link = f'<a href="{home_reply("https://social.test/users/stad/statuses/100")}">Account gemaakt? Open het gesprek op social.test</a>'
        assert page.count(link) == 2, path  # beside the big button, and again after the last reply


def test_the_guide_and_the_handout_say_the_same_step_back(app, client, mastodon):
    from tests.test_posters import pdftotext
    mastodon.standard()
    make(app)
    guide = client.get("/hulp").text
    assert "Terug op de pagina: tik op „Account gemaakt? Open het gesprek op social.test”." in guide
    handout = pdftotext(client.get("/hulp/flyer/bieb-oost.pdf").data)
    assert "Account gemaakt?" in handout and "Terug op de pagina" in handout


def test_the_guide_tells_helpers_to_log_out_of_a_shared_tablet(client, mastodon):
    mastodon.standard()
    page = client.get("/hulp").text
    assert "log de persoon daarna uit" in page and "„Uitloggen”" in page
    assert "log them out afterwards" in client.get("/en/hulp").text


# --- 4. trust and plain words ---------------------------------------------------------------------

def test_the_entry_page_says_what_mastodon_is_what_you_need_and_where_the_button_goes(client, mastodon):
    mastodon.standard()
    page = client.get("/").text
    assert "een sociaal netwerk, zoals X of Facebook, maar zonder advertenties en van niemand in het bijzonder" in page
    assert "Je hebt een e-mailadres nodig. Vanaf 16 jaar." in page  # min_age 16 in instance_open.json
    assert "De knop brengt je naar social.test: de Mastodon-server van de gemeente" in page
    assert 'Wie is <a href="https://social.test/@stad">@stad</a>? <span>Het account van het Innovatieteam' in page
    assert "We reageren binnen 3 werkdagen." in page


def test_no_age_is_mentioned_when_the_server_sets_none(client, mastodon):
    mastodon.standard("instance_approval.json")
    assert "Vanaf " not in client.get("/").text


def test_who_the_account_is_and_the_reply_time_are_configurable_per_language(make_app, mastodon):
    mastodon.standard()
    client = make_app(ACCOUNT_TEXT="Het account van de wijkteams.", REPLY_TIME="We reageren binnen 2 werkdagen.",
                      REPLY_TIME_EN="We reply within 2 working days.").test_client()
    dutch, english = client.get("/").text, client.get("/en/").text
    assert "Het account van de wijkteams." in dutch and "We reageren binnen 2 werkdagen." in dutch
    assert '<span lang="nl">Het account van de wijkteams.</span>' in english  # no English text set: Dutch, marked
    assert "We reply within 2 working days." in english and "We reageren binnen 2" not in english


def test_the_footer_has_the_city_s_contact_on_every_page(make_app, mastodon):
    mastodon.standard()
    client = make_app().test_client()
    for path in ("/", "/privacy", "/toegankelijkheid", "/reageer", "/hulp", "/en/", "/nergens"):
        page = client.get(path).text
        footer = page[page.index('<footer class="site-footer">'):]
        assert '<a href="tel:14020">14 020</a>' in footer, path
        assert '<a href="https://www.amsterdam.nl">amsterdam.nl</a>' in footer, path
    other = make_app(CONTACT_PHONE="+31 20 624 1111", CONTACT_URL="https://www.amsterdam.nl/contact/").test_client()
    page = other.get("/en/").text
    assert '<a href="tel:+31206241111">+31 20 624 1111</a>' in page
    assert '<a href="https://www.amsterdam.nl/contact">amsterdam.nl/contact</a>' in page
    assert "Questions for the city? Call" in page


@pytest.mark.parametrize("name, value, expected", [
    ("CONTACT_PHONE", "bel ons", "PRAATMEE_CONTACT_PHONE must be a phone number"),
    ("CONTACT_PHONE", "", "PRAATMEE_CONTACT_PHONE must be a phone number"),
    ("CONTACT_URL", "http://amsterdam.nl", "PRAATMEE_CONTACT_URL must be an https:// address"),
    ("CONTACT_EMAIL", "digitaal", "PRAATMEE_CONTACT_EMAIL must be an e-mail address"),
    ("CONTACT_EMAIL", 'a@b.nl"><script>', "PRAATMEE_CONTACT_EMAIL must be an e-mail address"),
])
def test_a_contact_setting_that_cannot_work_stops_the_app_with_one_line(tmp_path, name, value, expected):
    from praatmee_site import config as config_module
    config = dict(config_module.DEFAULTS, TESTING=True, **{name: value})
    with pytest.raises(ConfigError, match=re.escape(expected)):
        config_module.validate(config)


def test_phone_numbers_dial_without_spaces():
    assert tel_number("14 020") == "14020"
    assert tel_number("+31 (0)20 624-1111") == "+310206241111"


def test_privacy_page_names_the_controller_and_a_contact(client, mastodon):
    mastodon.standard()
    page = client.get("/privacy").text
    assert "De gemeente Amsterdam (het college van burgemeester en wethouders) is verantwoordelijk" in page
    assert "verwerkingsverantwoordelijke" in page
    assert '<a href="mailto:digitaal@amsterdam.nl">digitaal@amsterdam.nl</a>' in page
    assert "controller under the GDPR" in client.get("/en/privacy").text


def test_the_accessibility_address_is_a_mailto_link(client, mastodon):
    assert '<a href="mailto:digitaal@amsterdam.nl">digitaal@amsterdam.nl</a>' in client.get("/toegankelijkheid").text


def visible_text(html: str) -> str:
    html = re.sub(r"(?s)<head>.*?</head>|<[^>]+>", " ", html)
    return re.sub(r"\s+", " ", html)


@pytest.mark.parametrize("lang, explained", [("", ("de plek waar je account", "Een server is de plek")),
                                             ("/en", ("the place where your account", "A server is the place"))])
def test_server_is_never_used_without_saying_what_it_is(reply_client, lang, explained):
    pages = {path: reply_client.get(lang + path).text
             for path in ("/", "/reageer?post=101", "/privacy", "/toegankelijkheid")}
    pages["error"] = ask(reply_client, "@naam", lang=lang).text
    pages["no_way_in"] = ask(reply_client, "naam@gts.test", lang=lang).text
    for name, html in pages.items():
        text = visible_text(html)
        if re.search(r"server", text, re.IGNORECASE):
            assert any(phrase in text for phrase in explained), name
    assert "Naar mijn server" not in visible_text(reply_client.get("/reageer").text)


def test_one_number_of_minutes_everywhere(app, client, mastodon):
    from tests.test_posters import pdftotext
    mastodon.standard()
    make(app)
    texts = [visible_text(client.get(path).text) for path in
             ("/", "/en/", "/hulp", "/en/hulp", "/kiosk", "/en/kiosk", "/reageer", "/en/reageer")]
    texts.append(pdftotext(client.get("/hulp/flyer/bieb-oost.pdf").data))
    minutes = set()
    for text in texts:
        # How long signing up takes ("een paar minuten" wachten op een e-mail is something else).
        minutes |= set(re.findall(r"\b(\d+|één|een|one|a|twee|two) (?:min\b|minuten|minuut|minutes?)", text))
    assert minutes <= {"2"}, minutes
    assert "één minuut" not in " ".join(texts) and "a minute" not in " ".join(texts)


def test_dutch_text_on_english_pages_is_marked_dutch(client, mastodon):
    mastodon.standard()
    page = client.get("/en/").text
    assert '<ol class="rules" lang="nl">' in page  # the home server's own house rules
    assert '<span class="city-mark" lang="nl">' in page
    assert '<ol class="rules" lang="nl">' in client.get("/en/hulp").text
    assert '<ol class="rules">' in client.get("/").text


# --- 5. the city's mark, and one red -------------------------------------------------------------

def test_the_city_mark_is_an_svg_of_three_crosses_named_gemeente_amsterdam(client, mastodon):
    mastodon.standard()
    for path in ("/", "/privacy", "/kiosk", "/en/"):
        page = client.get(path).text
        assert "XXX" not in page
        svg = re.search(r'<svg class="crosses"[^>]*>.*?</svg>', page).group(0)
        assert 'role="img"' in svg and 'aria-label="Gemeente Amsterdam"' in svg
        assert "<title>Gemeente Amsterdam</title>" in svg
        assert svg.count("Z") == 6  # three crosses of two bars each


def test_the_city_s_red_is_only_in_the_mark():
    from praatmee_site import resources
    css = re.sub(r"(?s)/\*.*?\*/", "", (resources.STATIC / "css" / "site.css").read_text(encoding="utf-8"))
    rules = [rule for rule in re.findall(r"[^{}]+\{[^{}]*\}", css) if re.search(r"var\(--red\)|#ec0000", rule, re.I)]
    assert [rule.split("{")[0].strip() for rule in rules] == [":root", ".crosses"]


# --- 7. link previews and icons -------------------------------------------------------------------

def meta(page: str, attribute: str, name: str) -> str:
    return re.search(rf'<meta {attribute}="{re.escape(name)}" content="([^"]*)">', page).group(1)


@pytest.mark.parametrize("lang", ["", "/en"])
def test_entry_and_campaign_pages_have_link_preview_tags_with_our_own_image(app, client, mastodon, lang):
    mastodon.standard()
    make(app, cta_en="Ask the library team")
    prefix = PUBLIC + lang
    for path, title, url, image in (
            ("/", "Stel je vraag aan het Innovatieteam" if not lang else "Ask the Innovation team your question",
             prefix + "/", prefix + "/beeld.png"),
            ("/c/bieb-oost", "Stel je vraag aan het Innovatieteam" if not lang else "Ask the library team",
             prefix + "/c/bieb-oost", prefix + "/c/bieb-oost/beeld.png")):
        page = client.get(lang + path, headers=PHONE).text
        assert meta(page, "property", "og:title") == title
        assert meta(page, "property", "og:url") == url
        assert meta(page, "property", "og:image") == image
        assert meta(page, "property", "og:description")
        assert meta(page, "name", "twitter:card") == "summary"
        assert meta(page, "name", "fediverse:creator") == "@stad@social.test"
        # The image is ours: same origin as the page, served by the app under that path.
        answer = client.get(image.removeprefix(PUBLIC))
        assert answer.status_code == 200 and answer.mimetype == "image/png"
        assert Image.open(io.BytesIO(answer.data)).size == (1080, 1080)
        assert answer.headers["Cache-Control"] == "public, max-age=3600"


def test_link_preview_bots_read_the_tags_and_fetch_the_image_without_counting_a_scan(app, client, mastodon):
    mastodon.standard()
    make(app)
    for agent in ("WhatsApp/2.23.20.0 A", "facebookexternalhit/1.1", "TelegramBot (like TwitterBot)",
                  "Mastodon/4.3.0 (http.rb/5.2.0; +https://social.test/)", "Signal-Android/7.0 (preview)"):
        page = client.get("/c/bieb-oost", headers={"User-Agent": agent})
        assert 'property="og:image"' in page.text
        assert client.get("/c/bieb-oost/beeld.png", headers={"User-Agent": agent}).status_code == 200
    client.get("/c/bieb-oost/beeld.png", headers=PHONE)  # a person opening the image is no scan either
    assert scans(app) == 0


def test_share_images_of_unknown_and_ended_campaigns(app, client, mastodon):
    mastodon.standard()
    yesterday = campaigns.today() - timedelta(days=1)
    make(app, "voorbij", starts_on=date(2020, 1, 1), ends_on=yesterday)
    assert client.get("/c/onbekend/beeld.png").status_code == 404
    assert client.get("/c/voorbij/beeld.png").data == client.get("/beeld.png").data


def test_every_page_has_a_favicon_in_svg_and_png(client, mastodon):
    mastodon.standard()
    page = client.get("/").text
    for rel, name, kind in (("icon", "favicon.svg", "image/svg+xml"), ("icon", "favicon-32.png", "image/png"),
                            ("apple-touch-icon", "apple-touch-icon.png", "image/png")):
        href = re.search(rf'<link rel="{rel}" href="(/static/{re.escape(name)}\?v=\w+)"', page).group(1)
        with client.get(href) as answer:
            assert answer.status_code == 200 and answer.mimetype == kind
            if kind == "image/png":
                assert Image.open(io.BytesIO(answer.data)).size == ((180, 180) if "apple" in name else (32, 32))
            else:
                assert "#EC0000" in answer.text


# --- 6. the kiosk's link -------------------------------------------------------------------------

def test_the_english_kiosk_links_and_encodes_the_english_page(app, client, mastodon):
    mastodon.standard()
    make(app)
    page = client.get("/en/kiosk").text
    assert re.search(r'<p class="kiosk-link fit-\d+">amsterdam.test/praatmee/en</p>', page)
    assert 'aria-label="QR code for https://amsterdam.test/praatmee/en/"' in page
    campaign = client.get("/en/kiosk/bieb-oost").text
    assert 'aria-label="QR code for https://amsterdam.test/praatmee/en/c/bieb-oost"' in campaign
    assert re.search(r'<p class="kiosk-link fit-\d+">amsterdam.test/praatmee/en</p>', campaign)


def test_a_campaign_kiosk_shows_the_short_link_the_posters_print(app, client, mastodon):
    mastodon.standard()
    make(app, "bushalte-wibautstraat-oost")
    page = client.get("/kiosk/bushalte-wibautstraat-oost").text
    assert re.search(r'<p class="kiosk-link fit-\d+">amsterdam.test/praatmee</p>', page)
    assert 'aria-label="QR-code voor https://amsterdam.test/praatmee/c/bushalte-wibautstraat-oost"' in page


def test_the_kiosk_link_class_grows_with_the_link():
    from praatmee_site.web.events import KIOSK_LINK_FITS, kiosk_link_fit
    assert kiosk_link_fit("amsterdam.nl/praatmee") == 12
    assert kiosk_link_fit("amsterdam.nl/praatmee/en") == 14
    assert kiosk_link_fit("x" * 300) == KIOSK_LINK_FITS[-1]


# --- 8. campaign threads that match ---------------------------------------------------------------

@pytest.fixture
def staff_client(app):
    from praatmee_site.staff.accounts import StaffDirectory
    StaffDirectory(database(app)).add("medewerker@amsterdam.test", "een lang wachtwoord 123")
    client = app.test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/beheer/login").text).group(1)
    answer = client.post("/beheer/login", data={"email": "medewerker@amsterdam.test",
                                                "password": "een lang wachtwoord 123", "csrf_token": token})
    assert answer.status_code == 302
    return client


def test_staff_see_which_post_a_campaign_shows_and_a_warning_when_it_may_not_match(app, staff_client, mastodon):
    mastodon.standard()
    make(app, "wibautstraat", cta_nl="Wat vind jij van de Wibautstraat?")
    page = staff_client.get("/beheer/campagnes/wibautstraat").text
    shown = page[page.index('id="bericht"'):]
    assert "Gemeente" in shown and "@stad@social.test" in shown
    assert '<time datetime="2026-11-01T09:00:00+00:00">1 november 2026, 10:00</time>' in shown
    assert "Wat vind jij van de nieuwe fietsenstalling?" in shown  # its first line
    assert '<a href="https://social.test/@stad/100">Open het bericht op Mastodon</a>' in shown
    assert "Controleer het gesprek." in shown and '„<span lang="nl">Wat vind jij van de Wibautstraat?</span>”' in shown


def test_no_warning_when_the_campaign_has_its_thread_or_the_default_question(app, staff_client, mastodon):
    mastodon.standard()
    make(app, "eigen", cta_nl="Wat vind jij van de Wibautstraat?", thread_url=f"{HOME}/@stad/100")
    make(app, "standaard")  # the default call to action, on the default thread
    for slug in ("eigen", "standaard"):
        page = staff_client.get(f"/beheer/campagnes/{slug}").text
        assert "Controleer het gesprek." not in page, slug
        assert "Open het bericht op Mastodon" in page


def test_staff_are_told_when_the_campaign_s_post_is_gone(app, staff_client, mastodon):
    mastodon.standard()
    mastodon.add("/api/v1/statuses/999", status=404, json={"error": "Record not found"})
    mastodon.add("/api/v1/statuses/999/context", status=404, json={"error": "Record not found"})
    make(app, "weg", thread_url=f"{HOME}/@stad/999")
    page = staff_client.get("/beheer/campagnes/weg").text
    assert "Het bericht van de campagne bestaat niet meer." in page


# --- 9. the smaller things ------------------------------------------------------------------------

def test_a_poll_is_labelled_by_its_state_and_an_open_one_links_to_vote(make_app, mastodon):
    mastodon.standard()
    status = fixture_json("thread_status.json")
    client = make_app().test_client()
    assert "Peiling: de uitslag" in client.get("/").text  # the fixture's poll has ended
    assert "Stem op Mastodon" not in client.get("/").text
    status["poll"] = status["poll"] | {"expired": False, "expires_at": "2099-01-01T09:00:00.000Z"}
    mastodon.mock.replace(responses.GET, HOME + "/api/v1/statuses/100", json=status)
    client = make_app().test_client()
    page = client.get("/").text
    assert "Peiling: de stemmen tot nu toe" in page and "uitslag" not in page
    assert '<a href="https://social.test/@stad/100">Stem op Mastodon</a>' in page
