"""The resident's path (issue 14) in a real browser: Chromium through Playwright, on a 360×740 phone unless
a test says otherwise. Tap counts are specifications: each `tap` is one touch of the resident's finger.

The home server is the fake one of tests/conftest.py (https://social.test, Mastodon's URL shapes); the
browser never leaves 127.0.0.1, so a tap that leaves the site is caught as the request it makes.
"""
from __future__ import annotations

import io
from urllib.parse import quote

import pytest

from praatmee_site import campaigns
from tests.conftest import HOME, Findings, describe_violations, run_axe, screenshot

pytestmark = pytest.mark.browser

PHONE = (360, 740)
PUBLIC = "https://amsterdam.test/praatmee"
INVITE = f"{HOME}/invite/Ab3dE-9_"
ROOT_URI = "https://social.test/users/stad/statuses/100"
REMOTE_REPLY_URI = "https://other.example/users/bob/statuses/106"  # a reply from another server
TABLETS = [(1024, 768), (768, 1024), (1280, 800), (1920, 1080)]


def home_reply(uri: str) -> str:
    return f"{HOME}/authorize_interaction?uri={quote(uri, safe='')}"


class Resident:
    """A resident with a phone in one hand: every `tap` is counted, and where it led is kept."""

    def __init__(self, page):
        self.page = page
        self.taps = 0

    def tap(self, locator) -> None:
        assert locator.is_visible(), "a resident can only tap what is on the screen"
        self.taps += 1
        locator.click()

    def tap_and_leave(self, locator) -> str:
        """Tap a link that leaves our site; returns the address the browser asked for."""
        with self.page.expect_request(lambda request: request.url.startswith(HOME + "/")
                                      and request.resource_type == "document") as leaving:
            self.tap(locator)
        return leaving.value.url


def in_first_screen(page, selector: str) -> bool:
    box = page.locator(selector).first.bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= page.viewport_size["height"]


@pytest.fixture
def thread_app(make_app, mastodon):
    mastodon.standard()
    app = make_app()
    db = app.extensions["praatmee_db"]
    campaigns.create(db, "bieb-oost", home_url=HOME, name="OBA Oost", place="bibliotheek",
                     cta_nl="Stel je vraag aan de bieb", cta_en="Ask the library your question",
                     thread_url=f"{HOME}/@stad/100", invite_url=INVITE)
    campaigns.create(db, "bushalte-wibautstraat-oost", home_url=HOME, name="Abri Wibautstraat", place="bushalte",
                     cta_nl="Wat vind jij van de Wibautstraat?")
    return app


@pytest.fixture
def thread_server(thread_app, live_server_for):
    return live_server_for(thread_app)


@pytest.fixture
def demo_server(make_app, live_server_for):
    return live_server_for(make_app(DEMO=True))


def phone(open_page, server, **options):
    return open_page(server.url, width=PHONE[0], height=PHONE[1], allow_hosts=(HOME,), **options)


# --- tap counts ------------------------------------------------------------------------------------

@pytest.mark.parametrize("path, sign_up", [("/", f"{HOME}/auth/sign_up?lang=nl"),
                                           ("/en/", f"{HOME}/auth/sign_up?lang=en"),
                                           ("/c/bieb-oost", INVITE)])
def test_new_resident_reaches_sign_up_in_one_tap(thread_server, open_page, path, sign_up):
    page = phone(open_page, thread_server)
    page.goto(thread_server.url + path)
    resident = Resident(page)
    button = page.locator(".intro .actions a.button")
    assert in_first_screen(page, ".intro .actions a.button")
    assert resident.tap_and_leave(button) == sign_up
    assert resident.taps == 1


def test_new_resident_reaching_the_reply_choice_signs_up_with_the_campaign_invite(thread_server, open_page):
    page = phone(open_page, thread_server)
    page.goto(thread_server.url + "/c/bieb-oost")
    resident = Resident(page)
    post = page.locator("#post-101")
    post.scroll_into_view_if_needed()
    resident.tap(post.locator("summary", has_text="Reageer"))  # opens the choice in place, no new page
    assert page.url == thread_server.url + "/c/bieb-oost"
    assert resident.tap_and_leave(post.get_by_text("Nog geen account? Account aanmaken (2 min)")) == INVITE
    assert resident.taps == 2


def test_home_server_account_reaches_reply_box_of_a_remote_reply_in_one_tap(thread_server, open_page):
    # The reply choice of post 106, which lives on other.example: Jan's account is on our own server.
    page = phone(open_page, thread_server)
    page.goto(thread_server.url + "/reageer?post=106")
    resident = Resident(page)
    link = page.get_by_role("link", name="Log in en reageer", exact=True)
    assert link.bounding_box()["y"] + link.bounding_box()["height"] <= PHONE[1]  # on the first screen
    assert resident.tap_and_leave(link) == home_reply(REMOTE_REPLY_URI)
    assert resident.taps == 1


