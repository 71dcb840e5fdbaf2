"""The staff area: login, sessions, CSRF, limits, no caching, campaigns in the browser's forms, the audit log."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from praatmee_site.db import StaffAccount
from praatmee_site.staff.accounts import StaffDirectory
from praatmee_site.web.services import current_db

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
    assert "Het formulier stond te lang open" in response.text
    assert "praatmee_staff" not in response.headers.get("Set-Cookie", "")
    assert client.get("/beheer/").headers["Location"].startswith("/beheer/login")


def test_posts_without_csrf_token_are_refused_when_logged_in(staff_client):
    response = staff_client.post("/beheer/campagnes/nieuw", data={"slug": "x-y", "name": "X", "place": "online",
                                                                  "cta_nl": "Praat mee"})
    assert response.status_code == 400
    assert "Dit lukte niet" in response.text


# --- login limits: guessing is slow, the real person still gets in -----------------------------

def from_address(address: str) -> dict:
    return {"X-Forwarded-For": address}  # one proxy in front (PRAATMEE_PROXIES=1): its header names the client


def wrong(client, address, email=EMAIL):
    return log_in(client, email=email, password="verkeerd wachtwoord", **from_address(address))


@pytest.fixture
def clock(monkeypatch):
    """time.time under the test's control: the limits' counters and the login page read it."""
    import time as time_module

    class Clock:
        now = time_module.time()

        def __call__(self):
            return self.now

        def advance(self, seconds: float):
            self.now += seconds
    fake = Clock()
    monkeypatch.setattr(time_module, "time", fake)
    return fake


def test_a_correct_password_from_a_clean_address_gets_in_however_many_strangers_guessed(staff_app):
    for attempt in range(12):
        assert wrong(staff_app.test_client(), f"198.51.100.{attempt}").status_code == 401
    assert log_in(staff_app.test_client(), **from_address("203.0.113.7")).status_code == 302


def test_successful_logins_do_not_count(staff_app):
    for _ in range(12):
        assert log_in(staff_app.test_client(), **from_address("203.0.113.7")).status_code == 302


def test_an_address_that_guessed_waits_and_is_told_the_real_wait(staff_app, clock):
    client = staff_app.test_client()
    for _attempt in range(4):
        assert "opnieuw proberen" not in wrong(client, "198.51.100.1").text
    fifth = wrong(client, "198.51.100.1")
    assert fifth.status_code == 401
    assert "Het e-mailadres of het wachtwoord klopt niet." in fifth.text
    assert "Je kunt het vanaf deze internetverbinding over 30 seconden opnieuw proberen" in fifth.text
    clock.advance(10)
    # Even the right password waits now: the answer says nothing about the password.
    refused = log_in(client, **from_address("198.51.100.1"))
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "20"
    assert "over 20 seconden opnieuw proberen" in refused.text
    back = re.search(r'<a class="button" href="([^"]+)">Terug naar inloggen</a>', refused.text)
    assert back and back.group(1) == "/beheer/login"  # the limit page leads back to the login
    clock.advance(20)
    assert log_in(client, **from_address("198.51.100.1")).status_code == 302


def test_the_wait_grows_with_every_failure_of_the_account_and_stays_within_15_minutes(staff_app, clock):
    for attempt in range(5):
        wrong(staff_app.test_client(), f"198.51.100.{attempt}")
    client = staff_app.test_client()
    waits = []
    for _attempt in range(6):  # one guesser, waiting each time exactly as long as it is told
        answer = wrong(client, "192.0.2.66")
        assert answer.status_code == 401
        seconds = int(re.search(r"over (\d+) (seconden|minuten)", answer.text).group(1))
        unit = re.search(r"over \d+ (seconden|minuten)", answer.text).group(1)
        waits.append(seconds * (60 if unit == "minuten" else 1))
        clock.advance(waits[-1])
    assert waits == [60, 120, 240, 480, 900, 900]


def test_one_address_is_stopped_after_20_failures_whichever_accounts_it_tries(staff_app, clock):
    client = staff_app.test_client()
    for attempt in range(20):
        assert wrong(client, "198.51.100.9", email=f"iemand{attempt}@amsterdam.test").status_code == 401
    clock.advance(60)
    refused = log_in(client, **from_address("198.51.100.9"))
    assert refused.status_code == 429
    assert "Er kwamen te veel mislukte inlogpogingen van jouw internetverbinding" in refused.text
    assert "over 14 minuten opnieuw proberen" in refused.text  # the 15-minute window started a minute ago
    assert log_in(staff_app.test_client(), **from_address("203.0.113.7")).status_code == 302  # others: not
    clock.advance(14 * 60)
    assert log_in(client, **from_address("198.51.100.9")).status_code == 302


def test_a_successful_login_forgets_the_callers_failures_for_that_account(staff_app):
    own = "198.51.100.20"
    for _ in range(3):
        wrong(staff_app.test_client(), own)  # the real person mistyped
    assert log_in(staff_app.test_client(), **from_address(own)).status_code == 302
    for attempt in range(3):  # then strangers guess: the account is over its 5 free failures
        wrong(staff_app.test_client(), f"192.0.2.{attempt}")
    assert wrong(staff_app.test_client(), "192.0.2.1").status_code == 429  # a guesser waits …
    assert log_in(staff_app.test_client(), **from_address(own)).status_code == 302  # … the real person does not


def test_a_successful_login_takes_only_that_accounts_failures_off_the_address_limit(staff_app):
    colleague = "collega@amsterdam.test"
    with staff_app.app_context():
        StaffDirectory(current_db()).add(colleague, PASSWORD)
    office = "198.51.100.21"
    for _ in range(2):
        wrong(staff_app.test_client(), office, email=colleague)
    for attempt in range(17):
        wrong(staff_app.test_client(), office, email=f"iemand{attempt}@amsterdam.test")
    assert log_in(staff_app.test_client(), email=colleague, **from_address(office)).status_code == 302
    for attempt in range(2):  # 17 of 20 were left; two more fit
        assert wrong(staff_app.test_client(), office, email=f"ander{attempt}@amsterdam.test").status_code == 401
    assert wrong(staff_app.test_client(), office, email="ander9@amsterdam.test").status_code == 401
    assert log_in(staff_app.test_client(), **from_address(office)).status_code == 429


def test_the_limits_keep_no_address_and_no_email_in_the_clear(staff_app):
    for attempt in range(3):
        wrong(staff_app.test_client(), f"198.51.100.{attempt}")
    limits = staff_app.extensions["praatmee_login_limits"]
    names = list(limits.counters.storage.storage)
    assert len(names) >= 6
    assert not [name for name in names if "198.51.100" in name or "amsterdam.test" in name or "medewerker" in name]


# --- sessions -----------------------------------------------------------------------------------

def session_cookie(client) -> str:
    return client.get_cookie("praatmee_staff").value


def test_logout_ends_the_session_also_for_a_copy_of_the_cookie(staff_app, staff_client):
    copy = session_cookie(staff_client)
    token = csrf_token(staff_client, "/beheer/")
    assert staff_client.post("/beheer/uitloggen", data={"csrf_token": token}).status_code == 302
    assert staff_client.get("/beheer/").status_code == 302
    stolen = staff_app.test_client()
    stolen.set_cookie("praatmee_staff", copy)
    response = stolen.get("/beheer/")
    assert response.status_code == 302 and "/beheer/login" in response.headers["Location"]


def test_logout_leaves_a_session_started_later_elsewhere(staff_app, clock):
    here, elsewhere = staff_app.test_client(), staff_app.test_client()
    assert log_in(here).status_code == 302
    clock.advance(1)
    assert log_in(elsewhere).status_code == 302
    here.post("/beheer/uitloggen", data={"csrf_token": csrf_token(here, "/beheer/")})
    assert here.get("/beheer/").status_code == 302
    assert elsewhere.get("/beheer/").status_code == 200


def test_logging_out_everywhere_ends_every_session_of_the_account(staff_app, clock):
    here, elsewhere = staff_app.test_client(), staff_app.test_client()
    assert log_in(here).status_code == 302
    clock.advance(1)
    assert log_in(elsewhere).status_code == 302
    page = here.get("/beheer/").text
    assert 'action="/beheer/overal-uitloggen"' in page and "Overal uitloggen" in page
    response = here.post("/beheer/overal-uitloggen", data={"csrf_token": csrf_token(here, "/beheer/")})
    assert response.status_code == 302
    assert "Je bent overal uitgelogd." in here.get("/beheer/login").text
    assert here.get("/beheer/").status_code == 302
    assert elsewhere.get("/beheer/").status_code == 302
    clock.advance(1)
    assert log_in(elsewhere).status_code == 302  # a new login works again
    assert "Medewerker logde uit op alle computers" in elsewhere.get("/beheer/logboek").text


def test_a_database_from_before_logout_ended_sessions_is_upgraded_in_place(tmp_path, make_app):
    """Version 3 (made before Alembic) had staff_accounts without sessions_valid_since: revision 0004
    adds it, the account stays, and logging out then ends a copied cookie."""
    import sqlite3
    from pathlib import Path

    snapshot = Path(__file__).parent / "fixtures" / "snapshots" / "v3-sqlite.sql"
    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as connection:
        connection.executescript(snapshot.read_text(encoding="utf-8"))
    connection.close()
    app = make_app(DATABASE_URL=f"sqlite:///{path}", WTF_CSRF_ENABLED=True)
    client = app.test_client()
    assert log_in(client, email="anna@amsterdam.nl", password="een lang wachtwoord 123").status_code == 302
    copy = session_cookie(client)
    client.post("/beheer/uitloggen", data={"csrf_token": csrf_token(client, "/beheer/")})
    stolen = app.test_client()
    stolen.set_cookie("praatmee_staff", copy)
    assert stolen.get("/beheer/").status_code == 302
    with app.app_context():
        assert current_db().current_version() >= "0004"


def test_session_expires_after_eight_hours(staff_client, monkeypatch):
    import time as real_time
    later = real_time.time() + 8 * 3600 + 1
    monkeypatch.setattr("praatmee_site.web.staff.time.time", lambda: later)
    expired = staff_client.get("/beheer/")
    assert expired.status_code == 302 and expired.headers["Location"].startswith("/beheer/login")


@pytest.mark.parametrize("target, location", [
    ("/beheer/kpi?van=2026-11-01&tot=2026-11-30", "/beheer/kpi?van=2026-11-01&tot=2026-11-30"),
    ("//evil.example/x", "/beheer/"),
    ("/beheer/../../elders", "/beheer/"),
    ("/beheer/%0d%0aSet-Cookie:%20x=1", "/beheer/"),  # a line break in the header: never a 500
    ("/beheer/\\evil.example", "/beheer/"),
])
def test_login_redirects_back_only_inside_the_staff_area(staff_app, target, location):
    from urllib.parse import quote
    client = staff_app.test_client()
    token = csrf_token(client)
    response = client.post("/beheer/login?next=" + quote(target, safe="/%"),
                           data={"email": EMAIL, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    assert response.headers["Location"] == location


def test_resident_pages_set_no_cookie_even_for_logged_in_staff(staff_client, mastodon):
    mastodon.standard()
    for path in ("/", "/en/", "/privacy", "/hulp", "/kiosk", "/reageer"):
        assert "Set-Cookie" not in staff_client.get(path).headers, path


# --- campaigns in the browser's forms ----------------------------------------------------------

def create_campaign(client, **fields):
    token = csrf_token(client, "/beheer/campagnes/nieuw")
    data = {"slug": "bieb-oost", "name": "OBA Oost", "place": "bibliotheek",
            "cta_nl": "Stel je vraag aan het Innovatieteam", "csrf_token": token} | fields
    return client.post("/beheer/campagnes/nieuw", data=data)


def test_overview_lists_campaigns_with_scans_today_week_and_total(staff_client, mastodon):
    mastodon.standard()
    assert create_campaign(staff_client).status_code == 303
    for _ in range(3):
        staff_client.get("/c/bieb-oost", headers={"User-Agent": "Mozilla/5.0 (iPhone)"})
    page = staff_client.get("/beheer/").text
    start = page.index('<th scope="row">')
    row = page[start:page.index("</tr>", start)]
    assert re.findall(r'<td class="number">(\d+)</td>', row) == ["3", "3", "3"]
    campaign = staff_client.get("/beheer/campagnes/bieb-oost").text
    assert re.search(r'<svg[^>]*role="img"[^>]*>.*<title[^>]*>Scans per dag</title>', campaign, re.S)
    assert re.search(r'<caption id="scans-caption">Scans per dag</caption>.*<td class="number">3</td>', campaign, re.S)


def test_creating_a_campaign_in_the_browser_and_its_audit_entry(staff_client):
    response = create_campaign(staff_client)
    assert response.status_code == 303
    assert response.headers["Location"] == "/beheer/campagnes/bieb-oost"
    page = staff_client.get("/beheer/campagnes/bieb-oost").text
    assert "Campagne OBA Oost is klaar." in page
    assert "https://amsterdam.test/praatmee/c/bieb-oost" in page
    log = staff_client.get("/beheer/logboek").text
    assert "Medewerker maakte de campagne bieb-oost aan (OBA Oost)" in log and EMAIL in log
    assert "campaign.create" not in log.split("<main", 1)[1].split("Downloaden")[0]


@pytest.mark.parametrize("fields, message, cli_message", [
    ({"slug": "Bieb Oost"}, "Korte naam in de link: gebruik kleine letters, cijfers en streepjes, zoals bieb-oost",
     "Ongeldige slug"),
    ({"place": "strand"}, "Soort plek: kies er een uit de lijst", "Onbekende soort plek"),
    ({"place": ""}, "Kies een soort plek", "Geef een soort plek: kies uit bushalte"),
    ({"cta_nl": ""}, "Oproep in het Nederlands: schrijf wat je mensen vraagt", "Geef een oproep in het Nederlands"),
    ({"thread_url": "https://elders.example/@a/1"}, "Gesprek: plak de link van een bericht op social.test",
     "Het gesprek moet de link van een bericht op social.test zijn"),
    ({"starts_on": "2026-12-10", "ends_on": "2026-12-01"},
     "Einddatum: 1 december 2026 ligt voor de begindatum, 10 december 2026", "voor de startdatum"),
])
def test_the_form_uses_the_same_rules_as_the_cli_in_its_own_words_and_keeps_the_input(staff_client, runner, fields,
                                                                                      message, cli_message):
    response = create_campaign(staff_client, **fields)
    assert response.status_code == 400
    assert message in response.text, response.text[response.text.index("<main"):][:3000]
    assert cli_message not in response.text
    assert 'aria-invalid="true"' in response.text
    assert 'value="OBA Oost"' in response.text
    cli = runner.invoke(args=["campaign", "create", fields.get("slug", "bieb-oost"), "--name", "OBA Oost",
                              "--place", fields.get("place", "bibliotheek"), "--cta", fields.get("cta_nl", "x"),
                              *(["--thread", fields["thread_url"]] if "thread_url" in fields else []),
                              *(["--start", fields["starts_on"], "--end", fields["ends_on"]] if "starts_on" in fields else [])])
    assert cli.exit_code != 0 and cli_message in cli.output and message not in cli.output
    assert "bieb-oost" not in staff_client.get("/beheer/").text


def test_a_duplicate_slug_is_refused(staff_client):
    create_campaign(staff_client)
    response = create_campaign(staff_client, name="Andere naam")
    assert response.status_code == 400
    assert "Korte naam in de link: er is al een campagne die “bieb-oost” heet." in response.text


def test_editing_changes_fields_but_never_the_slug(staff_client):
    create_campaign(staff_client)
    token = csrf_token(staff_client, "/beheer/campagnes/bieb-oost/bewerken")
    response = staff_client.post("/beheer/campagnes/bieb-oost/bewerken", data={
        "csrf_token": token, "slug": "iets-anders", "name": "OBA Oost", "place": "bibliotheek",
        "cta_nl": "Denk mee over de bieb", "cta_en": "Think along"})
    assert response.status_code == 303
    page = staff_client.get("/beheer/campagnes/bieb-oost").text
    assert "Denk mee over de bieb" in page and "Think along" in page
    assert staff_client.get("/beheer/campagnes/iets-anders").status_code == 404
    assert ("Medewerker veranderde de campagne bieb-oost: oproep in het Nederlands en oproep in het Engels"
            in staff_client.get("/beheer/logboek").text)


def test_ending_a_campaign_asks_first_then_makes_today_its_last_day(staff_app, staff_client, mastodon):
    from praatmee_site import campaigns
    mastodon.standard()
    create_campaign(staff_client, ends_on="2099-12-31")
    page = staff_client.get("/beheer/campagnes/bieb-oost").text
    assert 'href="/beheer/campagnes/bieb-oost/beeindigen"' in page  # a link to the question, not a button that acts
    question = staff_client.get("/beheer/campagnes/bieb-oost/beeindigen")
    assert question.status_code == 200
    with staff_app.app_context():
        assert campaigns.get(current_db(), "bieb-oost").ends_on.isoformat() == "2099-12-31"  # asking changes nothing
    token = csrf_token(staff_client, "/beheer/campagnes/bieb-oost/beeindigen")
    response = staff_client.post("/beheer/campagnes/bieb-oost/beeindigen", data={"csrf_token": token})
    assert response.status_code == 303 and response.headers["Location"] == "/beheer/campagnes/bieb-oost"
    page = staff_client.get("/beheer/campagnes/bieb-oost").text
    assert "De campagne is beëindigd." in page and "Vanaf morgen" in page
    with staff_app.app_context():
        assert campaigns.get(current_db(), "bieb-oost").ends_on == campaigns.today()
    # The poster still leads to the campaign today.
    assert "Stel je vraag aan het Innovatieteam" in staff_client.get("/c/bieb-oost").text


def test_ending_a_campaign_that_has_not_started_explains_instead_of_failing(staff_app, staff_client):
    from praatmee_site import campaigns
    create_campaign(staff_client, starts_on="2099-01-01")
    question = staff_client.get("/beheer/campagnes/bieb-oost/beeindigen").text
    assert "Deze campagne begint pas op 1 januari 2099" in question
    assert "Ja, beëindig" not in question and 'href="/beheer/campagnes/bieb-oost/bewerken"' in question
    token = csrf_token(staff_client, "/beheer/campagnes/bieb-oost/beeindigen")
    response = staff_client.post("/beheer/campagnes/bieb-oost/beeindigen", data={"csrf_token": token})
    assert response.status_code == 303 and response.headers["Location"] == "/beheer/campagnes/bieb-oost/beeindigen"
    with staff_app.app_context():
        assert campaigns.get(current_db(), "bieb-oost").ends_on is None


@pytest.mark.parametrize("name, mimetype", [
    ("poster-a4.pdf", "application/pdf"), ("poster-a3.png", "image/png"), ("poster-a6.pdf", "application/pdf"),
    ("qr.png", "image/png"), ("handout.pdf", "application/pdf"), ("social-square.png", "image/png"),
])
def test_downloads_decode_to_the_campaign_address(staff_client, name, mimetype):
    from tests.support.qr import codes_in_pdf, codes_in_png, texts
    create_campaign(staff_client)
    response = staff_client.get(f"/beheer/campagnes/bieb-oost/download/{name}?lang=nl%2Ben")
    assert response.status_code == 200
    assert response.mimetype == mimetype
    assert "attachment" in response.headers["Content-Disposition"]
    if name.startswith("social"):
        return  # no QR code by default on social images
    codes = codes_in_pdf(response.data) if mimetype == "application/pdf" else codes_in_png(response.data)
    assert texts(codes) == {"https://amsterdam.test/praatmee/c/bieb-oost"}


def test_qr_svg_download_and_unknown_downloads(staff_client):
    create_campaign(staff_client)
    svg = staff_client.get("/beheer/campagnes/bieb-oost/download/qr.svg")
    assert svg.mimetype == "image/svg+xml" and b"<svg" in svg.data[:200]
    assert staff_client.get("/beheer/campagnes/bieb-oost/download/poster-a7.pdf").status_code == 404
    assert staff_client.get("/beheer/campagnes/bieb-oost/download/poster-a4.pdf?lang=fr").status_code == 404
    assert staff_client.get("/beheer/campagnes/nope/download/poster-a4.pdf").status_code == 404


def test_a_new_password_ends_sessions_made_with_the_old_one(staff_app, staff_client):
    assert staff_client.get("/beheer/").status_code == 200
    with staff_app.app_context():
        StaffDirectory(current_db()).set_password(EMAIL, "een heel ander wachtwoord")
    assert staff_client.get("/beheer/").status_code == 302


def test_the_staff_cookie_is_sent_only_to_the_sites_own_mount(staff_app):
    client = staff_app.test_client()
    mounted = "http://localhost/praatmee"  # as behind the proxy: SCRIPT_NAME=/praatmee
    token = re.search(r'name="csrf_token" value="([^"]+)"',
                      client.get("/beheer/login", base_url=mounted).text).group(1)
    response = client.post("/beheer/login", data={"email": EMAIL, "password": PASSWORD, "csrf_token": token},
                           base_url=mounted)
    assert "Path=/praatmee/" in response.headers["Set-Cookie"]
    assert response.headers["Location"] == "/praatmee/beheer/"


@pytest.mark.real_password_cost
def test_passwords_are_kept_with_werkzeugs_full_scrypt_and_the_dummy_costs_the_same(app):
    from praatmee_site.staff import accounts
    with app.app_context():
        StaffDirectory(current_db()).add("medewerker@amsterdam.nl", "een lang wachtwoord")
        with current_db().Session() as session:
            stored = session.scalar(select(StaffAccount.password_hash))
    # N = 2^15, r = 8, p = 1: about 90 ms and 32 MiB per guess on this machine.
    assert stored.startswith("scrypt:32768:8:1$")
    assert accounts._DUMMY_HASH.startswith("scrypt:32768:8:1$")


@pytest.mark.real_password_cost
def test_an_unknown_address_costs_one_scrypt_like_a_wrong_password(app, monkeypatch):
    # Same work for both failures, so the login's timing does not tell which addresses have accounts.
    from praatmee_site.staff import accounts
    with app.app_context():
        directory = StaffDirectory(current_db())
        directory.add("medewerker@amsterdam.nl", "een lang wachtwoord")
        checked = []
        real = accounts.check_password_hash
        monkeypatch.setattr(accounts, "check_password_hash",
                            lambda stored, given: checked.append(stored) or real(stored, given))
        assert directory.authenticate("niemand@amsterdam.nl", "een lang wachtwoord") is None
        assert directory.authenticate("medewerker@amsterdam.nl", "verkeerd wachtwoord") is None
        assert directory.authenticate("geen adres", "x") is None
    unknown, wrong, malformed = checked
    assert unknown == accounts._DUMMY_HASH == malformed
    assert unknown.split("$")[0] == wrong.split("$")[0]  # the same scrypt parameters, so the same cost
