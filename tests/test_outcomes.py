"""Outcomes ("Je zei, wij deden", issue 16): the rules, what residents see on every page and in the
feed, the staff pages, the CLI, and publishing back to Mastodon against the fake home server."""
from __future__ import annotations

import re
from datetime import date, timedelta

import feedparser
import pytest
from sqlalchemy import func, select

from praatmee_site import outcomes
from praatmee_site.db import AuditEntry
from praatmee_site.db import Outcome as OutcomeRow
from praatmee_site.web.services import current_db
from tests.conftest import fixture_json
from tests.support.home_posts import WRITE_TOKEN
from tests.support.xss_corpus import VECTORS
from tests.test_staff import EMAIL, csrf_token, log_in

THREAD = "https://social.test/@stad/100"
TODAY = date.today()
BROWSER = {"User-Agent": "Mozilla/5.0 (Linux; Android 14) Chrome/120 Mobile", "Sec-Fetch-Mode": "navigate",
           "Sec-Fetch-Dest": "document", "Sec-Fetch-Site": "none"}


def invoke(runner, *args, **kwargs):
    return runner.invoke(args=list(args), catch_exceptions=False, **kwargs)


def create_campaign(runner, slug="bieb-oost", thread=THREAD):
    args = ["campaign", "create", slug, "--name", "OBA Oost", "--place", "bibliotheek",
            "--cta", "Denk mee over de bieb", "--cta-en", "Think along about the library"]
    if thread:
        args += ["--thread", thread]
    result = invoke(runner, *args)
    assert result.exit_code == 0, result.output


def add(runner, *target, title="Tien nieuwe bankjes", text="Jullie vroegen om bankjes.\n\nWe zetten er tien neer.",
        status="besloten", day=None, extra=()):
    result = invoke(runner, "outcome", "add", *target, "--status", status, "--title", title, "--text", text,
                    "--date", (day or TODAY).isoformat(), *extra)
    assert result.exit_code == 0, result.output
    return int(re.search(r"#(\d+)", result.output).group(1))


def counts(app):
    with app.app_context():
        with current_db().Session() as session:
            return (session.scalar(select(func.count()).select_from(OutcomeRow)),
                    session.scalar(select(func.count()).select_from(AuditEntry)))


def audit_actions(app):
    with app.app_context():
        with current_db().Session() as session:
            return [row.action for row in session.scalars(select(AuditEntry).order_by(AuditEntry.id))]


# --- the rules ------------------------------------------------------------------------------------

GOOD = dict(status="besloten", title_nl="Bankjes", text_nl="Tekst", happened_on=TODAY.isoformat())


@pytest.mark.parametrize("changes, field, code", [
    ({"status": "klaar"}, "status", "invalid"),
    ({"status": "niet_gedaan"}, "reason_nl", "required"),
    ({"title_nl": " "}, "title_nl", "required"),
    ({"title_nl": "x" * 121}, "title_nl", "too_long"),
    ({"text_nl": ""}, "text_nl", "required"),
    ({"text_nl": "x" * 2001}, "text_nl", "too_long"),
    ({"text_en": "x" * 2001}, "text_en", "too_long"),
    ({"text_nl": "a\u202eb"}, "text_nl", "control_characters"),
    ({"title_nl": "a\x07b"}, "title_nl", "control_characters"),
    ({"happened_on": ""}, "happened_on", "required"),
    ({"happened_on": "1-12-2026"}, "happened_on", "invalid_date"),
    ({"happened_on": (TODAY + timedelta(days=1)).isoformat()}, "happened_on", "in_future"),
    ({"happened_on": "2019-12-31"}, "happened_on", "too_early"),
    ({"decision_url": "https://evil.example/amsterdam.nl"}, "decision_url", "not_city"),
    ({"decision_url": "http://www.amsterdam.nl/besluit"}, "decision_url", "not_city"),
    ({"decision_url": "https://amsterdam.nl.evil.example/"}, "decision_url", "not_city"),
])
def test_each_rule_gives_a_structured_problem(changes, field, code):
    with pytest.raises(outcomes.OutcomeError) as raised:
        outcomes.clean({**GOOD, **changes}, today=TODAY)
    assert [(p.field, p.code) for p in raised.value.problems] == [(field, code)]
    assert all(p.message in outcomes.MESSAGES.values() for p in raised.value.problems)


