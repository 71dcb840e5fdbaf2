"""The staff area in a real browser (issue 19), at 1280×800 and 360×740: a staff member's walk from
logging in to reading the log, and axe with no findings and no sideways scrolling on every /beheer page.

Chromium through Playwright (see tests/conftest.py); the demo app needs no network.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest

from praatmee_site import campaigns, clock, outcomes
from praatmee_site.staff.accounts import StaffDirectory
from praatmee_site.web.services import current_db
from tests.conftest import describe_violations, run_axe, screenshot

pytestmark = pytest.mark.browser

SIZES = {"desktop": (1280, 800), "phone": (360, 740)}
EMAIL, PASSWORD = "anna@amsterdam.test", "een lang wachtwoord 123"
# GET routes under /beheer that answer a file, not a page.
FILES = {"staff.campaign_download", "staff.campaign_print", "staff.kpi_csv", "staff.kpi_json", "staff.audit_csv",
         "staff.audit_json"}
# A value for every URL argument of a staff page (a new page with a new argument adds its value here).
ARGUMENTS = {"slug": "bieb-oost", "outcome_id": "1"}


@pytest.fixture
def staff_server(make_app, live_server_for):
    app = make_app(DEMO=True, WTF_CSRF_ENABLED=True, STAFF_CONTACT="innovatie@amsterdam.test")
    with app.app_context():
        StaffDirectory(current_db()).add(EMAIL, PASSWORD)
    server = live_server_for(app)
    server.app = app
    return server


def fits(page, width: int) -> None:
    """The page itself never scrolls sideways (a wide table scrolls in its own box)."""
    assert page.evaluate("document.documentElement.scrollWidth") <= width, page.url


def log_in(page, server) -> None:
    page.goto(server.url + "/beheer/")
    assert page.url.startswith(server.url + "/beheer/login")
    page.fill("#email", EMAIL)
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")


def dd(page, term: str) -> str:
    return page.locator(f"dl.facts dt:text-is('{term}') + dd").inner_text()


@pytest.mark.parametrize("size", SIZES)
def test_a_staff_member_makes_fixes_ends_a_campaign_and_reads_the_log(staff_server, open_page, size):
    width, height = SIZES[size]
    page = open_page(staff_server.url, width=width, height=height)
    today = clock.today()
    start, end = today - timedelta(days=3), today + timedelta(days=30)

    # The login page says whom to ask, never a command.
    page.goto(staff_server.url + "/beheer/")
    login = page.inner_text("main")
    assert "Vraag het aan innovatie@amsterdam.test" in login and "flask" not in login
    assert page.get_attribute(".contact a", "href") == "mailto:innovatie@amsterdam.test"
    log_in(page, staff_server)
    with page.expect_navigation():
        page.click("text=Nieuwe campagne")

    # A wrong short name: the message names the field by its label and says how; nothing is lost.
    typed = {"#slug": "Bieb Noord", "#name": "OBA Noord", "#cta_nl": "Stel je vraag aan de bieb",
             "#cta_en": "Ask the library", "#input_text": "We nemen je vragen mee in het plan.",
             "#starts_on": start.isoformat(), "#ends_on": end.isoformat()}
    for selector, value in typed.items():
        page.fill(selector, value)
    page.select_option("#place", "bibliotheek")
    with page.expect_navigation():
        page.click("text=Maak de campagne")
    message = ("Korte naam in de link: gebruik kleine letters, cijfers en streepjes, zoals bieb-oost")
    assert message in page.inner_text("#slug-error")
    assert message in page.inner_text(".error-summary")
    assert "Ongeldige slug" not in page.inner_text("main")
    for selector, value in typed.items():
        assert page.input_value(selector) == value, selector
    assert page.input_value("#place") == "bibliotheek"
    assert page.get_attribute("#slug", "aria-invalid") == "true"
    fits(page, width)
    violations = run_axe(page)
    screenshot(page, f"staff_form_problem_{size}")
    assert violations == [], describe_violations(violations)
    page.click(".error-summary a")  # the summary leads to the field
    assert page.evaluate("document.activeElement.id") == "slug"

    page.fill("#slug", "bieb-noord")
    with page.expect_navigation():
        page.click("text=Maak de campagne")
    assert page.url == staff_server.url + "/beheer/campagnes/bieb-noord"
    assert "Campagne OBA Noord is klaar." in page.inner_text("main")
    period_before = dd(page, "Data")
    assert "t/m" in period_before and not re.search(r"\d{4}-\d\d-\d\d", period_before)
    fits(page, width)

    # Ending asks first, says what happens and when; "no" changes nothing.
    with page.expect_navigation():
        page.click("text=Beëindig de campagne vandaag")
    confirmation = page.inner_text("main")
    assert "is vandaag (" in confirmation and "de laatste dag" in confirmation
    assert "Vanaf morgen" in confirmation and "Deze actie is afgelopen — dit is het gesprek van nu" in confirmation
    assert dd(page, "Data na het beëindigen").endswith("t/m vandaag")
    fits(page, width)
    violations = run_axe(page)
    screenshot(page, f"staff_end_confirmation_{size}")
    assert violations == [], describe_violations(violations)
    with page.expect_navigation():
        page.click("text=Nee, terug naar de campagne")
    assert page.url == staff_server.url + "/beheer/campagnes/bieb-noord"
    assert dd(page, "Data") == period_before
    with staff_server.app.app_context():
        assert campaigns.get(current_db(), "bieb-noord").ends_on == end

    with page.expect_navigation():
        page.click("text=Beëindig de campagne vandaag")
    with page.expect_navigation():
        page.click("text=Ja, beëindig de campagne vandaag")
    done = page.inner_text("main")
    assert "De campagne is beëindigd." in done and "is de laatste dag" in done and "Vanaf morgen" in done
    assert dd(page, "Data").endswith("t/m vandaag")
    assert page.locator("text=Beëindig de campagne vandaag").count() == 0
    with staff_server.app.app_context():
        assert campaigns.get(current_db(), "bieb-noord").ends_on == today

    # The log reads as sentences, on the city's clock.
    with page.expect_navigation():
        page.click("nav.staff-nav >> text=Logboek van wijzigingen")
    log = page.inner_text("main")
    assert "Anna maakte de campagne bieb-noord aan (OBA Noord)" in log
    assert "Anna beëindigde de campagne bieb-noord:" in log and "was de laatste dag" in log
    assert "Anna logde in" in log
    assert "Iemand via de opdrachtregel gaf anna@amsterdam.test een account voor het beheer" in log
    assert "campaign.create" not in log and "staff.login" not in log
    newest = page.locator(".log-meta time").first
    at = datetime.fromisoformat(newest.get_attribute("datetime"))
    assert newest.inner_text() == clock.local_time(at)[-5:]  # Europe/Amsterdam, whatever the server's zone
    fits(page, width)
    violations = run_axe(page)
    screenshot(page, f"staff_log_{size}")
    assert violations == [], describe_violations(violations)
    assert page.outside_requests == []


def staff_pages(app) -> list[str]:
    """Every GET page under /beheer (from the URL map, so a new page is checked without a new line here)."""
    paths = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/beheer") or "GET" not in rule.methods or rule.endpoint in FILES:
            continue
        missing = set(rule.arguments) - set(ARGUMENTS)
        assert not missing, f"{rule.rule}: add a value for {missing} to ARGUMENTS"
        path = rule.rule
        for name in rule.arguments:
            path = re.sub(rf"<(?:\w+:)?{name}>", ARGUMENTS[name], path)
        paths.append(path)
    return sorted(paths)


def test_every_staff_page_has_no_axe_findings_and_no_sideways_scrolling_at_either_size(staff_server, open_page):
    app = staff_server.app
    with app.app_context():
        campaigns.create(current_db(), "bieb-oost", home_url=app.config["MASTODON_URL"], name="OBA Oost",
                         place="bibliotheek", cta_nl="Stel je vraag aan het Innovatieteam",
                         thread_url=app.config["MASTODON_URL"] + "/@OpenStad_HVA/100",
                         starts_on=clock.today() - timedelta(days=10), ends_on=clock.today() + timedelta(days=20))
        campaigns.create(current_db(), "later", home_url=app.config["MASTODON_URL"], name="Later",
                         place="evenement", cta_nl="Kom later", starts_on=clock.today() + timedelta(days=5))
        campaigns.count_scan(current_db(), campaigns.get(current_db(), "bieb-oost").id, clock.today())
        outcomes.add(current_db(), campaign="bieb-oost", home_url=app.config["MASTODON_URL"], today=clock.today(),
                     actor=EMAIL, status="besloten", title_nl="De bieb is langer open",
                     text_nl="Vanaf januari tot 22 uur.", happened_on=clock.today().isoformat())
    page = open_page(staff_server.url, width=1280, height=800)
    checked = []

    def check(name: str) -> None:
        """The page as it is now, at the desk and on a phone (the same page resized, not loaded again)."""
        page.wait_for_load_state("load")
        for size, (width, height) in SIZES.items():
            page.set_viewport_size({"width": width, "height": height})
            fits(page, width)
            violations = run_axe(page)
            assert violations == [], f"{name} at {size}: {describe_violations(violations)}"
            screenshot(page, f"staff_{re.sub(r'[^a-z0-9]+', '_', name)}_{size}")
        page.set_viewport_size({"width": 1280, "height": 800})
        checked.append(name)

    page.goto(staff_server.url + "/beheer/login")
    check("login")
    log_in(page, staff_server)
    page.goto(staff_server.url + "/beheer/kpi")
    with page.expect_navigation():
        page.click("text=Nu bijwerken")  # so the KPI tables are full
    assert page.locator("table").count() >= 3
    for path in staff_pages(app):
        page.goto(staff_server.url + path)
        check(path)
    # Pages in other states: the form with every kind of problem, a campaign that cannot end yet,
    # English, the refusal of an expired form.
    page.goto(staff_server.url + "/beheer/campagnes/nieuw")
    page.fill("#slug", "beheer")
    page.fill("#starts_on", "2026-12-10")
    page.fill("#ends_on", "2026-12-01")
    with page.expect_navigation():
        page.click("text=Maak de campagne")
    assert page.locator(".error-summary li").count() >= 4
    check("form with problems")
    page.goto(staff_server.url + "/beheer/campagnes/later/beeindigen")
    assert "begint pas op" in page.inner_text("main")
    check("cannot end yet")
    page.goto(staff_server.url + "/beheer/resultaten/nieuw")
    page.fill("#happened_on", "2099-01-01")
    with page.expect_navigation():
        page.click("text=Bewaar het resultaat")
    assert page.locator(".error-summary li").count() >= 3
    check("outcome form with problems")
    for path in ("/en/beheer/", "/en/beheer/logboek", "/en/beheer/kpi", "/en/beheer/campagnes/bieb-oost/beeindigen"):
        page.goto(staff_server.url + path)
        check(path)
    page.goto(staff_server.url + "/beheer/campagnes/bieb-oost/beeindigen")
    page.evaluate("document.querySelector('form.actions-row input[name=csrf_token]').value = 'verlopen'")
    with page.expect_navigation():
        page.click("text=Ja, beëindig de campagne vandaag")
    assert "Dit lukte niet" in page.inner_text("main")
    check("expired form")
    # Scrolling a wide table keeps its first column in view.
    page.goto(staff_server.url + "/beheer/kpi")
    for size, (width, height) in SIZES.items():
        page.set_viewport_size({"width": width, "height": height})
        box = page.locator(".table-wrap").first
        if size == "phone":
            assert box.evaluate("b => b.scrollWidth > b.clientWidth")
        box.evaluate("b => b.scrollLeft = b.scrollWidth")
        first = page.locator(".table-wrap").first.locator("tbody th").first.bounding_box()
        holder = box.bounding_box()
        assert first["x"] >= holder["x"] - 1
        screenshot(page, f"staff_kpi_scrolled_{size}")
        box.evaluate("b => b.scrollLeft = 0")
    # The wait after too many wrong passwords (its own page) says whom to ask too.
    page.context.clear_cookies()
    for _ in range(6):
        page.goto(staff_server.url + "/beheer/login")
        page.fill("#email", EMAIL)
        page.fill("#password", "verkeerd wachtwoord")
        with page.expect_navigation():
            page.click("button[type=submit]")
    assert "Even geduld" in page.inner_text("main")
    assert "flask" not in page.inner_text("main")
    check("login wait")
    assert len(checked) >= 14
    assert page.outside_requests == []
