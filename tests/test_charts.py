"""Charts: accessible SVG text drawn from the same table the page shows, safe with any label."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import date, datetime, timezone

import pytest

from praatmee_site import kpi
from praatmee_site.kpi import charts
from praatmee_site.kpi.charts import Column, Row, Table

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = [
    '<script>alert(1)</script>',
    '"><svg onload=alert(1)>',
    "</title><script>alert(1)</script>",
    "]]><!-- & ' \" -->",
    "style=\"fill:red\"",
    "\x00\x07 control characters",
]


REPLIES = (Column("Reacties"),)


def table(rows, columns=REPLIES):
    return Table("Reacties per post", "Aantal reacties op elke post.", "Post", tuple(columns), tuple(rows))


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # well-formed XML, or this raises


def period():
    posts = [kpi.Snapshot(str(i), f"https://social.test/@stad/{i}", datetime(2026, 11, i, 9, tzinfo=timezone.utc),
                          date(2026, 11, 25), replies, likes, 0, poll, question, False)
             for i, replies, likes, poll, question in [(2, 4, 8, False, True), (3, 0, 1, False, False),
                                                      (4, 2, 0, True, False)]]
    return kpi.compute_period(posts, {}, {}, date(2026, 11, 1), date(2026, 11, 30))


def test_bar_chart_has_a_title_and_desc_named_by_aria_labelledby():
    svg = charts.bar_chart(table([Row("2026-11-01", (4,)), Row("2026-11-02", (0,))]), chart_id="replies")
    root = parse(svg)
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "replies-title replies-desc"
    assert root.find(f"{SVG}title").text == "Reacties per post"
    assert root.find(f"{SVG}title").get("id") == "replies-title"
    assert root.find(f"{SVG}desc").text == "Aantal reacties op elke post."
    assert root.find(f"{SVG}desc").get("id") == "replies-desc"


def test_charts_scale_to_their_container_without_a_fixed_width():
    root = parse(charts.bar_chart(table([Row("a", (1,))]), chart_id="c"))
    assert root.get("viewBox").startswith("0 0 360 ")
    assert root.get("width") is None and root.get("height") is None


def test_charts_have_no_style_attribute_and_no_script():
    svg = charts.grouped_bar_chart(charts.interaction_table(period()), chart_id="g", columns=(1, 2), count_column=0)
    svg += charts.bar_chart(charts.replies_per_post_table(period()), chart_id="b")
    assert "style" not in svg.lower()
    assert "<script" not in svg.lower()
    assert not re.search(r"\son[a-z]+=", svg)


def test_bars_use_the_city_blue_and_text_the_city_black():
    svg = charts.bar_chart(table([Row("a", (3,))]), chart_id="c")
    assert 'fill="#004699"' in svg and 'fill="#181818"' in svg


def test_bar_lengths_follow_the_values_and_values_are_printed():
    root = parse(charts.bar_chart(table([Row("a", (4,)), Row("b", (2,)), Row("c", (0,))]), chart_id="c"))
    widths = [float(r.get("width")) for r in root.iter(f"{SVG}rect")]
    assert len(widths) == 2 and widths[0] == pytest.approx(2 * widths[1])  # no bar for 0
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert texts == ["a", "4", "b", "2", "c", "0"]


def test_a_missing_figure_is_a_dash_not_a_zero_bar():
    columns = (Column("Reacties per like", 2),)
    root = parse(charts.bar_chart(table([Row("a", (0.5,)), Row("b", (None,))], columns), chart_id="c"))
    assert [t.text for t in root.iter(f"{SVG}text")] == ["a", "0,50", "b", "–"]
    assert len(list(root.iter(f"{SVG}rect"))) == 1


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_labels_captions_and_headers_are_escaped(hostile):
    hostile_table = Table(hostile, hostile, hostile, (Column(hostile),), (Row(hostile, (1,)),))
    for svg in (charts.bar_chart(hostile_table, chart_id="c"),
                charts.grouped_bar_chart(hostile_table, chart_id="g")):
        root = parse(svg)
        assert {e.tag for e in root.iter()} <= {f"{SVG}{name}" for name in ("svg", "title", "desc", "text", "rect")}
        assert not [a for e in root.iter() for a in e.attrib if a.startswith("on") or a == "style"]
        assert "<script" not in svg
        # The text survives as text (control characters XML cannot hold are dropped).
        assert root.find(f"{SVG}title").text == hostile.replace("\x00", "").replace("\x07", "")


def test_an_unsafe_chart_id_is_refused():
    with pytest.raises(ValueError):
        charts.bar_chart(table([Row("a", (1,))]), chart_id='x" onload="alert(1)')


def test_long_labels_are_shortened_in_the_chart_only():
    label = "Een heel lang label dat niet op een telefoon van 360 pixels breed past"
    t = table([Row(label, (1,))])
    root = parse(charts.bar_chart(t, chart_id="c"))
    shown = next(root.iter(f"{SVG}text")).text
    assert shown.endswith("…") and len(shown) <= charts.LABEL_MAX
    assert t.rows[0].label == label  # the table keeps the whole text


def test_interaction_chart_compares_the_groups_with_their_n():
    t = charts.interaction_table(period())
    # Interaction: 2 posts (question: 4 replies / 8 likes; poll: 2 / 0) → 3,00 per post, 6/8 = 0,75.
    # Information: 1 post (0 / 1) → 0,00 per post, 0/1 = 0,00.
    assert [(r.label, r.values) for r in t.rows] == [("Interactie (vraag of peiling)", (2, 3.0, 0.75)),
                                                    ("Informatie", (1, 0.0, 0.0))]
    root = parse(charts.grouped_bar_chart(t, chart_id="g", columns=(1, 2), count_column=0))
    texts = [e.text for e in root.iter(f"{SVG}text")]
    assert texts == ["Gemiddeld aantal reacties", "Interactie (vraag of peiling) (n = 2)", "3,00", "Informatie (n = 1)",
                     "0,00", "Reacties per favoriet", "Interactie (vraag of peiling) (n = 2)", "0,75", "Informatie (n = 1)",
                     "0,00"]
    assert len(list(root.iter(f"{SVG}rect"))) == 2  # information's bars are 0: not drawn
    # The second group is drawn outlined, so colour is not the only difference.
    root = parse(charts.grouped_bar_chart(Table("t", "d", "g", (Column("x"),), (Row("a", (2,)), Row("b", (1,)))),
                                          chart_id="h"))
    assert [r.get("fill") for r in root.iter(f"{SVG}rect")] == ["#004699", "#ffffff"]


def test_replies_per_post_table_is_what_the_chart_draws():
    t = charts.replies_per_post_table(period())
    assert [r.values[0] for r in t.rows] == [2, 0, 4]  # newest first
    assert t.rows[0].href == "https://social.test/@stad/4"
    svg = charts.bar_chart(t, chart_id="r")
    assert [e.text for e in parse(svg).iter(f"{SVG}text")][1::2] == ["2", "0", "4"]


def test_scans_table_fills_days_without_scans():
    t = charts.scans_table([(date(2026, 11, 1), 3), (date(2026, 11, 3), 1)])
    assert [(r.label, r.values) for r in t.rows] == [("2026-11-01", (3,)), ("2026-11-02", (0,)), ("2026-11-03", (1,))]


def test_an_empty_table_still_gives_an_accessible_chart():
    root = parse(charts.bar_chart(table([]), chart_id="e", empty_text="Nog geen gegevens"))
    assert root.find(f"{SVG}title").text == "Reacties per post"
    assert [t.text for t in root.iter(f"{SVG}text")] == ["Nog geen gegevens"]


def test_a_post_is_named_by_its_first_words_and_day_and_links_to_mastodon():
    posts = [kpi.Snapshot("7", "https://social.test/@stad/7", datetime(2026, 11, 3, 23, 30, tzinfo=timezone.utc),
                          date(2026, 11, 25), 2, 1, 0, False, True, False, "Hoe wil jij dat de stad met je data omgaat?"),
             kpi.Snapshot("8", "https://social.test/@stad/8", datetime(2026, 11, 2, 9, tzinfo=timezone.utc),
                          date(2026, 11, 25), 0, 0, 0, False, False, False)]
    t = charts.replies_per_post_table(kpi.compute_period(posts, {}, {}, date(2026, 11, 1), date(2026, 11, 30)))
    # The day is the city's: 23:30 UTC on 3 November is 4 November in Amsterdam.
    assert [(r.label, r.href) for r in t.rows] == [
        ("Hoe wil jij dat de stad met je data omgaat? (2026-11-04)", "https://social.test/@stad/7"),
        ("2026-11-02 10:00", "https://social.test/@stad/8")]  # collected before the first words were kept
    assert [c.header for c in t.columns] == ["Reacties", "Favorieten", "Keer gedeeld", "Reacties per favoriet",
                                             "Accounts"]
