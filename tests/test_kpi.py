"""KPIs: the question rule, pseudonymous accounts, figures against hand computation, and collection
(pagination, idempotence, skipping, rate limits, faults, privacy) against a mocked home server."""
from __future__ import annotations

import hashlib
import hmac
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
import requests
import responses
from responses import matchers
from sqlalchemy import select

from praatmee_site import kpi
from praatmee_site.db import Base, Database, KpiPostSnapshot, KpiReplier
from praatmee_site.kpi import Snapshot
from praatmee_site.mastodon import ClientSettings, MastodonClient, Unavailable
from praatmee_site.mastodon.cache import UpstreamCache
from tests.conftest import HOME, database_url, fixture_json

SECRET = "test-secret"
TODAY = date(2026, 11, 25)  # the period of 30 days starts on 2026-10-27 (Europe/Amsterdam)
BASE = fixture_json("thread_status.json")
CITY = fixture_json("account_lookup.json")  # id "1", acct "stad"
STATUSES = "/api/v1/accounts/1/statuses"
POLL = BASE["poll"]


# --- building Mastodon entities ----------------------------------------------------------------

def post(status_id, when, *, replies=0, likes=0, boosts=0, text="Een bericht.", poll=False, **extra):
    raw = {**BASE, "id": status_id, "created_at": when, "replies_count": replies, "favourites_count": likes,
           "reblogs_count": boosts, "content": f"<p>{text}</p>", "poll": POLL if poll else None,
           "in_reply_to_id": None, "reblog": None, "visibility": "public",
           "url": f"{HOME}/@stad/{status_id}", "uri": f"{HOME}/users/stad/statuses/{status_id}"}
    raw.update(extra)
    return raw


def reply(status_id, parent, acct, when="2026-11-20T12:00:00.000Z", **extra):
    account = {**BASE["account"], "id": f"id-{acct}", "username": acct.split("@")[0], "acct": acct,
               "display_name": f"Naam van {acct}", "url": f"https://elsewhere.example/@{acct}"}
    raw = {**BASE, "id": status_id, "created_at": when, "in_reply_to_id": parent, "account": account,
           "replies_count": 0, "favourites_count": 0, "reblogs_count": 0, "poll": None,
           "content": "<p>Een antwoord</p>", "visibility": "public"}
    raw.update(extra)
    return raw


def context(*descendants):
    return {"ancestors": [], "descendants": list(descendants)}


def page_params(max_id=None):
    params = {"limit": "40", "exclude_replies": "true", "exclude_reblogs": "true"}
    if max_id:
        params["max_id"] = max_id
    return [matchers.query_param_matcher(params)]


class Clock:
    def __init__(self, now=1_800_000_000.0):
        self.now = now

    def __call__(self):
        return self.now


@pytest.fixture
def database(tmp_path):
    db = Database(database_url(tmp_path, "kpi"))
    db.upgrade()
    yield db
    db.engine.dispose()


@pytest.fixture
def home_client():
    clock = Clock()
    return MastodonClient(ClientSettings(base_url=HOME, account="stad", user_agent="praatmee/test"),
                          cache=UpstreamCache(clock=clock, refresh_in_background=False), clock=clock)


def run(database, client, **kwargs):
    kwargs.setdefault("account", "stad")
    kwargs.setdefault("today", TODAY)
    kwargs.setdefault("secret", SECRET)
    return kpi.collect(database, client, **kwargs)


def snapshot_rows(database):
    with database.Session() as session:
        return sorted((r.day, r.status_id, r.replies, r.favourites, r.reblogs, r.has_poll, r.has_question,
                       r.is_campaign_thread) for r in session.scalars(select(KpiPostSnapshot)))


def replier_rows(database):
    with database.Session() as session:
        return sorted((r.thread_id, r.account_key, r.first_seen) for r in session.scalars(select(KpiReplier)))


def key(acct):
    return kpi.account_key(acct, SECRET)


# --- the rules ------------------------------------------------------------------------------------

