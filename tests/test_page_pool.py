"""The browser tests' tab pool (tests/conftest.py): a reused tab carries nothing of the test before it."""
from __future__ import annotations

import pytest

from tests.conftest import PagePool

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
