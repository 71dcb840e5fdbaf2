"""The entry page with the city's thread: what residents see, in every state the home server can be in."""
from __future__ import annotations

import re

import pytest
import requests

from tests.conftest import HOME, fixture_json


def article(page: str, status_id: str) -> str:
    start = page.index(f'id="post-{status_id}"')
    return page[start:page.index("</article>", start)]


def test_pinned_thread_shows_with_every_public_reply(client, mastodon):
    mastodon.standard()
    page = client.get("/").text
    for status_id in ("100", "101", "102", "103", "104", "105", "106", "107", "109"):
        assert f'id="post-{status_id}"' in page
    assert 'id="post-108"' not in page and "Alleen voor volgers" not in page
    assert 'id="post-110"' not in page and "Direct bericht" not in page
    assert "8 reacties" in page


def test_post_shows_name_with_emoji_handle_time_edit_link_and_counts(client, mastodon):
    mastodon.standard()
    root = article(client.get("/").text, "100")
    assert 'alt=":amsterdam:"' in root and "Gemeente" in root
    assert "@stad@social.test" in root
    assert '<time datetime="2026-11-01T09:00:00+00:00">1 november 2026, 10:00</time>' in root
    assert "bewerkt" in root
    assert 'href="https://social.test/@stad/100"' in root
    assert "3 keer gedeeld" in root and "12 favorieten" in root
    assert "reacties" not in root  # one count of replies: the heading above them (Mastodon says 9, 8 are shown)


def test_english_dates_and_labels(client, mastodon):
    mastodon.standard()
    root = article(client.get("/en/").text, "100")
    assert "1 November 2026, 10:00" in root
    assert "edited" in root and "12 favourites" in root


def test_every_post_carries_its_language_and_dir_auto(client, mastodon):
    mastodon.standard()
    page = client.get("/").text
    assert 'class="post-body" lang="ar" dir="auto"' in article(page, "107")
    assert 'class="post-body" lang="en" dir="auto"' in article(page, "106")
    assert page.count('dir="auto"') >= 9


def test_content_warning_is_a_closed_details(client, mastodon):
    mastodon.standard()
    reply = article(client.get("/").text, "106")
    assert re.search(r'<details class="cw">\s*<summary>', reply)
    assert "<details class=\"cw\" open" not in reply
    assert "Over een ongeluk" in reply
    assert reply.index("<summary>") < reply.index("Spoiler inside")


def test_sensitive_media_without_warning_sits_behind_a_details(client, mastodon):
    mastodon.standard()
    reply = article(client.get("/").text, "109")
    assert '<details class="sensitive">' in reply
    assert reply.index('<details class="sensitive">') < reply.index("Bekijk de video")


def test_images_have_alt_text_readable_on_demand_and_lazy_loading(client, mastodon):
    mastodon.standard()
    page = client.get("/").text
    root = article(page, "100")
    assert 'alt="Een rij fietsen voor het station" loading="lazy"' in root
    assert "<summary>Beschrijving van de afbeelding</summary><p>Een rij fietsen voor het station</p>" in root
    missing = article(page, "101")
    assert 'alt="Afbeelding zonder beschrijving"' in missing
    assert "geen beschrijving" in missing


def test_media_from_other_hosts_is_a_link_not_an_image(client, mastodon):
    mastodon.standard()
    reply = article(client.get("/").text, "109")
    assert "<img" not in reply
    assert 'href="https://cdn.other.example/v.mp4">Bekijk de video</a>: Een filmpje van de stalling' in reply


def test_poll_is_read_only_with_percentages_and_ended(client, mastodon):
    mastodon.standard()
    root = article(client.get("/").text, "100")
    assert "<form" not in root and "<input" not in root
    assert re.search(r'Goed</span> <span class="poll-percent">75%', root)
    assert "25%" in root
    assert "40 mensen stemden" in root
    assert "de peiling is afgelopen" in root


def test_link_card_is_plain_text_never_its_html(client, mastodon):
    mastodon.standard()
    reply = article(client.get("/").text, "107")
    assert '<a href="https://news.example/fiets">Fietsen in de stad</a>' in reply
    assert "Een artikel over fietsen." in reply
    assert "iframe" not in reply and "evil.example" not in reply


def test_long_links_are_shortened_as_mastodon_does(client, mastodon):
    mastodon.standard()
    root = article(client.get("/").text, "100")
    assert '<span class="ellipsis">example.org/a/very/long/pa</span>' in root
    assert '<span class="invisible">th/to/the/plan</span>' in root