@pytest.mark.parametrize("content, expected", [
    ("<p>Wat vind jij van de nieuwe fietsenstalling?</p>", True),
    ("<p>Lees het plan.</p>", False),
    ('<p>Het plan: <a href="https://example.org/plan?id=3">example.org/plan?id=3</a></p>', False),
    ('<p><span title="echt?">Geen vraag</span></p>', False),  # attributes are not text
    ("<p>Stem mee &#63;</p>", True),  # an entity is the character it stands for
    ("<p>\u4f60\u600e\u4e48\u770b\uff1f</p>", True),  # fullwidth question mark
    ("<p>Geen vraag</p><script>alert('?')</script>", False),  # what sanitizing drops does not count
])
def test_a_question_is_a_question_mark_in_the_sanitized_text_outside_links(content, expected):
    assert kpi.asks_question(content) is expected


def test_account_key_is_an_hmac_of_the_handle_under_the_secret():
    expected = hmac.new(SECRET.encode(), b"ann@other.example", hashlib.sha256).hexdigest()
    assert kpi.account_key("ann@other.example", SECRET) == expected
    assert kpi.account_key("@Ann@Other.example", SECRET) == expected  # one account, one key
    assert kpi.account_key("ann@other.example", "another secret") != expected
    assert "ann" not in expected


def test_default_period_is_the_last_30_days_including_today():
    assert kpi.default_period(TODAY) == (date(2026, 10, 27), TODAY)
    assert kpi.default_period(TODAY, 1) == (TODAY, TODAY)


def test_no_figure_is_made_up_when_dividing_by_zero():
    figures = kpi.compute_period([], {}, {}, date(2026, 11, 1), date(2026, 11, 1))
    assert figures.totals.posts == 0
    assert figures.totals.replies_per_post is None
    assert figures.totals.reply_like_ratio is None
    assert figures.accounts.returning_share is None
    assert kpi.format_number(None) == "–"
    assert kpi.format_number(2 / 3) == "0,67"
    assert kpi.format_number(2 / 3, decimal_comma=False) == "0.67"


# --- figures against hand computation ------------------------------------------------------------

def snap(status_id, posted, *, replies, likes, boosts=0, poll=False, question=False, campaign=False,
         day=date(2026, 11, 25)):
    return Snapshot(status_id, f"{HOME}/@stad/{status_id}", datetime.fromisoformat(posted + "T10:00:00+00:00"),
                    day, replies, likes, boosts, poll, question, campaign)


def test_post_figures_match_hand_computation():
    # 3 posts: replies 4/0/2, likes 8/1/0, boosts 1/0/5.
    # replies per post = (4+0+2)/3 = 2.0; replies per like = 6/(8+1+0) = 0.6667; boosts = 6, per post 2.0.
    # Per post: 4/8 = 0.5; 0/1 = 0.0; 2/0 = none.
    posts = [snap("1", "2026-11-02", replies=4, likes=8, boosts=1),
             snap("2", "2026-11-03", replies=0, likes=1),
             snap("3", "2026-11-04", replies=2, likes=0, boosts=5)]
    figures = kpi.compute_period(posts, {}, {}, date(2026, 11, 1), date(2026, 11, 30))
    assert (figures.totals.posts, figures.totals.replies, figures.totals.favourites, figures.totals.reblogs) == (3, 6, 9, 6)
    assert figures.totals.replies_per_post == 2.0
    assert figures.totals.reply_like_ratio == pytest.approx(6 / 9)
    assert figures.totals.reblogs_per_post == 2.0
    assert [p.status_id for p in figures.posts] == ["3", "2", "1"]  # newest first
    assert [p.reply_like_ratio for p in figures.posts] == [None, 0.0, 0.5]


