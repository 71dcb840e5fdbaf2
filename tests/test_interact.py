"""Remote interaction: reading what residents type, and finding the way to our post on their server.

Resolution runs against the fake fediverse in tests/fediverse.py (loopback only); the WebFinger
reader is checked against every recorded document in ../shared/fixtures/webfinger.
"""
from __future__ import annotations

import json
import logging
import threading
from typing import Any

import pytest

from praatmee_site.remote_interaction.discovery import (
    HANDLE_ERROR_CODES,
    KNOWN_SOFTWARE,
    NODEINFO_RELS,
    REL_FEP_3B86_OBJECT,
    REL_OSTATUS_SUBSCRIBE,
    CopyLink,
    Discovery,
    DiscoveryCache,
    Handle,
    HandleError,
    Jrd,
    Redirect,
    Resolver,
    Template,
    _nodeinfo_href,
    _software_name,
    acceptable_target,
    fill_template,
    interaction_templates,
    is_home_server,
    parse_handle,
    parse_jrd,
    resolve_interaction_url,
)
from praatmee_site.remote_interaction.netguard import FetchFailed, GuardRefused, NetGuard
from tests.support.fediverse import (
    FORBIDDEN_NAMES,
    POST_URI,
    POST_URI_ENCODED,
    SHARED_FIXTURES,
    FakeResolver,
    raw_http_response,
)

pytestmark = pytest.mark.usefixtures("connect_spy")


# --- reading handles ----------------------------------------------------------------------------

@pytest.mark.parametrize("text, handle", [
    ("@naam@server.nl", Handle("server.nl", "naam")),
    ("naam@server.nl", Handle("server.nl", "naam")),
    ("server.nl", Handle("server.nl")),
    ("https://server.nl/@naam", Handle("server.nl", "naam")),
    ("  @naam@server.nl \n", Handle("server.nl", "naam")),
    ("naam@SERVER.NL", Handle("server.nl", "naam")),
    ("Server.NL/", Handle("server.nl")),
    ("https://server.nl/@naam/", Handle("server.nl", "naam")),
    ("HTTPS://Server.NL/", Handle("server.nl")),
    ("server.nl.", Handle("server.nl")),
    ("acct:naam@server.nl", Handle("server.nl", "naam")),
    ("naam@bücher.example", Handle("xn--bcher-kva.example", "naam")),
    ("https://bücher.example/@naam", Handle("xn--bcher-kva.example", "naam")),
    ("naam@xn--bcher-kva.example", Handle("xn--bcher-kva.example", "naam")),
    ("https://server.nl/users/naam", Handle("server.nl", "naam")),
    ("https://server.nl/@naam@elders.nl", Handle("elders.nl", "naam")),
    ("https://server.nl/explore", Handle("server.nl")),
    ("https://server.nl/?q=1#top", Handle("server.nl")),
    ("naam.achternaam@server.nl", Handle("server.nl", "naam.achternaam")),
    ("127.0.0.1.nip.io", Handle("127.0.0.1.nip.io")),  # a name: the guard judges where it leads
])
def test_accepted_forms(text, handle):
    assert parse_handle(text) == handle


@pytest.mark.parametrize("text, code", [
    ("", "empty"),
    ("   ", "empty"),
    ("n" * 312 + "@server.nl", "too_long"),
    ("naam @server.nl", "contains_space"),
    ("naam@ser ver.nl", "contains_space"),
    ("@naam", "missing_domain"),
    ("naam@", "missing_domain"),
    ("@", "missing_domain"),
    ("naam@localhost", "no_dot"),
    ("localhost", "no_dot"),
    ("localhost.", "no_dot"),
    ("https://localhost/", "no_dot"),
    ("naam@127.0.0.1", "ip_literal"),
    ("127.0.0.1", "ip_literal"),
    ("2130706433", "ip_literal"),
    ("0177.0.0.1", "ip_literal"),
    ("0x7f.1", "ip_literal"),
    ("0x7f000001", "ip_literal"),
    ("127.1", "ip_literal"),
    ("１２７。０。０。１", "ip_literal"),
    ("[::1]", "ip_literal"),
    ("naam@[::1]", "ip_literal"),
    ("::1", "ip_literal"),
    ("::ffff:127.0.0.1", "ip_literal"),
    ("naam@::ffff:7f00:1", "ip_literal"),
    ("fe80::1%eth0", "ip_literal"),
    ("https://127.0.0.1/", "ip_literal"),
    ("https://2130706433/@naam", "ip_literal"),
    ("https://[::1]/", "ip_literal"),
    ("https://[::ffff:127.0.0.1]/@naam", "ip_literal"),
    ("https://[::1", "ip_literal"),
    ("https://a:b@x.nl", "credentials"),
    ("https://a@x.nl/@naam", "credentials"),
    ("https://x.nl:8443/", "port"),
    ("https://x.nl:443/", "port"),
    ("https://x.nl:/", "port"),
    ("x.nl:8080", "port"),
    ("naam@x.nl:443", "port"),
    ("localhost:80", "port"),
    ("http://server.nl/@naam", "not_https"),
    ("ftp://server.nl", "not_https"),
    ("javascript:alert(1)", "not_https"),
    ("mailto:naam@server.nl", "not_https"),
    ("naam@bar@server.nl", "invalid"),
    ("na/am@server.nl", "invalid"),
    ("naam@server.nl/pad", "invalid"),
    ("naam@ser_ver.nl", "invalid"),
    ("naam@-server.nl", "invalid"),
    ("naam@server..nl", "invalid"),
    ("https://", "invalid"),
    ("https://x.nl:abc/", "invalid"),
])
def test_refused_input_says_why(text, code):
    with pytest.raises(HandleError) as error:
        parse_handle(text)
    assert error.value.code == code


