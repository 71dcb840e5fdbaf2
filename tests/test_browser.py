"""Proof in a real browser: Chromium through Playwright, axe-core for accessibility.

The demo app needs no network; the fixture-thread app gets its Mastodon answers from `responses`
inside this process, and image requests to the fake home server are answered by the page's router.
"""
from __future__ import annotations

import pytest

from tests.conftest import HOME, Findings, describe_violations, fixture_json, run_axe, screenshot
from tests.support.xss_corpus import hostile_context

pytestmark = pytest.mark.browser

SIZES = {"phone": (360, 740), "desktop": (1280, 800)}
PAGES = ["/", "/privacy", "/toegankelijkheid", "/en/", "/en/privacy", "/en/toegankelijkheid"]


@pytest.fixture
def demo_server(make_app, live_server_for):
    return live_server_for(make_app(DEMO=True))


@pytest.fixture
def thread_server(make_app, live_server_for, mastodon):
    mastodon.standard()
    return live_server_for(make_app())


def test_axe_finds_no_violations_and_nothing_scrolls_sideways_on_a_phone_or_a_desktop(demo_server, open_page):
    """Every page loaded as a phone would, then checked again at a desktop's size. The findings of every
    page and size are gathered first, so one failing page does not hide the next."""
    page = open_page(demo_server.url, width=360, height=740)
    problems = Findings()
    for path in PAGES:
        page.set_viewport_size({"width": SIZES["phone"][0], "height": SIZES["phone"][1]})
        page.goto(demo_server.url + path)
        for size, (width, height) in SIZES.items():
            page.set_viewport_size({"width": width, "height": height})
            if page.evaluate("document.documentElement.scrollWidth") > width:
                problems.append(f"{path} ({size}): scrolls sideways")
            problems.axe(page, f"{path} ({size})")
            screenshot(page, f"{path.strip('/').replace('/', '_') or 'index'}_{size}")
    assert problems == [], "\n".join(problems)
    assert page.outside_requests == []


@pytest.mark.parametrize("path", ["/", "/en/"])
def test_sign_up_button_is_the_first_stop_after_the_skip_link_and_big_enough(demo_server, open_page, path):
    page = open_page(demo_server.url, width=360, height=740)
    page.goto(demo_server.url + path)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    page.keyboard.press("Tab")
    focused = page.evaluate("({cls: document.activeElement.className, text: document.activeElement.textContent,"
                            " h: document.activeElement.getBoundingClientRect().height})")
    assert focused["cls"] == "button"
    assert focused["text"] in ("Account aanmaken (2 min)", "Create an account (2 min)")
    assert focused["h"] >= 44


def test_keyboard_reaches_every_action_with_a_visible_focus_ring(demo_server, open_page):
    page = open_page(demo_server.url, width=1280, height=800)
    page.goto(demo_server.url + "/")
    expected = page.evaluate("""Array.from(document.querySelectorAll('a[href], summary, button, input'))
        .filter(e => e.checkVisibility())
        .map(e => e.tagName + '|' + (e.getAttribute('href') || e.textContent.trim().slice(0, 40)))""")
    reached, rings = [], []
    for _ in range(len(expected) + 5):
        page.keyboard.press("Tab")
        info = page.evaluate("""(() => { const e = document.activeElement; const s = getComputedStyle(e);
            return {key: e.tagName + '|' + (e.getAttribute('href') || e.textContent.trim().slice(0, 40)),
                    ring: (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2) || s.boxShadow !== 'none'}; })()""")
        if info["key"].startswith("BODY|") or (reached and info["key"] == reached[0]):
            break
        reached.append(info["key"])
        rings.append(info["ring"])
    missing = [e for e in expected if e not in reached]
    assert missing == [], f"not reachable by keyboard: {missing}"
    assert all(rings), [k for k, r in zip(reached, rings, strict=True) if not r]


def test_page_is_complete_without_javascript(demo_server, open_page):
    page = open_page(demo_server.url, javascript=False)
    page.goto(demo_server.url + "/")
    text = page.inner_text("main")
    for expected in ("Account aanmaken (2 min)", "Heb je al een Mastodon-account? Reageer direct", "Zo werkt het",
                     "Mijn moeder (82)", "Huisregels"):
        assert expected in text
    assert page.locator("article.post").count() == 8