@pytest.mark.parametrize("javascript", [True, False])
def test_the_reply_choice_opens_under_any_post_and_one_tap_leads_home(thread_server, open_page, javascript):
    page = phone(open_page, thread_server, javascript=javascript)
    page.goto(thread_server.url + "/")
    resident = Resident(page)
    post = page.locator("#post-106")
    post.scroll_into_view_if_needed()
    options = post.locator(".reply-options")
    assert not options.is_visible()
    resident.tap(post.locator("summary", has_text="Reageer"))
    assert options.is_visible() and page.url == thread_server.url + "/"  # in place: nothing loaded
    assert options.locator("a").all_inner_texts() == [
        "Nog geen account? Account aanmaken (2 min)", "Account op social.test? Log in en reageer",
        "Account op een andere server? Vul je adres in"]
    assert resident.tap_and_leave(options.get_by_text("Log in en reageer")) == home_reply(REMOTE_REPLY_URI)
    assert resident.taps == 2  # from the page: open "Reageer", then the one tap to the post at home


def test_typing_a_home_server_address_leads_to_the_same_place(thread_server, open_page):
    page = phone(open_page, thread_server)
    page.goto(thread_server.url + "/reageer?post=106")
    page.fill("#adres", "jan@social.test")
    with page.expect_navigation():
        page.click("button[type=submit]")
    assert "Je hebt al een account bij ons" in page.inner_text("main")
    assert Resident(page).tap_and_leave(page.get_by_text("Open het bericht en reageer")) == home_reply(REMOTE_REPLY_URI)


def test_an_email_address_gets_a_clear_answer_at_once(thread_server, open_page):
    page = phone(open_page, thread_server)
    page.goto(thread_server.url + "/reageer?post=101")
    page.fill("#adres", "jan@gmail.com")
    with page.expect_navigation():
        page.click("button[type=submit]")
    assert "Dit lijkt een e-mailadres. Je Mastodon-adres ziet eruit als @naam@server.nl." in page.inner_text("main")
    assert page.evaluate("document.activeElement.id") == "adres"  # focus on the field, the message beside it
    assert page.outside_requests == []


def test_just_signed_up_resident_reaches_the_post_in_two_taps(thread_server, open_page):
    # Back from Mastodon's confirmation e-mail, on the campaign's page again.
    page = phone(open_page, thread_server)
    page.goto(thread_server.url + "/c/bieb-oost")
    resident = Resident(page)
    link = page.get_by_text("Account gemaakt? Open het gesprek op social.test").first
    assert in_first_screen(page, "text=Account gemaakt? Open het gesprek op social.test")
    assert resident.tap_and_leave(link) == home_reply(ROOT_URI)  # log in there, and the post opens
    assert resident.taps == 1
    # To a reply instead: its choice, then one tap.
    page.goto(thread_server.url + "/c/bieb-oost")
    resident = Resident(page)
    post = page.locator("#post-105")
    post.scroll_into_view_if_needed()
    resident.tap(post.locator("summary", has_text="Reageer"))
    assert resident.tap_and_leave(post.get_by_text("Account op social.test? Log in en reageer")) == home_reply(
        "https://social.test/users/ann/statuses/105")
    assert resident.taps == 2


def test_back_from_the_reply_page_returns_to_the_post_on_the_campaign_page(thread_server, open_page):
    page = phone(open_page, thread_server)
    page.goto(thread_server.url + "/reageer?post=105&c=bieb-oost")
    with page.expect_navigation():
        page.click("text=Terug naar het gesprek")
    assert page.url == thread_server.url + "/c/bieb-oost#post-105"
    box = page.locator("#post-105").bounding_box()
    assert -1 <= box["y"] < PHONE[1]


# --- the first screen, and after the last reply ------------------------------------------------

