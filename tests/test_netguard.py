"""The SSRF guard: which addresses we refuse, and how a fetch behaves against the fake fediverse.

Address classes beyond loopback are checked by unit-testing the classifier, never by connecting;
`connect_spy` fails any test that tries to reach anything but 127.0.0.0/8 or ::1.
"""
from __future__ import annotations

import socket
import threading
import time
from types import SimpleNamespace

import pytest

from praatmee_site.remote_interaction.netguard import (
    ADDRESS_REASONS,
    FetchFailed,
    GuardRefused,
    LookupPool,
    NetGuard,
    Target,
    _Deadline,
    classify_address,
    looks_like_ip_literal,
    to_ascii_hostname,
)
from tests.support.fediverse import FakeResolver

pytestmark = pytest.mark.usefixtures("connect_spy")


# --- classify_address ---------------------------------------------------------------------------

PUBLIC = [
    "1.1.1.1", "8.8.8.8", "145.100.0.1", "100.63.255.255", "100.128.0.0", "172.15.255.255",
    "172.32.0.0", "192.167.255.255", "192.169.0.0", "198.17.255.255", "198.20.0.0",
    "223.255.255.255", "2001:4860:4860::8888", "2a00:1450:4001::1", "2620:fe::fe",
    "::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1",
]

REFUSED = [
    # IPv4
    ("0.0.0.0", "unspecified"),
    ("0.1.2.3", "this_network"),
    ("127.0.0.1", "loopback"),
    ("127.255.255.254", "loopback"),
    ("10.0.0.1", "private"),
    ("172.16.0.1", "private"),
    ("172.31.255.255", "private"),
    ("192.168.1.1", "private"),
    ("100.64.0.1", "shared"),
    ("100.127.255.254", "shared"),
    ("169.254.169.254", "link_local"),
    ("192.0.0.8", "ietf_protocol"),
    ("192.0.2.1", "documentation"),
    ("198.51.100.7", "documentation"),
    ("203.0.113.9", "documentation"),
    ("198.18.0.1", "benchmarking"),
    ("198.19.255.255", "benchmarking"),
    ("224.0.0.1", "multicast"),
    ("239.255.255.250", "multicast"),
    ("240.0.0.1", "reserved"),
    ("192.88.99.1", "reserved"),
    ("255.255.255.255", "broadcast"),
    # IPv6
    ("::", "unspecified"),
    ("::1", "loopback"),
    ("fe80::1", "link_local"),
    ("fe80::1%eth0", "link_local"),
    ("fc00::1", "private"),
    ("fd12:3456:789a::1", "private"),
    ("fec0::1", "private"),
    ("ff02::1", "multicast"),
    ("2001:db8::1", "documentation"),
    ("3fff::1", "documentation"),
    ("2001:2::1", "benchmarking"),
    ("100::1", "reserved"),
    ("2001:10::1", "reserved"),
    ("2001:20::1", "reserved"),
    ("5f00::1", "reserved"),
    ("4000::1", "reserved"),
    # IPv6 that carries IPv4: judged by what it carries
    ("::ffff:127.0.0.1", "loopback"),
    ("::ffff:7f00:1", "loopback"),
    ("::ffff:10.0.0.1", "private"),
    ("::ffff:169.254.169.254", "link_local"),
    ("::ffff:100.64.0.1", "shared"),
    ("::127.0.0.1", "loopback"),  # IPv4-compatible (deprecated)
    ("::8.8.8.8", "reserved"),
    ("64:ff9b::7f00:1", "loopback"),  # NAT64
    ("64:ff9b::a9fe:a9fe", "link_local"),
    ("64:ff9b::c0a8:101", "private"),
    ("64:ff9b:1::a00:1", "private"),  # local-use NAT64
    ("2002:7f00:1::1", "loopback"),  # 6to4
    ("2002:a00:1::", "private"),
    ("2002:a9fe:a9fe::1", "link_local"),
    ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "documentation"),  # Teredo, client 192.0.2.45
    ("2001:0:7f00:1::1", "loopback"),  # Teredo with a loopback server
]


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_are_allowed(address):
    assert classify_address(address) is None


