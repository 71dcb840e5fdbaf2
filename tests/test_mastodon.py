"""The home-server client: parsing real responses, choosing the thread, timeouts, faults and the cache."""
from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
import responses

from praatmee_site.mastodon import (
    BadResponse,
    ClientSettings,
    MastodonClient,
    NotFound,
    RateLimited,
    Timeout,
    Unavailable,
    build_thread,
    parse_account,
    parse_context,
    parse_instance,
    parse_status,
    parse_statuses,
    status_id_from_reference,
)
from praatmee_site.mastodon.cache import UpstreamCache
from tests.conftest import HOME, fixture_json

RECORDED = Path(__file__).parent / "fixtures" / "recorded"


def recorded(name):
    return json.loads((RECORDED / name).read_text(encoding="utf-8"))


class Clock:
    def __init__(self, now=1_800_000_000.0):
        self.now = now

    def __call__(self):
        return self.now


def make_client(clock=None, **settings):
    clock = clock or Clock()
    config = dict(base_url=HOME, account="stad", user_agent="praatmee/test (+https://amsterdam.test/praatmee)")
    config.update(settings)
    return MastodonClient(ClientSettings(**config), cache=UpstreamCache(clock=clock, refresh_in_background=False),
                          clock=clock)


# --- parsing real recorded responses ------------------------------------------------------------

def test_parses_a_content_warning_with_emoji_and_edit():
    status = parse_status(recorded("status_cw_emoji_edited.json"))
    assert status.spoiler_text
    assert status.sensitive is True
    assert status.edited_at is not None
    assert [e.shortcode for e in status.emojis] == ["trans_heart"]
    assert status.media[0].type == "gifv"
    assert status.media[0].description == "a furry cube breakdancing"


def test_parses_a_poll_with_voters_and_votes():
    poll = parse_status(recorded("status_poll.json")).poll
    assert poll.expired is True and poll.multiple is True
    assert poll.votes_count == 64 and poll.voters_count == 47
    assert [o.title for o in poll.options] == ["real", "fr fr", "so true", ":hecker:"]


def test_private_reply_is_parsed_but_not_public():
    status = parse_status(recorded("status_image_alt_reply.json"))
    assert status.in_reply_to_id
    assert status.is_public is False
    assert status.media[0].description == "furry cube"


def test_empty_content_with_video_is_fine():
    status = parse_status(recorded("status_video_alt_no_text.json"))
    assert status.content == ""
    assert status.media[0].type == "video"


def test_card_html_is_never_read():
    card = parse_status(recorded("status_card_embed.json")).card
    assert card is not None
    assert not hasattr(card, "html")
    assert "<iframe" not in json.dumps(card.__dict__)


def test_card_with_author_account_and_quote_post_parse():
    assert parse_status(recorded("status_card_author.json")).card.title == "cat game by halcy"
    quoted = parse_status(recorded("status_quote_reply_bridged.json"))
    assert quoted.in_reply_to_id and quoted.account.acct.endswith("bsky.brid.gy")


def test_recorded_context_and_empty_context():
    assert len(parse_context(recorded("context.json"))) == 1
    assert parse_context(recorded("context_empty.json")) == ()


def test_recorded_accounts_keep_emoji_and_zero_width_space():
    remote = parse_account(recorded("account_remote.json"))
    assert "@" in remote.acct
    assert "\u200b" in remote.display_name
    assert parse_account(recorded("account_lookup.json")).username == "mastodonpy_test"


def test_recorded_timeline_parses_every_status_without_viewer_fields():
    statuses = parse_statuses(recorded("timeline_public_anonymous.json"))
    assert len(statuses) == 8
    assert any(s.poll and not s.poll.expired for s in statuses)


def test_recorded_instances_v2_and_v1():
    v2 = parse_instance(recorded("instance_v2.json"))
    assert v2.registrations_enabled is True and v2.approval_required is False
    assert v2.min_age == 16
    assert len(v2.rules) == 6
    v1 = parse_instance(recorded("instance_v1.json"))
    assert v1.domain == "mastodon.social"
    assert v1.rules


@pytest.mark.parametrize("missing", ["id", "created_at", "content", "account"])
def test_status_without_required_field_is_a_bad_response(missing):
    raw = fixture_json("thread_status.json")
    del raw[missing]
    with pytest.raises(BadResponse):
        parse_status(raw)