def test_a_good_outcome_is_tidied_and_keeps_its_paragraphs():
    cleaned = outcomes.clean({**GOOD, "status": "Niet gedaan", "reason_nl": "Te duur.", "title_nl": "  Twee   woorden ",
                              "text_nl": "Eerste regel  \r\ntweede\r\n\r\n\r\n\r\nNieuwe alinea",
                              "decision_url": "https://www.amsterdam.nl/besluit/1"}, today=TODAY)
    assert cleaned["status"] == "niet_gedaan" and cleaned["title_nl"] == "Twee woorden"
    assert cleaned["text_nl"] == "Eerste regel\ntweede\n\nNieuwe alinea"
    assert cleaned["happened_on"] == TODAY


def test_text_becomes_paragraphs_lines_and_only_http_links():
    blocks = outcomes.paragraphs("Zie https://www.amsterdam.nl/a).\nEn javascript:alert(1)\n\nTwee")
    assert len(blocks) == 2
    first_line = blocks[0][0]
    assert [p.href for p in first_line if p.href] == ["https://www.amsterdam.nl/a"]
    assert "".join(p.text for p in first_line) == "Zie https://www.amsterdam.nl/a)."
    assert all(p.href is None for p in blocks[0][1])


def test_bad_input_from_the_cli_is_refused_in_both_languages_and_changes_nothing(app, runner, mastodon):
    mastodon.standard()
    create_campaign(runner)
    before = counts(app)
    result = runner.invoke(args=["outcome", "add", "--campaign", "bieb-oost", "--status", "niet_gedaan", "--title",
                                 "x", "--text", "y" * 2001, "--date", "2026-13-01",
                                 "--decision-url", "https://example.org/"])
    assert result.exit_code == 1
    assert "The text is too long: use at most 2000 characters (now 2001) / De tekst is te lang" in result.output
    assert "Say why it was not done" in result.output and "Zeg waarom het niet is gedaan" in result.output
    assert "Invalid date '2026-13-01'" in result.output and "Ongeldige datum '2026-13-01'" in result.output
    assert "amsterdam.nl" in result.output
    assert "Traceback" not in result.output
    assert counts(app) == before
    for target in (["--campaign", "nope"], ["--thread", "https://evil.example/@stad/100"],
                   ["--campaign", "bieb-oost", "--thread", THREAD], []):
        result = runner.invoke(args=["outcome", "add", *target, "--status", "besloten", "--title", "x",
                                     "--text", "y", "--date", TODAY.isoformat()])
        assert result.exit_code == 1, target
        assert " / " in result.output, result.output
    assert counts(app) == before


# --- what residents see ---------------------------------------------------------------------------