def test_the_error_codes_are_the_documented_ones():
    assert HANDLE_ERROR_CODES == {
        "empty", "too_long", "contains_space", "missing_domain", "no_dot", "ip_literal",
        "credentials", "port", "not_https", "invalid"}


def test_320_characters_is_still_fine():
    text = "n" * (320 - len("@server.nl")) + "@server.nl"
    assert parse_handle(text).username == "n" * 310


def test_an_account_has_an_acct():
    assert Handle("server.nl", "naam").acct == "naam@server.nl"
    assert Handle("server.nl").acct is None


@pytest.mark.parametrize("text", ["naam@social.amsterdam.nl", "https://Social.Amsterdam.NL/@x",
                                  "social.amsterdam.nl."])
def test_handles_on_our_own_server_are_recognised(text):
    assert is_home_server(parse_handle(text), "https://social.amsterdam.nl")


def test_other_servers_are_not_ours():
    handle = parse_handle("naam@amsterdam.nl")
    assert not is_home_server(handle, "https://social.amsterdam.nl")
    assert is_home_server(handle, ["https://social.amsterdam.nl", "amsterdam.nl"])
    assert not is_home_server(handle, "")


# --- templates ----------------------------------------------------------------------------------

def test_the_post_uri_is_percent_encoded_completely():
    url = fill_template("https://x.nl/authorize_interaction?uri={uri}", {"uri": POST_URI})
    assert url == f"https://x.nl/authorize_interaction?uri={POST_URI_ENCODED}"


def test_unknown_template_variables_become_empty():
    url = fill_template("https://x.nl/go?o={object}&s={on-success}&x={foo}", {"object": "a b/c?"})
    assert url == "https://x.nl/go?o=a%20b%2Fc%3F&s=&x="


def test_fep_3b86_object_wins_over_the_ostatus_template():
    jrd = parse_jrd({"links": [
        {"rel": "http://ostatus.org/schema/1.0/subscribe", "template": "https://x.nl/old?uri={uri}"},
        {"rel": "https://w3id.org/fep/3b86/Create", "template": "https://x.nl/share?text={content}"},
        {"rel": "https://w3id.org/fep/3b86/Object", "template": "https://x.nl/new?o={object}"},
    ]})
    assert interaction_templates(jrd) == [
        Template("https://x.nl/new?o={object}", "object", "fep-3b86"),
        Template("https://x.nl/old?uri={uri}", "uri", "ostatus-subscribe"),
    ]


@pytest.mark.parametrize("document", [None, [], "x", {"links": None}, {"links": [None, 3, {"rel": 5}]},
                                      {"links": [{"rel": "http://ostatus.org/schema/1.0/subscribe",
                                                  "template": None}]}])
def test_odd_documents_give_no_template(document):
    jrd = parse_jrd(document)
    assert jrd is None or interaction_templates(jrd) == []


# Every recorded WebFinger document and the template (OStatus subscribe, none of them has
# FEP-3b86 yet) we would use from it.
REAL_JRDS = {
    "friendica.json": None,
    "funkwhale.json": None,
    "gnu-social.json": "https://gnusocial.net/main/remotefollowsub?profile={uri}",
    "hubzilla.json": "https://authorship.studio/follow?f=&url={uri}",
    "lemmy.json": None,
    "mastodon.json": "https://mastodon.social/authorize_interaction?uri={uri}",
    "micro-blog.json": "https://micro.blog/mastodon/follow?url={uri}",
    "misskey.json": "https://misskey.io/authorize-follow?acct={uri}",
    "mobilizon.json": "https://mobilizon.fr/interact?uri={uri}",
    "peertube.json": "https://framapiaf.org/authorize_interaction?uri={uri}",
    "pixelfed.json": None,
    "pleroma.json": "https://stereophonic.space/ostatus_subscribe?acct={uri}",
    "plume.json": "https://fediverse.blog/remote_interact?target={uri}",
    "streams.json": "https://macgirvin.com/follow?url={uri}",
    "threads.json": None,
    "writefreely.json": None,
}
SPEC_JRDS = {
    "activitypub-webfinger.txt": "https://ap.example.com/authorize_follow?acct={uri}",
    "activitypub-webfinger-noncanonical.txt": "https://ap.example.com/authorize_follow?acct={uri}",
    "broken-webfinger.txt": "https://quitter.no/main/ostatussub?profile={uri}",
    "webfinger.txt": "https://quitter.no/main/ostatussub?profile={uri}",
    "webfinger-hacker1.txt": "https://quitter.no/main/ostatussub?profile={uri}",
    "webfinger-hacker2.txt": "https://quitter.no/main/ostatussub?profile={uri}",
    "webfinger-hacker3.txt": "https://kickass.zone/main/ostatussub?profile={uri}",
    "webfinger-noncanonical.txt": "https://quitter.no/main/ostatussub?profile={uri}",
    "localdomain-webfinger.txt": None,  # XRD, not JSON: nothing for us
}