@pytest.mark.parametrize("address, reason", REFUSED)
def test_non_public_addresses_are_refused_with_their_class(address, reason):
    assert classify_address(address) == reason


def test_every_reason_is_a_documented_one():
    assert {reason for _, reason in REFUSED} == ADDRESS_REASONS


def test_classifier_takes_address_objects_too():
    import ipaddress
    assert classify_address(ipaddress.ip_address("10.1.2.3")) == "private"


def test_classifier_rejects_what_is_not_an_address():
    with pytest.raises(ValueError):
        classify_address("mastodon.test")


# --- host names ---------------------------------------------------------------------------------

@pytest.mark.parametrize("host", [
    "127.0.0.1", "2130706433", "0177.0.0.1", "0x7f.1", "0x7F000001", "127.1", "127.0.0.1.",
    "::1", "[::1]", "::ffff:127.0.0.1", "1.2.3.4",
])
def test_ip_literals_are_recognised_in_every_notation(host):
    assert looks_like_ip_literal(host)


@pytest.mark.parametrize("host", ["mastodon.social", "127.0.0.1.nip.io", "0x7f.example", "1password.com"])
def test_names_are_not_ip_literals(host):
    assert not looks_like_ip_literal(host)


def test_host_names_come_back_as_lower_case_punycode():
    assert to_ascii_hostname("Bücher.Example.") == "xn--bcher-kva.example"
    assert to_ascii_hostname("１２７。０。０。１") == "127.0.0.1"  # the caller's IP check sees it


@pytest.mark.parametrize("host", ["", "a_b.nl", "-x.nl", "a..b", "ex ample.nl", "x" * 64 + ".nl"])
def test_invalid_host_names_raise(host):
    with pytest.raises(ValueError):
        to_ascii_hostname(host)


# --- the static checks --------------------------------------------------------------------------

@pytest.mark.parametrize("url, code", [
    ("http://mastodon.test/.well-known/webfinger", "scheme"),
    ("ftp://mastodon.test/", "scheme"),
    ("https://user:pw@mastodon.test/", "credentials"),
    ("https://user@mastodon.test/", "credentials"),
    ("https://mastodon.test:8443/", "port"),
    ("https://mastodon.test:80/", "port"),
    ("https://mastodon.test:x/", "bad_url"),
    ("https:///path", "bad_url"),
    ("https://under_score.test/", "bad_url"),
    ("https://127.0.0.1/", "ip_literal"),
    ("https://2130706433/", "ip_literal"),
    ("https://0x7f.1/", "ip_literal"),
    ("https://[::1]/", "ip_literal"),
    ("https://[::ffff:127.0.0.1]/", "ip_literal"),
    ("https://１２７。０。０。１/", "ip_literal"),
])
def test_urls_we_never_fetch(url, code, connect_spy):
    resolver = FakeResolver({})
    with pytest.raises(GuardRefused) as refused:
        NetGuard(resolver=resolver).get_json(url)
    assert refused.value.code == code
    assert resolver.calls == [] and connect_spy.addresses == []


def test_port_443_spelled_out_is_fine():
    assert NetGuard().check_url("https://mastodon.test:443/x").host == "mastodon.test"


# --- the address check, before any connection ---------------------------------------------------

SSRF_NAMES = {
    "localhost.test": ["127.0.0.1"],
    "127.0.0.1.nip.io": ["127.0.0.1"],
    "10.0.0.1.nip.io": ["10.0.0.1"],
    "metadata.test": ["169.254.169.254"],
    "cgnat.test": ["100.64.0.1"],
    "zero.test": ["0.0.0.0"],
    "multicast.test": ["224.0.0.1"],
    "v6.test": ["::1"],
    "mapped.test": ["::ffff:127.0.0.1"],
    "nat64.test": ["64:ff9b::a9fe:a9fe"],
    "sixtofour.test": ["2002:a00:1::1"],
    "ula.test": ["fd00::1"],
    # One bad answer spoils the lot: a retry could use it.
    "mixed.test": ["8.8.8.8", "10.0.0.1"],
}


