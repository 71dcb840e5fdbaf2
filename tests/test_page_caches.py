"""Pages a worker keeps in memory: what visitors choose (unknown slugs, headers) never pushes a real page out.

`benchmarks/unknown_slugs.py` measures the same attack by hand: 10,000 unknown slugs and a worker's RSS.
"""
from __future__ import annotations

from contextlib import contextmanager

import pytest
from flask import request_started, template_rendered

from praatmee_site import campaigns
from praatmee_site.web import services
from praatmee_site.web.http import ENTRY_PAGES, KeptPages
from praatmee_site.web.pages import kept_entry_pages
from tests.conftest import HOME


@contextmanager
def renders(app):
    """Every render of the entry page, as (path, campaign slug): a page served from a copy is not one."""
    seen: list[tuple[str, str | None]] = []

    def record(sender, template, context, **extra):
        if template.name == "index.html":
            from flask import request
            seen.append((request.path, context.get("campaign_slug")))
    template_rendered.connect(record, app)
    try:
        yield seen
    finally:
        template_rendered.disconnect(record, app)


def real_pages(client):
    for path in ("/c/bieb-oost", "/en/c/bieb-oost", "/", "/en/"):
        assert client.get(path).status_code == 200


@pytest.fixture
def app_with_campaign(make_app, mastodon):
    mastodon.standard()
    app = make_app()
    campaigns.create(app.extensions[services.DATABASE], "bieb-oost", home_url=HOME, name="OBA Oost",
                     place="bibliotheek", cta_nl="Stel je vraag aan de bieb")
    return app


def test_unknown_campaign_slugs_never_push_the_real_pages_out(app_with_campaign):
    client = app_with_campaign.test_client()
    with renders(app_with_campaign) as seen:
        real_pages(client)
        assert len(seen) == 4
        for number in range(600):  # more than any bound the page store had
            assert client.get(f"/c/onbekend-{number}").status_code == 404
        real_pages(client)
    real = [render for render in seen if not render[0].startswith("/c/onbekend")]
    assert len(real) == 4  # every real page was still kept: the same hit rate as before the attack
    unknown = [render for render in seen if render[0].startswith("/c/onbekend")]
    assert len(unknown) == 1  # one page for every unknown slug, rendered once


def test_the_page_for_unknown_slugs_is_the_same_for_all_and_its_language_link_leads_home(client, mastodon):
    mastodon.standard()
    first, second = client.get("/c/onbekend-a"), client.get("/c/onbekend-b")
    assert first.status_code == second.status_code == 404
    assert first.text == second.text
    assert "onbekend" not in first.text
    assert 'href="/en/" lang="en"' in first.text  # the English entry page: this campaign does not exist
    english = client.get("/en/c/onbekend-c")
    assert english.status_code == 404
    assert 'href="/" lang="nl"' in english.text


def test_a_known_campaign_keeps_its_own_language_link(app_with_campaign):
    client = app_with_campaign.test_client()
    assert 'href="/en/c/bieb-oost" lang="en"' in client.get("/c/bieb-oost").text
    assert 'href="/c/bieb-oost" lang="nl"' in client.get("/en/c/bieb-oost").text


def small_pools(app, *, real: int, elsewhere: int) -> KeptPages:
    """The app's kept entry pages with smaller pools (same mounts, same code): a test that has to go
    past a bound then needs dozens of renders, not the hundreds the site's own bounds would take."""
    app.extensions[ENTRY_PAGES] = KeptPages(app.extensions[ENTRY_PAGES].mounts, real=real, elsewhere=elsewhere)
    return app.extensions[ENTRY_PAGES]