def test_missing_optional_and_extra_fields_are_tolerated():
    raw = fixture_json("thread_status.json")
    for name in ("poll", "card", "media_attachments", "emojis", "language", "edited_at", "spoiler_text"):
        raw.pop(name)
    raw["something_new_in_mastodon_5"] = {"nested": True}
    status = parse_status(raw)
    assert status.poll is None and status.media == () and status.language is None


def test_unsafe_urls_are_dropped_at_the_edge():
    raw = fixture_json("thread_status.json")
    raw["url"] = "javascript:alert(1)"
    raw["media_attachments"][0]["url"] = "data:image/png;base64,AAAA"
    raw["media_attachments"][0]["remote_url"] = None
    raw["emojis"][0]["static_url"] = "vbscript:msgbox"
    raw["emojis"][0]["url"] = "//evil.example/x.png"
    status = parse_status(raw)
    assert status.url == raw["uri"]  # falls back to the ActivityPub uri, which is https
    assert status.media == ()
    assert status.emojis == ()


def test_thread_keeps_only_public_and_unlisted_replies():
    root = parse_status(fixture_json("thread_status.json"))
    thread = build_thread(root, parse_context(fixture_json("thread_context.json")))
    visibilities = {r.visibility for r in thread.replies}
    assert visibilities <= {"public", "unlisted"}
    assert "108" not in {r.id for r in thread.replies} and "110" not in {r.id for r in thread.replies}
    assert "109" in {r.id for r in thread.replies}


def test_thread_says_incomplete_when_replies_count_exceeds_what_came_back():
    root = parse_status({**fixture_json("thread_status.json"), "replies_count": 80})
    assert build_thread(root, parse_context(fixture_json("thread_context.json"))).incomplete is True
    root = parse_status({**fixture_json("thread_status.json"), "replies_count": 2})
    descendants = parse_context(fixture_json("thread_context.json"))
    assert build_thread(root, descendants).incomplete is False


def test_thread_at_the_logged_out_cap_is_incomplete_unless_a_token_lifts_it():
    root = parse_status({**fixture_json("thread_status.json"), "replies_count": 60})
    one = fixture_json("thread_context.json")["descendants"][0]
    descendants = tuple(parse_status({**one, "id": str(1000 + i), "replies_count": 0}) for i in range(60))
    assert build_thread(root, descendants).incomplete is True
    assert build_thread(root, descendants, capped_reader=False).incomplete is False


@pytest.mark.parametrize("reference, expected", [
    ("113", "113"),
    ("https://social.test/@stad/1234567", "1234567"),
    ("https://social.test/users/stad/statuses/42", "42"),
    ("https://other.test/@stad/1234567", None),
    ("http://social.test/@stad/1234567", None),
    ("https://social.test/@stad", None),
    ("javascript:alert(1)", None),
])
def test_thread_reference_is_an_id_or_a_status_url_on_the_home_server(reference, expected):
    assert status_id_from_reference(reference, HOME) == expected


# --- the client over HTTP -----------------------------------------------------------------------

@responses.activate
def test_sends_user_agent_and_honours_timeouts():
    responses.add(responses.GET, HOME + "/api/v1/statuses/100", json=fixture_json("thread_status.json"))
    client = make_client(connect_timeout=2.0, read_timeout=3.0)
    client.status("100")
    request = responses.calls[0].request
    assert request.headers["User-Agent"] == "praatmee/test (+https://amsterdam.test/praatmee)"
    assert request.req_kwargs["timeout"] == (2.0, 3.0)
    assert request.req_kwargs["verify"] not in (False, None, "")  # True, or the REQUESTS_CA_BUNDLE path


def test_certificate_verification_follows_requests_ca_bundle(monkeypatch, tmp_path):
    bundle = tmp_path / "ca.pem"
    bundle.write_text("")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    client = make_client()
    settings = client.session.merge_environment_settings(HOME, {}, None, True, None)
    assert settings["verify"] == str(bundle)