def test_an_outcome_from_the_cli_appears_on_the_campaign_page_the_entry_page_results_kiosk_and_feed(
        app, runner, client, mastodon):
    mastodon.standard()
    create_campaign(runner)
    assert "Wat er met jullie input gebeurde" not in client.get("/c/bieb-oost", headers=BROWSER).text
    add(runner, "--campaign", "bieb-oost", day=TODAY - timedelta(days=3), title="Oude stap")
    newest = add(runner, "--campaign", "bieb-oost", title="Tien nieuwe bankjes", extra=(
        "--title-en", "Ten new benches", "--decision-url", "https://www.amsterdam.nl/besluit/12"))
    for path in ("/c/bieb-oost", "/"):  # the campaign's thread is the current conversation (100) too
        page = client.get(path, headers=BROWSER).text
        news = page[page.index('class="outcome-news"'):]
        assert "Wat er met jullie input gebeurde" in news
        assert "Tien nieuwe bankjes" in news and "Oude stap" not in page
        assert "Besloten" in news and f'datetime="{TODAY.isoformat()}"' in news
        assert 'href="/resultaten#campagne-bieb-oost"' in news
        # after the one main action (the sign-up button stays the first stop), before the conversation
        assert page.index("Account aanmaken") < page.index('class="outcome-news"') < page.index('id="conversation-title"')
    english = client.get("/en/c/bieb-oost", headers=BROWSER).text
    assert "What happened with your input" in english and "Ten new benches" in english
    assert 'href="/en/resultaten#campagne-bieb-oost"' in english
    results = client.get("/resultaten")
    assert results.status_code == 200 and results.headers["Cache-Control"] == "public, max-age=60"
    assert "Set-Cookie" not in results.headers
    assert 'id="campagne-bieb-oost"' in results.text and "Denk mee over de bieb" in results.text
    assert results.text.index("Tien nieuwe bankjes") < results.text.index("Oude stap")  # newest first
    assert f'href="{THREAD}"' in results.text
    assert 'href="/c/' not in results.text  # a visit there would count as a scan of the posters
    assert f'id="uitkomst-{newest}"' in results.text
    assert 'href="https://www.amsterdam.nl/besluit/12"' in results.text
    assert '<link rel="alternate" type="application/atom+xml"' in results.text
    assert "Think along about the library" in client.get("/en/resultaten").text
    kiosk = client.get("/kiosk/bieb-oost").text
    assert "Tien nieuwe bankjes" in kiosk and "Wat er met jullie input gebeurde" in kiosk
    feed = feedparser.parse(client.get("/resultaten.atom").data)
    assert not feed.bozo, feed.bozo_exception
    assert [entry.title for entry in feed.entries] == ["Besloten: Tien nieuwe bankjes", "Besloten: Oude stap"]


def test_the_trust_text_points_at_the_results(client, mastodon):
    mastodon.standard()
    page = client.get("/").text
    trust = page[page.index('id="trust-title"'):]
    assert 'href="/resultaten"' in trust
    assert 'href="/en/resultaten"' in client.get("/en/").text


def test_a_thread_outcome_shows_on_pages_of_that_thread_only(app, runner, client, mastodon):
    mastodon.standard()
    mastodon.add("/api/v1/statuses/90", {**fixture_json("thread_status.json"), "id": "90",
                                          "url": "https://social.test/@stad/90"})
    mastodon.add("/api/v1/statuses/90/context", {"ancestors": [], "descendants": []})
    create_campaign(runner, "ander-gesprek", thread="https://social.test/@stad/90")
    add(runner, "--thread", THREAD, title="Over gesprek honderd")
    assert "Over gesprek honderd" in client.get("/", headers=BROWSER).text
    assert "Over gesprek honderd" not in client.get("/c/ander-gesprek", headers=BROWSER).text
    assert 'id="gesprek-100"' in client.get("/resultaten").text


def test_the_feed_is_valid_atom_with_stable_ids_and_escaped_content(app, runner, client, mastodon):
    mastodon.standard()
    first = add(runner, "--thread", THREAD, title="A & B <i>", text="Zie https://www.amsterdam.nl/x\n\n<b>niet vet</b>")
    response = client.get("/resultaten.atom")
    assert response.headers["Content-Type"].startswith("application/atom+xml")
    feed = feedparser.parse(response.data)
    assert not feed.bozo and feed.version == "atom10"
    assert feed.feed.title and feed.feed.updated and feed.feed.id == "https://amsterdam.test/praatmee/resultaten.atom"
    assert any(link.rel == "self" for link in feed.feed.links)
    entry = feed.entries[0]
    assert entry.title == "Besloten: A & B <i>"  # text, not markup
    assert entry.id.startswith("tag:amsterdam.test,") and entry.id.endswith(f"/uitkomst/{first}")
    assert entry.link == f"https://amsterdam.test/praatmee/resultaten#uitkomst-{first}"
    assert '<a href="https://www.amsterdam.nl/x">' in entry.content[0].value
    assert "&lt;b&gt;niet vet&lt;/b&gt;" in entry.content[0].value and "<b>" not in entry.content[0].value
    english = feedparser.parse(client.get("/en/resultaten.atom").data)
    assert not english.bozo and english.feed.language == "en" and english.entries[0].title.startswith("Decided:")
    assert feedparser.parse(client.get("/resultaten.atom").data).entries[0].id == entry.id  # stable