def test_every_recorded_document_is_covered():
    assert sorted(p.name for p in (SHARED_FIXTURES / "webfinger" / "real").glob("*.json")) == sorted(REAL_JRDS)
    assert sorted(p.name for p in (SHARED_FIXTURES / "webfinger" / "mastodon-spec").glob("*.txt")) == sorted(SPEC_JRDS)


def _templates(document) -> list[str]:
    jrd = parse_jrd(document)
    return [t.template for t in interaction_templates(jrd)] if jrd else []


@pytest.mark.parametrize("name, expected", sorted(REAL_JRDS.items()))
def test_recorded_webfinger_documents_yield_their_template(name, expected):
    document = json.loads((SHARED_FIXTURES / "webfinger" / "real" / name).read_text())
    assert _templates(document) == ([expected] if expected else [])


@pytest.mark.parametrize("name, expected", sorted(SPEC_JRDS.items()))
def test_mastodons_recorded_responses_yield_their_template(name, expected):
    status, headers, body = raw_http_response(f"webfinger/mastodon-spec/{name}")
    try:
        document = json.loads(body)
    except ValueError:
        document = None
    assert status == 200
    assert _templates(document) == ([expected] if expected else [])


def _recorded_target(name: str, **changes) -> tuple[str, Jrd]:
    document = json.loads((SHARED_FIXTURES / "webfinger" / "real" / name).read_text())
    document.update(changes)
    jrd = parse_jrd(document)
    template = interaction_templates(jrd)[0]
    return fill_template(template.template, {template.variable: POST_URI}), jrd


@pytest.mark.parametrize("name", sorted(n for n, t in REAL_JRDS.items() if t and n != "micro-blog.json"))
def test_every_recorded_template_leads_to_an_acceptable_url(name):
    # Asked for the account in its subject, every server names its template's host outside the template.
    url, jrd = _recorded_target(name)
    account_domain = jrd.subject.rsplit("@", 1)[1]
    assert acceptable_target(url, jrd.named_hosts() | {account_domain})
    assert url.endswith(POST_URI_ENCODED)


def test_the_recorded_micro_blog_document_names_its_template_host_only_in_the_template():
    # micro.blog serves the template on micro.blog for an account on manton.org, and names micro.blog
    # nowhere else: by the rule, that target is not the server's to choose, so residents copy the link.
    url, jrd = _recorded_target("micro-blog.json")
    assert url.startswith("https://micro.blog/")
    assert not acceptable_target(url, jrd.named_hosts() | {"manton.org"})
    # Once the document names micro.blog elsewhere (an alias, a link), the template is followed again.
    url, jrd = _recorded_target("micro-blog.json", aliases=["https://micro.blog/manton"])
    assert acceptable_target(url, jrd.named_hosts() | {"manton.org"})


def test_a_host_named_only_inside_a_template_is_not_named_by_the_document():
    jrd = parse_jrd({"subject": "acct:naam@server.nl", "links": [
        {"rel": REL_OSTATUS_SUBSCRIBE, "template": "https://elders.nl/authorize_interaction?uri={uri}"},
        {"rel": REL_FEP_3B86_OBJECT, "template": "https://ergens.nl/x?o={object}"},
    ]})
    assert jrd.named_hosts() == {"server.nl"}


@pytest.mark.parametrize("document", [
    {"subject": "acct:naam@elders.nl"},
    {"subject": "acct:naam@server.nl", "aliases": ["https://elders.nl/@naam"]},
    {"subject": "acct:naam@server.nl", "aliases": ["acct:naam@elders.nl"]},
    {"subject": "https://elders.nl/users/naam"},
    {"links": [{"rel": "http://webfinger.net/rel/profile-page", "href": "https://elders.nl/@naam"}]},
])
def test_the_subject_the_aliases_and_the_links_hrefs_name_hosts(document):
    document = dict(document)
    document.setdefault("links", [])
    document["links"] = [*document["links"],
                         {"rel": REL_OSTATUS_SUBSCRIBE, "template": "https://elders.nl/authorize_interaction?uri={uri}"}]
    assert "elders.nl" in parse_jrd(document).named_hosts()