@responses.activate
def test_newest_pinned_post_is_the_thread():
    responses.add(responses.GET, HOME + "/api/v1/accounts/lookup", json=fixture_json("account_lookup.json"))
    responses.add(responses.GET, HOME + "/api/v1/accounts/1/statuses", json=fixture_json("statuses_pinned.json"))
    assert make_client().current_thread_id().value == "100"
    assert "pinned=true" in responses.calls[1].request.url


@responses.activate
def test_without_pinned_posts_the_newest_public_original_post_is_the_thread():
    responses.add(responses.GET, HOME + "/api/v1/accounts/lookup", json=fixture_json("account_lookup.json"))
    responses.add(responses.GET, HOME + "/api/v1/accounts/1/statuses", json=[],
                  match=[responses.matchers.query_param_matcher({"pinned": "true", "limit": "20"})])
    newest = fixture_json("thread_status.json")
    reply = {**newest, "id": "200", "created_at": "2026-11-05T00:00:00.000Z", "in_reply_to_id": "1"}
    private = {**newest, "id": "201", "created_at": "2026-11-06T00:00:00.000Z", "visibility": "private"}
    responses.add(responses.GET, HOME + "/api/v1/accounts/1/statuses", json=[private, reply, newest],
                  match=[responses.matchers.query_param_matcher(
                      {"exclude_replies": "true", "exclude_reblogs": "true", "limit": "20"})])
    assert make_client().current_thread_id().value == "100"


@responses.activate
def test_instance_falls_back_to_v1_and_the_rules_endpoint_on_404():
    responses.add(responses.GET, HOME + "/api/v2/instance", json={"error": "Not Found"}, status=404)
    responses.add(responses.GET, HOME + "/api/v1/instance", json=fixture_json("instance_v1.json"))
    responses.add(responses.GET, HOME + "/api/v1/instance/rules", json=fixture_json("instance_rules.json"))
    instance = make_client().instance().value
    assert instance.approval_required is True
    assert [r.text for r in instance.rules] == ["Regel uit v1"]


@pytest.mark.parametrize("fault, error", [
    (requests.ConnectTimeout("slow"), Timeout),
    (requests.ReadTimeout("slow"), Timeout),
    (requests.ConnectionError("refused"), Unavailable),
])
def test_network_faults_raise_typed_errors(fault, error):
    with responses.RequestsMock() as mock:
        mock.add(responses.GET, HOME + "/api/v1/statuses/100", body=fault)
        with pytest.raises(error):
            make_client().status("100")


@pytest.mark.parametrize("status, body, content_type, error", [
    (500, "oops", "text/plain", Unavailable),
    (503, "<html>down</html>", "text/html", Unavailable),
    (200, "<html>maintenance</html>", "text/html", BadResponse),
    (200, "{not json", "application/json", BadResponse),
    (200, '["a list, not a status"]', "application/json", BadResponse),
    (404, '{"error":"Record not found"}', "application/json", NotFound),
])
def test_http_faults_raise_typed_errors(status, body, content_type, error):
    with responses.RequestsMock() as mock:
        mock.add(responses.GET, HOME + "/api/v1/statuses/100", body=body, status=status, content_type=content_type)
        with pytest.raises(error):
            make_client().status("100")


def test_after_a_timeout_the_client_does_not_call_again_for_a_while():
    clock = Clock()
    client = make_client(clock)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add(responses.GET, HOME + "/api/v1/statuses/100", body=requests.ReadTimeout("slow"))
        with pytest.raises(Timeout):
            client.status("100")
        with pytest.raises(RateLimited):
            client.context("100")
        assert len(mock.calls) == 1
        clock.now += 31
        mock.add(responses.GET, HOME + "/api/v1/statuses/100/context", json={"ancestors": [], "descendants": []})
        assert client.context("100").value == ()


