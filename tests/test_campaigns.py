"""Campaigns: the rules for slugs, texts, links and dates; the campaign page /c/<slug>; and the scan
counter, which counts real visits exactly, skips previews and prefetches, and keeps nothing about anyone."""
from __future__ import annotations

import threading
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta, timezone

import pytest
from flask_babel import force_locale, gettext
from sqlalchemy import inspect, select, text
from sqlalchemy.dialects import postgresql, sqlite

from praatmee_site import campaigns
from praatmee_site.campaigns import CampaignError, Problem
from praatmee_site.db import Campaign
from praatmee_site.web import printed
from tests.conftest import HOME

PUBLIC = "https://amsterdam.test/praatmee"
THREAD = f"{HOME}/@stad/100"
INVITE = f"{HOME}/invite/Ab3dE-9_"
# A phone's browser: what a resident scanning a poster sends.
PHONE = {"User-Agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
                       "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"}
BASICS = dict(name="OBA Oost", place="bibliotheek", cta_nl="Stel je vraag aan het Innovatieteam")


def database(app):
    return app.extensions["praatmee_db"]


def make(app, slug="bieb-oost", **values):
    return campaigns.create(database(app), slug, home_url=HOME, **{**BASICS, **values})


def problems_of(error: pytest.ExceptionInfo) -> set[tuple[str, str]]:
    return {(problem.field, problem.code) for problem in error.value.problems}


def scans(app, slug="bieb-oost") -> int:
    db = database(app)
    return campaigns.totals(db, campaigns.require(db, slug), campaigns.today()).all_time


def today() -> date:
    return campaigns.today()


# --- slugs -----------------------------------------------------------------------------------

@pytest.mark.parametrize("slug", ["ab", "bieb-oost", "a" * 40, "2026-markt", "a1-b2-c3", "42"])
def test_good_slugs_are_accepted(app, slug):
    assert make(app, slug).slug == slug
    assert campaigns.get(database(app), slug).name == "OBA Oost"


@pytest.mark.parametrize("slug", [
    "a", "a" * 41, "", "Bieb-Oost", "BIEB", "bieb oost", "Bieb Oost", "-bieb", "bieb-", "bieb--oost",
    "bieb_oost", "bieb.oost", "bieb/oost", "ëbieb", " bieb",
], ids=repr)
def test_bad_slugs_are_refused_with_field_and_code(app, slug):
    with pytest.raises(CampaignError) as error:
        make(app, slug)
    assert problems_of(error) == {("slug", "invalid")}
    assert error.value.problems[0].params == {"value": slug}
    assert campaigns.list_with_totals(database(app), today()) == []


@pytest.mark.parametrize("slug", ["beheer", "en", "kiosk", "nieuw", "admin", "static"])
def test_words_that_read_as_part_of_the_site_are_reserved(app, slug):
    with pytest.raises(CampaignError) as error:
        make(app, slug)
    assert problems_of(error) == {("slug", "reserved")}


def test_a_duplicate_slug_is_refused_and_the_first_campaign_stays(app):
    make(app, name="Eerste")
    with pytest.raises(CampaignError) as error:
        make(app, name="Tweede")
    assert problems_of(error) == {("slug", "taken")}
    assert campaigns.get(database(app), "bieb-oost").name == "Eerste"


def test_the_slug_never_changes_once_created(app):
    make(app)
    with pytest.raises(CampaignError) as error:
        campaigns.update(database(app), "bieb-oost", home_url=HOME, slug="bieb-west")
    assert problems_of(error) == {("slug", "immutable")}
    assert campaigns.get(database(app), "bieb-west") is None
    assert campaigns.get(database(app), "bieb-oost") is not None


def test_every_problem_is_reported_at_once_and_nothing_is_stored(app):
    with pytest.raises(CampaignError) as error:
        campaigns.create(database(app), "Bieb Oost", home_url=HOME, name=" ", place="kroeg", cta_nl="",
                         thread_url="https://evil.example/@stad/1", invite_url="https://evil.example/invite/x",
                         starts_on="2026-13-01", ends_on="morgen")
    assert problems_of(error) == {
        ("slug", "invalid"), ("name", "required"), ("place", "invalid"), ("cta_nl", "required"),
        ("thread_url", "not_home_status"), ("invite_url", "not_home_invite"),
        ("starts_on", "invalid_date"), ("ends_on", "invalid_date"),
    }
    assert campaigns.list_with_totals(database(app), today()) == []