@pytest.mark.parametrize("url, acceptable", [
    ("https://server.nl/authorize_interaction?uri=x", True),
    ("https://server.nl:443/authorize_interaction?uri=x", True),
    ("https://elders.nl/authorize_interaction?uri=x", False),
    ("http://server.nl/authorize_interaction?uri=x", False),
    ("https://server.nl:8443/x", False),
    ("https://a:b@server.nl/x", False),
    ("https://127.0.0.1/x", False),
    ("https://[::1]/x", False),
    ("https://localhost/x", False),
    ("javascript:alert(1)", False),
    ("//server.nl/x", False),
    ("/authorize_interaction?uri=x", False),
    ("https://server.nl/x\r\nSet-Cookie: a=b", False),
    ("https://server.nl/ü", False),
])
def test_where_we_may_send_a_resident(url, acceptable):
    assert acceptable_target(url, {"server.nl", "localhost", "127.0.0.1"}) is acceptable


# --- resolving against the fake fediverse -------------------------------------------------------

def resolve(fediverse, text: str, **guard_settings):
    return Resolver(fediverse.guard(**guard_settings)).resolve(parse_handle(text), POST_URI)


def test_mastodon_with_fep_3b86_gets_the_object_intent(fediverse):
    assert resolve(fediverse, "@naam@mastodon.test") == Redirect(
        f"https://mastodon.test/authorize_interaction?uri={POST_URI_ENCODED}", None, "fep-3b86")
    assert fediverse.requests == [("mastodon.test", "/.well-known/webfinger?resource=acct:naam@mastodon.test")]


def test_mastodon_with_only_the_ostatus_template_gets_authorize_interaction(fediverse):
    assert resolve(fediverse, "naam@oldmastodon.test") == Redirect(
        f"https://oldmastodon.test/authorize_interaction?uri={POST_URI_ENCODED}", None, "ostatus-subscribe")


def test_mastodon_whose_webfinger_fails_is_found_through_nodeinfo(fediverse):
    assert resolve(fediverse, "naam@quietmastodon.test") == Redirect(
        f"https://quietmastodon.test/authorize_interaction?uri={POST_URI_ENCODED}", "mastodon", "nodeinfo")
    assert [path for _, path in fediverse.requests] == [
        "/.well-known/webfinger?resource=acct:naam@quietmastodon.test",
        "/.well-known/nodeinfo",
        "/nodeinfo/2.0",
    ]


def test_pleroma_gets_ostatus_subscribe_with_acct_from_its_template(fediverse):
    assert resolve(fediverse, "naam@pleroma.test") == Redirect(
        f"https://pleroma.test/ostatus_subscribe?acct={POST_URI_ENCODED}", None, "ostatus-subscribe")


def test_akkoma_without_a_template_gets_ostatus_subscribe_with_acct(fediverse):
    assert resolve(fediverse, "naam@akkoma.test") == Redirect(
        f"https://akkoma.test/ostatus_subscribe?acct={POST_URI_ENCODED}", "akkoma", "nodeinfo")


def test_misskey_gets_authorize_follow_with_acct(fediverse):
    assert resolve(fediverse, "naam@misskey.test") == Redirect(
        f"https://misskey.test/authorize-follow?acct={POST_URI_ENCODED}", None, "ostatus-subscribe")


def test_sharkey_is_found_through_nodeinfo_2_1_and_gets_authorize_follow(fediverse):
    assert resolve(fediverse, "naam@sharkey.test") == Redirect(
        f"https://sharkey.test/authorize-follow?acct={POST_URI_ENCODED}", "sharkey", "nodeinfo")
    assert ("sharkey.test", "/nodeinfo/2.0") not in fediverse.requests


def test_friendica_gets_contact_follow_with_url(fediverse):
    assert resolve(fediverse, "naam@friendica.test") == Redirect(
        f"https://friendica.test/contact/follow?url={POST_URI_ENCODED}", "friendica", "nodeinfo")


def test_pixelfed_gets_authorize_interaction(fediverse):
    assert resolve(fediverse, "naam@pixelfed.test") == Redirect(
        f"https://pixelfed.test/authorize_interaction?uri={POST_URI_ENCODED}", "pixelfed", "nodeinfo")


def test_gotosocial_has_no_way_in_so_the_resident_copies_the_link(fediverse):
    assert resolve(fediverse, "naam@gts.test") == CopyLink("gts.test", "no_way_in", "gotosocial")


@pytest.mark.parametrize("text, software", [("naam@unknown.test", "someserver"), ("naam@silent.test", None),
                                            ("naam@xrd.test", None)])
def test_a_server_that_answers_without_saying_anything_useful_gets_mastodons_path(fediverse, text, software):
    domain = text.split("@")[1]
    assert resolve(fediverse, text) == Redirect(
        f"https://{domain}/authorize_interaction?uri={POST_URI_ENCODED}", software, "fallback")


def test_a_bare_domain_asks_for_the_server_itself_then_its_own_account(fediverse):
    assert resolve(fediverse, "silent.test").via == "fallback"
    assert [path for _, path in fediverse.requests][:2] == [
        "/.well-known/webfinger?resource=https:%2F%2Fsilent.test%2F",
        "/.well-known/webfinger?resource=acct:silent.test@silent.test",
    ]