def test_an_empty_feed_and_results_page_still_work(client):
    feed = feedparser.parse(client.get("/resultaten.atom").data)
    assert not feed.bozo and feed.entries == []
    assert "Er zijn nog geen resultaten" in client.get("/resultaten").text


@pytest.mark.parametrize("field, payload", VECTORS[:12] + [("title", '"><script>window.__xss=1</script>')])
def test_hostile_text_in_titles_and_texts_is_escaped_everywhere(app, client, mastodon, field, payload):
    mastodon.standard()
    with app.app_context():
        outcomes.add(current_db(), thread_url=THREAD, home_url="https://social.test", today=TODAY, actor="test",
                     status="niet_gedaan", title_nl=" ".join(payload.split())[:120], text_nl=payload,
                     reason_nl=payload[:500], title_en=" ".join(payload.split())[:120], text_en=payload,
                     happened_on=TODAY)
    for path in ("/", "/en/", "/resultaten", "/en/resultaten", "/kiosk"):
        page = client.get(path, headers=BROWSER).text
        assert "<script>window" not in page and "onerror=" not in page.replace("onerror=&#34;", "")
        assert 'href="javascript' not in page.lower() and "<iframe" not in page and "<svg onload" not in page
    feed = client.get("/resultaten.atom").data
    parsed = feedparser.parse(feed)
    assert not parsed.bozo
    assert b"<script" not in feed and b"<img" not in feed


# --- staff pages -----------------------------------------------------------------------------------

@pytest.fixture
def staff_client(make_app, mastodon):
    mastodon.standard()
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        from praatmee_site.staff.accounts import StaffDirectory
        StaffDirectory(current_db()).add(EMAIL, "een lang wachtwoord 123")
    client = app.test_client()
    assert log_in(client, password="een lang wachtwoord 123").status_code == 302
    client.application = app
    return client


def form(client, path, **fields):
    return client.post(path, data={"csrf_token": csrf_token(client, path), **fields})


