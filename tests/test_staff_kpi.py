"""The KPI dashboard: figures from the snapshots, each chart with a title and its table, CSV and JSON behind the login.

The demo data make a known thread: one post of the city with 4 replies (by 4 different accounts,
none of them returning), 31 favourites and 12 boosts, and a poll — so it counts as interaction.
Hand-computed: replies per post 4 / 1 = 4,00; replies per favourite 4 / 31 = 0,129…; distinct accounts 4.
"""
from __future__ import annotations

import json
import re

import pytest

from praatmee_site.kpi import exports
from praatmee_site.staff.accounts import StaffDirectory
from praatmee_site.web.services import current_db


@pytest.fixture
def dashboard(make_app):
    app = make_app(DEMO=True)
    with app.app_context():
        StaffDirectory(current_db()).add("kpi@amsterdam.test", "een lang wachtwoord 123")
    client = app.test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/beheer/login").text).group(1)
    client.post("/beheer/login", data={"email": "kpi@amsterdam.test", "password": "een lang wachtwoord 123",
                                       "csrf_token": token})
    return client


def refresh(client):
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/beheer/kpi").text).group(1)
    return client.post("/beheer/kpi/bijwerken", data={"csrf_token": token})


def figure(page: str, label: str) -> str:
    return re.search(rf"<dt>{re.escape(label)}</dt><dd>([^<]+)</dd>", page).group(1).strip()


def test_update_now_collects_and_the_dashboard_shows_the_hand_computed_figures(dashboard):
    assert refresh(dashboard).status_code == 303
    page = dashboard.get("/beheer/kpi").text
    assert "De cijfers zijn bijgewerkt." in page
    # The residents' words: berichten, reacties, favorieten, keer gedeeld, accounts.
    assert figure(page, "Berichten") == "1"
    assert figure(page, "Reacties") == "4"
    assert figure(page, "Favorieten") == "31"
    assert figure(page, "Reacties per bericht") == "4,00"
    assert figure(page, "Reacties per favoriet") == "0,13"
    assert figure(page, "Keer gedeeld") == "12"
    assert figure(page, "Verschillende accounts die reageerden") == "4"
    assert figure(page, "Terugkerende accounts (reageerden in 2 of meer gesprekken)") == "0 (0%)"


def test_update_now_is_allowed_once_per_ten_minutes(dashboard):
    refresh(dashboard)
    again = refresh(dashboard)
    assert again.status_code == 303
    assert "minder dan 10 minuten geleden bijgewerkt" in dashboard.get("/beheer/kpi").text


def test_every_chart_has_a_title_a_description_and_its_table_beside_it(dashboard):
    refresh(dashboard)
    page = dashboard.get("/beheer/kpi").text
    charts = re.findall(r'<div class="chart-and-table">\s*<div class="chart">(<svg.*?</svg>)</div>\s*'
                        r'<div class="table-wrap"[^>]*>\s*<table[^>]*>\s*<caption[^>]*>([^<]+)</caption>', page, re.S)
    assert len(charts) == 4  # replies, interaction, new accounts, keyword messages
    for svg, caption in charts:
        title = re.search(r"<title[^>]*>([^<]+)</title>", svg).group(1)
        assert title == caption
        assert re.search(r"<desc[^>]*>[^<]+</desc>", svg)
        assert 'role="img"' in svg and "style=" not in svg and "<script" not in svg
    assert "Interactie (vraag of peiling) (n = 1)" in page and "Informatie (n = 0)" in page


@pytest.mark.parametrize("fmt, delimiter, bom", [(exports.EXCEL_NL, ";", True), (exports.RFC4180, ",", False)])
def test_csv_parses_back_to_the_numbers_on_the_page(dashboard, fmt, delimiter, bom):
    refresh(dashboard)
    response = dashboard.get(f"/beheer/kpi/posts.csv?formaat={fmt}")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment; filename=\"praatmee-posts-")
    assert response.data.startswith(b"\xef\xbb\xbf") is bom
    assert response.data.splitlines()[0].decode("utf-8-sig").count(delimiter) >= 5
    rows = exports.read_csv(response.data, fmt)
    assert len(rows) == 1
    assert rows[0]["replies"] == "4" and rows[0]["favourites"] == "31" and rows[0]["boosts"] == "12"
    assert rows[0]["first_words"].startswith("Voorbeeld — Hoe maken we Amsterdam digitaal voor iedereen?")
    ratio = rows[0]["replies_per_favourite"].replace(",", ".")
    assert abs(float(ratio) - 4 / 31) < 0.001