def test_distinct_and_returning_accounts_across_two_threads_match_hand_computation():
    # Thread 1: ann, bob, cas. Thread 2: bob, cas, dirk. Thread 3: nobody.
    # Distinct: ann, bob, cas, dirk = 4. Returning (2+ threads): bob, cas = 2. Share: 2/4 = 0.5.
    posts = [snap("1", "2026-11-02", replies=3, likes=0), snap("2", "2026-11-09", replies=3, likes=0),
             snap("3", "2026-11-10", replies=0, likes=0)]
    day = date(2026, 11, 10)
    repliers = {"1": {key("ann"): day, key("bob"): day, key("cas"): day},
                "2": {key("bob"): day, key("cas"): day, key("dirk"): day}}
    accounts = kpi.compute_period(posts, repliers, {}, date(2026, 11, 1), date(2026, 11, 30)).accounts
    assert (accounts.threads, accounts.distinct, accounts.returning) == (3, 4, 2)
    assert accounts.returning_share == 0.5


def test_new_accounts_per_iso_week_match_hand_computation():
    # Period Mon 2026-11-02 .. Sun 2026-11-15 = ISO weeks 45 and 46.
    # First known replies: ann 11-03 (W45), bob 10-20 (before the period: not new now),
    # cas 11-09 (W46), dirk 11-15 (W46, the last day). So W45: 1, W46: 2.
    first = {key("ann"): date(2026, 11, 3), key("bob"): date(2026, 10, 20), key("cas"): date(2026, 11, 9),
             key("dirk"): date(2026, 11, 15)}
    weeks = kpi.compute_period([], {}, first, date(2026, 11, 2), date(2026, 11, 15)).accounts.new_per_week
    assert [(w.week, w.starts_on, w.new_accounts) for w in weeks] == [
        ("2026-W45", date(2026, 11, 2), 1), ("2026-W46", date(2026, 11, 9), 2)]
    # A period from Wednesday 11-04 to Tuesday 11-10 overlaps the same two weeks; ann's 11-03 is before it.
    weeks = kpi.compute_period([], {}, first, date(2026, 11, 4), date(2026, 11, 10)).accounts.new_per_week
    assert [(w.week, w.new_accounts) for w in weeks] == [("2026-W45", 0), ("2026-W46", 1)]


def test_interaction_vs_information_groups_match_hand_computation():
    # Interaction: a question (replies 4, likes 8) and a poll (replies 2, likes 0):
    #   n = 2, average replies (4+2)/2 = 3.0, replies per like 6/8 = 0.75.
    # Information: replies 0, likes 1 and replies 1, likes 3:
    #   n = 2, average replies (0+1)/2 = 0.5, replies per like 1/4 = 0.25.
    posts = [snap("1", "2026-11-02", replies=4, likes=8, question=True),
             snap("2", "2026-11-03", replies=2, likes=0, poll=True),
             snap("3", "2026-11-04", replies=0, likes=1),
             snap("4", "2026-11-05", replies=1, likes=3)]
    figures = kpi.compute_period(posts, {}, {}, date(2026, 11, 1), date(2026, 11, 30))
    assert (figures.interaction.posts, figures.interaction.replies_per_post, figures.interaction.reply_like_ratio) == (2, 3.0, 0.75)
    assert (figures.information.posts, figures.information.replies_per_post, figures.information.reply_like_ratio) == (2, 0.5, 0.25)


def test_thread_figures_count_returning_and_new_accounts_per_thread():
    # Campaign thread "c": ann (first reply ever: here), bob (replied earlier in thread "x"), cas (also in "x",
    # but first here). Returning = bob, cas (also in another thread) = 2 of 3; new = ann, cas = 2.
    repliers = {"c": {key("ann"): date(2026, 11, 10), key("bob"): date(2026, 11, 10), key("cas"): date(2026, 11, 10)},
                "x": {key("bob"): date(2026, 10, 1), key("cas"): date(2026, 11, 12)}}
    first = {key("ann"): date(2026, 11, 10), key("bob"): date(2026, 10, 1), key("cas"): date(2026, 11, 10)}
    [thread] = kpi.compute_threads([snap("c", "2026-11-10", replies=3, likes=2, campaign=True)], repliers, first)
    assert (thread.distinct_accounts, thread.returning_accounts, thread.new_accounts) == (3, 2, 2)
    assert thread.returning_share == pytest.approx(2 / 3)
    assert thread.post.reply_like_ratio == 1.5


# --- collection against the mocked home server ----------------------------------------------------