def test_an_outcome_from_the_staff_page_appears_for_residents_and_in_the_audit_log(staff_client):
    app = staff_client.application
    invoke(app.test_cli_runner(), "campaign", "create", "bieb-oost", "--name", "OBA Oost", "--place", "bibliotheek",
           "--cta", "Denk mee over de bieb", "--thread", THREAD)
    page = staff_client.get("/beheer/campagnes/bieb-oost").text
    assert 'href="/beheer/resultaten/nieuw?campagne=bieb-oost"' in page
    new = staff_client.get("/beheer/resultaten/nieuw?campagne=bieb-oost").text
    assert '<option value="bieb-oost" selected>' in new
    bad = form(staff_client, "/beheer/resultaten/nieuw", target="campaign", campaign="bieb-oost", status="niet_gedaan",
               title_nl="", text_nl="x", happened_on="morgen")
    assert bad.status_code == 400
    # The form's own words: each problem names its field by its label (issue 19); the CLI keeps its wording.
    assert "Titel in het Nederlands: schrijf een korte titel" in bad.text and "Datum: kies een datum" in bad.text
    assert "Waarom niet, in het Nederlands: schrijf waarom het niet is gedaan" in bad.text
    assert 'aria-invalid="true"' in bad.text and "niet_gedaan" not in bad.text.split("<main", 1)[1].split("<form")[0]
    assert counts(app)[0] == 0
    made = form(staff_client, "/beheer/resultaten/nieuw", target="campaign", campaign="bieb-oost", status="uitgevoerd",
                title_nl="De bieb is langer open", text_nl="Vanaf januari tot 22 uur.", happened_on=TODAY.isoformat(),
                thread_url="")
    assert made.status_code == 303, made.text
    public = app.test_client()
    for path in ("/c/bieb-oost", "/", "/resultaten", "/kiosk/bieb-oost"):
        assert "De bieb is langer open" in public.get(path, headers=BROWSER).text, path
    assert "De bieb is langer open" in public.get("/resultaten.atom").text
    outcome_id = outcomes.every(_db(app))[0].id
    edited = form(staff_client, f"/beheer/resultaten/{outcome_id}/bewerken", target="campaign", campaign="bieb-oost",
                  status="uitgevoerd", title_nl="De bieb is nog langer open", text_nl="Tot 23 uur.",
                  happened_on=TODAY.isoformat())
    assert edited.status_code == 303
    assert "nog langer open" in public.get("/resultaten").text
    removed = staff_client.post(f"/beheer/resultaten/{outcome_id}/verwijderen",
                                data={"csrf_token": csrf_token(staff_client, "/beheer/resultaten")})
    assert removed.status_code == 303
    assert "nog langer open" not in public.get("/resultaten").text
    assert [a for a in audit_actions(app) if a.startswith("outcome.")] == ["outcome.add", "outcome.update",
                                                                          "outcome.remove"]
    log = staff_client.get("/beheer/logboek").text
    assert "Medewerker voegde resultaat " in log and "Medewerker haalde resultaat " in log and EMAIL in log


def test_without_the_write_token_there_is_no_publish_button(staff_client):
    app = staff_client.application
    add(app.test_cli_runner(), "--thread", THREAD)
    page = staff_client.get("/beheer/resultaten").text
    assert "Publiceren op Mastodon" not in page
    assert staff_client.get("/beheer/resultaten/1/publiceren").status_code == 404
    result = app.test_cli_runner().invoke(args=["outcome", "publish", "1", "--yes"])
    assert result.exit_code == 1 and "PRAATMEE_MASTODON_WRITE_TOKEN" in result.output


def _db(app):
    with app.app_context():
        return current_db()


# --- publishing ----------------------------------------------------------------------------------

@pytest.fixture
def writer_app(make_app, mastodon):
    mastodon.standard()
    statuses = mastodon.accept_posts()
    app = make_app(MASTODON_WRITE_TOKEN=WRITE_TOKEN, WTF_CSRF_ENABLED=True)
    with app.app_context():
        from praatmee_site.staff.accounts import StaffDirectory
        StaffDirectory(current_db()).add(EMAIL, "een lang wachtwoord 123")
    app.statuses = statuses
    return app


@pytest.fixture
def writer_client(writer_app):
    client = writer_app.test_client()
    assert log_in(client, password="een lang wachtwoord 123").status_code == 302
    return client


def click_publish(client, outcome_id):
    page = client.get(f"/beheer/resultaten/{outcome_id}/publiceren")
    fingerprint = re.search(r'name="fingerprint" value="([^"]+)"', page.text).group(1)
    return page, client.post(f"/beheer/resultaten/{outcome_id}/publiceren",
                             data={"csrf_token": csrf_token(client, "/beheer/resultaten"), "fingerprint": fingerprint})


