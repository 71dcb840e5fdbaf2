""""Reageer direct" as residents use it: the form, the 303 to their own server, and every way it can go wrong."""
from __future__ import annotations

import logging
from urllib.parse import quote

import pytest
import responses
from markupsafe import escape

from praatmee_site import campaigns
from praatmee_site.remote_interaction.discovery import HANDLE_ERROR_CODES, MAX_HANDLE_LENGTH
from praatmee_site.web import reply
from tests.conftest import HOME, fixture_json

pytestmark = pytest.mark.usefixtures("connect_spy")

ROOT_URI = "https://social.test/users/stad/statuses/100"
REPLY_URI = "https://social.test/users/ann/statuses/101"
FROM_OUR_FORM = {"Sec-Fetch-Site": "same-origin"}
MASTODON_TARGET = f"https://mastodon.test/authorize_interaction?uri={quote(ROOT_URI, safe='')}"


@pytest.fixture
def reply_client(make_app, mastodon, fediverse):
    mastodon.standard()
    app = make_app(TESTING_NET_GUARD=fediverse.guard())
    return app.test_client()


def ask(client, address, post="100", lang="", headers=FROM_OUR_FORM):
    """What our form sends: a POST, the post in the URL, the address in the body."""
    return client.post(f"{lang}/reageer", query_string={"post": post}, data={"adres": address}, headers=headers)


def test_the_form_works_without_javascript_and_explains_itself(reply_client):
    page = reply_client.get("/reageer?post=101")
    assert page.status_code == 200
    text = page.text
    assert '<label for="adres">Wat is je Mastodon-adres?</label>' in text
    assert "Bijvoorbeeld: @naam@mastodon.nl." in text
    assert '<form class="reply-form" method="post" action="/reageer?post=101" novalidate>' in text
    assert '>https://social.test/@ann/101</textarea>' in text  # the copy-the-link way in is always there
    assert "Set-Cookie" not in page.headers


def test_the_form_keeps_a_known_campaign_and_drops_an_unknown_one(make_app, mastodon, fediverse):
    mastodon.standard()
    app = make_app(TESTING_NET_GUARD=fediverse.guard())
    campaigns.create(app.extensions["praatmee_db"], "bieb-oost", home_url=HOME, name="OBA Oost",
                     place="bibliotheek", cta_nl="Stel je vraag")
    client = app.test_client()
    assert 'action="/reageer?post=101&amp;c=bieb-oost"' in client.get("/reageer?post=101&c=bieb-oost").text
    page = client.get('/reageer?post=101&c="><b>x').text
    assert 'action="/reageer?post=101"' in page
    assert "<b>x" not in page


def test_the_input_is_as_long_as_the_parser_allows(reply_client):
    assert not hasattr(reply, "MAX_LENGTH")  # one constant: interact.MAX_HANDLE_LENGTH
    assert f'maxlength="{MAX_HANDLE_LENGTH}"' in reply_client.get("/reageer?post=101").text


def test_every_post_and_the_entry_page_lead_to_the_form(reply_client):
    page = reply_client.get("/").text
    assert '<a href="/reageer">Heb je al een Mastodon-account? Reageer direct</a>' in page
    assert 'href="/reageer?post=101"' in page
    assert 'href="/reageer?post=107"' in page


@pytest.mark.parametrize("address, host, path", [
    ("@naam@mastodon.test", "mastodon.test", "/authorize_interaction?uri="),
    ("naam@oldmastodon.test", "oldmastodon.test", "/authorize_interaction?uri="),
    ("naam@quietmastodon.test", "quietmastodon.test", "/authorize_interaction?uri="),
    ("naam@pleroma.test", "pleroma.test", "/ostatus_subscribe?acct="),
    ("naam@akkoma.test", "akkoma.test", "/ostatus_subscribe?acct="),
    ("naam@misskey.test", "misskey.test", "/authorize-follow?acct="),
    ("naam@sharkey.test", "sharkey.test", "/authorize-follow?acct="),
    ("https://mastodon.test/@naam", "mastodon.test", "/authorize_interaction?uri="),
    ("  NAAM@Mastodon.Test  ", "mastodon.test", "/authorize_interaction?uri="),
])
def test_submitting_answers_303_to_the_residents_own_server(reply_client, address, host, path):
    response = ask(reply_client, address, post="101")
    assert response.status_code == 303
    assert response.headers["Location"] == f"https://{host}{path}{quote(REPLY_URI, safe='')}"


