"""Moderation (issue 15): staff hide a reply, an account or a server, with a reason, everywhere at once.

Against the suite's fake home server (tests/fixtures): the thread 100 of @stad has the replies
101 (Ann, answered by 102 of the city), 103–105 below it, 106 and 109 of bob@other.example, and 107
of layla@rtl.example. Pages are read as a browser on a phone would ask for them.
"""
from __future__ import annotations

import re
import time
from datetime import datetime, timezone

import pytest
import responses

from praatmee_site import moderation
from praatmee_site.db import AuditEntry, ModerationHide
from praatmee_site.mastodon import build_thread, parse_context, parse_status
from praatmee_site.staff.accounts import StaffDirectory
from praatmee_site.web.services import current_db, current_home_server
from tests.conftest import HOME, fixture_json
from tests.support.xss_corpus import VECTORS, hostile_context
from tests.test_content import executable_parts
from tests.test_staff import EMAIL, PASSWORD, log_in

PHONE = {"User-Agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
                       "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"}
ANN = "Mooi, maar te klein."  # reply 101, answered by the city's 102
ANSWER = "Dank je, we kijken of hij groter kan."  # reply 102
BOB = ("Spoiler inside", "Een video")  # 106 and 109 of bob@other.example
LAYLA = "أحب الدراجات في أمستردام"  # 107 of layla@rtl.example
THREAD = f"{HOME}/@stad/100"
# Every page a resident (or a kiosk, or a snippet) can see, in Dutch and English.
RESIDENT_PAGES = ["/", "/en/", "/c/bieb-oost", "/en/c/bieb-oost", "/kiosk", "/en/kiosk", "/kiosk/bieb-oost",
                  "/en/kiosk/bieb-oost", "/embed/bieb-oost", "/en/embed/bieb-oost", "/reageer?post=101",
                  "/en/reageer?post=101", "/hulp", "/en/hulp"]


def thread(context: dict | None = None):
    root = parse_status(fixture_json("thread_status.json"))
    return build_thread(root, parse_context(context or fixture_json("thread_context.json")))


def hide(kind: str, key: str, reason: str = "Wees aardig.", rule_id: str = "1", hide_id: int = 1):
    return moderation.Hide(hide_id, kind, key, "", reason, rule_id, "medewerker@amsterdam.test",
                           datetime(2026, 11, 2, tzinfo=timezone.utc))


def rules(*hides, approvals=()):
    return moderation.Rules("v1", tuple(hides), tuple(approvals))


def main_of(page: str) -> str:
    return page[page.index("<main"):page.index("</main>")]


OUR_FIELDS = {"csrf_token", "post", "wat", "reden", "eigen_reden", "gesprek", "terug", "id", "url", "domein"}


def staff_executable_parts(page: str) -> list:
    """`executable_parts` of a staff page, less our own forms (to /beheer/, with our own fields)."""
    def ours(part) -> bool:
        if len(part) != 2:
            return False
        tag, attrs = part
        return ((tag == "form" and attrs.get("action", "").startswith("/beheer/"))
                or (tag == "input" and attrs.get("name") in OUR_FIELDS)
                or (tag == "button" and attrs.get("type") == "submit"))
    return [part for part in executable_parts(main_of(page)) if not ours(part)]


# --- the domain: the filter, the reasons, the rules each worker holds ----------------------------

def test_a_hidden_reply_with_answers_leaves_a_stand_in_with_nothing_of_its_own():
    moderated = moderation.apply(thread(), rules(hide("post", "101")), home_domain="social.test")
    stand_in = next(s for s in moderated.thread.replies if s.id == "101")
    assert (stand_in.content, stand_in.url, stand_in.uri, stand_in.account.acct, stand_in.account.display_name,
            stand_in.media, stand_in.poll, stand_in.card, stand_in.spoiler_text) == ("", "", "", "", "", (), None, None, "")
    assert moderated.stand_ins["101"] == moderation.StandIn("101", "Wees aardig.", held=False)
    assert "102" in {s.id for s in moderated.thread.replies}  # the answer stays
    assert moderated.hidden == 1 and moderated.held == 0


def test_a_hidden_reply_nobody_answered_is_not_there_at_all():
    moderated = moderation.apply(thread(), rules(hide("post", "107")), home_domain="social.test")
    assert "107" not in {s.id for s in moderated.thread.replies}
    assert moderated.stand_ins == {} and moderated.hidden == 1


def test_reply_counts_leave_hidden_answers_out():
    moderated = moderation.apply(thread(), rules(hide("post", "101"), hide("post", "107", hide_id=2)),
                                 home_domain="social.test")
    assert moderated.thread.root.replies_count == thread().root.replies_count - 2


def test_an_account_hide_and_a_server_hide_cover_every_post_of_it():
    by_account = moderation.apply(thread(), rules(hide("account", "bob@other.example")), home_domain="social.test")
    assert {"106", "109"}.isdisjoint(s.id for s in by_account.thread.replies) and by_account.hidden == 2
    by_server = moderation.apply(thread(), rules(hide("domain", "rtl.example")), home_domain="social.test")
    assert "107" not in {s.id for s in by_server.thread.replies} and by_server.hidden == 1
    # The home server's own accounts are user@its domain: hiding @ann hides her three replies.
    local = moderation.apply(thread(), rules(hide("account", "ann@social.test")), home_domain="social.test")
    assert local.hidden == 3 and set(local.stand_ins) == {"101", "103"}  # both answered by the city