def test_every_problem_reads_well_in_dutch_and_english(app):
    with pytest.raises(CampaignError) as error:
        campaigns.create(database(app), "Bieb Oost", home_url=HOME, name="x" * 201, place="kroeg",
                         cta_nl="x" * 201, cta_en="y" * 201, thread_url="100", invite_url="nope",
                         input_text="z" * 2001, starts_on="2026-12-10", ends_on="2026-12-01")
    problems = list(error.value.problems) + [
        Problem("slug", "reserved", {"value": "en"}), Problem("slug", "taken", {"value": "a"}),
        Problem("slug", "unknown", {"value": "a"}), Problem("slug", "immutable"),
        Problem("name", "required"), Problem("cta_nl", "required"),
        Problem("place", "required", {"choices": ", ".join(campaigns.PLACES)}),
        Problem("starts_on", "invalid_date", {"value": "x"}), Problem("ends_on", "invalid_date", {"value": "x"}),
        Problem("keyword", "invalid", {"value": "B"}), Problem("keyword", "reserved", {"value": "STOP"}),
        Problem("keyword", "taken", {"value": "BIEB"}),
    ] + [Problem(field, code, {"sizes": "A6/A4", "characters": "😀 (U+1F600)"})
         for field, code in campaigns.MESSAGES if "unprintable" in code]
    assert {(p.field, p.code) for p in problems} == set(campaigns.MESSAGES)
    with app.app_context():
        for lang in ("nl", "en"):
            with force_locale(lang):
                for problem in problems:
                    message = gettext(problem.message, **problem.params)
                    assert "%(" not in message
    assert str(Problem("slug", "invalid", {"value": "Bieb Oost"})).startswith(
        "Invalid slug 'Bieb Oost': use 2–40 lowercase letters, digits and single hyphens")


# --- the other fields ------------------------------------------------------------------------

def test_place_must_be_one_of_the_place_types(app):
    for index, place in enumerate(campaigns.PLACES):
        assert make(app, f"plek-{index}", place=place).place == place
    assert make(app, "hoofdletters", place="Bushalte").place == "bushalte"
    with pytest.raises(CampaignError) as error:
        make(app, "kroeg", place="kroeg")
    assert error.value.problems[0].params["choices"] == "bushalte, bibliotheek, buurthuis, evenement, online, overig"


def test_texts_are_tidied_and_the_call_to_action_has_a_poster_sized_limit(app):
    campaign = make(app, name="  OBA \n Oost ", cta_nl=" Stel je\tvraag ", input_text="  We lezen alles.  ")
    assert (campaign.name, campaign.cta_nl, campaign.input_text) == ("OBA Oost", "Stel je vraag", "We lezen alles.")
    assert make(app, "lang", cta_nl="x" * 200).cta_nl == "x" * 200
    with pytest.raises(CampaignError) as error:
        make(app, "te-lang", cta_nl="x" * 201, cta_en="y" * 201)
    assert problems_of(error) == {("cta_nl", "too_long"), ("cta_en", "too_long")}


def test_english_call_to_action_falls_back_to_dutch(app):
    dutch_only = make(app, "alleen-nl")
    both = make(app, "beide", cta_en="Ask the Innovation team your question")
    assert campaigns.call_to_action(dutch_only, "en") == "Stel je vraag aan het Innovatieteam"
    assert campaigns.call_to_action(both, "en") == "Ask the Innovation team your question"
    assert campaigns.call_to_action(both, "nl") == "Stel je vraag aan het Innovatieteam"


@pytest.mark.parametrize("url", [THREAD, f"{HOME}/users/stad/statuses/100", f"{HOME}/@iemand/123456789012345678"])
def test_thread_may_be_any_post_on_the_home_server(app, url):
    assert make(app, thread_url=url).thread_url == url


@pytest.mark.parametrize("url", [
    "https://evil.example/@stad/100", "http://social.test/@stad/100", "https://social.test.evil.example/@stad/100",
    "https://social.test:8443/@stad/100", "https://social.test/about", "https://social.test/@stad", "100",
    "javascript:alert(1)",
])
def test_thread_not_on_the_home_server_is_refused(app, url):
    with pytest.raises(CampaignError) as error:
        make(app, thread_url=url)
    assert problems_of(error) == {("thread_url", "not_home_status")}
    assert error.value.problems[0].params == {"server": "social.test", "value": url}