def test_account_export_has_counts_only_never_handles(dashboard):
    refresh(dashboard)
    data = dashboard.get("/beheer/kpi/accounts.csv").data.decode("utf-8-sig")
    for handle in ("fatima", "jeroen", "sam", "yara", "mastodon.nl", "toot.community"):
        assert handle not in data
    assert exports.read_csv(dashboard.get("/beheer/kpi/accounts.csv").data)[0]["distinct_accounts"] == "4"


def test_json_has_the_same_figures_behind_the_login(dashboard, make_app):
    refresh(dashboard)
    figures = json.loads(dashboard.get("/beheer/kpi.json").data)
    assert figures["totals"]["replies"] == 4 and figures["totals"]["posts"] == 1
    assert figures["accounts"]["distinct"] == 4
    anonymous = dashboard.application.test_client()
    assert anonymous.get("/beheer/kpi.json").status_code == 302


def test_period_is_chosen_and_bad_periods_fall_back_calmly(dashboard):
    refresh(dashboard)
    empty = dashboard.get("/beheer/kpi?van=2020-01-01&tot=2020-01-31").text
    assert figure(empty, "Berichten") == "0" and figure(empty, "Reacties per bericht") == "–"
    reversed_period = dashboard.get("/beheer/kpi?van=2026-12-01&tot=2026-11-01")
    assert reversed_period.status_code == 200
    assert "Het einde van de periode ligt voor het begin." in reversed_period.text
    assert "Gebruik datums zoals 2026-11-01." in dashboard.get("/beheer/kpi?van=gisteren").text


def test_unknown_export_kinds_and_formats_are_404(dashboard):
    assert dashboard.get("/beheer/kpi/handles.csv").status_code == 404
    assert dashboard.get("/beheer/kpi/posts.csv?formaat=xlsx").status_code == 404


@pytest.mark.parametrize("query", ["van=0001-01-01", "tot=9999-12-31", "van=2020-01-01&tot=2030-12-31"])
def test_extreme_periods_fall_back_calmly_everywhere(dashboard, query):
    page = dashboard.get(f"/beheer/kpi?{query}")
    assert page.status_code == 200
    assert "Kies een periode van hooguit vijf jaar" in page.text
    assert dashboard.get(f"/beheer/kpi/posts.csv?{query}").status_code == 200
    assert dashboard.get(f"/beheer/kpi.json?{query}").status_code == 200


def test_a_post_is_named_by_its_first_words_and_date_and_links_to_mastodon(dashboard):
    refresh(dashboard)
    page = dashboard.get("/beheer/kpi").text
    row = re.search(r'<tr><th scope="row"><a href="([^"]+)">([^<]+)</a></th>', page)
    assert row.group(1).startswith("https://") and "/@" in row.group(1)  # the post on Mastodon
    assert row.group(2).startswith("Voorbeeld — Hoe maken we Amsterdam digitaal voor iedereen?")
    assert re.search(r"\(\d{1,2} [a-z]{3} \d{4}\)$", row.group(2))  # its day, in Dutch: "(18 nov 2026)"
    english = dashboard.get("/en/beheer/kpi").text
    assert re.search(r'<th scope="row"><a href="[^"]+">Voorbeeld[^<]*\(\d{1,2} [A-Z][a-z]{2} \d{4}\)</a>', english)
    for word in (">Posts<", ">Likes<", ">Likes", "per like", "per post<"):
        assert word not in page, word
    for word in (">Likes<", "per like"):
        assert word not in english, word
    assert "Favourites" in english and "Replies per favourite" in english


def test_the_download_links_say_what_each_file_holds(dashboard):
    page = dashboard.get("/beheer/kpi").text
    downloads = page[page.index("<h2>Downloaden</h2>"):]
    for label in ("Berichten", "Accounts", "Nieuwe accounts per week", "Scans per campagne per dag"):
        assert f"<li>{label}: " in downloads
    assert "posts.csv</a>" not in downloads
