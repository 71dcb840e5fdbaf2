"""Headers between the app and its proxy: Strict-Transport-Security, and which X-Forwarded-* values we take."""
from __future__ import annotations

import re

import pytest

from praatmee_site import create_app
from tests.conftest import base_config

YEAR = 365 * 24 * 3600


# --- Strict-Transport-Security -------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/", "/privacy", "/c/onbekend", "/reageer", "/beheer/inloggen", "/healthz",
                                  "/static/css/site.css"])
def test_https_answers_tell_browsers_to_stay_on_https(make_app, mastodon, path):
    mastodon.standard()
    client = make_app(HSTS=YEAR).test_client()
    with client.get(path, base_url="https://localhost") as direct:  # closed: a static file is an open file
        assert direct.headers["Strict-Transport-Security"] == f"max-age={YEAR}"
    # Behind the proxy, https is what X-Forwarded-Proto says (PRAATMEE_PROXIES=1).
    with client.get(path, headers={"X-Forwarded-Proto": "https"}) as behind:
        assert behind.headers["Strict-Transport-Security"] == f"max-age={YEAR}"


def test_plain_http_answers_carry_no_strict_transport_security(make_app, mastodon):
    # RFC 6797 §7.2: the header means nothing over http, and a browser must ignore it there.
    mastodon.standard()
    client = make_app(HSTS=YEAR).test_client()
    assert "Strict-Transport-Security" not in client.get("/").headers
    assert "Strict-Transport-Security" not in client.get("/", headers={"X-Forwarded-Proto": "http"}).headers


def test_a_forwarded_proto_is_not_believed_without_a_trusted_proxy(make_app, mastodon):
    mastodon.standard()
    client = make_app(HSTS=YEAR, PROXIES=0).test_client()
    assert "Strict-Transport-Security" not in client.get("/", headers={"X-Forwarded-Proto": "https"}).headers


def test_zero_turns_strict_transport_security_off(make_app, mastodon):
    mastodon.standard()
    client = make_app(HSTS=0).test_client()
    assert "Strict-Transport-Security" not in client.get("/", base_url="https://localhost").headers


def test_strict_transport_security_is_on_in_production_and_off_in_demo_debug_and_tests(tmp_path):
    production = base_config(tmp_path, TESTING=False)
    assert create_app(production).config["HSTS"] == YEAR
    assert create_app({**production, "DEMO": True}).config["HSTS"] == 0
    assert create_app({**production, "DEBUG": True}).config["HSTS"] == 0
    assert create_app(base_config(tmp_path)).config["HSTS"] == 0  # TESTING
    assert create_app({**production, "HSTS": 600}).config["HSTS"] == 600


def test_the_copy_of_the_entry_page_keeps_strict_transport_security_to_https(make_app, mastodon):
    mastodon.standard()
    client = make_app(HSTS=YEAR, PAGE_CACHE=60).test_client()
    for _ in range(2):  # the render, then the copy
        assert client.get("/", base_url="https://localhost").headers["Strict-Transport-Security"] == f"max-age={YEAR}"
        assert "Strict-Transport-Security" not in client.get("/").headers


@pytest.mark.parametrize("value", ["abc", "-1", "1.5", "true", "[1]", "max-age=300"])
def test_a_bad_hsts_setting_stops_the_app_with_one_line(tmp_path, monkeypatch, value):
    for name in [n for n in __import__("os").environ if n.startswith("PRAATMEE_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("PRAATMEE_HSTS", value)  # as an operator sets it, through from_prefixed_env
    with pytest.raises(SystemExit) as stopped:
        create_app(base_config(tmp_path))
    message = str(stopped.value)
    assert "PRAATMEE_HSTS" in message
    assert "\n" not in message
    assert "31536000" in message  # says what to set


# --- X-Forwarded-Prefix --------------------------------------------------------------------------

@pytest.mark.parametrize("prefix", [
    "//evil.example",
    "https://evil.example",
    "https:evil.example",
    "javascript:alert(1)",
    "/praatmee/../x",
    "..",
    "/..",
    "/praatmee/./x",
    "\\\\evil.example",
    "/\\evil.example",
    "/praatmee\r\nSet-Cookie: a=b",
    "/praatmee\nx",
    "/a b",
    "/%2F%2Fevil.example",
    "/praatmee?x=1",
    "/praatmee#x",
    "/praatmee\x00",
    "/pr\u00e4atmee",
    "praatmee",
    "/praatmee, //evil.example",  # with one proxy trusted, the last value is the one that counts
    "/" + "a" * 300,
])
def test_a_forwarded_prefix_that_is_not_a_plain_path_is_ignored(client, mastodon, prefix):
    mastodon.standard()
    page = client.get("/", environ_overrides={"HTTP_X_FORWARDED_PREFIX": prefix})
    assert page.status_code == 200
    assert 'href="/privacy"' in page.text
    assert 'href="/en/" lang="en"' in page.text
    assert "evil" not in page.text
    links = re.findall(r'(?:href|src|action)="([^"]*)"', page.text)
    assert not [link for link in links if link.startswith("//") or "\\" in link]


@pytest.mark.parametrize("prefix, links_start", [
    ("/praatmee", "/praatmee/"),
    ("/praatmee/", "/praatmee/"),
    ("/gemeente/praat-mee_2", "/gemeente/praat-mee_2/"),
    ("/praatmee, /eigen", "/eigen/"),  # the value the one trusted proxy added
])
def test_a_plain_forwarded_prefix_still_mounts_the_app(client, mastodon, prefix, links_start):
    mastodon.standard()
    page = client.get("/", environ_overrides={"HTTP_X_FORWARDED_PREFIX": prefix}).text
    assert f'href="{links_start}privacy"' in page
    assert f'href="{links_start}en/" lang="en"' in page


def test_with_no_proxy_trusted_a_forwarded_prefix_is_ignored(make_app, mastodon):
    mastodon.standard()
    page = make_app(PROXIES=0).test_client().get("/", headers={"X-Forwarded-Prefix": "/praatmee"}).text
    assert 'href="/privacy"' in page


# --- the guide's nginx block ---------------------------------------------------------------------

def test_the_guides_nginx_sends_strict_transport_security_from_every_location():
    # nginx inherits add_header only into a location that has none of its own, so each such
    # location must repeat it; the app's own header is hidden, so there is exactly one.
    from drill.run import readme_nginx_block
    block = readme_nginx_block()
    server = block[block.index("server {"):]
    header = 'add_header Strict-Transport-Security "max-age=31536000" always;'
    assert "proxy_hide_header Strict-Transport-Security;" in server
    locations = re.findall(r"\n    location [^{]*\{(.*?)\n    \}", server, re.S)
    assert len(locations) >= 5
    outside = re.sub(r"\n    location [^{]*\{.*?\n    \}", "", server, flags=re.S)
    assert header in outside
    for body in locations:
        if "add_header" in body:
            assert header in body, body