def test_replies_of_young_accounts_wait_until_approved():
    context = fixture_json("thread_context.json")
    for status in context["descendants"]:
        if status["account"]["acct"] == "layla@rtl.example":
            status["account"]["created_at"] = "2026-10-30T00:00:00.000Z"  # two days before replying
    held = moderation.apply(thread(context), rules(), home_domain="social.test", hold_days=7)
    assert "107" not in {s.id for s in held.thread.replies} and held.held == 1 and held.hidden == 0
    approval = moderation.Approval("107", "", "medewerker@amsterdam.test", datetime.now(timezone.utc))
    approved = moderation.apply(thread(context), rules(approvals=[approval]), home_domain="social.test", hold_days=7)
    assert "107" in {s.id for s in approved.thread.replies}
    assert moderation.apply(thread(context), rules(), home_domain="social.test", hold_days=2).held == 0


def test_reasons_are_a_server_rule_or_a_short_text_of_ones_own():
    server_rules = (moderation.Rule("1", "Wees aardig."), moderation.Rule("2", "Geen spam."))
    assert moderation.clean_reason("2", "", server_rules) == moderation.Reason("Geen spam.", "2")
    assert moderation.clean_reason("anders", "  Scheldwoord\nin de tekst ", server_rules).text == "Scheldwoord in de tekst"
    assert moderation.reason_from_text("1", server_rules) == moderation.Reason("Wees aardig.", "1")
    assert moderation.reason_from_text("geen spam.", server_rules).rule_id == "2"
    for choice, text, code in (("", "", "required"), ("anders", " ", "required"), ("anders", "x" * 201, "too_long"),
                               ("9", "", "unknown_rule")):
        with pytest.raises(moderation.ModerationError) as error:
            moderation.clean_reason(choice, text, server_rules)
        assert error.value.problems[0].code == code


class FlakyStore:
    def __init__(self):
        self.down = False
        self.version_now = "a"

    def version(self):
        if self.down:
            raise OSError("database gone")
        return self.version_now

    def load(self):
        return moderation.Rules(self.version(), (hide("post", "101"),))


def test_a_worker_keeps_the_rules_it_holds_while_the_database_is_away_and_asks_again(caplog):
    store, now = FlakyStore(), [0.0]
    current = moderation.CurrentRules(store, seconds=0.5, retry_seconds=5, clock=lambda: now[0])
    assert current.get().hidden("post", "101")
    store.down, now[0] = True, 1.0
    assert current.get().hidden("post", "101")  # still in force
    assert "could not read the moderation rules" in caplog.text
    store.down, store.version_now, now[0] = False, "b", 3.0
    assert current.get().version == "a"  # the retry waits 5 s, so a dead database is not asked every request
    now[0] = 6.5
    assert current.get().version == "b"


def test_a_worker_that_never_read_the_rules_shows_no_replies(make_app, mastodon):
    mastodon.standard()
    app = make_app()
    store = FlakyStore()
    store.down = True
    with app.app_context():
        current_home_server().moderation = moderation.CurrentRules(store)
    page = app.test_client().get("/", headers=PHONE).text
    assert ANN not in page and "Het gesprek is even niet te laden." in page


# --- the staff pages ------------------------------------------------------------------------------

@pytest.fixture
def site(make_app, mastodon):
    """A site with CSRF on (as in production), a staff member and a campaign on the thread, kiosks in `all`."""
    mastodon.standard()
    context = fixture_json("thread_context.json")
    context["descendants"][0]["created_at"] = "2026-11-02T08:00:00.000Z"  # 101 is the newest: on every kiosk
    mastodon.mock.replace("GET", HOME + "/api/v1/statuses/100/context", json=context)
    app = make_app(WTF_CSRF_ENABLED=True, KIOSK_REPLIES="all")
    from praatmee_site import campaigns
    with app.app_context():
        StaffDirectory(current_db()).add(EMAIL, PASSWORD)
        campaigns.create(current_db(), "bieb-oost", home_url=HOME, name="OBA Oost", place="bibliotheek",
                         cta_nl="Stel je vraag aan het Innovatieteam", thread_url=THREAD)
    return app


@pytest.fixture
def staff(site):
    client = site.test_client()
    assert log_in(client).status_code == 302
    return client


def token(client, path="/beheer/moderatie") -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text).group(1)


def hide_reply(client, post_id="101", what=("reactie",), reason="1", own="", **extra):
    data = {"post": post_id, "wat": list(what), "reden": reason, "eigen_reden": own, "csrf_token": token(client),
            **extra}
    return client.post("/beheer/moderatie/verberg", data=data)


def resident_pages(app) -> dict[str, str]:
    client = app.test_client()
    pages = {}
    for path in RESIDENT_PAGES:
        response = client.get(path, headers=PHONE)
        assert response.status_code == 200, path
        pages[path] = response.text
    return pages