def test_a_bare_mastodon_domain_is_resolved_from_its_instance_document(fediverse):
    assert resolve(fediverse, "https://mastodon.test/").via == "fep-3b86"
    assert len(fediverse.requests) == 1


def test_micro_blog_as_recorded_gets_the_link_to_copy(fediverse):
    # The recorded document names micro.blog only inside its template (see the unit test above).
    assert resolve(fediverse, "naam@manton.test") == CopyLink("manton.test", "refused")


def test_micro_blog_sends_residents_to_the_template_host_when_it_names_it_elsewhere(fediverse):
    assert resolve(fediverse, "naam@manton-alias.test") == Redirect(
        f"https://micro.test/mastodon/follow?url={POST_URI_ENCODED}", None, "ostatus-subscribe")


def test_a_template_on_a_host_the_server_names_nowhere_else_is_refused(fediverse):
    assert resolve(fediverse, "naam@stranger.test") == CopyLink("stranger.test", "refused")
    assert fediverse.hosts_contacted() == ["stranger.test"]  # and phish.test was never asked anything


def test_a_custom_domain_whose_webfinger_redirects_leads_to_the_real_server(fediverse):
    assert resolve(fediverse, "naam@hop.test") == Redirect(
        f"https://mastodon.test/authorize_interaction?uri={POST_URI_ENCODED}", None, "fep-3b86")


def test_templates_that_are_not_https_on_a_named_host_are_refused(fediverse):
    assert resolve(fediverse, "naam@offsite.test") == CopyLink("offsite.test", "refused")


@pytest.mark.parametrize("text", ["naam@broken.test", "naam@nowhere.test", "naam@redirector.test",
                                  "naam@literal.test", "naam@plaintext.test", "naam@loop.test",
                                  "naam@nocert.test"])
def test_unreachable_servers_get_the_copy_link_fallback_naming_the_domain(fediverse, text):
    domain = text.split("@")[1]
    assert resolve(fediverse, text) == CopyLink(domain, "unreachable")
    assert all(path.startswith("/.well-known/webfinger") for _, path in fediverse.requests)


def test_a_hanging_server_is_unreachable_quickly(fediverse):
    assert resolve(fediverse, "naam@hang.test", read_timeout=0.2) == CopyLink("hang.test", "unreachable")


def test_the_resolution_budget_covers_all_requests_together(fediverse):
    resolver = Resolver(fediverse.guard(), budget=0.0)
    assert resolver.resolve(parse_handle("naam@mastodon.test"), POST_URI) == CopyLink(
        "mastodon.test", "unreachable")
    assert fediverse.requests == []


def test_a_redirect_to_the_metadata_service_is_refused_before_any_connection(fediverse, connect_spy):
    assert resolve(fediverse, "naam@redirector.test") == CopyLink("redirector.test", "unreachable")
    assert "metadata.test" in fediverse.resolver.calls
    assert connect_spy.addresses == ["127.0.0.1"]  # redirector.test, never 169.254.169.254


# --- strangers' documents in every shape -------------------------------------------------------

class ScriptedGuard:
    """Answers each kind of request with a given document (or raises it); contacts nothing."""

    def __init__(self, webfinger: Any = None, index: Any = None, nodeinfo: Any = None):
        self.answers = {"webfinger": webfinger, "index": index, "nodeinfo": nodeinfo}
        self.urls: list[str] = []

    def get_json(self, url: str, *, deadline: float | None = None) -> tuple[int, Any]:
        self.urls.append(url)
        kind = ("webfinger" if "/.well-known/webfinger" in url
                else "index" if url.endswith("/.well-known/nodeinfo") else "nodeinfo")
        answer = self.answers[kind]
        if isinstance(answer, Exception):
            raise answer
        return 200, answer