def test_publishing_shows_the_exact_post_first_and_then_posts_exactly_one_public_reply(writer_app, writer_client):
    outcome_id = add(writer_app.test_cli_runner(), "--thread", THREAD, text="Jullie vroegen om bankjes.",
                     extra=("--decision-url", "https://www.amsterdam.nl/besluit/12"))
    listing = writer_client.get("/beheer/resultaten").text
    assert f'href="/beheer/resultaten/{outcome_id}/publiceren"' in listing
    assert writer_app.statuses.requests == []  # a preview never posts
    page, posted = click_publish(writer_client, outcome_id)
    preview = re.search(r'<pre class="preview-post" lang="nl">(.*?)</pre>', page.text, re.S).group(1)
    assert posted.status_code == 303
    [request] = writer_app.statuses.requests
    assert request["form"] == {"status": preview.replace("&#39;", "'").replace("&amp;", "&"),
                               "in_reply_to_id": "100", "visibility": "public", "language": "nl"}
    assert request["key"].startswith(f"praatmee-outcome-{outcome_id}-")
    assert request["form"]["status"].startswith("Wat er met jullie input gebeurde: Besloten. Tien nieuwe bankjes")
    assert f"https://amsterdam.test/praatmee/resultaten#uitkomst-{outcome_id}" in request["form"]["status"]
    assert "https://www.amsterdam.nl/besluit/12" in request["form"]["status"]
    [status] = writer_app.statuses.posted
    stored = outcomes.get(_db(writer_app), outcome_id)
    assert stored.posted_url == status["url"] and stored.posted_status_id == status["id"]
    assert status["url"] in writer_client.get("/beheer/resultaten").text
    assert f'href="{status["url"]}"' in writer_app.test_client().get("/resultaten").text  # shown to residents
    # Clicking again (a second tab, a double click) posts nothing more.
    writer_client.post(f"/beheer/resultaten/{outcome_id}/publiceren",
                       data={"csrf_token": csrf_token(writer_client, "/beheer/resultaten"), "fingerprint": "x"})
    assert len(writer_app.statuses.requests) == 1
    assert "outcome.published" in audit_actions(writer_app)


def test_a_retry_after_a_timeout_never_posts_twice(writer_app, writer_client):
    outcome_id = add(writer_app.test_cli_runner(), "--thread", THREAD)
    writer_app.statuses.fail_next = ["timeout_after_posting"]
    _, failed = click_publish(writer_client, outcome_id)
    assert failed.status_code == 503
    assert "Mastodon antwoordde niet op tijd" in failed.text and "Probeer opnieuw: plaats deze reactie" in failed.text
    assert outcomes.get(_db(writer_app), outcome_id).posted_url == ""
    assert len(writer_app.statuses.posted) == 1  # it did get through
    _, retried = click_publish(writer_client, outcome_id)  # one click
    assert retried.status_code == 303
    assert len(writer_app.statuses.posted) == 1
    assert writer_app.statuses.requests[0]["key"] == writer_app.statuses.requests[1]["key"]
    assert outcomes.get(_db(writer_app), outcome_id).posted_url == writer_app.statuses.posted[0]["url"]


def test_a_retry_after_mastodon_forgot_the_key_finds_the_earlier_reply_in_the_thread(writer_app, writer_client,
                                                                                     mastodon):
    import json

    import responses
    outcome_id = add(writer_app.test_cli_runner(), "--thread", THREAD)
    writer_app.statuses.fail_next = ["timeout_after_posting"]
    click_publish(writer_client, outcome_id)
    writer_app.statuses.forget_keys()  # more than an hour later
    base = fixture_json("thread_context.json")
    mastodon.mock.replace(responses.GET, "https://social.test/api/v1/statuses/100/context",
                          body=json.dumps({"ancestors": [], "descendants": base["descendants"]
                                           + writer_app.statuses.posted}),
                          content_type="application/json")
    _, retried = click_publish(writer_client, outcome_id)
    assert retried.status_code == 303
    assert len(writer_app.statuses.posted) == 1 and len(writer_app.statuses.requests) == 1
    assert outcomes.get(_db(writer_app), outcome_id).posted_url == writer_app.statuses.posted[0]["url"]