def audit(app) -> list[AuditEntry]:
    with app.app_context(), current_db().Session() as session:
        return list(session.query(AuditEntry).filter(AuditEntry.action.like("moderation.%")).order_by(AuditEntry.id))


def hidden_rows(app) -> list[ModerationHide]:
    with app.app_context(), current_db().Session() as session:
        return list(session.query(ModerationHide).order_by(ModerationHide.id))


def test_hiding_a_reply_on_the_staff_page_takes_its_text_off_every_page_in_dutch_and_english(site, staff):
    before = resident_pages(site)
    for path in ("/", "/en/", "/c/bieb-oost", "/en/c/bieb-oost", "/kiosk", "/en/kiosk", "/kiosk/bieb-oost"):
        assert ANN in before[path], path
    assert "/reageer?post=101" in before["/reageer?post=101"]  # the form names the post it answers
    response = hide_reply(staff)
    assert response.status_code == 303 and response.headers["Location"].endswith("/beheer/moderatie#post-101")
    assert "Verborgen: de reactie https://social.test/@ann/101." in staff.get("/beheer/moderatie").text
    for path, page in resident_pages(site).items():
        assert ANN not in page, path
        assert "Mooi" not in page, path  # not in a comment, a <details> or an attribute either
    # "Reageer direct" cannot target it: the page offers the conversation's first post instead.
    reply_page = site.test_client().get("/reageer?post=101", headers=PHONE).text
    assert 'action="/reageer?post=100"' in reply_page and 'action="/reageer?post=101"' not in reply_page


def test_the_placeholder_names_the_reason_links_the_house_rules_and_the_answers_stay(site, staff):
    hide_reply(staff)
    page = site.test_client().get("/", headers=PHONE).text
    assert ('<p class="hidden-reply" id="post-101"><a href="#house-rules">Deze reactie is verborgen door de '
            'moderatie (reden: Wees aardig.)</a></p>') in page
    assert 'id="house-rules"' in page and ANSWER in page
    assert "1 reactie verborgen" in page and "7 reacties</h3>" in page  # 8 public replies, one hidden
    # One count of replies on the page (issue 14): the heading's, which leaves the hidden one out.
    assert page.count(" reacties</") == 1
    english = site.test_client().get("/en/", headers=PHONE).text
    assert "This reply was hidden by the moderation (reason: Wees aardig.)" in english and "1 reply hidden" in english


def test_hide_an_account_then_undo_it(site, staff):
    hide_reply(staff, post_id="106", what=("account",), reason="2")
    pages = resident_pages(site)
    for path, page in pages.items():
        assert all(text not in page for text in BOB), path
    assert "2 reacties verborgen" in pages["/"] and LAYLA in pages["/"]
    [row] = hidden_rows(site)
    assert (row.kind, row.target, row.reason, row.staff) == ("account", "bob@other.example", "Geen spam.", EMAIL)
    assert staff.post("/beheer/moderatie/tonen", data={"id": row.id, "csrf_token": token(staff)}).status_code == 303
    assert all(text in site.test_client().get("/", headers=PHONE).text for text in BOB)
    assert hidden_rows(site) == []


def test_hide_a_server_then_undo_it(site, staff):
    hide_reply(staff, post_id="107", what=("server",), reason="anders", own="Een server vol spam")
    page = site.test_client().get("/", headers=PHONE).text
    assert LAYLA not in page and "1 reactie verborgen" in page
    [row] = hidden_rows(site)
    assert (row.kind, row.target, row.reason, row.rule_id) == ("domain", "rtl.example", "Een server vol spam", "")
    overview = staff.get("/beheer/moderatie").text
    assert "alle berichten van de server rtl.example" in overview and "Een server vol spam" in overview
    staff.post("/beheer/moderatie/tonen", data={"id": row.id, "csrf_token": token(staff)})
    assert LAYLA in site.test_client().get("/", headers=PHONE).text


def test_the_link_and_server_forms_do_what_the_cli_does(site, staff):
    staff.post("/beheer/moderatie/verberg", data={"url": "https://other.example/@bob", "reden": "2",
                                                  "csrf_token": token(staff)})
    staff.post("/beheer/moderatie/verberg", data={"domein": "RTL.example.", "reden": "1", "csrf_token": token(staff)})
    assert [(r.kind, r.target) for r in hidden_rows(site)] == [("account", "bob@other.example"), ("domain", "rtl.example")]


@pytest.mark.parametrize("data, message", [
    ({"post": "101", "wat": ["reactie"], "reden": ""}, "Geef een reden"),
    ({"post": "101", "wat": ["reactie"], "reden": "anders", "eigen_reden": "x" * 201}, "De reden is te lang"),
    ({"post": "101", "wat": [], "reden": "1"}, "Kies wat je wilt verbergen"),
    ({"post": "102", "wat": ["account"], "reden": "1"}, "het account van de gemeente zelf"),
    ({"post": "101", "wat": ["server"], "reden": "1"}, "is onze eigen server"),
    ({"post": "999", "wat": ["reactie"], "reden": "1"}, "is geen reactie in een gesprek op onze pagina"),
    ({"url": THREAD, "reden": "1"}, "waarmee een gesprek begint"),
    ({"url": "javascript:alert(1)", "reden": "1"}, "is geen link naar een bericht of een account"),
    ({"domein": "127.0.0.1", "reden": "1"}, "is geen servernaam"),
])
def test_staff_get_a_clear_message_and_nothing_changes(site, staff, data, message):
    response = staff.post("/beheer/moderatie/verberg", data={**data, "csrf_token": token(staff)})
    assert response.status_code == 303
    assert message in staff.get(response.headers["Location"]).text
    assert hidden_rows(site) == [] and audit(site) == []