def test_invite_link_must_be_an_invite_of_the_home_server(app):
    assert make(app, invite_url=INVITE).invite_url == INVITE
    for index, url in enumerate([
        "https://evil.example/invite/abc", "http://social.test/invite/abc", "https://social.test/invite/",
        "https://social.test/invite/abc?ref=poster", "https://social.test/invite/abc#x",
        "https://social.test/auth/sign_up", "https://user@social.test/invite/abc", "https://social.test/invite/a/b",
    ]):
        with pytest.raises(CampaignError) as error:
            make(app, f"uitnodiging-{index}", invite_url=url)
        assert problems_of(error) == {("invite_url", "not_home_invite")}, url


def test_dates_are_yyyy_mm_dd_and_the_end_is_not_before_the_start(app):
    campaign = make(app, starts_on="2026-12-01", ends_on="2026-12-01")
    assert (campaign.starts_on, campaign.ends_on) == (date(2026, 12, 1), date(2026, 12, 1))
    for index, value in enumerate(["2026-13-01", "1-12-2026", "20261201", "2026-W48-1", "morgen", "2026-02-30"]):
        with pytest.raises(CampaignError) as error:
            make(app, f"datum-{index}", starts_on=value)
        assert problems_of(error) == {("starts_on", "invalid_date")}, value
    with pytest.raises(CampaignError) as error:
        make(app, "achterstevoren", starts_on="2026-12-10", ends_on="2026-12-09")
    assert problems_of(error) == {("ends_on", "before_start")}
    assert error.value.problems[0].params == {"start": "2026-12-10", "end": "2026-12-09"}


# --- updating and ending ---------------------------------------------------------------------

def test_update_changes_what_is_given_clears_what_is_empty_and_keeps_the_rest(app):
    created = datetime(2026, 11, 1, 9, 0, tzinfo=timezone.utc)
    campaigns.create(database(app), "bieb-oost", home_url=HOME, now=created, **BASICS,
                     cta_en="Ask us", thread_url=THREAD)
    later = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)
    campaigns.update(database(app), "bieb-oost", home_url=HOME, now=later, name="OBA Oosterdok", cta_en="",
                     thread_url=None)
    campaign = campaigns.get(database(app), "bieb-oost")
    assert (campaign.name, campaign.cta_en, campaign.thread_url) == ("OBA Oosterdok", "", THREAD)
    assert campaign.cta_nl == BASICS["cta_nl"]
    assert campaign.created_at.replace(tzinfo=timezone.utc) == created
    assert campaign.updated_at.replace(tzinfo=timezone.utc) == later


def test_update_checks_the_same_rules_and_changes_nothing_when_refused(app):
    make(app, starts_on="2026-12-01")
    with pytest.raises(CampaignError) as error:
        campaigns.update(database(app), "bieb-oost", home_url=HOME, name="Nieuw", ends_on="2026-11-30")
    assert problems_of(error) == {("ends_on", "before_start")}
    assert campaigns.get(database(app), "bieb-oost").name == "OBA Oost"
    with pytest.raises(CampaignError) as error:
        campaigns.update(database(app), "bestaat-niet", home_url=HOME, name="x")
    assert problems_of(error) == {("slug", "unknown")}


def test_end_makes_today_the_last_day_and_keeps_an_earlier_end(app):
    make(app)
    ended = campaigns.end(database(app), "bieb-oost", today=date(2026, 11, 25), home_url=HOME)
    assert ended.ends_on == date(2026, 11, 25)
    again = campaigns.end(database(app), "bieb-oost", today=date(2026, 12, 25), home_url=HOME)
    assert again.ends_on == date(2026, 11, 25)  # not brought back to life by ending it again


def test_a_campaign_is_active_before_its_start_and_through_its_end_date(app):
    campaign = make(app, starts_on="2026-12-01", ends_on="2026-12-31")
    assert campaigns.is_active(campaign, date(2026, 11, 20)) and not campaigns.has_started(campaign, date(2026, 11, 20))
    assert campaigns.is_active(campaign, date(2026, 12, 31)) and campaigns.has_started(campaign, date(2026, 12, 31))
    assert campaigns.has_ended(campaign, date(2027, 1, 1)) and not campaigns.is_active(campaign, date(2027, 1, 1))


