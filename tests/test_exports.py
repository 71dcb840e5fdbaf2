"""CSV and JSON exports: Dutch Excel and RFC 4180 files parse back to the same numbers; no account in them."""
from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime, timezone

import pytest

from praatmee_site import kpi
from praatmee_site.kpi import exports
from praatmee_site.kpi.exports import EXCEL_NL, RFC4180

DAY = date(2026, 11, 25)
ANN, BOB, CAS = (kpi.account_key(acct, "s") for acct in ("ann@other.example", "bob", "cas"))
# A real-length Mastodon id: Excel would show it as 1,13E+17.
LONG_ID = "113456789012345678"


def snap(status_id, day, *, replies, likes, boosts=0, poll=False, question=False, campaign=False, words=""):
    return kpi.Snapshot(status_id, f"https://social.test/@stad/{status_id}",
                        datetime(2026, 11, day, 9, 30, tzinfo=timezone.utc), DAY, replies, likes, boosts,
                        poll, question, campaign, words)


@pytest.fixture
def period():
    # 3 posts: replies 4/0/2, likes 8/1/0, boosts 1/0/5 → 2 replies per post, 6/9 replies per like.
    # Accounts: ann and bob in LONG_ID, bob and cas in "2" → distinct 3, returning 1 (bob), share 1/3.
    posts = [snap(LONG_ID, 2, replies=4, likes=8, boosts=1, question=True, words="Hoe wil jij dat de stad…"),
             snap("2", 3, replies=0, likes=1, campaign=True),
             snap("3", 4, replies=2, likes=0, boosts=5, poll=True)]
    repliers = {LONG_ID: {ANN: date(2026, 11, 2), BOB: date(2026, 11, 2)},
                "2": {BOB: date(2026, 11, 3), CAS: date(2026, 11, 10)}}
    first = {ANN: date(2026, 11, 2), BOB: date(2026, 11, 2), CAS: date(2026, 11, 10)}
    return kpi.compute_period(posts, repliers, first, date(2026, 11, 2), date(2026, 11, 15))


@pytest.fixture
def threads(period):
    posts = [snap("2", 3, replies=0, likes=1, campaign=True)]
    repliers = {LONG_ID: {ANN: date(2026, 11, 2), BOB: date(2026, 11, 2)},
                "2": {BOB: date(2026, 11, 3), CAS: date(2026, 11, 10)}}
    first = {ANN: date(2026, 11, 2), BOB: date(2026, 11, 2), CAS: date(2026, 11, 10)}
    return kpi.compute_threads(posts, repliers, first)


def excel_number(text):
    return None if text == "–" else float(text.replace(",", "."))


def rfc_number(text):
    return None if text == "" else float(text)


# --- the two flavours ---------------------------------------------------------------------------------

def test_the_dutch_excel_file_has_a_bom_semicolons_crlf_and_decimal_commas(period):
    data = exports.posts_csv(period)
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    # Dutch column names, in the words of the KPI page and the residents' pages.
    assert text.splitlines()[0].split(";") == [
        "Geplaatst op", "Bericht", "Link", "Reacties", "Favorieten", "Keer gedeeld", "Reacties per favoriet",
        "Peiling", "Vraag", "Interactie", "Gesprek van een campagne", "Accounts", "Geteld op"]
    assert "\r\n" in text and "\n" not in text.replace("\r\n", "")
    assert "0,5;" in text  # 4 replies / 8 likes
    assert csv.Sniffer().sniff(text.splitlines()[1]).delimiter == ";"


def test_the_rfc4180_file_has_no_bom_commas_crlf_and_decimal_points(period):
    data = exports.posts_csv(period, RFC4180)
    assert not data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8")
    assert text.startswith("status_id,posted_at,first_words,url,replies,favourites,boosts,replies_per_favourite,")
    assert "like" not in text.splitlines()[0]
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    assert ",0.5," in text


def test_post_csv_parses_back_to_the_same_numbers_in_both_flavours(period):
    excel = exports.read_csv(exports.posts_csv(period))  # by column key, whatever the header says
    rfc = list(csv.DictReader(io.StringIO(exports.posts_csv(period, RFC4180).decode("utf-8"), newline="")))
    assert len(excel) == len(rfc) == 3
    for post, e, r in zip(period.posts, excel, rfc, strict=True):
        for column, value in (("replies", post.replies), ("favourites", post.favourites), ("boosts", post.reblogs),
                              ("accounts", post.accounts)):
            assert int(e[column]) == int(r[column]) == value
        assert e["first_words"] == r["first_words"] == post.first_words
        assert excel_number(e["replies_per_favourite"]) == rfc_number(r["replies_per_favourite"]) == (
            None if post.reply_like_ratio is None else round(post.reply_like_ratio, 4))
        assert e["url"] == r["url"] == post.url
        assert e["counted_on"] == r["counted_on"] == "2026-11-25"  # ISO dates
        assert (e["poll"], e["question"], e["interaction"]) == (str(int(post.has_poll)), str(int(post.has_question)),
                                                                str(int(post.interactive)))
    assert [r["status_id"] for r in rfc] == ["3", "2", LONG_ID]
    assert excel[0]["posted_at"] == "2026-11-04 10:30"  # Europe/Amsterdam
    assert "status_id" not in excel[0]  # Excel would turn the 18-digit id into 1,13E+17