@pytest.mark.parametrize("name", sorted(SSRF_NAMES))
def test_names_resolving_to_non_public_addresses_are_refused_before_connecting(name, connect_spy):
    resolver = FakeResolver(SSRF_NAMES)
    with pytest.raises(GuardRefused) as refused:
        NetGuard(resolver=resolver).get_json(f"https://{name}/.well-known/webfinger")
    assert refused.value.code == "address"
    assert refused.value.detail in ADDRESS_REASONS
    assert resolver.calls == [name]
    assert connect_spy.addresses == []


def test_allow_private_hosts_lifts_only_the_address_check():
    guard = NetGuard(resolver=FakeResolver(SSRF_NAMES), allow_private_hosts=True)
    assert guard.is_allowed_address("10.0.0.1") is None
    for url, code in [("http://v6.test/", "scheme"), ("https://v6.test:8443/", "port"),
                      ("https://a:b@v6.test/", "credentials"), ("https://10.0.0.1/", "ip_literal")]:
        with pytest.raises(GuardRefused) as refused:
            guard.get_json(url)
        assert refused.value.code == code


def test_allowed_networks_lift_the_check_for_those_networks_alone():
    guard = NetGuard(allowed_networks=["127.0.0.0/8"])
    assert guard.is_allowed_address("127.0.0.1") is None
    assert guard.is_allowed_address("::ffff:127.0.0.1") == "loopback"  # another version: no match
    assert guard.is_allowed_address("10.0.0.1") == "private"


def test_an_unknown_name_fails_as_dns(fediverse):
    with pytest.raises(FetchFailed) as failed:
        fediverse.guard().get_json("https://nowhere.test/")
    assert failed.value.code == "dns" and failed.value.status is None


def test_a_slow_resolver_is_cut_off_by_the_deadline(fediverse):
    guard = fediverse.guard(resolver=FakeResolver({"mastodon.test": ["127.0.0.1"]}, delay=1.0),
                            deadline=0.2)
    started = time.monotonic()
    with pytest.raises(FetchFailed) as failed:
        guard.get_json("https://mastodon.test/.well-known/nodeinfo")
    assert failed.value.code == "timeout"
    assert time.monotonic() - started < 0.8


# --- name look-ups that hang -------------------------------------------------------------------