NI20 = "http://nodeinfo.diaspora.software/ns/schema/2.0"
FEP = "https://w3id.org/fep/3b86/Object"
OSTATUS = "http://ostatus.org/schema/1.0/subscribe"
# JSON can hold a list, an object, a number, a boolean or null wherever a string is expected.
ODD_VALUES = [["x"], {"a": "b"}, 3, 2.5, True, None, "", [], {}]
HOSTILE_WEBFINGER = [
    *ODD_VALUES,
    *({"links": value} for value in ODD_VALUES),
    *({"links": [value]} for value in ODD_VALUES),
    *({"links": [{"rel": value, "template": "https://odd.test/x?uri={uri}"}]} for value in ODD_VALUES),
    *({"links": [{"rel": rel, "template": value}]} for value in ODD_VALUES for rel in (FEP, OSTATUS)),
    *({"links": [{"rel": OSTATUS, "href": value, "template": "https://odd.test/x?uri={uri}"}]}
      for value in ODD_VALUES),
    *({"subject": value, "aliases": value} for value in ODD_VALUES),
    {"aliases": ODD_VALUES, "links": [{"rel": OSTATUS, "template": "https://odd.test/x?uri={uri}"}]},
    {"subject": "acct:", "aliases": ["acct:@", "https://[::1", "https://x:y/", "https://\u0000/"]},
    {"links": [{"rel": OSTATUS, "template": "https://[::1/{uri}"}]},
    {"links": [{"rel": OSTATUS, "template": "https://odd.test:99999/{uri}"}]},
    {"links": [{"rel": OSTATUS, "template": "{uri}"}]},
    {"links": [{"rel": OSTATUS, "template": "https://odd.test/" + "{" * 1000 + "uri" + "}" * 1000}]},
]
HOSTILE_INDEX = [
    *ODD_VALUES,
    *({"links": value} for value in ODD_VALUES),
    *({"links": [value]} for value in ODD_VALUES),
    *({"links": [{"rel": value, "href": "https://odd.test/ni"}]} for value in ODD_VALUES),
    *({"links": [{"rel": NI20, "href": value}]} for value in ODD_VALUES),
    {"links": [{"rel": NI20, "href": "https://[::1/ni"}]},
]
HOSTILE_NODEINFO = [
    *ODD_VALUES,
    *({"software": value} for value in ODD_VALUES),
    *({"software": {"name": value}} for value in ODD_VALUES),
]


def _outcome(guard: ScriptedGuard):
    return Resolver(guard, DiscoveryCache()).resolve(parse_handle("naam@odd.test"), POST_URI)


@pytest.mark.parametrize("document", HOSTILE_WEBFINGER)
def test_any_webfinger_shape_gives_an_answer_never_an_exception(document):
    result = _outcome(ScriptedGuard(webfinger=document, index={}, nodeinfo={}))
    assert isinstance(result, (Redirect, CopyLink))
    assert result != CopyLink("odd.test", "unreachable")  # read and judged, not given up on


@pytest.mark.parametrize("index", HOSTILE_INDEX)
def test_any_nodeinfo_index_shape_gives_an_answer_never_an_exception(index):
    result = _outcome(ScriptedGuard(webfinger={}, index=index, nodeinfo={"software": {"name": "pleroma"}}))
    assert isinstance(result, Redirect) and result.url.startswith("https://odd.test/")


@pytest.mark.parametrize("document", HOSTILE_NODEINFO)
def test_any_nodeinfo_shape_gives_an_answer_never_an_exception(document):
    index = {"links": [{"rel": NI20, "href": "https://odd.test/ni"}]}
    result = _outcome(ScriptedGuard(webfinger={}, index=index, nodeinfo=document))
    assert result == Redirect(f"https://odd.test/authorize_interaction?uri={POST_URI_ENCODED}", None, "fallback")


def test_a_nodeinfo_link_whose_rel_is_not_a_string_is_skipped():
    index = {"links": [{"rel": [NI20], "href": "https://odd.test/wrong"},
                       {"rel": {"rel": NI20}, "href": "https://odd.test/wrong"},
                       {"rel": NI20, "href": ["https://odd.test/wrong"]},
                       {"rel": NI20, "href": "https://odd.test/ni"}]}
    assert _nodeinfo_href(index) == "https://odd.test/ni"
    result = _outcome(ScriptedGuard(webfinger={}, index=index, nodeinfo={"software": {"name": "akkoma"}}))
    assert result == Redirect(f"https://odd.test/ostatus_subscribe?acct={POST_URI_ENCODED}", "akkoma", "nodeinfo")


def test_the_best_nodeinfo_schema_still_wins():
    index = {"links": [{"rel": NODEINFO_RELS[1], "href": "https://odd.test/2.0"},
                       {"rel": NODEINFO_RELS[0], "href": "https://odd.test/2.1"}]}
    assert _nodeinfo_href(index) == "https://odd.test/2.1"


@pytest.mark.parametrize("document, name", [({"software": {"name": " Mastodon "}}, "mastodon"),
                                            ({"software": {"name": ["mastodon"]}}, None),
                                            ({"software": ["mastodon"]}, None)])
def test_the_software_name_is_read_only_from_a_string(document, name):
    assert _software_name(document) == name


@pytest.mark.parametrize("error", [TypeError("unhashable type: 'list'"), KeyError("rel"), AttributeError("get"),
                                   RecursionError(), UnicodeError("odd"),
                                   ValueError("bad URL https://odd.test/.well-known/webfinger?resource=acct:geheim@odd.test")])
def test_anything_unforeseen_makes_the_server_unreachable_and_is_logged_once(error, caplog):
    guard = ScriptedGuard(webfinger=error)
    cache = DiscoveryCache()
    resolver = Resolver(guard, cache)
    with caplog.at_level(logging.WARNING, logger="praatmee_site.remote_interaction.discovery"):
        for _ in range(2):
            assert resolver.resolve(parse_handle("geheim@odd.test"), POST_URI) == CopyLink("odd.test", "unreachable")
    records = [r for r in caplog.records if r.name == "praatmee_site.remote_interaction.discovery"]
    assert len(records) == 1 and records[0].levelno == logging.WARNING  # the failure is cached a while
    assert "odd.test" in records[0].getMessage() and "geheim" not in caplog.text
    assert len(guard.urls) == 1