@pytest.mark.parametrize("failure, words", [(429, "Mastodon vraagt ons even te wachten"),
                                            (500, "Mastodon werkt nu niet goed"),
                                            ("timeout", "Mastodon antwoordde niet op tijd"),
                                            (422, "Mastodon wees het bericht af: Validation failed")])
def test_a_failed_post_leaves_the_outcome_saved_shows_why_and_retry_is_one_click(writer_app, writer_client,
                                                                                 failure, words):
    outcome_id = add(writer_app.test_cli_runner(), "--thread", THREAD)
    writer_app.statuses.fail_next = [failure]
    _, failed = click_publish(writer_client, outcome_id)
    assert failed.status_code == 503
    assert words in failed.text
    stored = outcomes.get(_db(writer_app), outcome_id)
    assert stored is not None and stored.posted_url == "" and stored.publish_error
    assert "Tien nieuwe bankjes" in writer_app.test_client().get("/resultaten").text
    assert "de laatste poging mislukte" in writer_client.get("/beheer/resultaten").text
    assert writer_app.statuses.posted == []
    _, retried = click_publish(writer_client, outcome_id)
    assert retried.status_code == 303
    assert len(writer_app.statuses.posted) == 1
    assert outcomes.get(_db(writer_app), outcome_id).publish_error == ""
    assert "outcome.publish_failed" in audit_actions(writer_app)


def test_a_changed_outcome_is_not_posted_with_an_old_preview(writer_app, writer_client):
    outcome_id = add(writer_app.test_cli_runner(), "--thread", THREAD)
    page = writer_client.get(f"/beheer/resultaten/{outcome_id}/publiceren")
    fingerprint = re.search(r'name="fingerprint" value="([^"]+)"', page.text).group(1)
    invoke(writer_app.test_cli_runner(), "outcome", "update", str(outcome_id), "--title", "Iets anders")
    response = writer_client.post(f"/beheer/resultaten/{outcome_id}/publiceren",
                                  data={"csrf_token": csrf_token(writer_client, "/beheer/resultaten"),
                                        "fingerprint": fingerprint})
    assert response.status_code == 503 and "Het resultaat is veranderd" in response.text
    assert writer_app.statuses.requests == []
    assert "Iets anders" in response.text  # the new preview


def test_the_post_fits_the_servers_max_characters_with_its_link(make_app, mastodon):
    instance = fixture_json("instance_open.json")
    instance["configuration"] = {"statuses": {"max_characters": 300, "characters_reserved_per_url": 23}}
    mastodon.add("/api/v2/instance", instance)
    mastodon.standard()
    statuses = mastodon.accept_posts()
    app = make_app(MASTODON_WRITE_TOKEN=WRITE_TOKEN)
    runner = app.test_cli_runner()
    long_text = " ".join(["woord"] * 300) + " https://www.amsterdam.nl/einde"
    outcome_id = add(runner, "--thread", THREAD, text=long_text)
    result = runner.invoke(args=["outcome", "publish", str(outcome_id)], input="y\n")
    assert result.exit_code == 0, result.output
    text = statuses.requests[0]["form"]["status"]
    assert len(text) <= 300 and "…" in text
    assert text.endswith(f"Alle resultaten: https://amsterdam.test/praatmee/resultaten#uitkomst-{outcome_id}")
    assert "https://www.amsterdam.nl/ei" not in text.replace("https://www.amsterdam.nl/einde", "")  # no cut links
    assert f"{len(text)} of 300 characters" in result.output or "of 300 characters" in result.output