def test_the_root_post_is_used_when_no_post_is_named(reply_client):
    response = reply_client.post("/reageer", data={"adres": "naam@mastodon.test"}, headers=FROM_OUR_FORM)
    assert response.headers["Location"].endswith(quote(ROOT_URI, safe=""))


def test_a_post_we_do_not_show_is_never_fetched(reply_client, mastodon):
    before = len(mastodon.mock.calls)
    response = ask(reply_client, "naam@mastodon.test", post="999999")
    assert response.headers["Location"].endswith(quote(ROOT_URI, safe=""))
    assert not any("/statuses/999999" in c.request.url for c in mastodon.mock.calls[before:])


# --- not an open redirect -----------------------------------------------------------------------

@pytest.mark.parametrize("headers", [
    FROM_OUR_FORM,  # a link in a reply on our own page is a same-origin GET
    {"Sec-Fetch-Site": "cross-site"},  # the same link on the Mastodon server's pages
    {"Sec-Fetch-Site": "none"},  # typed, or a bookmark
    {},
])
def test_a_link_that_carries_an_address_never_redirects_and_never_looks_it_up(make_app, mastodon, fediverse,
                                                                               headers):
    mastodon.standard()
    client = make_app(TESTING_NET_GUARD=fediverse.guard(), RESOLVER_LIMIT="1 per minute").test_client()
    for _ in range(3):
        page = client.get("/reageer", query_string={"post": "100", "adres": "naam@evil.test"}, headers=headers)
        assert page.status_code == 200
        assert "Location" not in page.headers
        # Old links keep working: the address is filled in, for the resident to check and send.
        assert 'name="adres" type="text" value="naam@evil.test"' in page.text
        assert page.headers["Cache-Control"] == "no-store"
    assert fediverse.requests == []
    assert ask(client, "naam@gts.test").status_code == 200  # and those GETs cost no tries