def test_when_our_lookup_slots_are_full_nothing_is_remembered_about_the_server():
    busy = FetchFailed("busy", url="https://odd.test/.well-known/webfinger")
    guard = ScriptedGuard(webfinger=busy)
    cache = DiscoveryCache()
    resolver = Resolver(guard, cache)
    # We never asked, so the resident hears that it is busy (try again), not that their server is away.
    assert resolver.resolve(parse_handle("naam@odd.test"), POST_URI) == CopyLink("odd.test", "busy")
    assert cache.get("odd.test") is None
    guard.answers["webfinger"] = {"links": [{"rel": OSTATUS, "template": "https://odd.test/go?uri={uri}"}]}
    assert resolver.resolve(parse_handle("naam@odd.test"), POST_URI).url == f"https://odd.test/go?uri={POST_URI_ENCODED}"


def test_a_busy_nodeinfo_fallback_is_not_remembered_either():
    guard = ScriptedGuard(webfinger={}, index=FetchFailed("busy"))
    cache = DiscoveryCache()
    assert Resolver(guard, cache).resolve(parse_handle("naam@odd.test"), POST_URI).via == "fallback"
    assert cache.get("odd.test") is None


# --- the SSRF corpus, with the guard on ---------------------------------------------------------

SSRF_CORPUS = [
    # what a resident might type, and the HandleError code if parsing already stops it
    ("localhost", "no_dot"),
    ("naam@localhost", "no_dot"),
    ("localhost.", "no_dot"),
    ("naam@localhost.localdomain", None),
    ("127.0.0.1", "ip_literal"),
    ("naam@127.0.0.1", "ip_literal"),
    ("2130706433", "ip_literal"),
    ("naam@0177.0.0.1", "ip_literal"),
    ("naam@0x7f.1", "ip_literal"),
    ("naam@0x7f000001", "ip_literal"),
    ("naam@127.1", "ip_literal"),
    ("naam@0.0.0.0", "ip_literal"),
    ("naam@169.254.169.254", "ip_literal"),
    ("naam@[::1]", "ip_literal"),
    ("naam@[::ffff:127.0.0.1]", "ip_literal"),
    ("naam@[::ffff:a9fe:a9fe]", "ip_literal"),
    ("naam@[64:ff9b::7f00:1]", "ip_literal"),
    ("https://[::1]/@naam", "ip_literal"),
    ("https://0x7f.1/@naam", "ip_literal"),
    ("https://127.0.0.1:8080/", "ip_literal"),
    ("https://mastodon.test:8443/@naam", "port"),
    ("https://naam:geheim@mastodon.test/", "credentials"),
    ("http://169.254.169.254/latest/meta-data/", "not_https"),
    ("file:///etc/passwd", "not_https"),
    ("gopher://127.0.0.1:25/", "not_https"),
    # names that only the resolver unmasks
    ("naam@127.0.0.1.nip.io", None),
    ("naam@10.0.0.1.nip.io", None),
    ("naam@metadata.test", None),
    ("naam@intranet.test", None),
    ("naam@v6.test", None),
    ("naam@mapped.test", None),
    ("naam@nat64.test", None),
    ("naam@sixtofour.test", None),
    ("naam@cgnat.test", None),
    ("naam@multicast.test", None),
    ("naam@mixed.test", None),
]
SSRF_NAMES = {
    **FORBIDDEN_NAMES,
    "localhost.localdomain": ["127.0.0.1"],
    "127.0.0.1.nip.io": ["127.0.0.1"],
    "10.0.0.1.nip.io": ["10.0.0.1"],
    "v6.test": ["::1"],
    "mapped.test": ["::ffff:127.0.0.1"],
    "nat64.test": ["64:ff9b::a9fe:a9fe"],
    "sixtofour.test": ["2002:7f00:1::"],
    "cgnat.test": ["100.64.0.1"],
    "multicast.test": ["ff02::1"],
    "mixed.test": ["8.8.8.8", "192.168.0.1"],
}


@pytest.mark.parametrize("text, code", SSRF_CORPUS)
def test_ssrf_corpus_contacts_nothing(text, code, connect_spy):
    resolver = FakeResolver(SSRF_NAMES)
    guard = NetGuard(resolver=resolver)  # the guard as in production: no exceptions
    try:
        handle = parse_handle(text)
    except HandleError as error:
        assert error.code == code
        assert resolver.calls == []
    else:
        assert code is None, f"{text!r} should have been refused as {code}"
        assert Resolver(guard).resolve(handle, POST_URI) == CopyLink(handle.domain, "unreachable")
        with pytest.raises(GuardRefused) as refused:
            guard.get_json(f"https://{handle.domain}/.well-known/webfinger")
        assert refused.value.code == "address"
    assert connect_spy.addresses == []