def test_cli_publish_prints_the_preview_asks_and_posts_only_on_yes(make_app, mastodon):
    mastodon.standard()
    statuses = mastodon.accept_posts()
    app = make_app(MASTODON_WRITE_TOKEN=WRITE_TOKEN)
    runner = app.test_cli_runner()
    outcome_id = add(runner, "--thread", THREAD)
    declined = runner.invoke(args=["outcome", "publish", str(outcome_id)], input="n\n")
    assert declined.exit_code == 0 and "Nothing was posted." in declined.output
    assert "Wat er met jullie input gebeurde: Besloten. Tien nieuwe bankjes" in declined.output
    assert "will reply to https://social.test/@stad/100" in declined.output
    assert statuses.requests == []
    posted = runner.invoke(args=["outcome", "publish", str(outcome_id), "--yes"])
    assert posted.exit_code == 0, posted.output
    assert len(statuses.posted) == 1 and statuses.posted[0]["url"] in posted.output
    again = runner.invoke(args=["outcome", "publish", str(outcome_id), "--yes"])
    assert "already in the conversation" in again.output and len(statuses.requests) == 1
    listed = runner.invoke(args=["outcome", "list"])
    assert statuses.posted[0]["url"] in listed.output
    statuses.fail_next = [500]
    second = add(runner, "--thread", THREAD, title="Tweede")
    failed = runner.invoke(args=["outcome", "publish", str(second), "--yes"])
    assert failed.exit_code == 1 and "Mastodon is not working properly" in failed.output
    assert "Mastodon werkt nu niet goed" in failed.output and "Traceback" not in failed.output


@pytest.mark.parametrize("options, words", [
    ({"app_scopes": ["read", "write:statuses"]}, "its app has the scopes read, write:statuses"),
    ({"app_scopes": ["write"]}, "its app has the scopes write"),
    ({"app_scopes": None, "can_read_account": True}, "it can read the account"),
    ({"token": "another-token-123"}, "Mastodon does not accept it"),
])
def test_a_token_that_may_do_more_than_post_stops_the_start(make_app, mastodon, options, words):
    mastodon.standard()
    mastodon.accept_posts(**options)
    with pytest.raises(SystemExit) as stopped:
        make_app(MASTODON_WRITE_TOKEN=WRITE_TOKEN)
    message = str(stopped.value)
    assert message.startswith("praatmee: configuration error: PRAATMEE_MASTODON_WRITE_TOKEN may not be used")
    assert words in message and WRITE_TOKEN not in message


def test_a_write_only_token_starts_also_on_a_server_before_mastodon_4_3(make_app, mastodon):
    mastodon.standard()
    mastodon.accept_posts(app_scopes=None)  # apps/verify_credentials answers 403 there
    app = make_app(MASTODON_WRITE_TOKEN=WRITE_TOKEN)
    with app.app_context():
        from praatmee_site.web.services import current_publisher
        assert current_publisher() is not None


def test_an_unreachable_server_at_start_does_not_stop_the_site_and_the_token_is_checked_before_posting(
        make_app, mastodon):
    import requests
    mastodon.standard()
    mastodon.add("/api/v1/apps/verify_credentials", body=requests.ConnectionError("down"))
    app = make_app(MASTODON_WRITE_TOKEN=WRITE_TOKEN)
    statuses = mastodon.accept_posts(app_scopes=["read", "write"])
    runner = app.test_cli_runner()
    outcome_id = add(runner, "--thread", THREAD)
    result = runner.invoke(args=["outcome", "publish", str(outcome_id), "--yes"])
    assert result.exit_code == 1 and "may do more than post" in result.output
    assert statuses.requests == []


def test_the_write_token_setting_is_checked(make_app):
    with pytest.raises(SystemExit) as stopped:
        make_app(MASTODON_WRITE_TOKEN="has spaces in it")
    assert "PRAATMEE_MASTODON_WRITE_TOKEN must be the access token itself" in str(stopped.value)
    with pytest.raises(SystemExit) as stopped:
        make_app(MASTODON_WRITE_TOKEN=WRITE_TOKEN, DEMO=True)
    assert "PRAATMEE_DEMO" in str(stopped.value)
