""""Reageer direct" never takes a resident to a server someone else chose without first naming it.

A link can put an address in the form (`?adres=`), and a WebFinger answer chooses where its template
leads: both are other people's choices, so the page shows the host the button really opens.
"""
from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

import pytest

pytestmark = pytest.mark.usefixtures("connect_spy")

ROOT_URI = "https://social.test/users/stad/statuses/100"
FROM_OUR_FORM = {"Sec-Fetch-Site": "same-origin"}
MASTODON_TARGET = f"https://mastodon.test/authorize_interaction?uri={quote(ROOT_URI, safe='')}"


@pytest.fixture
def client(make_app, mastodon, fediverse):
    mastodon.standard()
    return make_app(TESTING_NET_GUARD=fediverse.guard()).test_client()


def form_fields(page: str) -> dict[str, str]:
    """What the browser would send from the page's form, as it was served."""
    form = page[page.index('<form class="reply-form"'):page.index("</form>")]
    return {name: value.replace("&#34;", '"').replace("&amp;", "&").replace("&#64;", "@")
            for name, value in re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', form)}


def button_href(page: str) -> str:
    return re.search(r'<a class="button" href="([^"]+)"', page).group(1).replace("&amp;", "&")


# --- a prefilled address ---------------------------------------------------------------------

def test_a_prefilled_address_sent_unchanged_shows_the_destination_first(client, fediverse):
    page = client.get("/reageer", query_string={"post": "100", "adres": "naam@mastodon.test"}).text
    fields = form_fields(page)
    assert fields["adres"] == "naam@mastodon.test"
    # The resident presses the button without changing a thing: our own form, but not their choice.
    answer = client.post("/reageer?post=100", data=fields, headers=FROM_OUR_FORM)
    assert answer.status_code == 200
    assert "Location" not in answer.headers
    assert button_href(answer.text) == MASTODON_TARGET
    assert "Ga naar mastodon.test" in answer.text
    assert "Dit adres stond al ingevuld door de link die je volgde." in answer.text
    assert answer.headers["Cache-Control"] == "no-store"


def test_a_prefilled_server_with_another_name_typed_still_shows_the_destination(client):
    fields = form_fields(client.get("/reageer", query_string={"post": "100", "adres": "naam@mastodon.test"}).text)
    answer = client.post("/reageer?post=100", data=dict(fields, adres="ander@mastodon.test"), headers=FROM_OUR_FORM)
    assert answer.status_code == 200
    assert button_href(answer.text) == MASTODON_TARGET


def test_an_address_the_resident_typed_over_the_prefill_goes_straight_to_their_server(client):
    fields = form_fields(client.get("/reageer", query_string={"post": "100", "adres": "naam@stranger.test"}).text)
    answer = client.post("/reageer?post=100", data=dict(fields, adres="@naam@mastodon.test"), headers=FROM_OUR_FORM)
    assert answer.status_code == 303
    assert answer.headers["Location"] == MASTODON_TARGET


def test_the_plain_form_still_hands_over_at_once(client):
    fields = form_fields(client.get("/reageer?post=100").text)
    assert set(fields) == {"adres"}
    answer = client.post("/reageer?post=100", data=dict(fields, adres="naam@mastodon.test"), headers=FROM_OUR_FORM)
    assert answer.status_code == 303


def test_the_prefill_survives_a_typing_mistake(client):
    fields = form_fields(client.get("/reageer", query_string={"post": "100", "adres": "naam@"}).text)
    again = client.post("/reageer?post=100", data=fields, headers=FROM_OUR_FORM)
    assert again.status_code == 400
    fields = form_fields(again.text)
    answer = client.post("/reageer?post=100", data=dict(fields, adres="naam@mastodon.test"), headers=FROM_OUR_FORM)
    assert answer.status_code == 303  # the resident typed the server themselves
    fields = form_fields(client.get("/reageer", query_string={"post": "100", "adres": "@x"}).text)
    again = client.post("/reageer?post=100", data=fields, headers=FROM_OUR_FORM)
    assert "voorgesteld" in form_fields(again.text)


def test_a_prefill_for_our_own_server_needs_no_confirmation(client):
    fields = form_fields(client.get("/reageer", query_string={"post": "100", "adres": "naam@social.test"}).text)
    answer = client.post("/reageer?post=100", data=fields, headers=FROM_OUR_FORM)
    assert "Je hebt al een account bij ons" in answer.text


def test_the_prefill_confirmation_in_english(client):
    fields = form_fields(client.get("/en/reageer", query_string={"post": "100", "adres": "naam@mastodon.test"}).text)
    answer = client.post("/en/reageer?post=100", data=fields, headers=FROM_OUR_FORM)
    assert "The link you followed filled in this address." in answer.text
    assert "Go to mastodon.test" in answer.text


# --- the confirmation names the host its button opens -----------------------------------------

def test_the_confirmation_names_the_host_its_button_opens(client):
    # micro.blog: the account on manton-alias.test, the way in on micro.test (named as an alias too).
    answer = client.post("/reageer?post=100", data={"adres": "naam@manton-alias.test"},
                         headers={"Sec-Fetch-Site": "cross-site"})
    assert answer.status_code == 200
    target = button_href(answer.text)
    assert urlsplit(target).hostname == "micro.test"
    assert "Ga naar micro.test" in answer.text
    assert "Ga naar manton-alias.test" not in answer.text
    assert "Je adres hoort bij manton-alias.test. Die server stuurt je door naar micro.test." in answer.text
    assert "Is micro.test niet de plek waar je wilt reageren? Ga dan niet verder." in answer.text


def test_the_confirmation_names_the_same_host_once_when_it_is_the_residents_own(client):
    answer = client.post("/en/reageer?post=100", data={"adres": "naam@mastodon.test"},
                         headers={"Sec-Fetch-Site": "cross-site"})
    assert "You are going to your own server, mastodon.test." in answer.text
    assert "sends you on" not in answer.text
    assert urlsplit(button_href(answer.text)).hostname == "mastodon.test"


def test_a_stranger_s_template_host_is_never_offered(client):
    answer = client.post("/reageer?post=100", data={"adres": "naam@stranger.test"}, headers=FROM_OUR_FORM)
    assert answer.status_code == 200
    assert "phish.test" not in answer.text
    # The server did answer: its way in is one we will not use, so the post cannot be opened directly.
    assert "Je server stranger.test kan ons bericht niet direct openen." in answer.text
    assert "niet bereiken" not in answer.text
    assert '>https://social.test/@stad/100</textarea>' in answer.text  # the link to copy instead


def test_the_confirmation_button_is_marked_for_remembering_the_residents_server(client):
    # reageer.js keeps the server only when the resident presses this button (or types it).
    answer = client.post("/reageer?post=100", data={"adres": "naam@manton-alias.test"},
                         headers={"Sec-Fetch-Site": "cross-site"})
    assert 'data-remember-server="manton-alias.test"' in answer.text
