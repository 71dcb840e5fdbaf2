"""Several app instances, one state: scans in one database, the home-server cache and the rate limits in Redis.

Two `create_app()`s stand for two instances (each has its own cache, client and connection pool);
the Redis tests use a real redis-server started per test on a free loopback port. Nothing is timed.
"""
from __future__ import annotations

import json
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import responses

from praatmee_site import campaigns
from praatmee_site.mastodon.cache import SharedEntry, UpstreamCache, UpstreamError
from praatmee_site.mastodon.shared_cache import RedisSharedCache
from praatmee_site.web import http as web
from tests.conftest import HOME, fixture_json

PHONE = {"User-Agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
                       "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"}
UPSTREAM = {
    "/api/v1/accounts/lookup": "account_lookup.json",
    "/api/v1/accounts/1/statuses": "statuses_pinned.json",
    "/api/v1/statuses/100": "thread_status.json",
    "/api/v1/statuses/100/context": "thread_context.json",
    "/api/v2/instance": "instance_open.json",
}
SHARED_CACHE_LOG = "praatmee_site.mastodon.shared_cache"


def slow_home(mastodon, seconds: float = 0.3) -> None:
    """The standard home server, answering each call after a pause, so concurrent misses overlap."""
    for path, name in UPSTREAM.items():
        body = fixture_json(name)

        def answer(_request, body=body):
            time.sleep(seconds)
            return 200, {"Content-Type": "application/json"}, json.dumps(body)
        mastodon.mock.add_callback(responses.GET, HOME + path, callback=answer)


def shared_tier(app) -> RedisSharedCache:
    return app.extensions["praatmee_home_server"].client.cache.shared


# --- one database ------------------------------------------------------------------------------

def test_concurrent_scans_from_two_instances_on_one_database_count_exactly(make_app, mastodon):
    mastodon.standard()
    first, second = make_app(), make_app()  # two instances, one database (PostgreSQL under make test-pg)
    campaigns.create(first.extensions["praatmee_db"], "bushalte-west", home_url=HOME, name="Bushalte West",
                     place="bushalte", cta_nl="Denk mee over digitalisering in Amsterdam")
    start = threading.Barrier(20)

    def scan(index: int) -> int:
        if index < 20:
            start.wait()
        app = (first, second)[index % 2]
        return app.test_client().get("/c/bushalte-west", headers=PHONE).status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(pool.map(scan, range(300)))
    assert statuses == [200] * 300
    for app in (first, second):
        db = app.extensions["praatmee_db"]
        assert campaigns.totals(db, campaigns.require(db, "bushalte-west"), campaigns.today()).all_time == 300


# --- the cache in Redis ---------------------------------------------------------------------

def test_two_instances_make_one_upstream_call_for_20_concurrent_misses(make_app, mastodon, redis_server):
    slow_home(mastodon)
    first, second = make_app(REDIS_URL=redis_server.url), make_app(REDIS_URL=redis_server.url)
    start = threading.Barrier(20)

    def visit(index: int):
        client = (first, second)[index % 2].test_client()
        start.wait()
        return client.get("/")

    with ThreadPoolExecutor(max_workers=20) as pool:
        pages = list(pool.map(visit, range(20)))
    assert [page.status_code for page in pages] == [200] * 20
    assert all('id="post-101"' in page.text for page in pages)
    assert {path: mastodon.calls_to(path) for path in UPSTREAM} == {path: 1 for path in UPSTREAM}


def test_without_redis_each_instance_asks_for_itself(make_app, mastodon):
    mastodon.standard()
    first, second = make_app(), make_app()
    assert first.test_client().get("/").status_code == 200
    assert second.test_client().get("/").status_code == 200
    assert mastodon.calls_to("/api/v1/statuses/100") == 2


def test_an_instance_takes_what_another_fetched_instead_of_asking_again(make_app, mastodon, redis_server):
    mastodon.standard()
    first = make_app(REDIS_URL=redis_server.url)
    assert first.test_client().get("/").status_code == 200
    later = make_app(REDIS_URL=redis_server.url)  # started afterwards, with an empty cache of its own
    assert 'id="post-101"' in later.test_client().get("/").text
    assert {path: mastodon.calls_to(path) for path in UPSTREAM} == {path: 1 for path in UPSTREAM}