def test_after_429_no_request_until_the_reset_time():
    clock = Clock()
    client = make_client(clock)
    reset = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(clock.now + 120))
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add(responses.GET, HOME + "/api/v1/statuses/100", status=429, json={"error": "Too many requests"},
                 headers={"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset})
        with pytest.raises(RateLimited):
            client.status("100")
        for _ in range(5):
            clock.now += 20
            with pytest.raises(RateLimited):
                client.status("100")
        assert len(mock.calls) == 1
        clock.now += 30  # past the reset
        with pytest.raises(RateLimited):
            client.status("100")
        assert len(mock.calls) == 2


def test_retry_after_seconds_is_honoured():
    clock = Clock()
    client = make_client(clock)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add(responses.GET, HOME + "/api/v1/statuses/100", status=429, headers={"Retry-After": "10"})
        with pytest.raises(RateLimited) as limited:
            client.status("100")
        assert limited.value.until == clock.now + 10


# --- the cache ----------------------------------------------------------------------------------

def test_fresh_answers_come_from_the_cache_until_the_ttl():
    clock = Clock()
    client = make_client(clock, ttl=60)
    with responses.RequestsMock() as mock:
        mock.add(responses.GET, HOME + "/api/v1/statuses/100", json=fixture_json("thread_status.json"))
        client.status("100")
        clock.now += 59
        client.status("100")
        assert len(mock.calls) == 1
        clock.now += 14  # the TTL is a minimum: each entry lives up to 20 % longer, so workers spread out
        client.status("100")
        assert len(mock.calls) == 2


@pytest.mark.parametrize("fault", [
    dict(body=requests.ReadTimeout("slow")),
    dict(status=500, body="oops"),
    dict(status=429, json={"error": "slow down"}),
    dict(status=200, body="<html>", content_type="text/html"),
])
def test_stale_copy_is_served_when_the_upstream_fails(fault):
    clock = Clock()
    client = make_client(clock, ttl=60)
    with responses.RequestsMock() as mock:
        mock.add(responses.GET, HOME + "/api/v1/statuses/100", json=fixture_json("thread_status.json"))
        first = client.status("100")
        mock.replace(responses.GET, HOME + "/api/v1/statuses/100", **fault)
        clock.now += 120
        again = client.status("100")
    assert again.stale is True
    assert again.value == first.value
    assert again.fetched_at == first.fetched_at


def test_twenty_concurrent_misses_make_one_upstream_call():
    client = make_client(clock=time.time)
    started = threading.Event()

    def slow_status(request):
        started.set()
        time.sleep(0.3)
        return 200, {"Content-Type": "application/json"}, json.dumps(fixture_json("thread_status.json"))

    with responses.RequestsMock() as mock:
        mock.add_callback(responses.GET, HOME + "/api/v1/statuses/100", callback=slow_status)
        with ThreadPoolExecutor(20) as pool:
            results = list(pool.map(lambda _: client.status("100").value.id, range(20)))
        assert results == ["100"] * 20
        assert len(mock.calls) == 1


def test_warm_entry_is_served_at_once_while_a_background_refresh_hangs():
    clock = Clock()
    client = MastodonClient(ClientSettings(base_url=HOME, account="stad", user_agent="t", ttl=60),
                            cache=UpstreamCache(clock=clock, refresh_in_background=True), clock=clock)
    release = threading.Event()
    calls = []

    def first_answers_then_hangs(request):
        calls.append(request)
        if len(calls) > 1:
            release.wait(5)
            raise requests.ReadTimeout("hang")
        return 200, {"Content-Type": "application/json"}, json.dumps(fixture_json("thread_status.json"))

    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_callback(responses.GET, HOME + "/api/v1/statuses/100", callback=first_answers_then_hangs)
        client.status("100")
        clock.now += 120
        started = time.monotonic()
        result = client.status("100")
        elapsed = time.monotonic() - started
        release.set()
    assert result.value.id == "100"
    assert elapsed < 0.5  # not a timing target: the hanging call would take 5 s


def test_boosts_in_a_thread_are_left_out_of_the_conversation():
    # A boost of a reply in the context is the same words twice, under a stranger's name.
    root = parse_status(fixture_json("thread_status.json"))
    context = fixture_json("thread_context.json")
    original = context["descendants"][0]
    boost = dict(original, id="9999", reblog=dict(original), content="", url="https://social.test/@x/9999")
    statuses = parse_context({"ancestors": [], "descendants": [*context["descendants"], boost]})
    assert statuses[-1].is_reblog and statuses[-1].id == "9999"
    thread = build_thread(root, statuses)
    assert "9999" not in [status.id for status in thread.replies]
    assert [status.id for status in thread.replies] == [status.id for status in build_thread(root, statuses[:-1]).replies]
    assert len(thread.replies) >= 1
