""""Reageer direct" as residents use it: the form, the 303 to their own server, and every way it can go wrong."""
from __future__ import annotations

from urllib.parse import quote

import pytest
from markupsafe import escape


pytestmark = pytest.mark.usefixtures("connect_spy")

ROOT_URI = "https://social.test/users/stad/statuses/100"
REPLY_URI = "https://social.test/users/ann/statuses/101"
FROM_OUR_FORM = {"Sec-Fetch-Site": "same-origin"}


@pytest.fixture
def reply_client(make_app, mastodon, fediverse):
    mastodon.standard()
    app = make_app(TESTING_NET_GUARD=fediverse.guard())
    return app.test_client()


def ask(client, address, post="100", lang="", headers=FROM_OUR_FORM):
    return client.get(f"{lang}/reageer", query_string={"post": post, "adres": address}, headers=headers)


def test_the_form_works_without_javascript_and_explains_itself(reply_client):
    page = reply_client.get("/reageer?post=101")
    assert page.status_code == 200
    text = page.text
    assert '<label for="adres">Wat is je Mastodon-adres?</label>' in text
    assert "Bijvoorbeeld: @naam@mastodon.nl." in text
    assert '<form class="reply-form" method="get" action="/reageer"' in text
    assert '<input type="hidden" name="post" value="101">' in text
    assert 'value="https://social.test/@ann/101"' in text  # the copy-the-link way in is always there
    assert "Set-Cookie" not in page.headers


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
    response = reply_client.get("/reageer", query_string={"adres": "naam@mastodon.test"}, headers=FROM_OUR_FORM)
    assert response.headers["Location"].endswith(quote(ROOT_URI, safe=""))


def test_a_post_we_do_not_show_is_never_fetched(reply_client, mastodon):
    before = len(mastodon.mock.calls)
    response = ask(reply_client, "naam@mastodon.test", post="999999")
    assert response.headers["Location"].endswith(quote(ROOT_URI, safe=""))
    assert not any("/statuses/999999" in c.request.url for c in mastodon.mock.calls[before:])


def test_a_link_from_elsewhere_gets_a_confirmation_not_an_open_redirect(reply_client):
    for headers in ({"Sec-Fetch-Site": "cross-site"}, {}, {"Referer": "https://evil.example/page"}):
        page = ask(reply_client, "naam@mastodon.test", headers=headers)
        assert page.status_code == 200
        assert "Ga naar mastodon.test" in page.text
        assert f'href="https://mastodon.test/authorize_interaction?uri={quote(ROOT_URI, safe="")}"' in page.text


def test_form_action_allows_the_hand_over_to_another_server(reply_client):
    csp = reply_client.get("/reageer").headers["Content-Security-Policy"]
    assert "form-action 'self' https:" in csp
    assert "form-action 'self';" in reply_client.get("/").headers["Content-Security-Policy"]


def test_gotosocial_gets_the_link_to_copy_and_the_words_to_paste_it(reply_client):
    page = ask(reply_client, "naam@gts.test")
    assert page.status_code == 200
    assert "Je server gts.test kan ons bericht niet direct openen." in page.text
    assert 'value="https://social.test/@stad/100"' in page.text
    assert "plak de link in de zoekbalk" in page.text.lower()
    assert 'data-copy="post-link"' in page.text


@pytest.mark.parametrize("address", ["naam@broken.test", "naam@hang.test", "naam@nocert.test",
                                     "naam@redirector.test", "naam@doesnotexist.test"])
def test_an_unreachable_server_is_named_with_the_copy_link_fallback(reply_client, address):
    page = ask(reply_client, address)
    assert page.status_code == 200
    domain = address.split("@")[1]
    assert f"We konden je server {domain} nu niet bereiken." in page.text
    assert 'value="https://social.test/@stad/100"' in page.text


def test_our_own_home_server_says_log_in_and_reply(reply_client):
    page = ask(reply_client, "@iemand@social.test")
    assert page.status_code == 200
    assert "Je hebt al een account bij ons: log in en reageer." in page.text
    assert 'href="https://social.test/@stad/100"' in page.text


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
    assert client.get("/reageer").status_code == 200  # the form itself is never limited
    other = ask(client, "naam@gts.test", headers={**FROM_OUR_FORM, "X-Forwarded-For": "192.0.2.9"})
    assert other.status_code == 200


def test_the_form_works_when_the_remote_answer_is_cached(reply_client, fediverse):
    ask(reply_client, "naam@mastodon.test")
    seen = len(fediverse.requests)
    assert ask(reply_client, "naam@mastodon.test").status_code == 303
    assert len(fediverse.requests) == seen


def test_home_outage_still_gives_a_calm_page(make_app, mastodon, fediverse):
    mastodon.add("/api/v1/accounts/lookup", status=503, body="down")
    mastodon.add("/api/v2/instance", status=503, body="down")
    client = make_app(TESTING_NET_GUARD=fediverse.guard()).test_client()
    page = ask(client, "naam@mastodon.test")
    assert page.status_code == 503
    assert "Het gesprek is even niet te laden." in page.text
    assert client.get("/reageer").status_code == 200