def test_pages_stay_200_when_redis_stops_and_the_cache_is_shared_again_when_it_returns(
        make_app, mastodon, redis_server, caplog):
    mastodon.standard()
    caplog.set_level(logging.INFO, logger=SHARED_CACHE_LOG)
    # A TTL of 0 makes every page ask again, so every page goes through Redis.
    app = make_app(REDIS_URL=redis_server.url, CACHE_TTL=0, INSTANCE_CACHE_TTL=0, TESTING_REDIS_RETRY_SECONDS=0)
    client = app.test_client()
    assert client.get("/").status_code == 200

    redis_server.stop()
    for _ in range(5):
        page = client.get("/")
        assert page.status_code == 200 and 'id="post-101"' in page.text
    cold = make_app(REDIS_URL=redis_server.url).test_client()  # an instance starting while Redis is away
    assert cold.get("/").status_code == 200
    gone = [r for r in caplog.records if r.name == SHARED_CACHE_LOG and "is unavailable" in r.getMessage()]
    assert len(gone) == 2  # once per instance, not once per request
    assert not shared_tier(app).available

    redis_server.start()  # the same address, empty
    assert client.get("/").status_code == 200
    assert client.get("/").status_code == 200
    back = [r for r in caplog.records if r.name == SHARED_CACHE_LOG and "is back" in r.getMessage()]
    assert len(back) == 1
    assert shared_tier(app).available
    assert shared_tier(app).redis.keys("praatmee:cache:*")  # entries are shared again


def test_waiting_instances_serve_the_kept_copy_when_the_fetching_instance_fails(redis_server):
    """The lock holder's failure ends the wait: the others do not ask the upstream a second time."""
    kept = {"key": ({"kept": True}, 1000.0)}

    class Store:
        def load(self, key):
            return kept.get(key)

        def save(self, key, value, fetched_at):
            kept[key] = (value, fetched_at)

    holder, waiter = (UpstreamCache(store=Store(), shared=RedisSharedCache(redis_server.url, lock_seconds=5))
                      for _ in range(2))
    asked = []
    holding = threading.Event()

    def failing_load():
        asked.append("holder")
        holding.set()
        time.sleep(0.3)
        raise UpstreamError("the home server timed out")

    def second_load():
        asked.append("waiter")
        return {"fresh": True}

    with ThreadPoolExecutor(max_workers=2) as pool:
        first = pool.submit(holder.get, "key", failing_load, ttl=60)
        holding.wait(5)
        second = pool.submit(waiter.get, "key", second_load, ttl=60)
        results = first.result(), second.result()
    assert asked == ["holder"]
    assert [(r.value, r.stale) for r in results] == [({"kept": True}, True), ({"kept": True}, True)]


def test_a_stale_page_leaves_the_refresh_to_the_process_that_holds_the_lock(redis_server):
    clock = [1000.0]
    cache = UpstreamCache(shared=RedisSharedCache(redis_server.url, clock=lambda: clock[0]), clock=lambda: clock[0])
    loads = []

    def load():
        loads.append(clock[0])
        return {"version": len(loads)}

    assert cache.get("key", load, ttl=60).value == {"version": 1}
    clock[0] += 61
    other = RedisSharedCache(redis_server.url, clock=lambda: clock[0])
    token = other.try_lock("key")  # another process is refreshing it right now
    served = cache.get("key", load, ttl=60)
    assert (served.value, served.stale) == ({"version": 1}, False)  # the warm page does not wait
    with cache._lock_for("key"):  # the background refresh has finished
        pass
    assert loads == [1000.0]  # …without asking: the lock holder will
    other.write("key", SharedEntry({"version": "from the other process"}, clock[0], clock[0] + 60))
    other.unlock("key", token)
    assert cache.get("key", load, ttl=60).value == {"version": "from the other process"}
    assert loads == [1000.0]


def test_a_shared_entry_written_by_another_version_counts_as_missing(redis_server):
    tier = RedisSharedCache(redis_server.url)
    tier.redis.set("praatmee:cache:key", b"not json")
    assert tier.read("key") is None
    tier.write("key", SharedEntry({"a": 1}, 10.0, 20.0))
    assert tier.read("key") == SharedEntry({"a": 1}, 10.0, 20.0)


def test_only_the_holder_releases_a_lock(redis_server):
    tier = RedisSharedCache(redis_server.url)
    token = tier.try_lock("key")
    assert token is not None and tier.try_lock("key") is None
    tier.unlock("key", "someone else's token")
    assert tier.try_lock("key") is None
    tier.unlock("key", token)
    assert tier.try_lock("key") is not None


# --- rate limits in Redis ---------------------------------------------------------------------

@pytest.fixture
def limiter_reset():
    """Flask-Limiter keeps one storage per process; a test that kills Redis leaves it 'dead'."""
    yield
    web.limiter._storage_dead = False  # private, but there is no public way; test isolation only


def ask(client, address="naam@gts.test"):
    return client.post("/reageer", query_string={"post": "100"}, data={"adres": address},
                       headers={"Sec-Fetch-Site": "same-origin"})