@pytest.mark.parametrize("server_name", ["thread_server", "demo_server"])
@pytest.mark.parametrize("lang", ["", "/en"])
def test_the_conversation_is_on_the_first_screen_or_one_jump_away(request, open_page, server_name, lang):
    server = request.getfixturevalue(server_name)
    page = phone(open_page, server)
    page.goto(server.url + lang + "/")
    root = page.locator("article.post-root").bounding_box()
    jump = page.locator(".jump a")
    assert root["y"] < PHONE[1] or in_first_screen(page, ".jump a")
    assert jump.inner_text() in ("Lees het gesprek ↓", "Read the conversation ↓")
    screenshot(page, f"first_screen_{server_name}{lang.replace('/', '_')}")
    Resident(page).tap(jump)
    for _ in range(20):  # the CSP forbids eval, so no wait_for_function: poll from here
        if page.evaluate("window.scrollY") > 0:
            break
        page.wait_for_timeout(50)
    root = page.locator("article.post-root").bounding_box()
    assert 0 <= root["y"] < PHONE[1] / 2  # the city's post now begins near the top of the screen


def test_after_the_last_reply_come_the_two_actions_again(thread_server, open_page):
    page = phone(open_page, thread_server)
    page.goto(thread_server.url + "/")
    after = page.evaluate("""() => {
        const replies = document.querySelectorAll('.replies > .reply');
        const again = document.querySelector('.actions-again');
        return Boolean(again && replies.length
            && (replies[replies.length - 1].compareDocumentPosition(again) & Node.DOCUMENT_POSITION_FOLLOWING));
    }""")
    assert after
    again = page.locator(".actions-again")
    again.scroll_into_view_if_needed()
    assert again.locator("a.button").inner_text() == "Account aanmaken (2 min)"
    assert again.get_by_text("Heb je al een Mastodon-account? Reageer direct").is_visible()
    assert Resident(page).tap_and_leave(again.locator("a.button")) == f"{HOME}/auth/sign_up?lang=nl"


# --- the city's mark, one red, nothing sideways, words whole ---------------------------------------

RESIDENT_PAGES = ["/", "/c/bieb-oost", "/reageer?post=106&c=bieb-oost", "/privacy", "/toegankelijkheid", "/hulp",
                  "/nergens", "/en/", "/en/c/bieb-oost", "/en/reageer?post=106", "/en/privacy",
                  "/en/toegankelijkheid", "/en/hulp"]


def test_no_resident_page_scrolls_sideways_and_the_mark_never_wraps_on_small_phones(thread_server, open_page):
    page = open_page(thread_server.url, width=320, height=740, allow_hosts=(HOME,))
    for path in RESIDENT_PAGES:
        page.goto(thread_server.url + path)
        page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
        for width in (320, 360):  # the same page, resized
            page.set_viewport_size({"width": width, "height": 740})
            assert page.evaluate("document.documentElement.scrollWidth") <= width, (path, width)
            mark = page.evaluate("""() => { const name = document.querySelector('.site-header .city-name');
                const range = document.createRange(); range.selectNodeContents(name);
                return {lines: new Set(Array.from(range.getClientRects()).map(r => Math.round(r.top))).size,
                        height: document.querySelector('.site-header .city-mark').getBoundingClientRect().height}; }""")
            assert mark == {"lines": 1, "height": 36}, (path, width)
        page.set_viewport_size({"width": 320, "height": 740})
        assert page.get_by_role("img", name="Gemeente Amsterdam").count() == 1, path
    assert page.outside_requests == []


def test_an_error_and_an_answer_on_the_reply_page_fit_a_small_phone(thread_server, open_page):
    page = open_page(thread_server.url, width=320, height=640, allow_hosts=(HOME,))
    for address in ("@naam", "jan@gmail.com"):
        page.goto(thread_server.url + "/reageer?post=101")
        page.fill("#adres", address)
        with page.expect_navigation():
            page.click("button[type=submit]")
        assert page.evaluate("document.documentElement.scrollWidth") <= 320


def test_the_city_s_red_is_only_in_its_mark(thread_server, open_page):
    page = phone(open_page, thread_server)
    for path in ("/", "/reageer?post=101", "/kiosk"):
        page.goto(thread_server.url + path)
        red = page.evaluate("""() => Array.from(document.querySelectorAll('body *')).filter(e => {
            const s = getComputedStyle(e);
            return [s.color, s.backgroundColor, s.borderTopColor, s.borderLeftColor, s.outlineColor, s.fill]
                .some(c => c === 'rgb(236, 0, 0)');
        }).map(e => e.closest('.crosses') ? 'crosses' : e.tagName + '.' + e.className)""")
        assert set(red) == {"crosses"}, (path, red)