@pytest.mark.parametrize("headers", [
    {"Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "same-site"},  # another amsterdam.nl site is still not our form
    {"Sec-Fetch-Site": "none"},
    {"Sec-Fetch-Site": "cross-site", "Origin": "http://localhost"},  # Fetch Metadata decides
    {},
    {"Origin": "https://evil.example"},
    {"Origin": "null"},
    {"Referer": "https://evil.example/page"},
    {"Origin": "https://evil.example", "Referer": "http://localhost/reageer"},
])
def test_a_post_from_elsewhere_gets_a_confirmation_not_a_redirect(reply_client, headers):
    page = ask(reply_client, "naam@mastodon.test", headers=headers)
    assert page.status_code == 200
    assert "Location" not in page.headers
    assert "Ga naar mastodon.test" in page.text
    assert f'href="{MASTODON_TARGET}"' in page.text
    assert 'href="/#post-100">Terug naar het gesprek</a>' in page.text
    assert page.headers["Cache-Control"] == "no-store"


def test_the_confirmation_says_to_stop_when_the_server_is_not_yours(reply_client):
    page = ask(reply_client, "naam@mastodon.test", lang="/en", headers={"Sec-Fetch-Site": "cross-site"})
    assert "Is mastodon.test not your own server? Then do not go on." in page.text


def test_the_confirmation_says_to_stop_in_dutch_too(reply_client):
    # Needs the new msgid in translations/nl (merged separately from this change).
    page = ask(reply_client, "naam@mastodon.test", headers={"Sec-Fetch-Site": "cross-site"})
    assert "Is mastodon.test niet je eigen server? Ga dan niet verder." in page.text


@pytest.mark.parametrize("headers", [
    FROM_OUR_FORM,
    {"Origin": "http://localhost"},  # browsers without Fetch Metadata
    {"Referer": "http://localhost/reageer?post=100"},  # … and without Origin
])
def test_only_a_post_from_our_own_pages_is_handed_over_at_once(reply_client, headers):
    response = ask(reply_client, "naam@mastodon.test", headers=headers)
    assert response.status_code == 303
    assert response.headers["Location"] == MASTODON_TARGET
    assert response.headers["Cache-Control"] == "no-store"


def test_the_form_needs_no_csrf_token_and_sets_no_cookie(reply_client):
    # CSRFProtect guards every other POST; this one changes nothing on our side.
    response = ask(reply_client, "naam@mastodon.test")
    assert response.status_code == 303
    assert "Set-Cookie" not in response.headers


def test_the_address_never_appears_in_a_url(reply_client):
    for address in ("@naam", "naam@gts.test", "naam@broken.test", "naam@mastodon.test"):
        page = ask(reply_client, address, headers={"Sec-Fetch-Site": "cross-site"})
        assert "adres=" not in page.text  # no link, form action or language switch carries it
        assert 'action="/reageer?post=100"' in page.text or "Ga naar" in page.text


def test_form_action_allows_the_hand_over_to_another_server(reply_client):
    csp = reply_client.get("/reageer").headers["Content-Security-Policy"]
    assert "form-action 'self' https:" in csp
    # The form is shown again after bad input or a failed look-up: the hand-over must work from there too.
    assert "form-action 'self' https:" in ask(reply_client, "@naam").headers["Content-Security-Policy"]
    assert "form-action 'self';" in reply_client.get("/").headers["Content-Security-Policy"]


# --- caching ------------------------------------------------------------------------------------

def test_only_the_bare_form_may_be_kept_by_shared_caches(reply_client, fediverse):
    assert reply_client.get("/reageer?post=101").headers["Cache-Control"] == "public, max-age=60"
    assert reply_client.head("/reageer?post=101").headers["Cache-Control"] == "public, max-age=60"
    for answer in (reply_client.get("/reageer?post=101&adres=naam%40gts.test"),
                   reply_client.head("/reageer?post=101&adres=naam%40gts.test")):
        assert answer.status_code == 200
        assert answer.headers["Cache-Control"] == "no-store"
    assert fediverse.requests == []


@pytest.mark.parametrize("address, headers, status", [
    ("naam@mastodon.test", FROM_OUR_FORM, 303),
    ("naam@mastodon.test", {"Sec-Fetch-Site": "cross-site"}, 200),  # the confirmation
    ("naam@gts.test", FROM_OUR_FORM, 200),  # no way in
    ("naam@broken.test", FROM_OUR_FORM, 200),  # unreachable
    ("naam@social.test", FROM_OUR_FORM, 200),  # our own server
    ("@naam", FROM_OUR_FORM, 400),
])
def test_every_answer_about_an_address_is_no_store(reply_client, address, headers, status):
    response = ask(reply_client, address, headers=headers)
    assert response.status_code == status
    assert response.headers["Cache-Control"] == "no-store"


def test_gotosocial_gets_the_link_to_copy_and_the_words_to_paste_it(reply_client):
    page = ask(reply_client, "naam@gts.test")
    assert page.status_code == 200
    assert "Je server gts.test kan ons bericht niet direct openen." in page.text
    assert '>https://social.test/@stad/100</textarea>' in page.text
    assert "plak de link in de zoekbalk" in page.text.lower()
    assert 'data-copy="post-link"' in page.text


@pytest.mark.parametrize("address", ["naam@broken.test", "naam@hang.test", "naam@nocert.test",
                                     "naam@redirector.test", "naam@doesnotexist.test"])
def test_an_unreachable_server_is_named_with_the_copy_link_fallback(reply_client, address):
    page = ask(reply_client, address)
    assert page.status_code == 200
    domain = address.split("@")[1]
    assert f"We konden je server {domain} nu niet bereiken." in page.text
    assert '>https://social.test/@stad/100</textarea>' in page.text


def test_our_own_home_server_says_log_in_and_reply(reply_client, fediverse):
    page = ask(reply_client, "@iemand@social.test")
    assert page.status_code == 200
    assert "Je hebt al een account bij ons: log in en reageer." in page.text
    # The post opens on our own server (where the resident can log in), not on the post's own server.
    assert 'href="https://social.test/authorize_interaction?uri=https%3A%2F%2Fsocial.test%2Fusers%2Fstad%2Fstatuses%2F100"' in page.text
    assert 'href="/#post-100">Terug naar het gesprek</a>' in page.text
    assert fediverse.requests == []


def test_our_own_server_is_recognised_by_its_account_domain_too(make_app, mastodon, fediverse):
    # social.test serves accounts named @naam@stad.test (Mastodon's LOCAL_DOMAIN != WEB_DOMAIN).
    mastodon.standard()
    mastodon.mock.replace(responses.GET, HOME + "/api/v2/instance",
                          json=fixture_json("instance_open.json") | {"domain": "stad.test"})
    client = make_app(TESTING_NET_GUARD=fediverse.guard()).test_client()
    for address in ("@iemand@stad.test", "iemand@social.test"):
        page = ask(client, address)
        assert "Je hebt al een account bij ons: log in en reageer." in page.text, address
    assert fediverse.requests == []


@pytest.mark.parametrize("address, message", [
    ("", "Typ je Mastodon-adres"),
    ("a" * 321 + "@x.nl", "Dat is te lang"),
    ("naam @mastodon.nl", "geen spaties"),
    ("@naam", "Zet je server erbij"),
    ("naam@localhost", "een punt"),
    ("naam@127.0.0.1", "geen nummer"),
    ("naam@[::1]", "geen nummer"),
    ("https://naam:geheim@mastodon.nl", "wachtwoord"),
    ("https://mastodon.nl:8443/@naam", "poortnummer"),
    ("ftp://mastodon.nl", "https://"),
    ("<script>alert(1)</script>", "We kunnen dit adres niet lezen"),
])
def test_bad_input_shows_the_form_again_with_a_clear_message_and_the_input_kept(reply_client, fediverse,
                                                                                 address, message):
    page = ask(reply_client, address)
    assert page.status_code == 400
    assert message in page.text
    assert 'aria-invalid="true"' in page.text
    assert f'value="{escape(address)}"' in page.text  # what they typed is kept, escaped
    assert "<script>alert" not in page.text
    assert fediverse.requests == []


def test_bad_input_message_in_english_on_english_pages(reply_client):
    page = ask(reply_client, "@naam", lang="/en")
    assert page.status_code == 400
    assert "Add your server" in page.text


def test_every_handle_error_code_has_a_message_of_its_own(app):
    with app.test_request_context("/reageer"):
        messages = reply.handle_error_messages()
        assert set(messages) == HANDLE_ERROR_CODES
        assert len(set(messages.values())) == len(messages)
        assert reply.handle_error_message("a code from the future") == messages["invalid"]


@pytest.mark.parametrize("address", ["naam@metadata.test", "naam@intranet.test", "naam@0x7f.1", "naam@2130706433",
                                     "https://[::ffff:127.0.0.1]/@naam", "naam@localhost."])
def test_ssrf_corpus_never_contacts_anything(make_app, mastodon, fediverse, address):
    mastodon.standard()
    client = make_app(TESTING_NET_GUARD=fediverse.guard(allowed_networks=())).test_client()
    page = ask(client, address)
    assert page.status_code in (200, 400)
    assert fediverse.requests == []
    assert "Location" not in page.headers


def test_the_resolver_is_rate_limited_per_address_with_a_friendly_page(make_app, mastodon, fediverse):
    mastodon.standard()
    client = make_app(TESTING_NET_GUARD=fediverse.guard(), RESOLVER_LIMIT="3 per minute").test_client()
    for _ in range(3):
        assert ask(client, "naam@gts.test").status_code == 200
    limited = ask(client, "naam@gts.test")
    assert limited.status_code == 429
    assert "Je hebt dit vaak geprobeerd in korte tijd." in limited.text
    assert limited.headers["Cache-Control"] == "no-store"
    assert client.get("/reageer").status_code == 200  # the form itself is never limited
    other = ask(client, "naam@gts.test", headers={**FROM_OUR_FORM, "X-Forwarded-For": "192.0.2.9"})
    assert other.status_code == 200


def test_only_posts_that_look_something_up_cost_a_try(make_app, mastodon, fediverse):
    mastodon.standard()
    client = make_app(TESTING_NET_GUARD=fediverse.guard(), RESOLVER_LIMIT="2 per minute").test_client()
    for _ in range(3):
        assert ask(client, "@naam").status_code == 400  # a typing mistake
        assert "Je hebt al een account" in ask(client, "naam@social.test").text  # our own server
    assert [ask(client, "naam@gts.test").status_code for _ in range(3)] == [200, 200, 429]


def test_the_form_works_when_the_remote_answer_is_cached(reply_client, fediverse):
    ask(reply_client, "naam@mastodon.test")
    seen = len(fediverse.requests)
    assert ask(reply_client, "naam@mastodon.test").status_code == 303
    assert len(fediverse.requests) == seen


class OddNodeinfoGuard:
    """A server that answers WebFinger with nothing and nodeinfo with types nobody expects."""

    def __init__(self, index):
        self.index = index

    def get_json(self, url, *, deadline=None):
        if "/.well-known/webfinger" in url:
            return 200, {"links": "none"}
        if url.endswith("/.well-known/nodeinfo"):
            return 200, self.index
        return 200, {"software": {"name": ["mastodon"]}}


@pytest.mark.parametrize("index", [
    {"links": [{"rel": ["http://nodeinfo.diaspora.software/ns/schema/2.0"], "href": "https://odd.test/ni"}]},
    {"links": [{"rel": {"a": 1}, "href": "https://odd.test/ni"}]},
    {"links": [{"rel": None}, {"rel": 2.0}, {"rel": True, "href": []}]},
])
def test_a_strangers_odd_nodeinfo_never_gives_a_500(make_app, mastodon, index):
    mastodon.standard()
    client = make_app(TESTING_NET_GUARD=OddNodeinfoGuard(index)).test_client()
    response = ask(client, "naam@odd.test")
    assert response.status_code == 303  # nothing useful said: Mastodon's path, the best bet
    assert response.headers["Location"] == f"https://odd.test/authorize_interaction?uri={quote(ROOT_URI, safe='')}"


class ExplodingGuard:
    def get_json(self, url, *, deadline=None):
        raise KeyError("something nobody foresaw")


def test_anything_unforeseen_in_a_lookup_makes_the_server_unreachable_not_a_500(make_app, mastodon, caplog):
    mastodon.standard()
    client = make_app(TESTING_NET_GUARD=ExplodingGuard()).test_client()
    with caplog.at_level(logging.WARNING, logger="praatmee_site.remote_interaction.discovery"):
        page = ask(client, "geheim@odd.test")
    assert page.status_code == 200
    assert "We konden je server odd.test nu niet bereiken." in page.text
    warnings = [r for r in caplog.records if r.name == "praatmee_site.remote_interaction.discovery"]
    assert len(warnings) == 1 and "odd.test" in warnings[0].getMessage()
    assert "geheim" not in caplog.text  # the server is logged, never the account


def test_home_outage_still_gives_a_calm_page(make_app, mastodon, fediverse):
    mastodon.add("/api/v1/accounts/lookup", status=503, body="down")
    mastodon.add("/api/v2/instance", status=503, body="down")
    client = make_app(TESTING_NET_GUARD=fediverse.guard()).test_client()
    page = ask(client, "naam@mastodon.test")
    assert page.status_code == 503
    assert "Het gesprek is even niet te laden." in page.text
    assert client.get("/reageer").status_code == 200


@pytest.mark.parametrize("lang, busy_text", [
    ("", "Het is nu druk, daarom konden we je server mastodon.test niet opzoeken."),
    ("/en", "It is busy right now, so we could not look up your server mastodon.test."),
])
def test_when_every_lookup_slot_is_taken_the_resident_hears_it_is_busy_and_loses_nothing(
        make_app, mastodon, fediverse, lang, busy_text):
    mastodon.standard()
    app = make_app(TESTING_NET_GUARD=fediverse.guard(), RESOLVER_LIMIT="1 per minute", LOOKUP_SLOTS=1)
    client = app.test_client()
    slots = app.extensions["praatmee_resolver"].slots
    with slots.slot() as held:  # another worker's look-up, hanging on a hostile server
        assert held
        for _ in range(3):
            busy = ask(client, "naam@mastodon.test", lang=lang)
            assert busy.status_code == 503
            assert busy_text in busy.text
            assert 'value="naam@mastodon.test"' in busy.text  # the address is still in the field
            assert busy.headers["Cache-Control"] == "no-store"
    assert fediverse.requests == []  # nothing was asked while busy
    # Being turned away cost no try: the one look-up a minute is still there.
    assert ask(client, "naam@mastodon.test", lang=lang).status_code == 303


def test_lookup_slots_are_configured_with_one_clear_line(make_app):
    from praatmee_site.config import DEFAULTS, ConfigError, validate
    config = dict(DEFAULTS, SECRET_KEY="x", LOOKUP_SLOTS="0")
    with pytest.raises(ConfigError, match="PRAATMEE_LOOKUP_SLOTS"):
        validate(config)
