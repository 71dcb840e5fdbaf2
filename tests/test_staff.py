"""The staff area: login, sessions, CSRF, limits, no caching, campaigns in the browser's forms, the audit log."""
from __future__ import annotations

import re

import pytest

from praatmee_site.db import current_db
from praatmee_site.staff_accounts import StaffDirectory

EMAIL = "medewerker@amsterdam.test"
PASSWORD = "een lang wachtwoord 123"


@pytest.fixture
def staff_app(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        StaffDirectory(current_db()).add(EMAIL, PASSWORD)
    return app


def csrf_token(client, path="/beheer/login") -> str:
    page = client.get(path).text
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def log_in(client, email=EMAIL, password=PASSWORD, **headers):
    token = csrf_token(client)
    return client.post("/beheer/login", data={"email": email, "password": password, "csrf_token": token},
                       headers=headers)


@pytest.fixture
def staff_client(staff_app):
    client = staff_app.test_client()
    assert log_in(client).status_code == 302
    return client


# --- every route needs a login ------------------------------------------------------------------

def staff_urls(app):
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/beheer") and rule.endpoint != "staff.login":
            values = {name: "bieb-oost" if name == "slug" else "poster-a4.pdf" for name in rule.arguments}
            path = rule.rule
            for name, value in values.items():
                path = re.sub(rf"<(?:\w+:)?{name}>", value, path)
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                yield method, path


def test_every_staff_route_requires_a_login_and_is_never_cached(staff_app):
    client = staff_app.test_client()
    urls = list(staff_urls(staff_app))
    assert len(urls) >= 8
    for method, path in urls:
        response = client.open(path, method=method, data={})
        assert response.status_code in (302, 400), (method, path, response.status_code)
        if response.status_code == 302:
            assert "/beheer/login" in response.headers["Location"], (method, path)
        assert response.headers["Cache-Control"] == "no-store", (method, path)


def test_logging_in_reaches_the_overview_and_the_cookie_is_strict_and_http_only(staff_app):
    client = staff_app.test_client()
    response = log_in(client)
    assert response.status_code == 302
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("praatmee_staff=")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert "Secure" not in cookie  # plain http here
    assert "Expires=" in cookie  # eight hours, not a forever cookie
    assert client.get("/beheer/").status_code == 200


def test_cookie_is_secure_when_served_over_https(staff_app):
    client = staff_app.test_client()
    # Over https, Flask-WTF also checks that the form came from our own pages (the Referer).
    response = log_in(client, **{"X-Forwarded-Proto": "https", "Referer": "https://localhost/beheer/login"})
    assert response.status_code == 302
    assert "Secure" in response.headers["Set-Cookie"]


def test_wrong_password_and_unknown_account_get_the_same_message(staff_app):
    wrong = log_in(staff_app.test_client(), password="verkeerd wachtwoord!")
    unknown = log_in(staff_app.test_client(), email="niemand@amsterdam.test")
    assert wrong.status_code == unknown.status_code == 401
    message = "Het e-mailadres of het wachtwoord klopt niet."
    assert message in wrong.text and message in unknown.text
    assert re.sub(r'value="[^"]*"', "", wrong.text) == re.sub(r'value="[^"]*"', "", unknown.text)


def test_login_without_csrf_token_is_refused(staff_app):
    client = staff_app.test_client()
    response = client.post("/beheer/login", data={"email": EMAIL, "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/beheer/").status_code == 302


def test_posts_without_csrf_token_are_refused_when_logged_in(staff_client):
    response = staff_client.post("/beheer/campagnes/nieuw", data={"slug": "x-y", "name": "X", "place": "online",
                                                                  "cta_nl": "Praat mee"})
    assert response.status_code == 400
    assert "Dit lukte niet" in response.text


def test_login_attempts_are_limited_per_account(staff_app):
    for attempt in range(5):
        client = staff_app.test_client()
        assert log_in(client, password="fout", **{"X-Forwarded-For": f"198.51.100.{attempt}"}).status_code == 401
    blocked = log_in(staff_app.test_client(), **{"X-Forwarded-For": "198.51.100.99"})
    assert blocked.status_code == 429
    assert "Je hebt dit vaak geprobeerd in korte tijd." in blocked.text


def test_login_attempts_are_limited_per_address(staff_app):
    client = staff_app.test_client()
    for attempt in range(20):
        assert log_in(client, email=f"iemand{attempt}@amsterdam.test").status_code == 401
    assert log_in(client).status_code == 429


def test_logout_ends_the_session(staff_client):
    token = csrf_token(staff_client, "/beheer/")
    assert staff_client.post("/beheer/uitloggen", data={"csrf_token": token}).status_code == 302
    assert staff_client.get("/beheer/").status_code == 302


def test_session_expires_after_eight_hours(staff_client, monkeypatch):
    import time as real_time
    later = real_time.time() + 8 * 3600 + 1
    monkeypatch.setattr("praatmee_site.staff.time.time", lambda: later)
    assert staff_client.get("/beheer/").status_code == 302


def test_login_redirects_back_only_inside_the_staff_area(staff_app):
    client = staff_app.test_client()
    token = csrf_token(client)
    response = client.post("/beheer/login?next=//evil.example/x", data={"email": EMAIL, "password": PASSWORD,
                                                                         "csrf_token": token})
    assert response.headers["Location"] == "/beheer/"


def test_resident_pages_set_no_cookie_even_for_logged_in_staff(staff_client, mastodon):
    mastodon.standard()
    for path in ("/", "/en/", "/privacy", "/hulp", "/kiosk", "/reageer"):
        assert "Set-Cookie" not in staff_client.get(path).headers, path