def standard_home(mastodon, *, remaining="250"):
    """Page 1: two posts in the period plus what must be left out; page 2: one more, then one too old.

    Post 300 (question, 2 replies: ann, bob), 290 (poll, 1 reply: bob), 280 (information, 0 replies).
    """
    headers = {"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": remaining}
    mastodon.add("/api/v1/accounts/lookup", CITY, headers=headers)
    boost = post("299", "2026-11-19T10:00:00.000Z", reblog=post("5", "2026-11-01T10:00:00.000Z"))
    private = post("298", "2026-11-18T10:00:00.000Z", visibility="private")
    self_reply = post("297", "2026-11-17T10:00:00.000Z", in_reply_to_id="300")
    mastodon.add(STATUSES, [post("300", "2026-11-20T10:00:00.000Z", replies=2, likes=4, text="Wat vind jij?"),
                            boost, private, self_reply,
                            post("290", "2026-11-10T10:00:00.000Z", replies=1, likes=0, poll=True)],
                 headers=headers, match=page_params())
    mastodon.add(STATUSES, [post("280", "2026-10-28T10:00:00.000Z", replies=0, likes=3),
                            post("270", "2026-10-20T10:00:00.000Z", replies=5, likes=5)],
                 headers=headers, match=page_params(max_id="290"))
    mastodon.add("/api/v1/statuses/300/context", context(
        reply("301", "300", "ann@other.example", "2026-11-20T11:00:00.000Z"),
        reply("302", "301", "stad", "2026-11-20T12:00:00.000Z",
              account={**BASE["account"], "id": "1", "acct": "stad"}),  # the city answering: not counted
        reply("303", "300", "bob", "2026-11-21T09:00:00.000Z"),
        reply("304", "300", "bob", "2026-11-22T09:00:00.000Z"),
        reply("305", "300", "eve@private.example", visibility="direct"),  # not public: not counted
    ), headers=headers)
    mastodon.add("/api/v1/statuses/290/context", context(
        reply("291", "290", "bob", "2026-11-11T09:00:00.000Z")), headers=headers)


def test_collection_pages_back_to_the_start_of_the_period_with_max_id(database, home_client, mastodon):
    standard_home(mastodon)
    result = run(database, home_client)
    pages = [c.request for c in mastodon.mock.calls if c.request.url.split("?")[0] == HOME + STATUSES]
    assert len(pages) == 2
    assert "max_id" not in pages[0].url and "max_id=290" in pages[1].url
    assert (result.posts_seen, result.pages, result.stopped_early) == (3, 2, False)
    # Only the city's own public, original posts in the period: no boost, private post, self-reply or old post.
    assert [(row[1], row[2], row[3], row[5], row[6]) for row in snapshot_rows(database)] == [
        ("280", 0, 3, False, False), ("290", 1, 0, True, False), ("300", 2, 4, False, True)]
    assert all(row[0] == TODAY for row in snapshot_rows(database))
    # Thread 300: ann and bob (bob once, the city and a direct message not at all); thread 290: bob.
    assert replier_rows(database) == sorted([
        ("300", key("ann@other.example"), date(2026, 11, 20)), ("300", key("bob"), date(2026, 11, 21)),
        ("290", key("bob"), date(2026, 11, 11))])
    assert (result.contexts_fetched, result.contexts_skipped) == (2, 1)  # 280 has no replies to read
    assert result.rate_limit_remaining == 250


def test_collecting_twice_gives_the_same_rows_and_skips_unchanged_contexts(database, home_client, mastodon):
    standard_home(mastodon)
    first = run(database, home_client)
    rows, repliers = snapshot_rows(database), replier_rows(database)
    second = run(database, home_client)
    assert snapshot_rows(database) == rows
    assert replier_rows(database) == repliers
    assert (first.contexts_fetched, second.contexts_fetched, second.contexts_skipped) == (2, 0, 3)
    assert mastodon.calls_to("/api/v1/statuses/300/context") == 1