def test_language_switch_leads_to_the_english_page_and_back(demo_server, open_page):
    page = open_page(demo_server.url)
    page.goto(demo_server.url + "/")
    with page.expect_navigation():
        page.click("text=Read this page in English")
    assert page.url == demo_server.url + "/en/"
    assert page.evaluate("document.documentElement.lang") == "en"
    with page.expect_navigation():
        page.click("text=Privacy")
    assert page.url == demo_server.url + "/en/privacy"
    with page.expect_navigation():
        page.click("text=Lees deze pagina in het Nederlands")
    assert page.url == demo_server.url + "/privacy"


# --- the thread --------------------------------------------------------------------------------

def test_content_warning_opens_by_keyboard_and_alt_text_is_reachable(thread_server, open_page):
    page = open_page(thread_server.url, allow_hosts=(HOME,))
    page.goto(thread_server.url + "/")
    warning = page.locator("#post-106 details.cw")
    assert warning.evaluate("d => d.open") is False
    assert not page.locator("#post-106 .post-content").is_visible()
    warning.locator(":scope > summary").focus()
    page.keyboard.press("Enter")
    assert warning.evaluate("d => d.open") is True
    assert page.locator("#post-106 .post-content").is_visible()
    alt = page.locator("#post-100 details.alt")
    alt.locator(":scope > summary").focus()
    page.keyboard.press("Space")
    assert page.locator("#post-100 details.alt p").inner_text() == "Een rij fietsen voor het station"
    assert page.locator("#post-100 .media img").get_attribute("alt") == "Een rij fietsen voor het station"


@pytest.mark.parametrize("size", SIZES)
def test_axe_on_a_thread_with_warning_media_poll_and_right_to_left_reply(thread_server, open_page, size):
    width, height = SIZES[size]
    page = open_page(thread_server.url, width=width, height=height, allow_hosts=(HOME,))
    page.goto(thread_server.url + "/")
    page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    assert page.locator("[lang=ar]").count() == 1
    assert page.locator(".poll").count() == 1
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    violations = run_axe(page)
    screenshot(page, f"thread_{size}")
    assert violations == [], describe_violations(violations)
    assert page.outside_requests == []


def test_xss_corpus_is_inert_in_a_real_browser(make_app, live_server_for, mastodon, open_page):
    mastodon.standard()
    mastodon.mock.replace("GET", HOME + "/api/v1/statuses/100/context", json=hostile_context())
    server = live_server_for(make_app())
    page = open_page(server.url, allow_hosts=(HOME,), fresh=True)  # its dialog listener stays with the page
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(server.url + "/")
    page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    page.locator("article.post").first.hover()
    page.wait_for_timeout(200)
    assert page.locator("article.post").count() > 30
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert dialogs == []
    assert page.outside_requests == []


# --- "Reageer direct" ------------------------------------------------------------------------

@pytest.fixture
def reply_server(make_app, live_server_for, mastodon, fediverse):
    mastodon.standard()
    return live_server_for(make_app(TESTING_NET_GUARD=fediverse.guard()))


def test_typing_a_handle_lands_on_the_residents_own_server(reply_server, open_page):
    page = open_page(reply_server.url, allow_hosts=(HOME,))
    page.goto(reply_server.url + "/")
    with page.expect_navigation():
        page.click("text=Heb je al een Mastodon-account? Reageer direct")
    page.fill("#adres", "@naam@mastodon.test")
    # The browser follows our 303; the fake server's name resolves nowhere, so catch the request itself.
    with page.expect_request(lambda request: request.url.startswith("https://mastodon.test/")) as redirected:
        page.keyboard.press("Enter")
    assert redirected.value.url == ("https://mastodon.test/authorize_interaction?uri="
                                    "https%3A%2F%2Fsocial.test%2Fusers%2Fstad%2Fstatuses%2F100")
    # The address went in the body of a POST: no URL (access log, history) holds it.
    sent = redirected.value.redirected_from
    assert sent.method == "POST"
    assert sent.url == reply_server.url + "/reageer?post=100"
    assert sent.post_data == "adres=%40naam%40mastodon.test"


def test_reply_link_carrying_an_address_only_fills_in_the_form(reply_server, open_page):
    # A link in a stranger's reply, on our own page: a same-origin GET. It must not send anyone anywhere.
    page = open_page(reply_server.url, allow_hosts=(HOME,))
    page.goto(reply_server.url + "/")
    page.evaluate("""() => {
        const link = document.createElement("a");
        link.id = "in-a-reply";
        link.href = "/reageer?post=100&adres=naam%40mastodon.test";
        link.textContent = "klik";
        document.querySelector("main").append(link);
    }""")
    with page.expect_navigation():
        page.click("#in-a-reply")
    assert page.url == reply_server.url + "/reageer?post=100&adres=naam%40mastodon.test"
    assert page.input_value("#adres") == "naam@mastodon.test"
    assert page.outside_requests == []