@pytest.mark.usefixtures("connect_spy", "limiter_reset")
def test_the_lookup_limit_is_shared_between_instances(make_app, mastodon, fediverse, redis_server):
    mastodon.standard()
    settings = {"TESTING_NET_GUARD": fediverse.guard(), "RESOLVER_LIMIT": "3 per minute", "REDIS_URL": redis_server.url}
    first = make_app(**settings).test_client()
    for _ in range(3):
        assert ask(first).status_code == 200
    # A second instance brings a storage of its own; in memory it would start counting at zero.
    second = make_app(**settings).test_client()
    assert ask(second).status_code == 429
    assert ask(first).status_code == 429
    assert shared_tier(second.application).redis.keys("LIMITS*praatmee*")


@pytest.mark.usefixtures("connect_spy", "limiter_reset")
def test_lookups_are_still_answered_and_limited_in_memory_when_redis_is_down(make_app, mastodon, fediverse,
                                                                           redis_server):
    mastodon.standard()
    client = make_app(TESTING_NET_GUARD=fediverse.guard(), RESOLVER_LIMIT="3 per minute",
                      REDIS_URL=redis_server.url).test_client()
    redis_server.stop()
    assert [ask(client).status_code for _ in range(4)] == [200, 200, 200, 429]
    assert client.get("/").status_code == 200


def test_a_redis_url_must_name_redis(make_app):
    with pytest.raises(SystemExit, match="PRAATMEE_REDIS_URL must start with redis://"):
        make_app(REDIS_URL="http://127.0.0.1:6379")


def test_each_instance_on_a_host_may_have_its_own_instance_folder(tmp_path, monkeypatch):
    from praatmee_site import create_app
    from tests.conftest import base_config
    monkeypatch.setenv("PRAATMEE_INSTANCE_PATH", str(tmp_path / "instance-8001"))
    app = create_app(base_config(tmp_path, DATABASE_URL=None))
    assert app.instance_path == str(tmp_path / "instance-8001")
    assert app.config["DATABASE_URL"] == f"sqlite:///{tmp_path / 'instance-8001' / 'praatmee.sqlite'}"


def test_a_plain_postgresql_address_gets_the_psycopg_driver():
    from praatmee_site.config import database_url
    assert database_url("postgresql://praatmee@db.internal/praatmee") == "postgresql+psycopg://praatmee@db.internal/praatmee"
    assert database_url("postgres://praatmee@db.internal/praatmee") == "postgresql+psycopg://praatmee@db.internal/praatmee"
    assert database_url("sqlite:////srv/praatmee/instance/praatmee.sqlite").startswith("sqlite:")



# --- staff login limits in Redis ----------------------------------------------------------------

def test_staff_login_limits_are_shared_between_instances_and_keep_no_address_or_email(make_app, redis_server):
    import redis

    from praatmee_site.staff.accounts import StaffDirectory
    from praatmee_site.web.services import current_db
    from tests.test_staff import EMAIL, PASSWORD, log_in
    first, second = (make_app(REDIS_URL=redis_server.url, WTF_CSRF_ENABLED=True) for _ in range(2))
    with first.app_context():
        StaffDirectory(current_db()).add(EMAIL, PASSWORD)  # one database for both
    for _ in range(5):
        assert log_in(first.test_client(), password="verkeerd wachtwoord",
                      **{"X-Forwarded-For": "198.51.100.5"}).status_code == 401
    # The other instance knows: this address waits, even with the right password; a clean one gets in.
    assert log_in(second.test_client(), **{"X-Forwarded-For": "198.51.100.5"}).status_code == 429
    assert log_in(second.test_client(), **{"X-Forwarded-For": "203.0.113.7"}).status_code == 302
    keys = [key.decode() for key in redis.Redis.from_url(redis_server.url).keys("*")]
    login_keys = [key for key in keys if "login" in key]
    assert len([key for key in login_keys if "login-key" in key]) == 1  # one hashing key for all instances
    assert len(login_keys) >= 5
    assert not [key for key in keys if "198.51.100" in key or "203.0.113" in key or "amsterdam.test" in key]


def test_staff_log_in_and_are_limited_in_memory_while_redis_is_down(make_app, redis_server):
    from praatmee_site.staff.accounts import StaffDirectory
    from praatmee_site.web.services import current_db
    from tests.test_staff import EMAIL, PASSWORD, log_in
    app = make_app(REDIS_URL=redis_server.url, WTF_CSRF_ENABLED=True)
    with app.app_context():
        StaffDirectory(current_db()).add(EMAIL, PASSWORD)
    redis_server.stop()
    answers = [log_in(app.test_client(), password="verkeerd wachtwoord", **{"X-Forwarded-For": "198.51.100.5"})
               .status_code for _ in range(6)]
    assert answers == [401] * 5 + [429]
    assert log_in(app.test_client(), **{"X-Forwarded-For": "203.0.113.7"}).status_code == 302