def test_public_url_is_the_public_address_with_c_and_the_slug_and_nothing_more():
    for public in ("https://amsterdam.nl/praatmee", "https://amsterdam.nl/praatmee/"):
        assert campaigns.public_url(public, "bieb-oost") == "https://amsterdam.nl/praatmee/c/bieb-oost"


# --- the poster's words ----------------------------------------------------------------------

def test_poster_spec_encodes_the_campaign_url_and_carries_translated_texts(make_app):
    app = make_app(SMS_NUMBER="4444")
    campaign = make(app, cta_en="Ask the Innovation team your question")
    with app.app_context():
        spec = printed.poster_spec(campaign, app.config, printed.LANGUAGES["nl+en"])
    assert spec.url == f"{PUBLIC}/c/bieb-oost"
    assert spec.short_link == "amsterdam.test/praatmee"
    assert spec.city == "Gemeente Amsterdam"
    dutch, english = spec.texts
    assert dutch.headline == "Stel je vraag aan het Innovatieteam"
    assert dutch.why == "Praat mee met de gemeente op Mastodon — eerst lezen mag ook"
    assert dutch.reason == "Jouw input → zichtbaar resultaat"  # the reason to join, not the hurdle
    assert dutch.scan == "Scan met de camera van je telefoon"
    assert dutch.sms == "Stuur PRAATMEE naar 4444"
    assert english.headline == "Ask the Innovation team your question"
    assert english.why == "Join the conversation with the city on Mastodon — reading first is fine too"
    assert english.reason == "Your input → a visible result"
    assert english.scan == "Scan with your phone's camera"
    assert english.sms == "Text PRAATMEE to 4444"


def test_poster_has_no_sms_line_without_sms_settings(app):
    campaign = make(app)
    with app.app_context():
        spec = printed.poster_spec(campaign, app.config, printed.LANGUAGES["en"])
    assert spec.texts[0].sms is None
    assert spec.texts[0].headline == "Stel je vraag aan het Innovatieteam"  # no English CTA: the Dutch one
    assert spec.city == "City of Amsterdam"


# --- the campaign page -----------------------------------------------------------------------

def test_campaign_page_shows_its_heading_with_a_canonical_link_and_counts_one_scan(app, client, mastodon):
    mastodon.standard()
    make(app, cta_nl="Denk mee over digitalisering in Amsterdam")
    response = client.get("/c/bieb-oost", headers=PHONE)
    assert response.status_code == 200
    assert '<h1 id="cta">Denk mee over digitalisering in Amsterdam</h1>' in response.text
    assert f'<link rel="canonical" href="{PUBLIC}/">' in response.text
    assert 'id="post-100"' in response.text  # the current conversation: it has no thread of its own
    assert scans(app) == 1
    assert campaigns.scans_per_day(database(app), campaigns.get(database(app), "bieb-oost")) == [(today(), 1)]


def test_english_campaign_page_uses_the_english_call_to_action_or_falls_back(app, client, mastodon):
    mastodon.standard()
    make(app, "beide", cta_en="Ask the Innovation team your question")
    make(app, "alleen-nl")
    page = client.get("/en/c/beide", headers=PHONE).text
    assert '<h1 id="cta">Ask the Innovation team your question</h1>' in page
    assert f'<link rel="canonical" href="{PUBLIC}/en/">' in page
    # The Dutch fallback on an English page says it is Dutch, for screen readers (WCAG 3.1.2).
    assert '<h1 id="cta" lang="nl">Stel je vraag aan het Innovatieteam</h1>' in client.get("/en/c/alleen-nl",
                                                                                             headers=PHONE).text
    assert '<h1 id="cta">Stel je vraag aan het Innovatieteam</h1>' in client.get("/c/beide", headers=PHONE).text