def post_from_elsewhere(page, server_url: str, address: str, lang: str = "") -> None:
    """Another site's form that posts an address to us (here: a page with no origin of its own)."""
    page.goto("about:blank")
    page.set_content(f'''<form method="post" action="{server_url}{lang}/reageer?post=100">
        <input name="adres" value="{address}"><button>go</button></form>''')
    with page.expect_navigation():
        page.click("button")


def test_reply_form_on_another_site_gets_the_confirmation_page(reply_server, open_page):
    page = open_page(reply_server.url, allow_hosts=(HOME,))
    post_from_elsewhere(page, reply_server.url, "naam@mastodon.test")
    assert page.url == reply_server.url + "/reageer?post=100"
    assert "Ga naar mastodon.test" in page.inner_text("main")
    assert page.outside_requests == []  # nothing was followed on its own


def test_the_browser_remembers_the_server_on_this_device_only(reply_server, open_page):
    page = open_page(reply_server.url, allow_hosts=(HOME,))
    page.goto(reply_server.url + "/reageer?post=101")
    page.fill("#adres", "naam@mastodon.test")
    with page.expect_request(lambda request: request.url.startswith("https://mastodon.test/")):
        page.click("button[type=submit]")
    later = page.context.new_page()  # the same device, another day: perhaps another person
    later.goto(reply_server.url + "/reageer?post=107")
    assert later.input_value("#adres") == "mastodon.test"  # the server, never the account name
    assert later.evaluate("() => JSON.stringify(localStorage)") == '{"praatmee-server":"mastodon.test"}'
    assert page.context.cookies() == []


def test_the_browser_remembers_only_the_server_of_an_address_an_older_version_kept(reply_server, open_page):
    page = open_page(reply_server.url, allow_hosts=(HOME,))
    page.goto(reply_server.url + "/privacy")
    page.evaluate("() => localStorage.setItem('praatmee-server', '@vorige@mastodon.test')")
    page.goto(reply_server.url + "/reageer?post=101")
    assert page.input_value("#adres") == "mastodon.test"
    assert page.evaluate("() => localStorage.getItem('praatmee-server')") == "mastodon.test"


def test_a_prefilled_address_is_neither_followed_nor_remembered_until_the_resident_chooses_it(reply_server,
                                                                                            open_page):
    page = open_page(reply_server.url, allow_hosts=(HOME,))
    page.goto(reply_server.url + "/reageer?post=100&adres=naam%40mastodon.test")
    page.wait_for_timeout(300)  # nothing sends the form on its own
    assert page.url == reply_server.url + "/reageer?post=100&adres=naam%40mastodon.test"
    with page.expect_navigation():
        page.click("button[type=submit]")
    # Our own form, but the address came from a link: first the page that names where the button goes.
    assert page.url == reply_server.url + "/reageer?post=100"
    assert "Ga naar mastodon.test" in page.inner_text("main")
    assert page.evaluate("() => localStorage.length") == 0
    assert page.outside_requests == []
    with page.expect_request(lambda request: request.url.startswith("https://mastodon.test/")):
        page.click("text=Ga naar mastodon.test")
    later = page.context.new_page()  # now the resident chose it: kept for next time
    later.goto(reply_server.url + "/reageer?post=107")
    assert later.input_value("#adres") == "mastodon.test"


# Each answer of the reply page, with the address that leads to it and a word it must show.
REPLY_OUTCOMES = [("form", None, "#adres"), ("error", "@naam", "@naam"), ("no_way_in", "naam@gts.test", "gts.test"),
                  ("confirm", "naam@mastodon.test", "mastodon.test"),
                  ("prefilled", "naam@manton-alias.test", "micro.test")]