def test_a_context_is_read_again_when_its_replies_count_changes(database, home_client, mastodon):
    standard_home(mastodon)
    run(database, home_client)
    mastodon.mock.replace(responses.GET, HOME + STATUSES, match=page_params(), json=[
        post("300", "2026-11-20T10:00:00.000Z", replies=3, likes=5, text="Wat vind jij?"),
        post("290", "2026-11-10T10:00:00.000Z", replies=1, likes=0, poll=True)])
    mastodon.mock.replace(responses.GET, HOME + "/api/v1/statuses/300/context", json=context(
        reply("301", "300", "ann@other.example", "2026-11-20T11:00:00.000Z"),
        reply("303", "300", "bob", "2026-11-21T09:00:00.000Z"),
        reply("306", "300", "cas", "2026-11-25T09:00:00.000Z")))
    result = run(database, home_client)
    assert result.contexts_fetched == 1 and mastodon.calls_to("/api/v1/statuses/290/context") == 1
    assert ("300", key("cas"), date(2026, 11, 25)) in replier_rows(database)
    assert [row[2] for row in snapshot_rows(database) if row[1] == "300"] == [3]


def test_a_new_day_adds_rows_and_keeps_the_old_ones(database, home_client, mastodon):
    standard_home(mastodon)
    run(database, home_client)
    run(database, home_client, today=TODAY + timedelta(days=1))
    days = [row[0] for row in snapshot_rows(database)]
    assert days.count(TODAY) == 3 and days.count(TODAY + timedelta(days=1)) == 3


def test_collection_stops_when_the_rate_limit_runs_low_and_the_next_run_continues(database, home_client, mastodon):
    standard_home(mastodon, remaining="90")  # below the default reserve of 100
    result = run(database, home_client)
    assert result.stop_reason == kpi.RATE_LIMIT_LOW and result.stopped_early
    assert len(mastodon.mock.calls) == 1  # the look-up told us; nothing more was asked
    assert snapshot_rows(database) == []

    mastodon.mock.reset()
    standard_home(mastodon, remaining="250")
    client = MastodonClient(home_client.settings, cache=home_client.cache, clock=home_client.clock)
    again = run(database, client)
    assert again.stopped_early is False and again.contexts_fetched == 2


def test_collection_stops_between_contexts_and_leaves_them_for_the_next_run(database, home_client, mastodon):
    standard_home(mastodon)
    mastodon.mock.replace(responses.GET, HOME + "/api/v1/statuses/300/context", headers={"X-RateLimit-Remaining": "3"},
                          json=context(reply("301", "300", "ann", "2026-11-20T11:00:00.000Z")))
    result = run(database, home_client)
    assert (result.stop_reason, result.contexts_fetched, result.contexts_pending) == (kpi.RATE_LIMIT_LOW, 1, 1)
    assert mastodon.calls_to("/api/v1/statuses/290/context") == 0
    assert len(snapshot_rows(database)) == 3  # what was read is kept


def test_collection_stops_on_429_without_crashing(database, home_client, mastodon):
    standard_home(mastodon)
    mastodon.mock.replace(responses.GET, HOME + "/api/v1/statuses/300/context", status=429,
                          json={"error": "Too many requests"},
                          headers={"X-RateLimit-Remaining": "0", "Retry-After": "120"})
    result = run(database, home_client)
    assert result.stop_reason == "rate_limited" and result.stopped_early and not result.unreachable
    assert result.contexts_pending == 2
    assert len(snapshot_rows(database)) == 3
    # The client keeps its pause: a second run in the same process asks nothing.
    calls = len(mastodon.mock.calls)
    assert run(database, home_client).stop_reason in ("rate_limited", kpi.RATE_LIMIT_LOW)
    assert len(mastodon.mock.calls) == calls


def test_an_unreachable_home_server_is_reported_not_raised(database, home_client, mastodon):
    mastodon.add("/api/v1/accounts/lookup", body=requests.ConnectionError("refused"))
    result = run(database, home_client)
    assert result.unreachable and result.stop_reason == "unavailable" and result.posts_seen == 0
    assert kpi.last_run(database).stop_reason == "unavailable"