def test_invite_link_replaces_the_sign_up_link_on_that_campaign_page_only(app, client, mastodon):
    mastodon.standard()
    make(app, "met-uitnodiging", invite_url=INVITE)
    make(app, "zonder")
    page = client.get("/c/met-uitnodiging", headers=PHONE).text
    assert f'<a class="button" href="{INVITE}">Account aanmaken (2 min)</a>' in page
    for path in ("/c/zonder", "/"):
        page = client.get(path, headers=PHONE).text
        assert INVITE not in page
        assert f'<a class="button" href="{HOME}/auth/sign_up?lang=nl">' in page


def test_invite_link_keeps_the_button_while_open_sign_up_is_closed(app, client, mastodon):
    mastodon.standard("instance_closed.json")
    make(app, invite_url=INVITE)
    page = client.get("/c/bieb-oost", headers=PHONE).text
    assert f'<a class="button" href="{INVITE}">Account aanmaken (2 min)</a>' in page


def test_campaign_thread_and_input_text_are_shown(app, client, mastodon):
    mastodon.standard()
    make(app, thread_url=THREAD, input_text="We bespreken je ideeën op 12 december in de raad.")
    page = client.get("/c/bieb-oost", headers=PHONE).text
    assert 'id="post-100"' in page and 'id="post-105"' in page
    assert "We bespreken je ideeën op 12 december in de raad." in page
    assert mastodon.calls_to("/api/v1/accounts/1/statuses") == 0  # its own thread, not the pinned post


def test_campaign_page_is_not_for_shared_caches_and_sets_no_cookie(app, client, mastodon):
    mastodon.standard()
    make(app)
    for path in ("/c/bieb-oost", "/en/c/bieb-oost", "/c/bestaat-niet"):
        response = client.get(path, headers=PHONE)
        assert response.headers["Cache-Control"] == "private, no-store"
        assert "Set-Cookie" not in response.headers
    assert client.get("/").headers["Cache-Control"] == "public, max-age=60"


def test_campaign_page_reuses_the_cached_thread(app, client, mastodon):
    mastodon.standard()
    make(app)
    for _ in range(3):
        client.get("/c/bieb-oost", headers=PHONE)
    assert mastodon.calls_to("/api/v1/statuses/100/context") == 1
    assert scans(app) == 3


def test_head_is_not_counted(app, client, mastodon):
    mastodon.standard()
    make(app)
    assert client.head("/c/bieb-oost", headers=PHONE).status_code == 200
    assert scans(app) == 0


PREVIEWERS = {
    "facebook": "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "imessage": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_11_1) AppleWebKit/601.2.4 (KHTML, like Gecko) "
                "Version/9.0.1 Safari/601.2.4 facebookexternalhit/1.1 Facebot Twitterbot/1.0",
    "twitter": "Twitterbot/1.0",
    "slack": "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "whatsapp": "WhatsApp/2.23.20.0 A",
    "telegram": "TelegramBot (like TwitterBot)",
    "discord": "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
    "linkedin": "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
    "mastodon": "http.rb/5.1.1 (Mastodon/4.2.8; +https://mastodon.social/)",
    "mastodon-link-preview": "http.rb/5.2.0 (Mastodon/4.3.0; +https://mastodon.social/) Bot",
    "mastodon-plain": "Mastodon/4.3.0 (http.rb/5.2.0; +https://social.example/)",
    "pleroma": "Pleroma 2.6.2; https://pleroma.example <admin@pleroma.example>",
    "akkoma": "Akkoma 3.13.2; https://akkoma.example <admin@akkoma.example>",
    "misskey": "Misskey/2024.5.0 (https://misskey.io)",
    "google": "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "bing": "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "apple": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_5) AppleWebKit/605.1.15 (KHTML, like Gecko) "
             "Version/13.1.1 Safari/605.1.15 (Applebot/0.1; +http://www.apple.com/go/applebot)",
    "skype": "Mozilla/5.0 (Windows NT 6.1; WOW64) SkypeUriPreview Preview/0.5 skype-url-preview@microsoft.com",
    "generic-preview": "Mozilla/5.0 (compatible; LinkPreview/1.0)",
    "generic-bot": "Mozilla/5.0 (compatible; SomethingBot/3.1)",
    "crawler": "example-crawler/1.0",
    "spider": "Baiduspider+(+http://www.baidu.com/search/spider.htm)",
    "curl": "curl/8.5.0",
    "empty": "",
}