def test_mounts_a_visitor_makes_up_never_push_the_real_pages_out(app_with_campaign):
    # Only a visitor's own X-Forwarded-Prefix (PRAATMEE_PROXIES trusted too far) can ask for another mount.
    pages = small_pools(app_with_campaign, real=8, elsewhere=4)  # 5 real pages below: they fit
    client = app_with_campaign.test_client()
    mounted = {"X-Forwarded-Prefix": "/praatmee"}  # the mount PRAATMEE_PUBLIC_URL names
    with renders(app_with_campaign) as seen:
        real_pages(client)
        assert client.get("/c/bieb-oost", headers=mounted).status_code == 200
        made_up = 3 * pages.real.size  # had they shared the real pool, they would have pushed it empty thrice
        for number in range(made_up):
            headers = {"X-Forwarded-Prefix": f"/x{number}"}
            assert client.get("/c/bieb-oost", headers=headers).status_code == 200
            assert client.get("/", headers=headers).status_code == 200
        assert len(seen) == 5 + 2 * made_up  # every made-up mount was rendered: none was mistaken for a real one
        before = len(seen)
        real_pages(client)
        assert client.get("/c/bieb-oost", headers=mounted).status_code == 200
    assert len(seen) == before  # nothing rendered again
    assert len(pages.real) == 5 and len(pages.elsewhere) == pages.elsewhere.size
    last = f"/x{made_up - 1}"
    assert f'href="{last}/privacy"' in client.get("/", headers={"X-Forwarded-Prefix": last}).text


def test_the_kept_pages_stay_within_their_bounds(app_with_campaign):
    # The site's own bounds: unknown slugs add one page in all, made-up mounts fill only their own pool.
    client = app_with_campaign.test_client()
    with app_with_campaign.app_context():
        pages = kept_entry_pages()
    for number in range(3 * pages.elsewhere.size):
        client.get(f"/c/onbekend-{number}")
        client.get("/", headers={"X-Forwarded-Prefix": f"/x{number}"})
    assert len(pages.real) <= 2  # the unknown-slug page (nl) and nothing else yet
    assert len(pages.elsewhere) == pages.elsewhere.size


def page_cache(app):
    from praatmee_site.web.http import PageCache
    layer = app.wsgi_app
    while not isinstance(layer, PageCache):
        layer = layer.app
    return layer


class Clock:
    now = 1000.0

    def __call__(self):
        return self.now


def test_visitors_headers_never_push_the_entry_page_copy_out(make_app, mastodon):
    mastodon.standard()
    app = make_app(PAGE_CACHE=1)
    page_cache(app).clock = Clock()
    reached: list[str] = []
    request_started.connect(lambda sender, **extra: reached.append("app"), app, weak=False)
    client = app.test_client()
    assert client.get("/").status_code == 200
    assert reached == ["app"]
    cache = page_cache(app)
    for number in range(3 * (cache.copies.real.size + cache.copies.elsewhere.size)):
        # None of these change the page, so none may make a copy of its own.
        client.get("/", headers={"Host": f"h{number}.example", "X-Forwarded-Host": f"f{number}.example",
                                 "X-Forwarded-Proto": f"p{number}", "X-Forwarded-For": f"10.0.0.{number % 250}"})
    reached.clear()
    assert client.get("/").status_code == 200
    assert reached == []  # still answered from the copy
    assert len(page_cache(app)) <= 2


def test_made_up_mounts_never_push_the_entry_page_copy_out(make_app, mastodon):
    mastodon.standard()
    app = make_app(PAGE_CACHE=1)
    cache = page_cache(app)
    cache.clock = Clock()
    reached: list[str] = []
    request_started.connect(lambda sender, **extra: reached.append("app"), app, weak=False)
    client = app.test_client()
    client.get("/")
    client.get("/", headers={"X-Forwarded-Prefix": "/praatmee"})
    for number in range(3 * (cache.copies.real.size + cache.copies.elsewhere.size)):  # past both bounds
        client.get("/", headers={"X-Forwarded-Prefix": f"/x{number}"})
    reached.clear()
    assert 'href="/privacy"' in client.get("/").text
    assert 'href="/praatmee/privacy"' in client.get("/", headers={"X-Forwarded-Prefix": "/praatmee"}).text
    assert reached == []
    assert len(cache) <= cache.copies.real.size + cache.copies.elsewhere.size