def test_campaign_threads_older_than_the_period_are_collected_too(database, home_client, mastodon):
    standard_home(mastodon)
    mastodon.add("/api/v1/statuses/200", post("200", "2026-09-01T10:00:00.000Z", replies=1, likes=2))
    mastodon.add("/api/v1/statuses/200/context", context(reply("201", "200", "ann@other.example",
                                                              "2026-09-02T10:00:00.000Z")))
    mastodon.add("/api/v1/statuses/404", status=404, json={"error": "Record not found"})
    result = run(database, home_client, campaign_threads=["200", "300", "404"])
    assert (result.posts_seen, result.campaign_threads, result.missing_threads) == (4, 1, ("404",))
    assert mastodon.calls_to("/api/v1/statuses/300") == 0  # already on a page: no extra call
    flags = {row[1]: row[7] for row in snapshot_rows(database)}
    assert flags == {"200": True, "280": False, "290": False, "300": True}
    [old, current] = kpi.thread_figures(database, ["200", "300"])
    assert (old.post.status_id, old.distinct_accounts, old.returning_accounts, old.new_accounts) == ("200", 1, 1, 1)
    # 300: ann (also in 200) and bob (also in 290) both return; neither is new: ann's first reply was in
    # 200 (09-02), bob's in 290 (11-11).
    assert (current.distinct_accounts, current.returning_accounts, current.new_accounts) == (2, 2, 0)


def test_no_handle_or_name_is_ever_stored(database, home_client, mastodon, tmp_path):
    standard_home(mastodon)
    run(database, home_client)
    database.engine.dispose()
    if database.is_sqlite:
        stored = b"".join(p.read_bytes() for p in Path(tmp_path).glob("kpi.sqlite*"))
    else:  # every row of every table, as text
        with database.engine.connect() as connection:
            stored = "\n".join(str(row) for table in Base.metadata.sorted_tables
                               for row in connection.execute(table.select())).encode()
    for secret_text in (b"ann@other.example", b"other.example", b"Naam van", b"id-bob", b"elsewhere.example"):
        assert secret_text not in stored
    assert key("ann@other.example").encode() in stored


def test_period_figures_from_collected_data_match_hand_computation(database, home_client, mastodon):
    # Collected: 300 (question, replies 2, likes 4), 290 (poll, 1, 0), 280 (information, 0, 3).
    # Totals: replies 3 / 3 posts = 1.0 per post; 3 replies / 7 likes = 0.4286.
    # Interaction (300, 290): n 2, average (2+1)/2 = 1.5, ratio 3/4 = 0.75. Information (280): n 1, 0.0, 0/3 = 0.0.
    # Accounts: ann (300), bob (300, 290) → distinct 2, returning 1 (bob), share 0.5.
    # New per week: bob 11-11 (W46), ann 11-20 (W47) → W46: 1, W47: 1, others 0.
    standard_home(mastodon)
    run(database, home_client)
    figures = kpi.period_figures(database, *kpi.default_period(TODAY))
    assert (figures.totals.posts, figures.totals.replies_per_post) == (3, 1.0)
    assert figures.totals.reply_like_ratio == pytest.approx(3 / 7)
    assert (figures.interaction.posts, figures.interaction.replies_per_post, figures.interaction.reply_like_ratio) == (2, 1.5, 0.75)
    assert (figures.information.posts, figures.information.replies_per_post, figures.information.reply_like_ratio) == (1, 0.0, 0.0)
    assert (figures.accounts.distinct, figures.accounts.returning, figures.accounts.returning_share) == (2, 1, 0.5)
    assert {w.week: w.new_accounts for w in figures.accounts.new_per_week} == {
        "2026-W44": 0, "2026-W45": 0, "2026-W46": 1, "2026-W47": 1, "2026-W48": 0}
    assert [(p.status_id, p.accounts) for p in figures.posts] == [("300", 2), ("290", 1), ("280", 0)]