MODERATION_POSTS = ["/beheer/moderatie/verberg", "/beheer/moderatie/tonen", "/beheer/moderatie/goedkeuren",
                    "/beheer/moderatie/intrekken"]


def full_form() -> dict:
    return {"post": "101", "wat": ["reactie"], "reden": "1", "id": "1"}


@pytest.mark.parametrize("path", MODERATION_POSTS)
def test_every_action_needs_a_login_and_changes_nothing_without(site, path):
    with site.app_context():
        store = moderation.ModerationStore(current_db())
        store.hide(moderation.Target("post", "106", "", "x"), moderation.Reason("r"), staff="a@b.test")
        version = store.version()
    response = site.test_client().post(path, data=full_form())
    assert response.status_code in (302, 400)
    if response.status_code == 302:
        assert "/beheer/login" in response.headers["Location"]
    with site.app_context():
        assert moderation.ModerationStore(current_db()).version() == version


@pytest.mark.parametrize("path", MODERATION_POSTS)
def test_every_action_needs_the_csrf_token(site, staff, path):
    staff.post("/beheer/moderatie/verberg", data={"post": "106", "wat": ["reactie"], "reden": "1",
                                                  "csrf_token": token(staff)})
    with site.app_context():
        version = moderation.ModerationStore(current_db()).version()
    response = staff.post(path, data={**full_form(), "id": str(hidden_rows(site)[0].id)})
    assert response.status_code == 400
    assert "Het formulier stond te lang open" in response.text
    with site.app_context():
        assert moderation.ModerationStore(current_db()).version() == version


def test_every_action_is_in_the_audit_log_with_who_what_and_why(site, staff):
    hide_reply(staff)
    staff.post("/beheer/moderatie/tonen", data={"id": hidden_rows(site)[0].id, "csrf_token": token(staff)})
    staff.post("/beheer/moderatie/goedkeuren", data={"post": "107", "csrf_token": token(staff)})
    staff.post("/beheer/moderatie/intrekken", data={"post": "107", "csrf_token": token(staff)})
    entries = audit(site)
    assert [(e.actor, e.action, e.subject) for e in entries] == [
        (EMAIL, "moderation.hide_post", "https://social.test/@ann/101"),
        (EMAIL, "moderation.unhide_post", "https://social.test/@ann/101"),
        (EMAIL, "moderation.approve", "https://rtl.example/@layla/107"),
        (EMAIL, "moderation.withdraw_approval", "https://rtl.example/@layla/107"),
    ]
    assert "reason: Wees aardig. (rule 1)" in entries[0].detail
    log = staff.get("/beheer/logboek").text  # sentences people read (issue 19); the codes stay in the export
    assert "verborg de reactie" in log and "trok de goedkeuring voor kioskschermen" in log
    export = staff.get("/beheer/logboek.csv").text
    assert "moderation.hide_post" in export and "moderation.withdraw_approval" in export


def test_the_campaign_page_shows_its_thread_with_hide_on_every_reply(site, staff):
    page = staff.get("/beheer/campagnes/bieb-oost").text
    assert page.count('action="/beheer/moderatie/verberg"') == 8  # every public reply, not the city's post
    assert ANN in page and "Het bericht van de gemeente zelf" in page
    response = hide_reply(staff, gesprek="bieb-oost", terug="campaign")
    assert response.headers["Location"].endswith("/beheer/campagnes/bieb-oost#post-101")
    page = staff.get("/beheer/campagnes/bieb-oost").text
    assert "Weer tonen" in page and ANN in page  # staff still see what they hid, to undo it


def test_xss_corpus_in_reasons_is_plain_text_for_residents_and_staff(site, staff):
    payloads = [payload for _, payload in VECTORS if len(payload) <= moderation.REASON_MAX]
    posts = ["101", "103", "106", "107", "109", "105"]
    for post_id, payload in zip(posts, payloads[:len(posts)], strict=True):
        hide_reply(staff, post_id=post_id, reason="anders", own=payload)
    page = site.test_client().get("/", headers=PHONE).text
    assert executable_parts(main_of(page)) == []
    assert "&lt;script&gt;window.__xss=1&lt;/script&gt;&lt;p&gt;hi&lt;/p&gt;" in page  # the first, as text
    staff_page = staff.get("/beheer/moderatie").text
    assert staff_executable_parts(staff_page) == []
    assert "&lt;script&gt;window.__xss=1&lt;/script&gt;" in staff_page
    for post_id, payload in zip(posts[1:], payloads[len(posts):], strict=False):  # the rest, one after another
        hide_reply(staff, post_id=post_id, what=("account",), reason="anders", own=payload)
    assert staff_executable_parts(staff.get("/beheer/moderatie").text) == []