def test_capped_thread_says_so_and_links_to_mastodon(client, mastodon):
    mastodon.standard()
    mastodon.mock.replace("GET", HOME + "/api/v1/statuses/100",
                          json={**fixture_json("thread_status.json"), "replies_count": 75})
    page = client.get("/").text
    assert "Niet alle reacties staan hier." in page
    assert '<a href="https://social.test/@stad/100">Bekijk alle reacties op Mastodon</a>' in page


def test_complete_thread_does_not_claim_to_be_capped(client, mastodon):
    mastodon.standard()
    assert "Niet alle reacties staan hier." not in client.get("/").text


def test_with_a_token_the_context_is_fetched_as_that_reader(make_app, mastodon):
    mastodon.standard()
    client = make_app(MASTODON_TOKEN="read-only-token").test_client()
    client.get("/")
    context_call = next(c for c in mastodon.mock.calls if c.request.url.endswith("/context"))
    assert context_call.request.headers["Authorization"] == "Bearer read-only-token"


# --- registration state ----------------------------------------------------------------------

def test_open_registration_shows_the_button_and_minimum_age(client, mastodon):
    mastodon.standard("instance_open.json")
    page = client.get("/").text
    assert '<a class="button" href="https://social.test/auth/sign_up?lang=nl">Account aanmaken (2 min)</a>' in page
    assert "Vanaf 16 jaar." in page
    assert "keurt nieuwe accounts goed" not in page  # the approval line; the house rules name moderators


def test_approval_required_says_a_moderator_approves(client, mastodon):
    mastodon.standard("instance_approval.json")
    page = client.get("/").text
    assert "Account aanmaken (2 min)" in page
    assert "Een moderator keurt nieuwe accounts goed." in page


def test_closed_registration_has_no_sign_up_button_but_the_reply_path(client, mastodon):
    mastodon.standard("instance_closed.json")
    page = client.get("/").text
    assert "Account aanmaken (2 min)" not in page
    assert "auth/sign_up" not in page
    assert "Je kunt op dit moment geen nieuw account maken op social.test." in page
    assert "Reageer vanaf je eigen account" in page


def test_registrations_url_replaces_the_sign_up_path(client, mastodon):
    mastodon.standard()
    instance = fixture_json("instance_open.json")
    instance["registrations"]["url"] = "https://join.social.test/start"
    mastodon.mock.replace("GET", HOME + "/api/v2/instance", json=instance)
    assert 'class="button" href="https://join.social.test/start"' in client.get("/").text


def test_server_rules_appear_under_house_rules(client, mastodon):
    mastodon.standard()
    page = client.get("/").text
    rules = page[page.index("Huisregels"):]
    assert "<li>Wees aardig.</li>" in rules and "<li>Geen spam.</li>" in rules


# --- faults: never a 500 ---------------------------------------------------------------------

FAULTS = {
    "timeout": dict(body=requests.ReadTimeout("slow")),
    "refused": dict(body=requests.ConnectionError("refused")),
    "server_error": dict(status=500, body="boom"),
    "rate_limited": dict(status=429, json={"error": "Too many requests"}, headers={"Retry-After": "30"}),
    "html": dict(status=200, body="<html>Onderhoud</html>", content_type="text/html"),
    "garbage_json": dict(status=200, json={"unexpected": "shape"}),
}


@pytest.mark.parametrize("fault", FAULTS, ids=list(FAULTS))
def test_cold_page_renders_calmly_when_mastodon_fails(client, mastodon, fault):
    for path in ("/api/v1/accounts/lookup", "/api/v1/accounts/1/statuses", "/api/v1/statuses/100",
                 "/api/v1/statuses/100/context", "/api/v2/instance"):
        mastodon.add(path, **FAULTS[fault])
    page = client.get("/")
    assert page.status_code == 200
    assert "Het gesprek is even niet te laden." in page.text
    assert 'href="https://social.test/@stad">Lees het gesprek op Mastodon</a>' in page.text
    assert "Account aanmaken (2 min)" in page.text  # the way in stays


def test_cold_page_with_a_hanging_server_waits_for_one_timeout_only(client, mastodon):
    for path in ("/api/v1/accounts/lookup", "/api/v2/instance", "/api/v1/instance"):
        mastodon.add(path, body=requests.ReadTimeout("hang"))
    assert client.get("/").status_code == 200
    assert len(mastodon.mock.calls) == 1  # the breaker: one timeout budget per page, not one per call


def test_deleted_post_gives_a_calm_not_found(client, mastodon):
    mastodon.standard()
    mastodon.mock.replace("GET", HOME + "/api/v1/statuses/100", json={"error": "Record not found"}, status=404)
    page = client.get("/")
    assert page.status_code == 200
    assert "Dit gesprek is er niet meer." in page.text