@pytest.mark.parametrize("agent", PREVIEWERS.values(), ids=PREVIEWERS.keys())
def test_link_previews_bots_and_tools_are_not_counted(app, client, mastodon, agent):
    mastodon.standard()
    make(app)
    assert client.get("/c/bieb-oost", headers={"User-Agent": agent}).status_code == 200
    assert scans(app) == 0


PREFETCHES = {
    "purpose": {"Purpose": "prefetch"},
    "sec-purpose": {"Sec-Purpose": "prefetch"},
    "sec-purpose-prerender": {"Sec-Purpose": "prefetch;prerender"},
    "x-moz": {"X-Moz": "prefetch"},
    "x-purpose-preview": {"X-Purpose": "preview"},
}


@pytest.mark.parametrize("headers", PREFETCHES.values(), ids=PREFETCHES.keys())
def test_prefetches_are_not_counted(app, client, mastodon, headers):
    mastodon.standard()
    make(app)
    assert client.get("/c/bieb-oost", headers={**PHONE, **headers}).status_code == 200
    assert scans(app) == 0


BROWSERS = {
    "iphone-safari": PHONE["User-Agent"],
    "android-chrome": "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
                      "Chrome/126.0.6478.122 Mobile Safari/537.36",
    "cubot-phone": "Mozilla/5.0 (Linux; Android 10; CUBOT NOTE 20 Build/QP1A.190711.020) AppleWebKit/537.36 "
                   "(KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36",
    "cubot-model": "Mozilla/5.0 (Linux; Android 9; CUBOT_X19) AppleWebKit/537.36 (KHTML, like Gecko) "
                   "Chrome/110.0.0.0 Mobile Safari/537.36",
    "instagram-in-app": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
                        "Mobile/15E148 Instagram 334.0.4.32.98 (iPhone15,2; iOS 17_5; nl_NL; nl; scale=3.00)",
    "samsung": "Mozilla/5.0 (Linux; Android 13; SM-A536B) AppleWebKit/537.36 (KHTML, like Gecko) "
               "SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36",
    "firefox": "Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0",
}


@pytest.mark.parametrize("agent", BROWSERS.values(), ids=BROWSERS.keys())
def test_people_in_a_browser_are_counted(agent):
    assert campaigns.counts_as_scan("GET", {"User-Agent": agent})
    assert not campaigns.counts_as_scan("HEAD", {"User-Agent": agent})


def test_ended_campaign_shows_the_current_page_with_a_note_and_counts_nothing(app, client, mastodon):
    mastodon.standard()
    yesterday = (today() - timedelta(days=1)).isoformat()
    make(app, cta_nl="Oude oproep", invite_url=INVITE, ends_on=yesterday)
    response = client.get("/c/bieb-oost", headers=PHONE)
    assert response.status_code == 200
    assert '<p class="note" role="status">Deze actie is afgelopen — dit is het gesprek van nu</p>' in response.text
    assert '<h1 id="cta">Stel je vraag aan het Innovatieteam</h1>' in response.text
    assert "Oude oproep" not in response.text and INVITE not in response.text
    assert f'<link rel="canonical" href="{PUBLIC}/">' in response.text
    assert 'id="post-100"' in response.text
    assert scans(app) == 0
    english = client.get("/en/c/bieb-oost", headers=PHONE).text
    assert "This campaign has ended — this is the current conversation" in english


def test_campaign_on_its_end_date_is_still_active(app, client, mastodon):
    mastodon.standard()
    make(app, cta_nl="Laatste dag", ends_on=today().isoformat())
    assert '<h1 id="cta">Laatste dag</h1>' in client.get("/c/bieb-oost", headers=PHONE).text
    assert scans(app) == 1


def test_campaign_before_its_start_date_is_active_and_counts(app, client, mastodon):
    mastodon.standard()
    make(app, cta_nl="Binnenkort", starts_on=(today() + timedelta(days=7)).isoformat())
    page = client.get("/c/bieb-oost", headers=PHONE).text
    assert '<h1 id="cta">Binnenkort</h1>' in page and "Deze actie is afgelopen" not in page
    assert scans(app) == 1


@pytest.mark.parametrize("path", ["/c/bestaat-niet", "/c/Bieb%20Oost", "/c/a", "/en/c/bestaat-niet"])
def test_unknown_slug_is_the_current_page_with_404_never_a_dead_end(client, mastodon, path):
    mastodon.standard()
    response = client.get(path, headers=PHONE)
    assert response.status_code == 404
    assert 'class="button"' in response.text and "auth/sign_up" in response.text
    assert 'id="post-100"' in response.text
    assert '<link rel="canonical" href="' in response.text