def test_the_staff_view_of_hidden_hostile_posts_is_sanitized(site, staff, mastodon):
    mastodon.mock.replace("GET", HOME + "/api/v1/statuses/100/context", json=hostile_context())
    for index in range(0, len(VECTORS), 4):
        hide_reply(staff, post_id=str(500 + index), reason="1")
    page = staff.get("/beheer/moderatie").text
    assert page.count("moderation-post depth") >= len(VECTORS)
    assert page.count("moderation-post depth-1 is-hidden") == len(range(0, len(VECTORS), 4))
    assert staff_executable_parts(page) == []
    assert "<iframe" not in page


def test_meld_leads_to_the_post_on_the_home_server_and_is_only_a_link(site):
    page = site.test_client().get("/", headers=PHONE).text
    assert '<a class="report" href="https://social.test/@bob@other.example/106">Meld' in page
    assert '<a class="report" href="https://social.test/@ann/101">Meld' in page
    assert page.count('class="report"') == 8  # each public reply, not the city's first post
    assert "Kies dan “Meld” eronder" in page


# --- kiosks in public places ---------------------------------------------------------------------

def kiosk_names(page: str) -> list[str]:
    return re.findall(r'<span class="kiosk-text"[^>]*>([^<]*)</span>', page)


def test_kiosks_show_only_approved_replies_the_citys_own_and_those_it_favourited(make_app, mastodon):
    mastodon.standard()
    mastodon.add("/api/v1/statuses/101/favourited_by", [fixture_json("account_lookup.json")])  # the city's like
    app = make_app()  # PRAATMEE_KIOSK_REPLIES: approved by default
    client = app.test_client()
    texts = kiosk_names(client.get("/kiosk").text)
    assert texts == ["Graag gedaan.", ANSWER, ANN]  # the city's replies, and 101 that the city favourited
    assert mastodon.calls_to("/api/v1/statuses/101/favourited_by") == 1  # only replies with favourites are asked
    with app.app_context():
        reply = current_home_server().find_reply("109")
        moderation.ModerationStore(current_db()).approve(reply, staff=EMAIL)
        current_home_server().moderation.refresh()
    assert kiosk_names(client.get("/kiosk").text)[0] == "Een video"  # approved, and the newest


def test_an_unfavourited_reply_stays_off_the_kiosk(make_app, mastodon):
    mastodon.standard()
    mastodon.add("/api/v1/statuses/101/favourited_by", [])
    page = make_app().test_client().get("/kiosk").text
    assert ANN not in page and ANSWER in page


def test_a_server_without_favourited_by_is_asked_once_per_reply_and_ttl_not_once_per_kiosk_page(make_app, mastodon):
    mastodon.standard()
    mastodon.add("/api/v1/statuses/101/favourited_by", status=404, json={"error": "Record not found"})
    client = make_app().test_client()
    for _ in range(3):
        assert ANN not in client.get("/kiosk").text
    assert mastodon.calls_to("/api/v1/statuses/101/favourited_by") == 1


def test_kiosks_can_show_no_replies_at_all(make_app, mastodon):
    mastodon.standard()
    page = make_app(KIOSK_REPLIES="none").test_client().get("/kiosk").text
    assert kiosk_names(page) == [] and "Scan de code om de reacties te lezen." in page
    assert mastodon.calls_to("/api/v1/statuses/101/favourited_by") == 0


def test_held_replies_wait_for_approval_on_every_page(make_app, mastodon, runner):
    context = fixture_json("thread_context.json")
    for status in context["descendants"]:
        if status["account"]["acct"] == "layla@rtl.example":
            status["account"]["created_at"] = "2026-10-31T00:00:00.000Z"
    mastodon.standard()
    mastodon.mock.replace("GET", HOME + "/api/v1/statuses/100/context", json=context)
    app = make_app(HOLD_NEW_ACCOUNTS_DAYS=7)
    page = app.test_client().get("/", headers=PHONE).text
    assert LAYLA not in page and "1 reactie wacht op een controle" in page
    result = app.test_cli_runner().invoke(args=["moderation", "approve", "https://rtl.example/@layla/107"])
    assert result.exit_code == 0, result.output
    assert LAYLA in app.test_client().get("/", headers=PHONE).text


# --- everywhere at once: every worker, every instance, every copy ---------------------------------

def test_the_page_copies_never_answer_with_what_was_hidden_since(make_app, mastodon):
    mastodon.standard()
    app = make_app(PAGE_CACHE=1, KIOSK_REPLIES="all")  # production's one-second copy of / and /en/
    client = app.test_client()
    for path in ("/", "/en/", "/c/bieb-oost"):
        assert ANN in client.get(path, headers=PHONE).text
    with app.app_context():
        home = current_home_server()
        moderation.ModerationStore(current_db()).hide(home.find_target(f"{HOME}/@ann/101"),
                                                      moderation.Reason("Wees aardig.", "1"), staff=EMAIL)
        home.moderation.refresh()
    for path in ("/", "/en/", "/c/bieb-oost", "/kiosk"):
        assert ANN not in client.get(path, headers=PHONE).text, path


