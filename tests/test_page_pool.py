"""The browser tests' tab pool (tests/conftest.py): a reused tab carries nothing of the test before it."""
from __future__ import annotations

import base64

import pytest

from tests.conftest import DISABLED_FEATURES, TINY_PNG, PagePool

pytestmark = pytest.mark.browser


def test_a_tab_comes_back_from_the_pool_without_storage_cookies_routes_or_offline(browser, make_app,
                                                                                   live_server_for):
    server = live_server_for(make_app(DEMO=True))
    pool = PagePool(browser)
    try:
        page = pool.take(width=360, height=740, javascript=True)
        routed = []
        page.route("**/*", lambda route: routed.append(route.request.url) or route.continue_())
        page.goto(server.url + "/privacy")
        page.evaluate("() => localStorage.setItem('praatmee-server', 'mastodon.test')")
        page.context.add_cookies([{"name": "session", "value": "staff", "url": server.url}])
        page.context.new_page()  # a second tab the test opened itself
        page.context.set_offline(True)
        pool.give_back(page, javascript=True, origins={server.url})

        again = pool.take(width=1280, height=800, javascript=True)
        assert again is page  # the same tab, so the next test starts warm
        assert again.url == "about:blank" and again.context.pages == [again]
        assert again.viewport_size == {"width": 1280, "height": 800}
        seen = len(routed)
        again.goto(server.url + "/privacy")  # the same origin: the next test's server on the same port
        assert len(routed) == seen  # the old route is gone
        assert again.evaluate("() => localStorage.length") == 0
        assert again.context.cookies() == []
        pool.give_back(again, javascript=True, origins={server.url})
        without_javascript = pool.take(width=360, height=740, javascript=False)
        assert without_javascript is not again  # JavaScript off: tabs of their own
        without_javascript.context.close()
    finally:
        pool.close()


def test_a_tab_the_test_closed_is_not_offered_again(browser, make_app, live_server_for):
    pool = PagePool(browser)
    try:
        page = pool.take(width=360, height=740, javascript=True)
        page.close()
        pool.give_back(page, javascript=True, origins=set())
        assert pool.free[True] == []
    finally:
        pool.close()


def pictures(environ, start_response):
    """A bare page (no CSP, so every image the test adds is asked for) and the one PNG it serves itself."""
    if environ["PATH_INFO"] == "/own.png":
        start_response("200 OK", [("Content-Type", "image/png")])
        return [TINY_PNG]
    start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
    return [b"<!doctype html><title>Pictures</title>"]


def test_a_tab_records_every_request_elsewhere_and_answers_images_of_allowed_hosts(live_server_for, open_page):
    server, other = live_server_for(pictures), live_server_for(pictures)
    page = open_page(server.url, allow_hosts=("https://social.test",))
    page.goto(server.url + "/")
    widths = page.evaluate("""sources => Promise.all(sources.map(src => new Promise(done => {
        const image = new Image();
        image.onload = () => done(image.naturalWidth);
        image.onerror = () => done(0);
        image.src = src;
    })))""", ["https://social.test/avatar.png", "https://elsewhere.test/tracker.png", f"{server.url}/own.png",
              f"{other.url}/own.png", "data:image/png;base64," + base64.b64encode(TINY_PNG).decode()])
    # The allowed host gets a 1x1 PNG; the test server and data: URLs pass untouched; everything else,
    # another server on this machine too, fails and is written down.
    assert widths == [1, 0, 1, 0, 1]
    assert page.outside_requests == ["https://elsewhere.test/tracker.png", f"{other.url}/own.png"]


def test_the_browser_keeps_every_feature_playwright_turns_off_and_ours(browser):
    """Chromium obeys only the last --disable-features: ours must still hold everything Playwright's
    own (the first) turns off, or HTTP navigations would be tried on HTTPS first, among others."""
    page = browser.new_page()
    try:
        page.goto("chrome://version")
        command_line = page.inner_text("#command_line").split()
    finally:
        page.close()
    given = [switch.split("=", 1)[1].split(",") for switch in command_line if switch.startswith("--disable-features=")]
    assert given[-1] == list(DISABLED_FEATURES)
    missing = set().union(*given[:-1]) - set(given[-1])
    assert not missing, f"add {sorted(missing)} to PLAYWRIGHT_DISABLED_FEATURES in tests/conftest.py"