@pytest.mark.parametrize("lang", ["", "/en"], ids=["nl", "en"])
def test_axe_on_the_reply_pages(reply_server, open_page, lang):
    """Every answer of the reply page on a phone, one after the other in one tab, each as a first visit
    (nothing remembered). Four addresses are sent per language, under the limit of ten a minute."""
    page = open_page(reply_server.url, width=360, height=740, allow_hosts=(HOME,))
    problems = Findings()
    for outcome, address, shown in REPLY_OUTCOMES:
        if outcome == "confirm":
            post_from_elsewhere(page, reply_server.url, address, lang)
        elif outcome == "prefilled":  # a link filled in the address; the way in is on another host (micro.blog)
            page.goto(f"{reply_server.url}{lang}/reageer?post=101&adres={address}")
            with page.expect_navigation():
                page.click("button[type=submit]")
        else:
            page.goto(f"{reply_server.url}{lang}/reageer?post=101")
            if address:
                page.fill("#adres", address)
                with page.expect_navigation():
                    page.click("button[type=submit]")
        if shown.startswith("#"):
            seen = page.locator(shown).count() == 1
        else:
            seen = shown in page.inner_text("main") or shown == page.input_value("#adres")
        if not seen:
            problems.append(f"{outcome}: {shown!r} is not on the page: {page.inner_text('main')[:200]!r}")
        if page.evaluate("document.documentElement.scrollWidth") > 360:
            problems.append(f"{outcome}: scrolls sideways")
        problems.axe(page, outcome)
        page.evaluate("() => localStorage.clear()")  # the next answer is a first visit again
    assert problems == [], "\n".join(problems)
    assert page.outside_requests == []


def test_reply_form_works_without_javascript_and_shows_the_error(reply_server, open_page):
    page = open_page(reply_server.url, javascript=False)
    page.goto(reply_server.url + "/reageer?post=101")
    page.fill("#adres", "@naam")
    with page.expect_navigation():
        page.click("button[type=submit]")
    assert "Zet je server erbij" in page.inner_text("main")
    assert page.input_value("#adres") == "@naam"
    assert page.url == reply_server.url + "/reageer?post=101"


# --- helpers: guide and kiosk ------------------------------------------------------------------

def test_axe_on_the_helper_guide_and_the_kiosk(demo_server, open_page):
    """The guide and the kiosk in both languages, each loaded at a desktop's and at a tablet's size;
    every page's findings are gathered first."""
    problems = Findings()
    for width, height in ((1280, 800), (768, 1024)):
        page = open_page(demo_server.url, width=width, height=height)
        for path in ("/hulp", "/en/hulp", "/kiosk", "/en/kiosk"):
            page.goto(demo_server.url + path)
            problems.axe(page, f"{path} at {width}x{height}")
        assert page.outside_requests == []
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("width, height", [(1280, 800), (768, 1024)])
def test_kiosk_fits_the_screen_and_its_qr_scans_from_a_screenshot(demo_server, open_page, width, height):
    import io

    import zxingcpp
    from PIL import Image

    page = open_page(demo_server.url, width=width, height=height)
    page.goto(demo_server.url + "/kiosk")
    assert page.evaluate("document.documentElement.scrollHeight") <= height
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    qr = page.locator(".kiosk-qr svg").bounding_box()
    assert qr["width"] >= min(width, height) / 2
    assert qr["y"] + qr["height"] <= height
    screenshot(page, f"kiosk_{width}x{height}")
    image = Image.open(io.BytesIO(page.screenshot()))
    results = zxingcpp.read_barcodes(image)
    assert [r.text for r in results] == ["https://amsterdam.test/praatmee"]  # PRAATMEE_PUBLIC_URL


def test_kiosk_refreshes_and_keeps_its_content_when_the_network_drops(make_app, live_server_for, mastodon,
                                                                     open_page):
    mastodon.standard()
    server = live_server_for(make_app(KIOSK_REFRESH=1, CACHE_TTL=0, KIOSK_REPLIES="all"))
    page = open_page(server.url, width=1280, height=800, allow_hosts=(HOME,))
    page.goto(server.url + "/kiosk")
    assert "Een video" in page.inner_text(".kiosk-replies")
    context = fixture_json("thread_context.json")
    context["descendants"].append({**context["descendants"][0], "id": "120", "content": "<p>Vers van de pers</p>",
                                   "created_at": "2026-11-03T00:00:00.000Z", "in_reply_to_id": "100"})
    mastodon.mock.replace("GET", HOME + "/api/v1/statuses/100/context", json=context)
    for _ in range(40):  # the page's CSP forbids eval, so poll from here instead of wait_for_function
        if "Vers van de pers" in page.inner_text(".kiosk-replies"):
            break
        page.wait_for_timeout(200)
    assert "Vers van de pers" in page.inner_text(".kiosk-replies")
    page.unroute("**/*")
    page.route("**/*", lambda route: route.abort("internetdisconnected"))
    page.wait_for_timeout(2500)  # two refresh attempts fail
    assert page.url == server.url + "/kiosk"
    assert "Vers van de pers" in page.inner_text(".kiosk-replies")
    assert page.locator(".kiosk-qr svg").count() == 1