def until(reader, shown: bool, started: float, limit: float = 3.0) -> float:
    """Ask `/` of another instance until the reply is (not) there; the seconds since `started`."""
    while time.monotonic() - started < limit:
        if (ANN in reader.get("/", headers=PHONE).text) == shown:
            return time.monotonic() - started
        time.sleep(0.02)
    raise AssertionError(f"{'not shown' if shown else 'still shown'} after {limit} s")


def hide_and_undo_rounds(other, staff_client, rounds: int = 8) -> list[float]:
    """"Verberg" on one instance, then the seconds until the other's `/` no longer shows it; then undo."""
    reader = other.test_client()
    assert ANN in reader.get("/", headers=PHONE).text
    taken = []
    for round_ in range(rounds):
        form = {"post": "101", "wat": ["reactie"], "reden": "1", "csrf_token": token(staff_client)}
        started = time.monotonic()
        assert staff_client.post("/beheer/moderatie/verberg", data=form).status_code == 303
        taken.append(until(reader, False, started))
        with other.app_context():
            [row] = hidden_rows(other)
        started = time.monotonic()
        staff_client.post("/beheer/moderatie/tonen", data={"id": row.id, "csrf_token": token(staff_client)})
        until(reader, True, started)
        time.sleep(0.07 * round_)  # each hide meets the other instance at another point of its half second
    return taken


@pytest.fixture
def two_instances(make_app):
    """Two apps, as two instances: their own caches, page copies and rules, one database (and Redis)."""
    def make(**config):
        first, second = make_app(WTF_CSRF_ENABLED=True, PAGE_CACHE=1, **config), make_app(PAGE_CACHE=1, **config)
        with first.app_context():
            StaffDirectory(current_db()).add(EMAIL, PASSWORD)
        client = first.test_client()
        assert log_in(client).status_code == 302
        return first, second, client
    return make


def report(capsys, topology: str, taken: list[float]) -> None:
    with capsys.disabled():
        print(f"\n[moderation] {topology}: \"Verberg\" on instance A → gone from / on instance B in "
              f"{', '.join(f'{t:.2f}' for t in taken)} s (median {sorted(taken)[len(taken) // 2]:.2f}, "
              f"max {max(taken):.2f})")


def test_a_hide_on_one_instance_is_gone_from_the_other_within_two_seconds(two_instances, mastodon, capsys):
    mastodon.standard()
    _first, second, staff_client = two_instances()
    taken = hide_and_undo_rounds(second, staff_client)
    report(capsys, "one database (SQLite, or PostgreSQL under make test-pg)", taken)
    assert max(taken) < 2.0


@pytest.mark.postgres
def test_with_postgresql_and_redis_a_hide_is_gone_from_the_other_instance_within_two_seconds(
        two_instances, mastodon, redis_server, capsys):
    mastodon.standard()
    _first, second, staff_client = two_instances(REDIS_URL=redis_server.url)
    taken = hide_and_undo_rounds(second, staff_client)
    report(capsys, "PostgreSQL + Redis", taken)
    assert max(taken) < 2.0


# --- the CLI --------------------------------------------------------------------------------------

def test_cli_hide_list_and_unhide_a_reply(app, runner, mastodon):
    mastodon.standard()
    result = runner.invoke(args=["moderation", "hide", f"{HOME}/@ann/101", "--reason", "1"])
    assert result.exit_code == 0, result.output
    assert "Hidden: the reply https://social.test/@ann/101 (reason: Wees aardig.)" in result.output
    assert ANN not in app.test_client().get("/", headers=PHONE).text
    listed = runner.invoke(args=["moderation", "list"]).output
    assert "hidden  reply  https://social.test/@ann/101" in listed and "by cli" in listed and "rule 1" in listed
    result = runner.invoke(args=["moderation", "unhide", f"{HOME}/@ann/101"])
    assert result.exit_code == 0, result.output
    assert ANN in app.test_client().get("/", headers=PHONE).text
    assert [e.action for e in audit(app)] == ["moderation.hide_post", "moderation.unhide_post"]


def test_cli_hides_an_account_by_its_link_and_a_server_by_name(app, runner, mastodon):
    mastodon.standard()
    assert runner.invoke(args=["moderation", "hide", "https://other.example/@bob", "--reason", "Spam"]).exit_code == 0
    assert runner.invoke(args=["moderation", "hide", "--domain", "rtl.example", "--reason", "2"]).exit_code == 0
    page = app.test_client().get("/", headers=PHONE).text
    assert all(text not in page for text in (*BOB, LAYLA)) and "3 reacties verborgen" in page
    assert runner.invoke(args=["moderation", "unhide", "--domain", "rtl.example"]).exit_code == 0
    assert runner.invoke(args=["moderation", "unhide", "https://social.test/@bob@other.example"]).exit_code == 0
    assert hidden_rows(app) == []


def test_cli_hides_an_account_the_home_server_knows_before_it_replies(app, runner, mastodon):
    mastodon.standard()
    account = {**fixture_json("account_lookup.json"), "id": "77", "username": "troll", "acct": "troll@far.example",
               "url": "https://far.example/@troll"}
    mastodon.add("/api/v1/accounts/lookup", account, match=[responses.matchers.query_param_matcher(
        {"acct": "troll@far.example"})])
    result = runner.invoke(args=["moderation", "hide", "https://far.example/@troll", "--reason", "Spam"])
    assert result.exit_code == 0, result.output
    assert [(r.kind, r.target) for r in hidden_rows(app)] == [("account", "troll@far.example")]