def test_a_missing_ratio_is_a_dash_for_excel_and_empty_for_rfc4180(period):
    excel = exports.read_csv(exports.posts_csv(period))
    rfc = exports.read_csv(exports.posts_csv(period, RFC4180), RFC4180)
    assert excel[0]["replies_per_favourite"] == "–" and rfc[0]["replies_per_favourite"] == ""  # 2 replies, 0 favourites


def test_account_csv_holds_counts_only(period, threads):
    for fmt in (EXCEL_NL, RFC4180):
        data = exports.accounts_csv(period, threads, fmt)
        for secret in (b"ann", b"bob", b"cas", ANN.encode(), BOB.encode(), CAS.encode(), ANN[:16].encode()):
            assert secret not in data
        rows = exports.read_csv(data, fmt)
        number = excel_number if fmt == EXCEL_NL else rfc_number
        whole, thread = rows
        period_word, thread_word = ("periode", "gesprek") if fmt == EXCEL_NL else ("period", "thread")
        assert (whole["scope"], whole["from"], whole["to"]) == (period_word, "2026-11-02", "2026-11-15")
        assert [int(whole[c]) for c in ("posts", "distinct_accounts", "returning_accounts", "new_accounts")] == [3, 3, 1, 3]
        assert number(whole["returning_share"]) == round(1 / 3, 4)
        # Thread "2": bob and cas; both replied elsewhere? bob yes (LONG_ID), cas no → returning 1 of 2;
        # new: cas (first reply here) → 1.
        assert thread["scope"] == thread_word and thread["url"] == "https://social.test/@stad/2"
        assert [int(thread[c]) for c in ("distinct_accounts", "returning_accounts", "new_accounts")] == [2, 1, 1]
        assert number(thread["returning_share"]) == 0.5


def test_new_accounts_per_week_csv(period):
    rows = exports.read_csv(exports.new_accounts_csv(period))
    # ann and bob first replied on 11-02 (W45), cas on 11-10 (W46).
    assert [(r["week"], r["week_start"], int(r["new_accounts"])) for r in rows] == [
        ("2026-W45", "2026-11-02", 2), ("2026-W46", "2026-11-09", 1)]


def test_scans_csv_parses_back(period):
    scans = [("bieb-oost", date(2026, 11, 1), 12), ("bieb-oost", date(2026, 11, 2), 0), ("bushalte-1", date(2026, 11, 1), 3)]
    for fmt in (EXCEL_NL, RFC4180):
        rows = exports.read_csv(exports.scans_csv(scans, fmt), fmt)
        assert [(r["campaign"], date.fromisoformat(r["day"]), int(r["scans"])) for r in rows] == scans


def test_a_cell_that_looks_like_a_formula_stays_text_in_excel():
    data = exports.scans_csv([("=HYPERLINK(\"http://x\")", DAY, 1), ("+1", DAY, 2), ("-a;b", DAY, 3)])
    rows = exports.read_csv(data)
    assert [r["campaign"] for r in rows] == ["'=HYPERLINK(\"http://x\")", "'+1", "'-a;b"]
    rfc = exports.read_csv(exports.scans_csv([("=1+1", DAY, 1)], RFC4180), RFC4180)
    assert rfc[0]["campaign"] == "=1+1"  # for programs the data stay as they are


def test_an_unknown_format_is_refused(period):
    with pytest.raises(ValueError):
        exports.posts_csv(period, "xlsx")


def test_file_names_say_what_and_which_period():
    assert exports.filename("posts", date(2026, 10, 27), DAY) == "praatmee-posts-2026-10-27-2026-11-25.csv"
    assert exports.filename("scans", date(2026, 10, 27), DAY, RFC4180).endswith("-rfc4180.csv")


# --- JSON -----------------------------------------------------------------------------------------------

def test_json_has_the_same_figures_and_no_accounts(period, threads):
    scans = [("bieb-oost", date(2026, 11, 1), 12)]
    document = exports.as_json(period, threads, scans)
    text = json.dumps(document)  # JSON-able as it is
    assert ANN not in text and "ann" not in text
    assert document["totals"] == {"posts": 3, "replies": 6, "favourites": 9, "boosts": 6, "replies_per_post": 2.0,
                                  "replies_per_favourite": pytest.approx(6 / 9), "boosts_per_post": 2.0}
    assert (document["interaction"]["posts"], document["information"]["posts"]) == (2, 1)
    assert document["accounts"]["distinct"] == 3 and document["accounts"]["returning"] == 1
    assert document["posts"][0]["replies_per_favourite"] is None  # not 0, not a string
    assert document["posts"][2]["first_words"] == "Hoe wil jij dat de stad…"
    assert "like" not in text
    assert document["posts"][2]["status_id"] == LONG_ID  # a string: JavaScript numbers cannot hold it
    assert document["threads"][0]["new_accounts"] == 1
    assert document["scans"] == [{"campaign": "bieb-oost", "day": "2026-11-01", "scans": 12}]
    assert document["period"] == {"start": "2026-11-02", "end": "2026-11-15"}


def test_every_dutch_column_name_reads_back_to_one_key():
    assert len(set(exports.HEADERS_NL.values())) == len(exports.HEADERS_NL)
    for key in (*exports.POST_COLUMNS, *exports.ACCOUNT_COLUMNS, *exports.LISTENING_COLUMNS, "status_id"):
        assert key in exports.HEADERS_NL, key  # the Dutch Excel file never shows a bare key