class HangingResolver:
    """A name server that answers only when the test opens the gate (10.0.0.1: refused, never dialled)."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.calls: list[str] = []

    def __call__(self, host: str) -> list[str]:
        self.calls.append(host)
        self.gate.wait(10)
        return ["10.0.0.1"]


@pytest.fixture
def hanging():
    resolver = HangingResolver()
    pools: list[LookupPool] = []

    def guard(workers: int, waiting: int) -> NetGuard:
        pools.append(LookupPool(workers=workers, waiting=waiting))
        return NetGuard(resolver=resolver, lookups=pools[-1], deadline=0.2)
    yield resolver, guard
    resolver.gate.set()
    for pool in pools:
        pool.shutdown()


def fails_with(guard: NetGuard, url: str) -> str:
    with pytest.raises(FetchFailed) as failed:
        guard.get_json(url)
    return failed.value.code


def test_when_every_lookup_slot_hangs_the_next_resident_is_refused_at_once(hanging, connect_spy):
    resolver, make_guard = hanging
    guard = make_guard(workers=2, waiting=0)
    assert [fails_with(guard, f"https://{name}/") for name in ("a.test", "b.test")] == ["timeout", "timeout"]
    started = time.monotonic()
    assert fails_with(guard, "https://c.test/") == "busy"  # not queued behind the hanging two
    assert time.monotonic() - started < 0.1
    assert resolver.calls == ["a.test", "b.test"]
    # The name servers answer at last: the slots come back and look-ups run again.
    resolver.gate.set()
    deadline = time.monotonic() + 5
    while True:
        try:
            guard.get_json("https://d.test/")
        except GuardRefused as refused:
            assert refused.code == "address"  # looked up, judged, and never dialled
            break
        except FetchFailed as failed:
            assert failed.code == "busy" and time.monotonic() < deadline
            time.sleep(0.01)
    assert connect_spy.addresses == []


def test_a_lookup_nobody_waits_for_any_more_is_cancelled_before_it_starts(hanging):
    resolver, make_guard = hanging
    guard = make_guard(workers=1, waiting=1)
    assert fails_with(guard, "https://a.test/") == "timeout"  # running, and hanging
    # Each of these waits behind a.test, gives up at its deadline and hands its slot back: without
    # the cancel, b.test would still hold the one waiting slot and c.test would be refused as busy.
    assert fails_with(guard, "https://b.test/") == "timeout"
    assert fails_with(guard, "https://c.test/") == "timeout"
    resolver.gate.set()
    assert guard.lookups.lookup(lambda host: [host], "probe.test", timeout=5) == ["probe.test"]
    assert resolver.calls == ["a.test"]  # b.test and c.test never reached the name server


def test_deeply_nested_json_is_not_json_to_us():
    body = b"[" * 100_000
    chunks = [body]
    response = SimpleNamespace(status_code=200, headers={"Content-Type": "application/json"},
                               raw=SimpleNamespace(read1=lambda size, decode_content: chunks.pop() if chunks else b""))
    clock = _Deadline(5)
    try:
        with pytest.raises(FetchFailed) as failed:
            NetGuard(max_bytes=200_000)._read(Target("https://odd.test/", "odd.test"), response, clock)
    finally:
        clock.cancel()
    assert failed.value.code == "not_json"


# --- fetching from the fake fediverse -----------------------------------------------------------

def test_json_comes_back_with_its_status(fediverse):
    status, data = fediverse.guard().get_json("https://mastodon.test/.well-known/nodeinfo")
    assert status == 200
    assert data["links"][0]["href"] == "https://mastodon.test/nodeinfo/2.x"
    assert fediverse.requests == [("mastodon.test", "/.well-known/nodeinfo")]


def test_the_checked_address_is_the_one_connected_to(fediverse, connect_spy):
    # A second lookup could answer differently (DNS rebinding); there must not be one.
    fediverse.guard().get_json("https://mastodon.test/.well-known/nodeinfo")
    assert fediverse.resolver.calls == ["mastodon.test"]
    assert connect_spy.addresses == ["127.0.0.1"]


def test_the_certificate_is_checked_against_the_name_not_the_address(fediverse):
    with pytest.raises(FetchFailed) as failed:
        fediverse.guard().get_json("https://nocert.test/.well-known/nodeinfo")
    assert failed.value.code == "tls"


def test_without_our_ca_the_handshake_fails(fediverse, monkeypatch):
    monkeypatch.delenv("REQUESTS_CA_BUNDLE")
    with pytest.raises(FetchFailed) as failed:
        fediverse.guard().get_json("https://mastodon.test/.well-known/nodeinfo")
    assert failed.value.code == "tls"


def test_an_explicit_ca_bundle_works_without_the_environment(fediverse, monkeypatch):
    monkeypatch.delenv("REQUESTS_CA_BUNDLE")
    status, _ = fediverse.guard(ca_bundle=fediverse.ca_path).get_json(
        "https://mastodon.test/.well-known/nodeinfo")
    assert status == 200


def test_proxies_from_the_environment_are_ignored(fediverse, monkeypatch):
    # A proxy would connect on our behalf to whatever the name resolves to over there.
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("ALL_PROXY", "http://127.0.0.1:9")
    status, _ = fediverse.guard().get_json("https://mastodon.test/.well-known/nodeinfo")
    assert status == 200


def test_a_refused_connection_fails_as_connect(fediverse):
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    with pytest.raises(FetchFailed) as failed:
        fediverse.guard(port=port).get_json("https://mastodon.test/.well-known/nodeinfo")
    assert failed.value.code == "connect"


@pytest.mark.parametrize("host, status", [("broken.test", 503), ("silent.test", 404)])
def test_answers_outside_2xx_fail_with_their_status(fediverse, host, status):
    with pytest.raises(FetchFailed) as failed:
        fediverse.guard().get_json(f"https://{host}/.well-known/webfinger?resource=acct:a@{host}")
    assert (failed.value.code, failed.value.status) == ("status", status)


@pytest.mark.parametrize("host", ["html.test", "badjson.test"])
def test_only_json_is_accepted(fediverse, host):
    with pytest.raises(FetchFailed) as failed:
        fediverse.guard().get_json(f"https://{host}/x")
    assert (failed.value.code, failed.value.status) == ("not_json", 200)


def test_the_xrd_webfinger_of_old_servers_is_not_json(fediverse):
    with pytest.raises(FetchFailed) as failed:
        fediverse.guard().get_json("https://xrd.test/.well-known/webfinger?resource=acct:foo@xrd.test")
    assert failed.value.code == "not_json"


@pytest.mark.parametrize("host", ["big.test", "bigdeclared.test"])
def test_responses_over_64_kb_are_cut_off(fediverse, host):
    with pytest.raises(FetchFailed) as failed:
        fediverse.guard().get_json(f"https://{host}/x")
    assert failed.value.code == "too_large"


def test_the_cap_is_configurable(fediverse):
    status, data = fediverse.guard(max_bytes=200_000).get_json("https://big.test/x")
    assert status == 200 and len(data) == 50_001


def test_a_server_that_hangs_times_out(fediverse):
    started = time.monotonic()
    with pytest.raises(FetchFailed) as failed:
        fediverse.guard(read_timeout=0.2).get_json("https://hang.test/x")
    assert failed.value.code == "timeout"
    assert time.monotonic() - started < 1.0


def test_a_server_that_trickles_is_stopped_by_the_overall_deadline(fediverse):
    # Every byte arrives well within the read timeout; only the deadline ends this.
    started = time.monotonic()
    with pytest.raises(FetchFailed) as failed:
        fediverse.guard(read_timeout=2.0, deadline=0.4, max_bytes=10_000_000).get_json(
            "https://trickle.test/x")
    assert failed.value.code == "timeout"
    assert time.monotonic() - started < 1.2


def test_a_per_call_deadline_can_only_shorten_the_guards_own(fediverse):
    started = time.monotonic()
    with pytest.raises(FetchFailed):
        fediverse.guard(deadline=0.3).get_json("https://hang.test/x", deadline=60)
    assert time.monotonic() - started < 1.0


# --- redirects ----------------------------------------------------------------------------------

def test_redirects_are_followed_and_every_hop_is_checked(fediverse):
    status, data = fediverse.guard().get_json(
        "https://hop.test/.well-known/webfinger?resource=acct:naam@hop.test")
    assert status == 200 and data["subject"] == "acct:naam@mastodon.test"
    assert fediverse.resolver.calls == ["hop.test", "mastodon.test"]
    assert fediverse.hosts_contacted() == ["hop.test", "mastodon.test"]


def test_a_redirect_to_the_metadata_service_is_refused_before_connecting(fediverse, connect_spy):
    with pytest.raises(GuardRefused) as refused:
        fediverse.guard().get_json("https://redirector.test/.well-known/webfinger")
    assert (refused.value.code, refused.value.detail) == ("address", "link_local")
    assert refused.value.url == "https://metadata.test/latest/meta-data/"
    assert fediverse.resolver.calls == ["redirector.test", "metadata.test"]
    assert connect_spy.addresses == ["127.0.0.1"]  # redirector.test only


def test_a_redirect_to_a_private_address_literal_is_refused_without_a_lookup(fediverse, connect_spy):
    with pytest.raises(GuardRefused) as refused:
        fediverse.guard().get_json("https://literal.test/.well-known/webfinger")
    assert refused.value.code == "ip_literal"
    assert fediverse.resolver.calls == ["literal.test"]
    assert connect_spy.addresses == ["127.0.0.1"]


def test_a_redirect_to_plain_http_is_refused(fediverse):
    with pytest.raises(GuardRefused) as refused:
        fediverse.guard().get_json("https://plaintext.test/.well-known/webfinger")
    assert refused.value.code == "scheme"


def test_at_most_three_redirects(fediverse):
    with pytest.raises(GuardRefused) as refused:
        fediverse.guard().get_json("https://loop.test/.well-known/webfinger")
    assert refused.value.code == "too_many_redirects"
    assert len(fediverse.requests) == 4  # the request and three hops


def test_no_redirects_at_all_when_so_configured(fediverse):
    with pytest.raises(GuardRefused) as refused:
        fediverse.guard(max_redirects=0).get_json("https://hop.test/.well-known/webfinger")
    assert refused.value.code == "too_many_redirects"


# --- the module's own rules ---------------------------------------------------------------------