@pytest.mark.parametrize("args, english, dutch", [
    (["hide", "niet-een-link", "--reason", "1"], "is not a link to a post or an account",
     "is geen link naar een bericht of een account"),
    (["hide", "https://elders.example/@iemand/123", "--reason", "1"], "is not a reply in a conversation on our pages",
     "is geen reactie in een gesprek op onze pagina"),
    (["hide", THREAD, "--reason", "1"], "the city's own post", "het bericht van de gemeente"),
    (["hide", f"{HOME}/@stad", "--reason", "1"], "the city's own account", "het account van de gemeente"),
    (["hide", "https://nergens.example/@niemand", "--reason", "1"], "does not know the account",
     "kent het account"),
    (["hide", "--domain", "social.test", "--reason", "1"], "our own home server", "onze eigen server"),
    (["hide", "--domain", "not a domain", "--reason", "1"], "is not a server name", "is geen servernaam"),
    (["hide", f"{HOME}/@ann/101", "--reason", " "], "Give a reason", "Geef een reden"),
    (["hide", f"{HOME}/@ann/101", "--reason", "x" * 201], "The reason is too long", "De reden is te lang"),
    (["hide", f"{HOME}/@ann/101", "--domain", "a.example", "--reason", "1"], "Give either", "Geef de link"),
    (["unhide", f"{HOME}/@ann/101"], "Nothing is hidden for", "Voor '"),
    (["unhide", "--domain", "rtl.example"], "is not hidden", "is niet verborgen"),
    (["approve", THREAD], "only replies can be approved", "je kunt alleen reacties goedkeuren"),
    (["approve", "ftp://x"], "is not a link", "is geen link"),
])
def test_bad_cli_input_says_why_in_english_and_dutch_and_changes_nothing(app, runner, mastodon, args, english, dutch):
    mastodon.standard()
    mastodon.add("/api/v1/accounts/lookup", status=404, json={"error": "Record not found"},
                 match=[responses.matchers.query_param_matcher({"acct": "niemand@nergens.example"})])
    with app.app_context():
        version = moderation.ModerationStore(current_db()).version()
    result = runner.invoke(args=["moderation", *args])
    assert result.exit_code != 0
    assert english in result.output and dutch in result.output, result.output
    assert "Traceback" not in result.output
    assert hidden_rows(app) == [] and audit(app) == []
    with app.app_context():
        assert moderation.ModerationStore(current_db()).version() == version


def test_cli_approve_then_list(app, runner, mastodon):
    mastodon.standard()
    result = runner.invoke(args=["moderation", "approve", "https://other.example/@bob/109"])
    assert result.exit_code == 0 and "Approved for kiosks: https://other.example/@bob/109." in result.output
    assert "approved  https://other.example/@bob/109  by cli" in runner.invoke(args=["moderation", "list"]).output
    assert "Already approved" in runner.invoke(args=["moderation", "approve", "https://other.example/@bob/109"]).output


# --- what else tells the truth --------------------------------------------------------------------

def test_the_kpi_page_keeps_counting_and_says_how_many_are_hidden(site, staff):
    hide_reply(staff, post_id="106", what=("account",))
    page = staff.get("/beheer/kpi").text
    assert "Verborgen door de moderatie" in page
    assert re.search(r"Reacties die nu verborgen zijn, in de gesprekken op onze pagina's</dt><dd>2</dd>", page)
    assert "Verborgen: losse reacties, accounts, servers</dt><dd>0, 1, 0</dd>" in page


def test_the_privacy_page_says_what_moderation_stores(client, mastodon):
    mastodon.standard()
    page = client.get("/privacy").text
    assert "de link van de reactie of van het account" in page and "welke medewerker" in page
    assert "The team" not in page
    assert "which staff member did it" in client.get("/en/privacy").text


@pytest.mark.parametrize("name, value, message", [
    ("KIOSK_REPLIES", "sometimes", "PRAATMEE_KIOSK_REPLIES must be all, approved or none"),
    ("HOLD_NEW_ACCOUNTS_DAYS", "a week", "PRAATMEE_HOLD_NEW_ACCOUNTS_DAYS must be a whole number of days"),
    ("HOLD_NEW_ACCOUNTS_DAYS", True, "PRAATMEE_HOLD_NEW_ACCOUNTS_DAYS must be a whole number of days"),
])
def test_moderation_settings_that_cannot_work_stop_the_app_with_one_line(make_app, name, value, message):
    with pytest.raises(SystemExit) as stopped:
        make_app(**{name: value})
    assert message in str(stopped.value)


def test_the_settings_take_their_environment_values(make_app, monkeypatch):
    monkeypatch.setenv("PRAATMEE_KIOSK_REPLIES", "None")
    monkeypatch.setenv("PRAATMEE_HOLD_NEW_ACCOUNTS_DAYS", "7")
    app = make_app()
    assert (app.config["KIOSK_REPLIES"], app.config["HOLD_NEW_ACCOUNTS_DAYS"]) == ("none", 7)