def test_a_past_period_reads_its_posts_as_they_stood_at_its_end(database, home_client, mastodon):
    standard_home(mastodon)
    run(database, home_client, today=date(2026, 11, 20))
    mastodon.mock.replace(responses.GET, HOME + STATUSES, match=page_params(), json=[
        post("300", "2026-11-20T10:00:00.000Z", replies=9, likes=9, text="Wat vind jij?"),
        post("270", "2026-10-20T10:00:00.000Z")])
    run(database, home_client, today=TODAY)
    past = kpi.period_figures(database, date(2026, 11, 20), date(2026, 11, 20))
    now = kpi.period_figures(database, date(2026, 11, 20), TODAY)
    assert [(p.replies, p.snapshot_day) for p in past.posts] == [(2, date(2026, 11, 20))]
    assert [(p.replies, p.snapshot_day) for p in now.posts] == [(9, TODAY)]


def test_nu_bijwerken_waits_ten_minutes_between_collections(database, home_client, mastodon):
    mastodon.add("/api/v1/accounts/lookup", body=requests.ConnectionError("refused"))
    moment = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)
    assert kpi.seconds_until_allowed(database, moment) == 0
    run(database, home_client, now=moment)
    assert kpi.seconds_until_allowed(database, moment + timedelta(minutes=4)) == 360
    assert kpi.seconds_until_allowed(database, moment + timedelta(minutes=10)) == 0


# --- the client additions ---------------------------------------------------------------------------

def test_fresh_calls_bypass_the_cache_and_note_the_rate_limit(home_client, mastodon):
    mastodon.add("/api/v1/statuses/100", fixture_json("thread_status.json"), headers={"X-RateLimit-Remaining": "42"})
    home_client.status("100")
    home_client.status("100")
    assert mastodon.calls_to("/api/v1/statuses/100") == 1
    home_client.status("100", fresh=True)
    assert mastodon.calls_to("/api/v1/statuses/100") == 2
    assert home_client.rate_limit_remaining == 42


def test_a_fresh_call_fails_instead_of_serving_a_stale_copy(home_client, mastodon):
    mastodon.add("/api/v1/statuses/100", fixture_json("thread_status.json"))
    home_client.status("100")
    mastodon.mock.replace(responses.GET, HOME + "/api/v1/statuses/100", status=500, body="oops")
    home_client.clock.now += 120
    assert home_client.status("100").stale is True
    with pytest.raises(Unavailable):
        home_client.status("100", fresh=True)


# --- the command ------------------------------------------------------------------------------------

@pytest.fixture(autouse=False)
def fixed_today(monkeypatch):
    monkeypatch.setattr(kpi, "today", lambda: TODAY)


def test_kpi_collect_command_reports_what_it_did(app, mastodon, fixed_today):
    standard_home(mastodon)
    result = app.test_cli_runner().invoke(args=["kpi", "collect", "--thread", "300"])
    assert result.exit_code == 0, result.output
    assert "posts seen: 3" in result.output
    assert "contexts fetched: 2; skipped (replies unchanged): 1" in result.output
    assert "Complete." in result.output
    again = app.test_cli_runner().invoke(args=["kpi", "collect"])
    assert "contexts fetched: 0; skipped (replies unchanged): 3" in again.output


def test_kpi_collect_command_says_when_it_stopped_early(app, mastodon, fixed_today):
    standard_home(mastodon, remaining="10")
    result = app.test_cli_runner().invoke(args=["kpi", "collect"])
    assert result.exit_code == 0
    assert "Stopped early (rate_limit_low)" in result.output


def test_kpi_collect_command_fails_clearly_when_the_home_server_is_unreachable(app, mastodon, fixed_today):
    mastodon.add("/api/v1/accounts/lookup", body=requests.ConnectTimeout("slow"))
    result = app.test_cli_runner().invoke(args=["kpi", "collect"])
    assert result.exit_code == 1
    assert "could not be reached" in result.output and HOME in result.output


def test_kpi_collect_command_refuses_a_thread_that_is_not_an_id(app, mastodon, fixed_today):
    result = app.test_cli_runner().invoke(args=["kpi", "collect", "--thread", "https://x/1"])
    assert result.exit_code == 2 and "not a status id" in result.output
