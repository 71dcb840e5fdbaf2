"""One deadline bounds the whole exchange with a visitor-named server, and look-ups cannot take
every worker: hostile TLS servers that trickle the handshake, the headers or the body, on loopback.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from praatmee_site.remote_interaction.discovery import CopyLink, DiscoveryCache, Handle, LookupSlots, Resolver
from praatmee_site.remote_interaction.netguard import FetchFailed, NetGuard
from tests.support.trickle import MODES, TrickleServer, make_ca

ROOT = Path(__file__).resolve().parent.parent
NAMES = ["trickle.test", "*.trickle.test"]


@pytest.fixture(scope="module")
def trickle_ca(tmp_path_factory):
    return make_ca(tmp_path_factory.mktemp("trickle"), NAMES)


@pytest.fixture
def trickling(trickle_ca):
    started: list[TrickleServer] = []

    def start(mode: str, interval: float = 0.05) -> TrickleServer:
        server = TrickleServer(mode, interval, trickle_ca.context).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def guard_for(server: TrickleServer, ca_path: str, **overrides) -> NetGuard:
    settings = dict(resolver=lambda host: ["127.0.0.1"], port=server.port, allowed_networks=("127.0.0.0/8",),
                    ca_bundle=ca_path, connect_timeout=2.0, read_timeout=2.0)
    settings.update(overrides)
    return NetGuard(**settings)


@pytest.mark.parametrize("mode", MODES)
def test_a_trickling_server_is_cut_at_the_deadline_in_every_phase(mode, trickling, trickle_ca, connect_spy):
    # Every byte arrives well within the 2 s read timeout: only the deadline can end these.
    server = trickling(mode, interval=0.05)
    guard = guard_for(server, trickle_ca.ca_path, deadline=1.0, max_bytes=10_000_000)
    started = time.monotonic()
    with pytest.raises(FetchFailed) as failed:
        guard.get_json("https://trickle.test/.well-known/webfinger")
    held = time.monotonic() - started
    assert failed.value.code == "timeout"
    assert held < 1.0 + 0.5, f"{mode}: held {held:.2f} s"
    assert server.connections == 1


def test_the_guards_documented_deadline_of_five_seconds_holds_against_trickled_headers(trickling, trickle_ca):
    # The attack as it was found: a header line every 0.5 s, which used to hold a worker ~50 s.
    server = trickling("headers", interval=0.5)
    guard = guard_for(server, trickle_ca.ca_path)  # the guard's own defaults: deadline 5 s
    assert guard.deadline == 5.0
    started = time.monotonic()
    with pytest.raises(FetchFailed) as failed:
        guard.get_json("https://trickle.test/x")
    assert failed.value.code == "timeout"
    assert time.monotonic() - started < 5.0 + 0.5


def test_the_guard_leaves_no_descriptor_open_after_a_cut(trickling, trickle_ca):
    server = trickling("headers", interval=0.05)
    guard = guard_for(server, trickle_ca.ca_path, deadline=0.3)
    before = len(os.listdir("/proc/self/fd"))
    for _ in range(5):
        with pytest.raises(FetchFailed):
            guard.get_json("https://trickle.test/x")
    time.sleep(0.1)
    assert len(os.listdir("/proc/self/fd")) <= before


def test_a_whole_discovery_stays_within_the_same_five_seconds(trickling, trickle_ca):
    # WebFinger twice for a bare domain, then nodeinfo: together still one budget.
    server = trickling("headers", interval=0.05)
    resolver = Resolver(guard_for(server, trickle_ca.ca_path))
    started = time.monotonic()
    result = resolver.resolve(Handle("a.trickle.test"), "https://social.test/users/city/statuses/1")
    assert time.monotonic() - started < 5.0 + 0.5
    assert result is not None


# --- the in-flight cap ------------------------------------------------------------------------

def test_slots_refuse_at_once_when_all_are_taken_and_free_again_after(tmp_path):
    slots = LookupSlots(tmp_path, 2)
    with slots.slot() as first, slots.slot() as second:
        assert first and second
        started = time.monotonic()
        with slots.slot() as third:
            assert third is False
        assert time.monotonic() - started < 0.1
    with slots.slot() as again:
        assert again


def test_a_slot_held_by_another_process_counts_and_is_freed_when_that_process_dies(tmp_path):
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from praatmee_site.remote_interaction.discovery import LookupSlots\n"
         f"s = LookupSlots({str(tmp_path)!r}, 1)\n"
         "with s.slot() as got:\n    print(got, flush=True); time.sleep(60)"],
        cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "True"
        with LookupSlots(tmp_path, 1).slot() as mine:
            assert mine is False
    finally:
        holder.kill()
        holder.communicate()
    with LookupSlots(tmp_path, 1).slot() as mine:
        assert mine  # the kernel let go of the killed holder's lock


def test_slots_need_at_least_one(tmp_path):
    with pytest.raises(ValueError):
        LookupSlots(tmp_path, 0)


def test_a_resolver_with_every_slot_taken_answers_busy_and_remembers_nothing(tmp_path, trickling, trickle_ca):
    server = trickling("headers", interval=0.05)
    slots = LookupSlots(tmp_path, 1)
    cache = DiscoveryCache()
    resolver = Resolver(guard_for(server, trickle_ca.ca_path, deadline=0.5), cache, slots=slots)
    with slots.slot():
        started = time.monotonic()
        result = resolver.resolve(Handle("b.trickle.test", "jan"), "https://social.test/users/city/statuses/1")
        assert time.monotonic() - started < 0.1
    assert result == CopyLink("b.trickle.test", "busy")
    assert len(cache) == 0 and server.connections == 0


# --- a live server: residents never queue behind look-ups --------------------------------------

def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


BROWSER = {"User-Agent": "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/126 Mobile Safari/537.36"}


# Two ways to run the guide's 2-worker gunicorn: sync workers with one look-up slot (a second
# look-up is turned away at once), or threaded workers with two slots (both look-ups hang).
SETUPS = {"sync-1-slot": ([], "1"), "threads-2-slots": (["--threads", "4"], "2")}


@pytest.fixture(params=list(SETUPS))
def live_gunicorn(request, tmp_path, trickling, trickle_ca):
    """gunicorn with 2 workers, demo data, its look-up slots, its guard aimed at a trickling server."""
    worker_args, slots = SETUPS[request.param]
    server = trickling("headers", interval=0.2)
    port = _free_port()
    database = f"sqlite:///{tmp_path / 'live.sqlite'}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PRAATMEE_")}
    env.update(PRAATMEE_DEMO="1", PRAATMEE_DATABASE_URL=database, PRAATMEE_SECRET_KEY="x" * 32,
               PRAATMEE_INSTANCE_PATH=str(tmp_path / "instance"), PRAATMEE_LOOKUP_SLOTS=slots,
               PRAATMEE_RESOLVER_LIMIT="100 per minute", TRICKLE_PORT=str(server.port),
               TRICKLE_CA=trickle_ca.ca_path)
    subprocess.run([sys.executable, "-m", "flask", "--app", "praatmee_site", "campaign", "create", "bieb-oost",
                    "--name", "Bieb Oost", "--place", "bibliotheek", "--cta", "Praat mee over de bieb"],
                   cwd=ROOT, env=env, check=True, capture_output=True)
    gunicorn = Path(sys.executable).with_name("gunicorn")
    process = subprocess.Popen([str(gunicorn), "--workers", "2", *worker_args, "--bind", f"127.0.0.1:{port}",
                                "--timeout", "30", "--no-control-socket", "tests.support.live_reply_app:app"],
                               cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                # Both workers must be up, or the first look-up would find the second still booting.
                if all(requests.get(f"{base}/healthz", timeout=5).ok for _ in range(4)):
                    break
            except requests.RequestException:
                time.sleep(0.1)
        else:
            raise AssertionError("gunicorn did not start: " + process.stderr.read1(4000).decode())
        yield base, int(slots)
    finally:
        process.terminate()
        process.communicate(timeout=10)


def test_residents_pages_answer_at_once_while_hostile_lookups_hang(live_gunicorn):
    base, slots = live_gunicorn
    form = requests.get(f"{base}/reageer", headers=BROWSER, timeout=5)
    assert form.status_code == 200

    def look_up(number: int):
        started = time.monotonic()
        answer = requests.post(f"{base}/reageer", data={"adres": f"@jan@x{number}.trickle.test"},
                               headers={**BROWSER, "Origin": base, "Sec-Fetch-Site": "same-origin",
                                        "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document"},
                               allow_redirects=False, timeout=30)
        return answer, time.monotonic() - started

    with ThreadPoolExecutor(2) as pool:
        lookups = [pool.submit(look_up, number) for number in (1, 2)]
        time.sleep(0.8)  # both are in: each holds a slot, or one holds the only slot and one was turned away
        started = time.monotonic()
        page = requests.get(f"{base}/c/bieb-oost", headers=BROWSER, timeout=10)
        resident_wait = time.monotonic() - started
        results = [future.result() for future in lookups]

    assert page.status_code == 200 and "Praat mee over de bieb" in page.text
    assert resident_wait < 1.0, f"the resident waited {resident_wait:.2f} s"
    statuses = sorted(answer.status_code for answer, _ in results)
    held = max(seconds for _, seconds in results)
    assert held < 5.0 + 0.5 + 0.5, f"a look-up held its worker {held:.2f} s"
    if slots == 2:
        # Both ran into the hostile server and were cut at the 5 s deadline: the calm "could not reach".
        assert statuses == [200, 200] and all(seconds > 4.5 for _, seconds in results)
        return
    # The one that ran was cut at the 5 s deadline and got the calm "could not reach" page;
    # the other was told at once that it is busy, with the address still in the field.
    assert statuses == [200, 503], [(a.status_code, a.headers.get("Location"), s) for a, s in results]
    busy = next(answer for answer, _ in results if answer.status_code == 503)
    assert int(busy.headers["Retry-After"]) > 0
    assert 'value="@jan@x' in busy.text and "trickle.test" in busy.text