def test_an_old_hide_keeps_its_reason_when_the_server_rules_change(site, staff, mastodon):
    hide_reply(staff, reason="1")
    instance = fixture_json("instance_open.json")
    instance["rules"] = [{"id": "5", "text": "Nieuwe regel."}]
    mastodon.mock.replace("GET", HOME + "/api/v2/instance", json=instance)
    assert "reden: Wees aardig." in site.test_client().get("/", headers=PHONE).text


def test_a_reason_that_names_a_rule_the_server_dropped_is_refused(site, staff):
    hide_reply(staff, reason="9")
    assert hidden_rows(site) == []


# --- in a real browser ----------------------------------------------------------------------------

@pytest.mark.browser
def test_staff_hide_a_reply_in_a_browser_and_it_is_gone_from_every_page_in_both_languages(
        make_app, live_server_for, mastodon, open_page):
    from tests.conftest import describe_violations, run_axe, screenshot
    mastodon.standard()
    context = fixture_json("thread_context.json")
    context["descendants"][0]["created_at"] = "2026-11-02T08:00:00.000Z"  # 101 is the newest: on every kiosk
    mastodon.mock.replace("GET", HOME + "/api/v1/statuses/100/context", json=context)
    app = make_app(KIOSK_REPLIES="all")
    from praatmee_site import campaigns
    with app.app_context():
        StaffDirectory(current_db()).add(EMAIL, PASSWORD)
        campaigns.create(current_db(), "bieb-oost", home_url=HOME, name="OBA Oost", place="bibliotheek",
                         cta_nl="Stel je vraag aan het Innovatieteam", thread_url=THREAD)
    server = live_server_for(app)
    page = open_page(server.url, width=1280, height=800, allow_hosts=(HOME,))
    for path in ("/", "/en/", "/kiosk", "/en/kiosk/bieb-oost"):
        page.goto(server.url + path)
        assert ANN in page.content(), path
    page.goto(server.url + "/beheer/moderatie")
    page.fill("#email", EMAIL)
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")
    assert page.url.startswith(server.url + "/beheer/moderatie")
    violations = run_axe(page)
    assert violations == [], describe_violations(violations)
    reply = page.locator("#post-101")
    reply.locator("summary", has_text="Verberg").click()
    reply.locator("select[name=reden]").select_option(label="Wees aardig.")
    screenshot(page, "moderation_hide")
    with page.expect_navigation():
        reply.locator("form[action$='/verberg'] button[type=submit]").click()
    assert "Verborgen: de reactie https://social.test/@ann/101." in page.inner_text("main")
    assert "Wees aardig." in page.inner_text("#verborgen + .table-wrap")
    for path in RESIDENT_PAGES:
        page.goto(server.url + path)
        assert ANN not in page.content(), path
    page.goto(server.url + "/")
    assert "Deze reactie is verborgen door de moderatie (reden: Wees aardig.)" in page.inner_text(".replies")
    assert ANSWER in page.inner_text(".replies")
    with page.expect_navigation():
        page.click(".hidden-reply a")
    assert page.url.endswith("/#house-rules")
    violations = run_axe(page)
    screenshot(page, "moderation_placeholder")
    assert violations == [], describe_violations(violations)
    page.goto(server.url + "/en/")
    assert "This reply was hidden by the moderation (reason: Wees aardig.)" in page.inner_text(".replies")
    assert page.outside_requests == []


@pytest.mark.browser
def test_a_kiosk_screen_drops_a_hidden_reply_within_seconds_not_at_its_next_refresh(
        make_app, live_server_for, mastodon, open_page, capsys):
    mastodon.standard()
    context = fixture_json("thread_context.json")
    context["descendants"][0]["created_at"] = "2026-11-02T08:00:00.000Z"  # 101 is the newest
    mastodon.mock.replace("GET", HOME + "/api/v1/statuses/100/context", json=context)
    app = make_app(KIOSK_REPLIES="all", KIOSK_REFRESH=60)
    server = live_server_for(app)
    page = open_page(server.url, width=1280, height=800, allow_hosts=(HOME,))
    page.goto(server.url + "/kiosk")
    assert ANN in page.inner_text(".kiosk-replies")
    other = make_app(KIOSK_REPLIES="all")  # staff act on another instance
    with other.app_context():
        home = current_home_server()
        started = time.monotonic()
        moderation.ModerationStore(current_db()).hide(home.find_target(f"{HOME}/@ann/101"),
                                                      moderation.Reason("Wees aardig.", "1"), staff=EMAIL)
    while ANN in page.inner_text(".kiosk-replies"):
        assert time.monotonic() - started < 4, "the kiosk still shows the hidden reply"
        page.wait_for_timeout(50)
    taken = time.monotonic() - started
    with capsys.disabled():
        print(f"\n[moderation] kiosk screen (JavaScript on, refresh every 60 s): hidden reply gone after {taken:.2f} s")
    assert taken < 2.0  # the screen asks every second; every worker knows within 0.5 s
    assert page.url == server.url + "/kiosk" and page.locator(".kiosk-qr svg").count() == 1