def test_long_dutch_words_break_where_dutch_allows(thread_server, open_page):
    page = open_page(thread_server.url, width=320, height=740, allow_hosts=(HOME,))
    page.goto(thread_server.url + "/toegankelijkheid")
    assert page.evaluate("document.documentElement.lang") == "nl"
    assert page.evaluate("getComputedStyle(document.body).hyphens") == "auto"
    # "Toegankelijkheidsverklaring" is too wide for 320 px: it breaks between its two words, with a hyphen.
    lines = page.evaluate("""() => { const h1 = document.querySelector('h1'), text = h1.firstChild;
        const tops = []; for (let i = 0; i < text.length; i++) { const r = document.createRange();
            r.setStart(text, i); r.setEnd(text, i + 1);
            const rects = Array.from(r.getClientRects()).sort((a, b) => b.width - a.width);
            if (rects.length && rects[0].width && text.data[i] !== '\u00ad') tops.push([text.data[i], Math.round(rects[0].top)]); }
        const out = {}; tops.forEach(([c, t]) => { out[t] = (out[t] || '') + c; }); return Object.values(out); }""")
    assert lines == ["Toegankelijkheids", "verklaring"]
    for link in page.locator(".site-footer a").all():  # footer links stay whole
        assert len(link.evaluate("e => Array.from(e.getClientRects())")) == 1, link.inner_text()


def test_the_copy_field_shows_the_whole_link_at_a_readable_size(thread_server, open_page):
    page = phone(open_page, thread_server)
    page.goto(thread_server.url + "/reageer?post=101")
    field = page.evaluate("""() => { const f = document.getElementById('post-link'); const s = getComputedStyle(f);
        return {size: parseFloat(s.fontSize), cut: f.scrollHeight > f.clientHeight + 1 || f.scrollWidth > f.clientWidth,
                right: f.getBoundingClientRect().right}; }""")
    assert field["size"] >= 16 and not field["cut"] and field["right"] <= PHONE[0]


# --- the kiosk on tablets ----------------------------------------------------------------------

@pytest.mark.parametrize("path, encoded, link", [
    ("/kiosk", PUBLIC, "amsterdam.test/praatmee"),
    ("/en/kiosk", f"{PUBLIC}/en/", "amsterdam.test/praatmee/en"),
    ("/kiosk/bushalte-wibautstraat-oost", f"{PUBLIC}/c/bushalte-wibautstraat-oost", "amsterdam.test/praatmee"),
    ("/en/kiosk/bieb-oost", f"{PUBLIC}/en/c/bieb-oost", "amsterdam.test/praatmee/en"),
])
def test_the_kiosk_fits_every_tablet_with_its_short_link_on_one_line(thread_server, open_page, path, encoded, link):
    """Each tablet loads the kiosk at its own size; what every size got wrong is gathered first."""
    from PIL import Image

    from tests.support.qr import codes_in_image, texts
    page = open_page(thread_server.url, allow_hosts=(HOME,))
    problems = Findings()
    for width, height in TABLETS:
        page.set_viewport_size({"width": width, "height": height})
        page.goto(thread_server.url + path)
        with problems.at(f"{width}x{height}"):
            assert_kiosk_fits(page, width, height, link)
        screenshot(page, f"kiosk{path.replace('/', '_')}_{width}x{height}")
        scanned = texts(codes_in_image(Image.open(io.BytesIO(page.screenshot()))))
        if scanned != {encoded}:
            problems.append(f"{width}x{height}: the code on the screen reads {scanned}, not {encoded}")
    assert problems == [], "\n".join(problems)
    assert page.outside_requests == []


def test_the_kiosk_with_an_outcome_and_the_sms_line_still_shows_the_newest_replies(make_app, mastodon, live_server_for,
                                                                                  open_page):
    from datetime import date

    from praatmee_site import outcomes
    mastodon.standard()
    app = make_app(SMS_NUMBER="4444", WHATSAPP_NUMBER="+31 20 123 4567")  # the "Stuur PRAATMEE" line (issue 18)
    db = app.extensions["praatmee_db"]
    campaigns.create(db, "bieb-oost", home_url=HOME, name="OBA Oost", place="bibliotheek",
                     cta_nl="Stel je vraag aan de bieb", thread_url=f"{HOME}/@stad/100")
    outcomes.add(db, campaign="bieb-oost", home_url=HOME, today=date.today(),
                 actor="test", status="besloten", title_nl="Tien nieuwe bankjes", title_en="Ten new benches",
                 text_nl="Jullie vroegen om bankjes.", happened_on=date.today())
    server = live_server_for(app)
    page = open_page(server.url, allow_hosts=(HOME,))
    problems = Findings()
    for width, height in TABLETS:  # each tablet loads the kiosk at its own size
        page.set_viewport_size({"width": width, "height": height})
        page.goto(server.url + "/kiosk/bieb-oost")
        with problems.at(f"{width}x{height}"):
            assert "Tien nieuwe bankjes" in page.inner_text(".kiosk-outcome")
            assert "4444" in page.inner_text(".kiosk-call")
            assert_kiosk_fits(page, width, height, "amsterdam.test/praatmee")
        screenshot(page, f"kiosk_outcome_sms_{width}x{height}")
    assert problems == [], "\n".join(problems)