def test_a_failing_counter_never_costs_the_resident_the_page(app, client, mastodon, monkeypatch):
    mastodon.standard()
    make(app)

    def broken(*args, **kwargs):
        raise RuntimeError("database is gone")
    monkeypatch.setattr(campaigns, "count_scan", broken)
    assert client.get("/c/bieb-oost", headers=PHONE).status_code == 200


def test_nothing_about_the_visitor_is_stored(app, client, mastodon):
    mastodon.standard()
    make(app)
    client.get("/c/bieb-oost", headers={**PHONE, "X-Forwarded-For": "203.0.113.77"},
               environ_base={"REMOTE_ADDR": "198.51.100.23"})
    assert scans(app) == 1
    with database(app).engine.connect() as connection:
        columns = [column["name"] for column in inspect(connection).get_columns("scan_counts")]
        dump = "\n".join(str(row) for table in ("campaigns", "scan_counts")
                         for row in connection.execute(text(f"SELECT * FROM {table}")))
    assert columns == ["campaign_id", "day", "count"]
    for trace in ("203.0.113.77", "198.51.100.23", "iPhone", "Safari"):
        assert trace not in dump


# --- counting under load ---------------------------------------------------------------------

def test_200_concurrent_scans_through_a_live_server_count_exactly_200(app, mastodon, live_server_for):
    mastodon.standard()
    make(app)
    server = live_server_for(app)
    start = threading.Barrier(50)

    def scan(index: int) -> int:
        if index < 50:
            start.wait()  # the first fifty leave together
        request = urllib.request.Request(f"{server.url}/c/bieb-oost", headers=PHONE)
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status

    with ThreadPoolExecutor(max_workers=50) as pool:
        statuses = list(pool.map(scan, range(200)))
    assert statuses == [200] * 200
    assert scans(app) == 200


def test_the_counter_loses_nothing_when_many_workers_add_at_once(app):
    campaign = make(app)
    db = database(app)
    start = threading.Barrier(40)

    def add(index: int) -> None:
        if index < 40:
            start.wait()
        campaigns.count_scan(db, campaign.id, date(2026, 11, 25))

    with ThreadPoolExecutor(max_workers=40) as pool:
        list(pool.map(add, range(400)))
    assert campaigns.scans_per_day(db, campaign) == [(date(2026, 11, 25), 400)]


def test_the_same_upsert_serves_postgresql():
    day = date(2026, 11, 25)
    for dialect, module in (("postgresql", postgresql), ("sqlite", sqlite)):
        sql = str(campaigns.scan_upsert(dialect, 1, day).compile(dialect=module.dialect()))
        assert "INSERT INTO scan_counts (campaign_id, day, count)" in sql
        assert "ON CONFLICT (campaign_id, day) DO UPDATE SET count = (scan_counts.count + " in sql


def test_totals_for_today_the_last_7_days_and_all_time(app):
    db = database(app)
    busy, quiet = make(app, "druk"), make(app, "stil")
    day = date(2026, 11, 25)
    for offset, times in ((0, 3), (6, 2), (7, 5), (30, 1)):
        for _ in range(times):
            campaigns.count_scan(db, busy.id, day - timedelta(days=offset))
    assert campaigns.totals(db, busy, day) == campaigns.ScanTotals(today=3, last_7_days=5, all_time=11)
    summaries = {summary.campaign.slug: summary.scans for summary in campaigns.list_with_totals(db, day)}
    assert summaries == {"druk": campaigns.ScanTotals(3, 5, 11), "stil": campaigns.ScanTotals(0, 0, 0)}
    assert campaigns.scans_per_day(db, busy) == [
        (date(2026, 10, 26), 1), (date(2026, 11, 18), 5), (date(2026, 11, 19), 2), (date(2026, 11, 25), 3)]
    assert campaigns.scans_per_day(db, quiet) == []


def test_campaigns_live_in_the_schema_of_migration_1(app):
    with database(app).Session() as session:
        assert session.scalars(select(Campaign)).all() == []
    assert database(app).current_version() is not None
