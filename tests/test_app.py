"""The foundation: configuration, headers, languages, mounting under a prefix, health and errors."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest
from flask import request

from praatmee_site import create_app
from tests.conftest import base_config

RESIDENT_PAGES = ["/", "/en/", "/privacy", "/toegankelijkheid", "/en/privacy", "/en/toegankelijkheid"]


# --- configuration ------------------------------------------------------------------------------

@pytest.mark.parametrize("url", ["http://x", "https://social.example/path", "ftp://social.example", "social.example"])
def test_invalid_mastodon_url_stops_the_app_naming_the_variable(tmp_path, url):
    with pytest.raises(SystemExit) as stopped:
        create_app(base_config(tmp_path, MASTODON_URL=url))
    assert "PRAATMEE_MASTODON_URL" in str(stopped.value)
    assert "\n" not in str(stopped.value)


def test_missing_secret_key_stops_production_but_not_demo(tmp_path):
    config = base_config(tmp_path, TESTING=False)
    del config["SECRET_KEY"]
    with pytest.raises(SystemExit) as stopped:
        create_app(config)
    assert "PRAATMEE_SECRET_KEY" in str(stopped.value)
    assert create_app({**config, "DEMO": True}).config["SECRET_KEY"]


def test_flask_run_with_http_mastodon_url_exits_at_once_with_a_clear_line(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PRAATMEE_")}
    env.update(PRAATMEE_MASTODON_URL="http://x", PRAATMEE_SECRET_KEY="x")
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "praatmee_site", "run", "--port", "0"],
                            env=env, capture_output=True, text=True, timeout=30, cwd=tmp_path)
    assert result.returncode != 0
    assert "PRAATMEE_MASTODON_URL" in result.stderr
    assert "Traceback" not in result.stderr


def test_environment_variables_configure_the_app(tmp_path, monkeypatch):
    monkeypatch.setenv("PRAATMEE_MASTODON_URL", "https://mastodon.example")
    monkeypatch.setenv("PRAATMEE_ACCOUNT", "Innovatie")
    monkeypatch.setenv("PRAATMEE_SECRET_KEY", "12345")
    monkeypatch.setenv("PRAATMEE_SMS_NUMBER", "4444")
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite'}"})
    assert app.config["MASTODON_URL"] == "https://mastodon.example"
    assert app.config["ACCOUNT"] == "Innovatie"
    assert app.config["SECRET_KEY"] == "12345"
    assert app.config["SMS_NUMBER"] == "4444"  # JSON would have made it a number


def test_demo_mode_needs_no_configuration_at_all(tmp_path, monkeypatch):
    for name in list(os.environ):
        if name.startswith("PRAATMEE_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("PRAATMEE_DEMO", "1")
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite'}"})
    page = app.test_client().get("/")
    assert page.status_code == 200
    assert "Voorbeeld" in page.text
    assert "Mijn moeder (82)" in page.text  # the bundled demo thread, offline


def test_the_old_sms_keyword_setting_says_what_replaced_it(tmp_path):
    with pytest.raises(SystemExit) as stopped:
        create_app(base_config(tmp_path, SMS_KEYWORD="PRAATMEE", SMS_NUMBER="4444"))
    assert "PRAATMEE_SMS_KEYWORD is no longer used" in str(stopped.value)
    assert "--keyword" in str(stopped.value)


# --- headers --------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/", "/does-not-exist", "/healthz", "/privacy"])
def test_security_headers_on_every_response(client, mastodon, path):
    mastodon.standard()
    response = client.get(path)
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "img-src 'self' https://social.test" in csp
    assert "frame-ancestors 'none'" in csp
    assert "base-uri 'none'" in csp
    assert "form-action 'self'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    for feature in ("camera=()", "microphone=()", "geolocation=()"):
        assert feature in response.headers["Permissions-Policy"]


@pytest.mark.parametrize("path", RESIDENT_PAGES + ["/does-not-exist"])
def test_resident_pages_set_no_cookie(client, mastodon, path):
    mastodon.standard()
    assert "Set-Cookie" not in client.get(path).headers


@pytest.mark.parametrize("path", RESIDENT_PAGES)
def test_resident_pages_may_be_cached_a_minute(client, mastodon, path):
    mastodon.standard()
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, max-age=60"


def test_static_files_have_versioned_urls_and_long_cache(client, mastodon):
    mastodon.standard()
    page = client.get("/").text
    css_url = page.split('rel="stylesheet" href="')[1].split('"')[0]
    assert css_url.startswith("/static/css/site.css?v=")
    with client.get(css_url) as response:  # a file response: closed, so its file is too
        assert response.status_code == 200
        assert "max-age=31536000" in response.headers["Cache-Control"]


def test_a_static_file_that_changes_gets_a_new_version_in_the_next_app(tmp_path):
    """Versions are remembered per file between apps of one process, but never past a change."""
    import os

    from praatmee_site.web.http import _static_versions
    css = tmp_path / "css" / "site.css"
    css.parent.mkdir()
    css.write_text("body { color: #181818; }")
    first = _static_versions(tmp_path)
    assert _static_versions(tmp_path) == first
    css.write_text("body { color: #181819; }")  # the same size: only the content and the time differ
    stat = css.stat()
    os.utime(css, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    second = _static_versions(tmp_path)
    assert second["css/site.css"] != first["css/site.css"]
    assert second == _static_versions(tmp_path)


def test_healthz_answers_json_with_version(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json["status"] == "ok"
    assert response.json["version"]


def test_friendly_404_in_the_visitors_language_links_home(client):
    dutch = client.get("/bestaat-niet")
    assert dutch.status_code == 404
    assert "Pagina niet gevonden" in dutch.text
    assert 'href="/"' in dutch.text
    english = client.get("/en/does-not-exist")
    assert english.status_code == 404
    assert "Page not found" in english.text
    assert 'href="/en/"' in english.text


# --- languages ----------------------------------------------------------------------------------

def test_dutch_is_the_default_and_english_lives_under_en(client, mastodon):
    mastodon.standard()
    dutch = client.get("/")
    assert '<html lang="nl"' in dutch.text
    assert "Account aanmaken (2 min)" in dutch.text
    assert "Heb je al een Mastodon-account? Reageer direct" in dutch.text
    english = client.get("/en/")
    assert '<html lang="en"' in english.text
    assert "Create an account (2 min)" in english.text
    assert "Account aanmaken" not in english.text


def test_internal_links_keep_the_language(client, mastodon):
    mastodon.standard()
    english = client.get("/en/").text
    assert 'href="/en/privacy"' in english
    assert 'href="/en/toegankelijkheid"' in english
    assert 'href="/" lang="nl"' in english  # the language switch back to Dutch
    assert 'href="/en/" lang="en"' in client.get("/").text


def test_language_does_not_depend_on_accept_language(client, mastodon):
    mastodon.standard()
    page = client.get("/", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert '<html lang="nl"' in page.text


def test_sign_up_link_carries_the_page_language(client, mastodon):
    mastodon.standard()
    assert 'href="https://social.test/auth/sign_up?lang=nl"' in client.get("/").text
    assert 'href="https://social.test/auth/sign_up?lang=en"' in client.get("/en/").text


# --- mounted under /praatmee behind a proxy ---------------------------------------------------

def test_every_link_is_relative_to_the_proxy_mount(client, mastodon):
    mastodon.standard()
    page = client.get("/en/", headers={"X-Forwarded-Prefix": "/praatmee"}).text
    assert 'href="/praatmee/en/privacy"' in page
    assert 'href="/praatmee/static/css/site.css?v=' in page
    assert 'href="/praatmee/" lang="nl"' in page
    dutch = client.get("/", headers={"X-Forwarded-Prefix": "/praatmee"}).text
    assert 'href="/praatmee/toegankelijkheid"' in dutch
    assert 'href="/praatmee/en/" lang="en"' in dutch


def test_script_name_mount_works_too(client, mastodon):
    mastodon.standard()
    page = client.get("/privacy", base_url="http://localhost/praatmee").text
    assert 'href="/praatmee/"' in page
    assert 'href="/praatmee/en/privacy" lang="en"' in page


# --- the entry page, in order ---------------------------------------------------------------

def test_entry_page_sections_come_in_the_promised_order(client, mastodon):
    mastodon.standard()
    page = client.get("/").text
    page = page[page.index("<body"):]
    # GOV.UK's start page: what this is, the one action, then what you need to know (issue 14); the
    # conversation right after the action, so it is one jump away on a phone.
    order = ["Gemeente Amsterdam", "<h1", "Stel je vraag aan het Innovatieteam", "sociaal netwerk",
             "Account aanmaken (2 min)", "Je hebt een e-mailadres nodig",
             "Heb je al een Mastodon-account? Reageer direct", "Lees het gesprek", "Het gesprek</h2>", "Praat mee</h3>",
             "Zo werkt het", "Wie zit erachter?", "Wat gebeurt er met je input?", "We reageren binnen 3 werkdagen",
             "Waarom Mastodon?", "Huisregels", "tel:14020", 'href="/privacy"', 'href="/toegankelijkheid"', "Broncode"]
    positions = [page.find(marker) for marker in order]
    assert -1 not in positions, [m for m, p in zip(order, positions, strict=True) if p == -1]
    assert positions == sorted(positions)


def test_call_to_action_is_configurable(make_app, mastodon):
    mastodon.standard()
    app = make_app(CALL_TO_ACTION="Denk mee over digitalisering in Amsterdam",
                   CALL_TO_ACTION_EN="Think along about digital Amsterdam")
    client = app.test_client()
    assert "<h1 id=\"cta\">Denk mee over digitalisering in Amsterdam</h1>" in client.get("/").text
    assert "<h1 id=\"cta\">Think along about digital Amsterdam</h1>" in client.get("/en/").text


# --- the one-second page copy -------------------------------------------------------------------

class Clock:
    now = 1000.0

    def __call__(self):
        return self.now


def test_entry_page_is_answered_from_a_copy_for_a_second_per_mount(make_app, mastodon):
    from praatmee_site.web.http import PageCache
    mastodon.standard()
    app = make_app(PAGE_CACHE=1)
    cache = app.extensions["praatmee_page_cache"]
    assert isinstance(cache, PageCache)
    cache.clock = clock = Clock()
    client = app.test_client()
    first = client.get("/").text
    lookups = mastodon.calls_to("/api/v1/accounts/lookup")
    mastodon.mock.replace("GET", "https://social.test/api/v1/statuses/100/context",
                          json={"ancestors": [], "descendants": []})
    assert client.get("/").text == first  # within the second: the copy, no work at all
    assert mastodon.calls_to("/api/v1/accounts/lookup") == lookups
    assert 'href="/praatmee/privacy"' in client.get("/", headers={"X-Forwarded-Prefix": "/praatmee"}).text
    assert client.get("/?utm=x").status_code == 200  # query strings are never answered from the copy
    clock.now += 1.5
    app.extensions["praatmee_home_server"].client.cache.clear()
    assert "8 reacties" not in client.get("/").text  # a second later: rendered again


def test_page_copy_keeps_every_header_and_is_only_for_the_entry_pages(make_app, mastodon):
    mastodon.standard()
    app = make_app(PAGE_CACHE=1)
    client = app.test_client()
    fresh, copy = client.get("/en/"), client.get("/en/")
    assert copy.headers["Content-Security-Policy"] == fresh.headers["Content-Security-Policy"]
    assert copy.headers["Cache-Control"] == "public, max-age=60"
    assert "Set-Cookie" not in copy.headers
    from praatmee_site.web.http import PageCache
    assert set(PageCache.PATHS) == {"/", "/en", "/en/"}


def test_nothing_from_the_query_string_reaches_the_page_or_its_kept_copy(client, mastodon):
    mastodon.standard()
    poisoned = client.get('/?zqxj=%22%3E%3Cb%3Ezqxj&post=1').text
    assert "zqxj" not in poisoned
    assert 'href="/en/" lang="en"' in poisoned
    assert 'href="/en/" lang="en"' in client.get("/").text


def test_the_reply_page_language_link_keeps_the_post(client, mastodon):
    mastodon.standard()
    assert 'href="/en/reageer?post=101"' in client.get("/reageer?post=101&x=1").text


def test_configuration_errors_never_show_a_password(tmp_path):
    with pytest.raises(SystemExit) as stopped:
        create_app(base_config(tmp_path, MASTODON_URL="https://admin:geheim@social.example/pad"))
    assert "geheim" not in str(stopped.value)
    assert "PRAATMEE_MASTODON_URL" in str(stopped.value)


def test_a_configured_dutch_call_to_action_is_marked_dutch_on_english_pages(make_app, mastodon):
    mastodon.standard()
    client = make_app(CALL_TO_ACTION="Denk mee over de stad", TEAM_TEXT="Het team van de stad.").test_client()
    english = client.get("/en/").text
    assert '<h1 id="cta" lang="nl">Denk mee over de stad</h1>' in english
    assert '<p lang="nl">Het team van de stad.' in english
    assert '<h1 id="cta">Denk mee over de stad</h1>' in client.get("/").text
    assert '<h1 id="cta">Ask the Innovation team your question</h1>' in make_app().test_client().get("/en/").text


def test_an_entry_page_that_sets_a_cookie_is_never_kept_for_other_visitors(make_app, mastodon):
    # The page copy is shared by everyone: an answer carrying a cookie must reach its one visitor only.
    mastodon.standard()
    app = make_app(PAGE_CACHE=60)
    rendered = []

    @app.after_request
    def cookie_on_the_entry_page(response):
        rendered.append(request.path)
        if request.headers.get("X-Test-Cookie"):
            response.set_cookie("test", "one-visitor-only")
        return response

    client = app.test_client()
    with_cookie = client.get("/", headers={"X-Test-Cookie": "1"})
    assert "one-visitor-only" in with_cookie.headers["Set-Cookie"]
    second = client.get("/")
    assert "Set-Cookie" not in second.headers  # not the first visitor's copy
    assert rendered == ["/", "/"]  # rendered again: the answer with a cookie was not kept
    client.get("/")
    assert rendered == ["/", "/"]  # the cookie-free answer was kept and served


def test_healthz_says_degraded_when_the_database_does_not_answer(app, client, monkeypatch):
    from praatmee_site.web.services import current_db

    def unreachable():
        raise OSError("connection refused")

    with app.app_context():
        monkeypatch.setattr(current_db(), "current_version", unreachable)
    response = client.get("/healthz")
    assert response.status_code == 200  # the load balancer reads the body; the process itself is fine
    assert response.json["status"] == "degraded" and response.json["database"] == "unavailable"
    assert response.mimetype == "application/json"