# --- staff ----------------------------------------------------------------------------------------

@pytest.fixture
def staff_server(make_app, live_server_for):
    from praatmee_site.staff.accounts import StaffDirectory
    from praatmee_site.web.services import current_db
    app = make_app(DEMO=True)
    with app.app_context():
        StaffDirectory(current_db()).add("medewerker@amsterdam.test", "een lang wachtwoord 123")
    return live_server_for(app)


def test_staff_log_in_create_a_campaign_download_the_poster_and_scan_it(staff_server, open_page, tmp_path):
    from tests.support.qr import codes_in_pdf, texts
    page = open_page(staff_server.url, width=1280, height=800)
    page.goto(staff_server.url + "/beheer/")
    assert page.url.startswith(staff_server.url + "/beheer/login")
    assert run_axe(page) == []
    page.fill("#email", "medewerker@amsterdam.test")
    page.fill("#password", "een lang wachtwoord 123")
    with page.expect_navigation():
        page.click("button[type=submit]")
    with page.expect_navigation():
        page.click("text=Nieuwe campagne")
    page.fill("#slug", "bieb-oost")
    page.fill("#name", "OBA Oost")
    page.select_option("#place", "bibliotheek")
    page.fill("#cta_nl", "Stel je vraag aan het Innovatieteam")
    with page.expect_navigation():
        page.click("text=Maak de campagne")
    assert page.url == staff_server.url + "/beheer/campagnes/bieb-oost"
    violations = run_axe(page)
    screenshot(page, "staff_campaign")
    assert violations == [], describe_violations(violations)
    with page.expect_download() as download:
        page.click("#drukwerk-a4 button")
    path = tmp_path / "poster.pdf"
    download.value.save_as(path)
    assert texts(codes_in_pdf(path.read_bytes())) == {"https://amsterdam.test/praatmee/c/bieb-oost"}
    page.goto(staff_server.url + "/c/bieb-oost")  # one scan, so the campaign page has a chart
    page.goto(staff_server.url + "/beheer/kpi")
    with page.expect_navigation():
        page.click("text=Nu bijwerken")
    assert "De cijfers zijn bijgewerkt." in page.inner_text("main")
    assert page.locator(".chart svg").count() == 4  # replies, interaction, new accounts, keyword messages
    for path in ("/beheer/", "/beheer/kpi", "/beheer/campagnes/bieb-oost", "/beheer/campagnes/nieuw",
                 "/beheer/campagnes/bieb-oost/bewerken", "/beheer/logboek"):
        page.goto(staff_server.url + path)
        assert page.evaluate("document.documentElement.scrollWidth") <= 1280
        violations = run_axe(page)
        assert violations == [], f"{path}: {describe_violations(violations)}"
    screenshot(page, "staff_kpi")
    assert page.outside_requests == []


def test_helper_finds_the_library_kiosk_on_the_guide_and_a_camera_reads_it(make_app, live_server_for, open_page):
    import io

    from PIL import Image

    from tests.support.qr import codes_in_image, texts
    app = make_app(DEMO=True)
    created = app.test_cli_runner().invoke(args=["campaign", "create", "bieb-oost", "--name", "OBA Oost",
                                                 "--place", "bibliotheek", "--cta", "Stel je vraag aan de bieb"])
    assert created.exit_code == 0, created.output
    server = live_server_for(app)
    page = open_page(server.url, width=768, height=1024)
    page.goto(server.url + "/hulp")
    with page.expect_navigation():  # and its stylesheet: an unstyled page is taller
        page.click("a[href='/kiosk/bieb-oost']")
    assert page.url == server.url + "/kiosk/bieb-oost"
    screenshot(page, "kiosk_campaign_768x1024")
    assert page.evaluate("document.documentElement.scrollHeight") <= 1024
    camera = Image.open(io.BytesIO(page.screenshot())).convert("L").resize((384, 512))  # a modest phone camera
    assert texts(codes_in_image(camera)) == {"https://amsterdam.test/praatmee/c/bieb-oost"}
    assert page.outside_requests == []