def test_stale_thread_is_served_with_the_time_it_was_fetched(make_app, mastodon):
    mastodon.standard()
    app = make_app(CACHE_TTL=0)
    client = app.test_client()
    assert "Bijgewerkt om" not in client.get("/").text
    for path in ("/api/v1/accounts/1/statuses", "/api/v1/statuses/100", "/api/v1/statuses/100/context"):
        mastodon.mock.replace("GET", HOME + path, status=503, body="down")
    page = client.get("/").text
    assert re.search(r"Bijgewerkt om \d\d:\d\d\.", page)
    assert 'id="post-105"' in page


def test_last_good_thread_survives_a_restart_during_an_outage(make_app, mastodon):
    mastodon.standard()
    make_app(CACHE_TTL=0).test_client().get("/")
    for path in ("/api/v1/accounts/lookup", "/api/v1/accounts/1/statuses", "/api/v1/statuses/100",
                 "/api/v1/statuses/100/context", "/api/v2/instance"):
        mastodon.mock.replace("GET", HOME + path, body=requests.ConnectionError("down"))
    restarted = make_app(CACHE_TTL=0)  # a new process on the same database
    page = restarted.test_client().get("/").text
    assert 'id="post-100"' in page and 'id="post-105"' in page
    assert "Bijgewerkt om" in page


def test_demo_mode_runs_the_same_code_path_offline(make_app):
    page = make_app(DEMO=True).test_client().get("/").text
    assert "Voorbeeld" in page
    assert 'lang="ar" dir="auto"' in page
    assert '<details class="cw">' in page
    assert "de peiling is open" in page or "open tot" in page


def test_a_429_seen_by_one_worker_holds_back_every_worker(make_app, mastodon):
    mastodon.add("/api/v1/accounts/lookup", status=429, json_body={"error": "Too many requests"},
                 headers={"Retry-After": "120"})
    first_worker = make_app().test_client()
    second_worker = make_app().test_client()  # another process on the same database
    assert first_worker.get("/").status_code == 200
    calls = len(mastodon.mock.calls)
    page = second_worker.get("/")
    assert page.status_code == 200
    assert "Het gesprek is even niet te laden." in page.text
    assert len(mastodon.mock.calls) == calls  # the second worker did not ask at all


def test_the_thread_is_shaped_once_per_version_not_per_visitor(client, mastodon, monkeypatch):
    import praatmee_site.conversation.home_server as home_module
    mastodon.standard()
    shaped = []
    real = home_module.shape_thread
    monkeypatch.setattr(home_module, "shape_thread", lambda *a, **k: shaped.append(1) or real(*a, **k))
    for _ in range(5):
        assert 'id="post-105"' in client.get("/").text
    assert len(shaped) == 1


@pytest.mark.parametrize("path, body", [
    ("/api/v1/statuses/100", {**fixture_json("thread_status.json"), "poll": {"options": 5, "votes_count": 1}}),
    ("/api/v2/instance", {**fixture_json("instance_open.json"), "rules": 7}),
    ("/api/v1/statuses/100", {**fixture_json("thread_status.json"), "account": ["not", "an", "object"]}),
    ("/api/v1/statuses/100/context", {"descendants": "many"}),
    ("/api/v1/accounts/1/statuses", {"not": "a list"}),
])
def test_unexpected_json_shapes_never_give_a_500(client, mastodon, path, body):
    mastodon.standard()
    mastodon.mock.replace("GET", HOME + path, json=body)
    page = client.get("/")
    assert page.status_code == 200
    # The page is still the page: the one action, and either the conversation or the calm message.
    assert "Account aanmaken (2 min)" in page.text
    assert "Traceback" not in page.text and "Internal Server Error" not in page.text


def test_copies_of_threads_no_longer_shown_are_forgotten_after_a_week(make_app, mastodon):
    import time

    from praatmee_site.db import DatabaseLastGood
    from praatmee_site.web.services import current_db
    mastodon.standard()
    app = make_app()
    app.test_client().get("/")
    with app.app_context():
        store = DatabaseLastGood(current_db())
        store.save("https://social.test/api/v1/statuses/1/context", {"descendants": ["old"]}, time.time() - 8 * 86400)
        kept = store.load("https://social.test/api/v1/statuses/100/context")
    assert kept is not None
    restarted = make_app()
    with restarted.app_context():
        store = DatabaseLastGood(current_db())
        assert store.load("https://social.test/api/v1/statuses/1/context") is None
        assert store.load("https://social.test/api/v1/statuses/100/context") is not None