def assert_kiosk_fits(page, width: int, height: int, link: str) -> None:
    """Nothing scrolls, the short link is on one line and large, the replies' heading and first reply are whole."""
    assert page.evaluate("document.documentElement.scrollHeight") <= height
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    shown = page.evaluate("""() => { const p = document.querySelector('.kiosk-link'), r = document.createRange();
        r.selectNodeContents(p); const tops = new Set(Array.from(r.getClientRects()).map(b => Math.round(b.top)));
        return {text: p.textContent, lines: tops.size, fits: p.scrollWidth <= p.clientWidth,
                px: parseFloat(getComputedStyle(p).fontSize)}; }""")
    assert shown["text"] == link and shown["lines"] == 1 and shown["fits"], shown
    assert shown["px"] >= 0.035 * min(width, height)  # still large: read from two metres
    replies = page.evaluate("""() => { const box = e => e.getBoundingClientRect();
        const section = box(document.querySelector('.kiosk-replies'));
        const heading = box(document.querySelector('.kiosk-replies h2'));
        const first = box(document.querySelector('.kiosk-replies li'));
        return {heading: heading.bottom <= innerHeight && heading.bottom <= section.bottom,
                first: first.top >= section.top && first.bottom <= section.bottom + 0.5 && first.bottom <= innerHeight}; }""")
    assert replies == {"heading": True, "first": True}


# --- axe: every changed page, both languages ----------------------------------------------------

CHANGED_PAGES = ["/", "/c/bieb-oost", "/reageer?post=106&c=bieb-oost", "/privacy", "/toegankelijkheid", "/hulp"]


@pytest.mark.parametrize("lang", ["", "/en"], ids=["nl", "en"])
def test_axe_finds_nothing_on_the_changed_pages_with_every_choice_open(thread_server, open_page, lang):
    """Every changed page on a phone with every fold open, one after the other in one tab; every page's
    findings are gathered first, so one failing page does not hide the next."""
    page = phone(open_page, thread_server)
    problems = Findings()
    for path in CHANGED_PAGES:
        page.goto(thread_server.url + lang + path)
        page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
        problems.axe(page, lang + path)
        screenshot(page, f"path{(lang + path).replace('/', '_').replace('?', '_')}")
    assert problems == [], "\n".join(problems)
    assert page.outside_requests == []


@pytest.mark.parametrize("lang", ["", "/en"])
def test_axe_finds_nothing_on_the_kiosk_and_the_reply_answers(thread_server, open_page, lang):
    page = phone(open_page, thread_server)
    for address in ("jan@gmail.com", "jan@social.test"):
        page.goto(f"{thread_server.url}{lang}/reageer?post=101")
        page.fill("#adres", address)
        with page.expect_navigation():
            page.click("button[type=submit]")
        violations = run_axe(page)
        assert violations == [], f"{address}: {describe_violations(violations)}"
    kiosk = open_page(thread_server.url, allow_hosts=(HOME,))
    for width, height in TABLETS:  # each tablet loads the kiosk at its own size
        kiosk.set_viewport_size({"width": width, "height": height})
        kiosk.goto(f"{thread_server.url}{lang}/kiosk/bieb-oost")
        violations = run_axe(kiosk)
        assert violations == [], f"{width}x{height}: {describe_violations(violations)}"


@pytest.mark.parametrize("lang", ["", "/en"])
def test_axe_finds_nothing_on_the_staff_campaign_page_with_its_warning(thread_app, live_server_for, open_page, lang):
    from praatmee_site.staff.accounts import StaffDirectory
    StaffDirectory(thread_app.extensions["praatmee_db"]).add("medewerker@amsterdam.test", "een lang wachtwoord 123")
    server = live_server_for(thread_app)
    page = open_page(server.url, width=1280, height=800, allow_hosts=(HOME,))
    page.goto(f"{server.url}{lang}/beheer/login")
    page.fill("#email", "medewerker@amsterdam.test")
    page.fill("#password", "een lang wachtwoord 123")
    with page.expect_navigation():
        page.click("button[type=submit]")
    page.goto(f"{server.url}{lang}/beheer/campagnes/bushalte-wibautstraat-oost")
    assert page.locator(".warning").is_visible()
    assert page.locator("#bericht ~ figure.replying-to").is_visible()
    violations = run_axe(page)
    assert violations == [], describe_violations(violations)