# --- the cache ----------------------------------------------------------------------------------

class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_found_way_in_is_kept_for_a_day(fediverse):
    clock = FakeClock()
    cache = DiscoveryCache(clock=clock)
    guard = fediverse.guard()
    resolve_interaction_url(parse_handle("naam@misskey.test"), POST_URI, guard=guard, cache=cache)
    clock.now += 24 * 60 * 60 - 1
    # Another account and another post on the same server: the cache is per domain, per template.
    second = resolve_interaction_url(parse_handle("ander@misskey.test"), "https://x.test/2",
                                     guard=guard, cache=cache)
    assert second.url == "https://misskey.test/authorize-follow?acct=https%3A%2F%2Fx.test%2F2"
    assert len(fediverse.requests) == 1
    clock.now += 2
    resolve_interaction_url(parse_handle("naam@misskey.test"), POST_URI, guard=guard, cache=cache)
    assert len(fediverse.requests) == 2


def test_no_way_in_is_an_answer_and_kept_for_a_day_too(fediverse):
    clock = FakeClock()
    cache = DiscoveryCache(clock=clock)
    resolver = Resolver(fediverse.guard(), cache)
    resolver.resolve(parse_handle("naam@gts.test"), POST_URI)
    clock.now += 23 * 60 * 60
    assert resolver.resolve(parse_handle("naam@gts.test"), POST_URI).reason == "no_way_in"
    assert len(fediverse.requests) == 3  # webfinger, nodeinfo index, nodeinfo


def test_an_unreachable_server_is_asked_again_after_five_minutes(fediverse):
    clock = FakeClock()
    resolver = Resolver(fediverse.guard(), DiscoveryCache(clock=clock))
    handle = parse_handle("naam@broken.test")
    assert resolver.resolve(handle, POST_URI).reason == "unreachable"
    clock.now += 299
    resolver.resolve(handle, POST_URI)
    assert len(fediverse.requests) == 1
    clock.now += 1
    resolver.resolve(handle, POST_URI)
    assert len(fediverse.requests) == 2


def test_refused_templates_are_asked_again_after_five_minutes():
    cache = DiscoveryCache(clock=FakeClock())
    discovery = Discovery("offsite.test", copy_reason="refused")
    cache.put(discovery)
    cache.clock.now += 300
    assert cache.get("offsite.test") is None


def test_a_fallback_after_a_failing_nodeinfo_is_kept_briefly():
    cache = DiscoveryCache(clock=FakeClock())
    template = Template("https://x.test/authorize_interaction?uri={uri}", "uri", "fallback")
    cache.put(Discovery("x.test", template, frozenset({"x.test"}), transient=True))
    cache.clock.now += 300
    assert cache.get("x.test") is None


def test_without_a_cache_every_call_asks_the_server(fediverse):
    for _ in range(2):
        resolve_interaction_url(parse_handle("naam@pleroma.test"), POST_URI, guard=fediverse.guard())
    assert len(fediverse.requests) == 2


def test_the_cache_is_bounded():
    cache = DiscoveryCache(clock=FakeClock(), max_entries=3)
    for n in range(5):
        cache.put(Discovery(f"s{n}.test", copy_reason="unreachable"))
    assert [cache.get(f"s{n}.test") is not None for n in range(5)] == [False, False, True, True, True]


def test_a_server_residents_keep_using_stays_while_strangers_look_up_others():
    cache = DiscoveryCache(clock=FakeClock(), max_entries=3)
    cache.put(Discovery("mastodon.test", copy_reason="no_way_in"))
    for n in range(100):  # made-up domains, one after another, with our residents' server used between
        cache.put(Discovery(f"made-up-{n}.test", copy_reason="unreachable"))
        assert cache.get("mastodon.test") is not None
    assert len(cache) == 3


def test_the_cache_is_safe_across_threads():
    cache = DiscoveryCache(max_entries=50)
    errors = []

    def work(offset: int) -> None:
        try:
            for n in range(500):
                domain = f"s{(n + offset) % 80}.test"
                cache.put(Discovery(domain, copy_reason="unreachable"))
                cache.get(domain)
        except Exception as exc:  # noqa: BLE001 - collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i * 7,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(cache) <= 50


# --- the module's own rules ---------------------------------------------------------------------

def test_the_software_table_points_at_the_documented_paths():
    assert KNOWN_SOFTWARE["mastodon"] == KNOWN_SOFTWARE["hometown"] == "/authorize_interaction?uri={uri}"
    assert KNOWN_SOFTWARE["akkoma"] == KNOWN_SOFTWARE["pleroma"] == "/ostatus_subscribe?acct={uri}"
    for fork in ("misskey", "sharkey", "firefish", "iceshrimp", "foundkey", "calckey", "catodon"):
        assert KNOWN_SOFTWARE[fork] == "/authorize-follow?acct={uri}"
    assert KNOWN_SOFTWARE["friendica"] == "/contact/follow?url={uri}"
    assert "gotosocial" not in KNOWN_SOFTWARE


