"""Outcomes in a real browser (Chromium through Playwright): the staff flow from the form to the post
on Mastodon, and axe on every new page in both languages, with and without JavaScript."""
from __future__ import annotations

from datetime import date

import pytest

from tests.conftest import Findings, describe_violations, run_axe, screenshot
from tests.support.home_posts import WRITE_TOKEN

pytestmark = pytest.mark.browser
EMAIL, PASSWORD = "medewerker@amsterdam.test", "een lang wachtwoord 123"


@pytest.fixture
def writer_server(make_app, live_server_for, mastodon):
    from praatmee_site.staff.accounts import StaffDirectory
    from praatmee_site.web.services import current_db
    mastodon.standard()
    statuses = mastodon.accept_posts()
    app = make_app(MASTODON_WRITE_TOKEN=WRITE_TOKEN)
    with app.app_context():
        StaffDirectory(current_db()).add(EMAIL, PASSWORD)
    runner = app.test_cli_runner()
    created = runner.invoke(args=["campaign", "create", "bieb-oost", "--name", "OBA Oost", "--place", "bibliotheek",
                                  "--cta", "Denk mee over de bieb", "--cta-en", "Think along about the library",
                                  "--thread", "https://social.test/@stad/100"])
    assert created.exit_code == 0, created.output
    server = live_server_for(app)
    server.statuses = statuses
    return server


def test_staff_add_an_outcome_publish_it_and_residents_see_it(writer_server, open_page):
    server = writer_server
    page = open_page(server.url, width=1280, height=800, allow_hosts=("https://social.test",))
    page.goto(server.url + "/beheer/login?next=/beheer/resultaten")
    page.fill("#email", EMAIL)
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")
    assert page.url == server.url + "/beheer/resultaten"
    with page.expect_navigation():
        page.click("text=Nieuw resultaat")
    page.select_option("#campaign", "bieb-oost")
    page.select_option("#status", "niet_gedaan")
    page.fill("#title_nl", 'Geen skatebaan <script>window.__xss=1</script>')
    page.fill("#text_nl", "Jullie vroegen om een skatebaan.\n\nMeer: https://www.amsterdam.nl/skate")
    with page.expect_navigation():
        page.click("text=Bewaar het resultaat")
    assert "Waarom niet, in het Nederlands: schrijf waarom het niet is gedaan" in page.inner_text("main")  # required
    violations = run_axe(page)
    assert violations == [], describe_violations(violations)
    page.fill("#reason_nl", "Er is geen plek die groot genoeg is.")
    with page.expect_navigation():
        page.click("text=Bewaar het resultaat")
    assert "Het resultaat is bewaard" in page.inner_text("main")
    violations = run_axe(page)
    assert violations == [], describe_violations(violations)
    with page.expect_navigation():
        page.click("text=Publiceren op Mastodon")
    preview = page.inner_text(".preview-post")
    assert preview.startswith("Wat er met jullie input gebeurde: Niet gedaan. Geen skatebaan")
    assert "Waarom niet: Er is geen plek" in preview
    violations = run_axe(page)
    screenshot(page, "staff_outcome_preview")
    assert violations == [], describe_violations(violations)
    assert server.statuses.requests == []  # nothing posted before the click
    with page.expect_navigation():
        page.click("text=Plaats deze reactie op Mastodon")
    [status] = server.statuses.posted
    assert status["in_reply_to_id"] == "100"
    assert server.statuses.requests[0]["form"]["status"] == preview
    assert status["url"] in page.inner_text("main")
    assert page.evaluate("window.__xss") is None
    for path in ("/c/bieb-oost", "/", "/resultaten", "/kiosk/bieb-oost"):
        page.goto(server.url + path)
        assert "Geen skatebaan <script>" in page.inner_text("body"), path
        assert page.evaluate("window.__xss") is None
    assert page.outside_requests == []


RESIDENT_OUTCOME_PAGES = ["/resultaten", "/en/resultaten", "/c/bieb-oost", "/en/c/bieb-oost", "/"]
STAFF_OUTCOME_PAGES = ["/beheer/resultaten", "/beheer/resultaten/nieuw", "/beheer/resultaten/1/publiceren", "/beheer/kpi"]


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "no-javascript"])
def test_axe_on_the_outcome_pages(writer_server, open_page, javascript):
    """Every page an outcome shows on, in one walk: the resident pages on a phone with no staff cookie,
    then the staff pages at a desktop after one log-in. Every page's findings are gathered first, so
    one failing page does not hide the next."""
    server = writer_server
    _add_outcome(server)
    problems = Findings()
    for paths, width in ((RESIDENT_OUTCOME_PAGES, 360), (STAFF_OUTCOME_PAGES, 1280)):  # residents on a phone
        page = open_page(server.url, width=width, height=740, javascript=javascript,
                         allow_hosts=("https://social.test",))
        if paths is STAFF_OUTCOME_PAGES:
            page.goto(server.url + "/beheer/login")
            page.fill("#email", EMAIL)
            page.fill("#password", PASSWORD)
            with page.expect_navigation():
                page.click("button[type=submit]")
        for path in paths:
            page.goto(server.url + path)
            if page.evaluate("document.documentElement.scrollWidth") > width:
                problems.append(f"{path}: scrolls sideways at {width} px")
            if javascript:
                problems.axe(page, path)
                screenshot(page, "outcome_" + (path.strip("/").replace("/", "_") or "index") + f"_{width}")
            elif not (path.startswith(("/en", "/beheer")) or "Wat er met jullie input gebeurde" in page.inner_text("body")):
                problems.append(f"{path}: the outcome is missing without JavaScript")
        if page.outside_requests:
            problems.append(f"requests elsewhere: {page.outside_requests}")
    assert problems == [], "\n".join(problems)


def _add_outcome(server):
    app = server.app
    from praatmee_site import outcomes
    from praatmee_site.web.services import current_db
    with app.app_context():
        if outcomes.get(current_db(), 1) is None:
            outcomes.add(current_db(), campaign="bieb-oost", home_url="https://social.test", today=date.today(),
                         actor="test", status="besloten", title_nl="Tien nieuwe bankjes", title_en="Ten new benches",
                         text_nl="Jullie vroegen om bankjes.\n\nZie https://www.amsterdam.nl/bankjes",
                         decision_url="https://www.amsterdam.nl/besluit/12", happened_on=date.today())


def test_the_kiosk_with_an_outcome_still_fits_the_screen(writer_server, open_page):
    _add_outcome(writer_server)
    page = open_page(writer_server.url, width=768, height=1024, allow_hosts=("https://social.test",))
    page.goto(writer_server.url + "/kiosk/bieb-oost")
    screenshot(page, "kiosk_outcome_768x1024")
    assert "Tien nieuwe bankjes" in page.inner_text(".kiosk-outcome")
    assert page.evaluate("document.documentElement.scrollHeight") <= 1024
    assert page.locator(".kiosk-qr svg").is_visible()
