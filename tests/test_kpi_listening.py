"""Is the city listening? Answers of the city account and outcomes as KPIs (issue 16), against
hand-computed fixtures: through collection from a mocked home server, into figures, CSV and JSON."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from sqlalchemy import select

from praatmee_site import kpi
from praatmee_site.db import Database, KpiReply
from praatmee_site.kpi import exports
from praatmee_site.kpi.figures import ReplyTimes, compute_responses
from praatmee_site.mastodon import ClientSettings, MastodonClient
from praatmee_site.mastodon.cache import UpstreamCache
from tests.conftest import HOME, database_url
from tests.test_kpi import BASE, CITY, STATUSES, Clock, context, page_params, post, reply

SECRET = "test-secret"
TODAY = date(2026, 11, 25)
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)
CITY_ACCOUNT = {**BASE["account"], "id": "1", "acct": "stad"}


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


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def home(mastodon):
    """Thread 400 (2026-11-01 09:00): four residents' replies, three answers of the city, one of its own posts.

    r401 ann 11-01 10:00, answered 12:00 (2 h; a second answer at 15:00 does not count) → in time
    r402 bob 11-02 08:00, answered 11-06 08:00 (96 h) → answered, not in time
    r403 cas 11-03 00:00, never answered, older than 3 days → counted, not in time
    r404 ann 11-24 20:00, not answered yet, 16 h old at NOW → waiting, counted nowhere
    By hand: 3 replies judged, 1 in time (1/3), median of 2 h and 96 h = 49 h, 1 waiting.
    """
    mastodon.add("/api/v1/accounts/lookup", CITY)
    mastodon.add(STATUSES, [post("400", "2026-11-01T09:00:00.000Z", replies=4, likes=1)], match=page_params())
    mastodon.add(STATUSES, [], match=page_params(max_id="400"))
    mastodon.add("/api/v1/statuses/400/context", context(
        reply("410", "400", "stad", "2026-11-01T09:30:00.000Z", account=CITY_ACCOUNT),  # the city's own: not counted
        reply("401", "400", "ann@other.example", "2026-11-01T10:00:00.000Z"),
        reply("411", "401", "stad", "2026-11-01T12:00:00.000Z", account=CITY_ACCOUNT),
        reply("412", "401", "stad", "2026-11-01T15:00:00.000Z", account=CITY_ACCOUNT),
        reply("402", "400", "bob", "2026-11-02T08:00:00.000Z"),
        reply("413", "402", "stad", "2026-11-06T08:00:00.000Z", account=CITY_ACCOUNT),
        reply("403", "400", "cas", "2026-11-03T00:00:00.000Z"),
        reply("404", "400", "ann@other.example", "2026-11-24T20:00:00.000Z"),
        reply("405", "400", "eve@private.example", "2026-11-02T09:00:00.000Z", visibility="direct"),
    ))


def collect(database, client, **kwargs):
    return kpi.collect(database, client, account="stad", today=TODAY, secret=SECRET, now=NOW, **kwargs)


class First:
    def __init__(self, day, posted):
        self.day, self.posted = day, posted


def test_compute_responses_by_hand():
    replies = [ReplyTimes("t", utc("2026-11-01T10:00:00Z"), utc("2026-11-01T12:00:00Z")),
               ReplyTimes("t", utc("2026-11-02T08:00:00Z"), utc("2026-11-06T08:00:00Z")),
               ReplyTimes("t", utc("2026-11-03T00:00:00Z"), None),
               ReplyTimes("t", utc("2026-11-24T20:00:00Z"), None),
               ReplyTimes("t", utc("2026-11-22T12:00:00Z"), utc("2026-11-25T12:00:00Z"))]  # exactly 3 days: in time
    figures = compute_responses(replies, NOW)
    assert (figures.replies, figures.answered_in_time, figures.answered, figures.waiting) == (4, 2, 3, 1)
    assert figures.share_in_time == pytest.approx(2 / 4)
    assert figures.median_hours == pytest.approx(72.0)  # 2, 72, 96
    empty = compute_responses([], NOW)
    assert (empty.share_in_time, empty.median_hours) == (None, None)


def test_collection_keeps_replies_by_key_with_the_citys_first_answer(database, home_client, mastodon):
    home(mastodon)
    collect(database, home_client)
    with database.Session() as session:
        rows = sorted((r.posted_at.replace(tzinfo=None), r.answered_at and r.answered_at.replace(tzinfo=None))
                      for r in session.scalars(select(KpiReply)))
        keys = [r.reply_key for r in session.scalars(select(KpiReply))]
    assert rows == [(datetime(2026, 11, 1, 10), datetime(2026, 11, 1, 12)), (datetime(2026, 11, 2, 8), datetime(2026, 11, 6, 8)),
                    (datetime(2026, 11, 3, 0), None), (datetime(2026, 11, 24, 20), None)]
    assert kpi.reply_key("401", SECRET) in keys and "401" not in "".join(keys)


def test_period_and_thread_figures_match_the_hand_computation(database, home_client, mastodon):
    home(mastodon)
    collect(database, home_client)
    period = kpi.period_figures(database, date(2026, 11, 1), TODAY, now=NOW)
    r = period.responses
    assert (r.replies, r.answered_in_time, r.answered, r.waiting) == (3, 1, 2, 1)
    assert r.share_in_time == pytest.approx(1 / 3) and r.median_hours == pytest.approx(49.0)
    # A period that holds only r402 and r403 (2 and 3 November, Amsterdam days).
    narrow = kpi.period_figures(database, date(2026, 11, 2), date(2026, 11, 3), now=NOW).responses
    assert (narrow.replies, narrow.answered_in_time, narrow.median_hours) == (2, 0, 96.0)
    [thread] = kpi.thread_figures(database, ["400"], outcomes={"400": First(date(2026, 11, 15), True)}, now=NOW)
    assert (thread.responses.replies, thread.responses.answered_in_time, thread.responses.median_hours) == (3, 1, 49.0)
    assert (thread.has_outcome, thread.outcome_in_thread, thread.days_to_first_outcome) == (True, True, 14)
    [without] = kpi.thread_figures(database, ["400"], now=NOW)
    assert (without.has_outcome, without.outcome_in_thread, without.days_to_first_outcome) == (False, False, None)
    csv = exports.read_csv(exports.listening_csv(period, [thread]))
    assert csv[0]["scope"] == "periode" and csv[0]["share_answered_within_3_days"] == "0,3333"
    assert csv[0]["median_hours_to_city_reply"] == "49" and csv[0]["waiting"] == "1"
    assert csv[1]["outcome"] == "1" and csv[1]["outcome_in_thread"] == "1" and csv[1]["days_to_first_outcome"] == "14"
    data = exports.as_json(period, [thread])
    assert data["listening"]["answered_within_3_days"] == 1 and data["listening"]["median_hours_to_city_reply"] == 49.0
    assert data["threads"][0]["days_to_first_outcome"] == 14 and data["threads"][0]["outcome"] is True


def test_a_thread_waiting_for_an_answer_is_read_again_until_the_city_answers(database, home_client, mastodon):
    import responses
    home(mastodon)
    collect(database, home_client)
    assert mastodon.calls_to("/api/v1/statuses/400/context") == 1
    # The city answers r404 deeper in the thread: the first post's replies_count does not move.
    mastodon.mock.replace(responses.GET, HOME + "/api/v1/statuses/400/context", json=context(
        reply("401", "400", "ann@other.example", "2026-11-01T10:00:00.000Z"),
        reply("404", "400", "ann@other.example", "2026-11-24T20:00:00.000Z"),
        reply("414", "404", "stad", "2026-11-25T11:00:00.000Z", account=CITY_ACCOUNT)))
    second = collect(database, home_client)
    assert second.contexts_fetched == 1
    period = kpi.period_figures(database, date(2026, 11, 1), TODAY, now=NOW).responses
    assert (period.replies, period.answered_in_time, period.waiting) == (4, 2, 0)  # r401 keeps its answer
    third = collect(database, home_client)
    assert (third.contexts_fetched, third.contexts_skipped) == (0, 1)  # nothing left waiting


def test_the_dashboard_and_the_exports_show_the_listening_figures(make_app, mastodon):
    import re

    from tests.test_staff import EMAIL, PASSWORD, log_in
    mastodon.standard()
    app = make_app()
    with app.app_context():
        from praatmee_site.staff.accounts import StaffDirectory
        from praatmee_site.web.services import current_db
        StaffDirectory(current_db()).add(EMAIL, PASSWORD)
    client = app.test_client()
    log_in(client)
    page = client.get("/beheer/kpi").text
    assert "Luistert de gemeente?" in page and "Binnen 3 dagen beantwoord" in page
    listing = client.get("/beheer/kpi/listening.csv")
    assert listing.status_code == 200
    assert exports.read_csv(listing.data)[0]["scope"] == "periode"
    assert "listening" in client.get("/beheer/kpi.json").json
    assert re.search(r"listening\.csv", page)
