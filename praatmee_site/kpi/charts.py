"""Charts drawn on our server as SVG text: no script, no third party, readable at 360 px.

A chart is drawn from a `Table`, the same structure the page renders as the data table beside it,
so the two cannot disagree. Every text is escaped here; no `style` attribute is written (the CSP
forbids inline styles), only presentation attributes. Captions and headers come from the caller,
translated. No Flask in this module.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Callable, Sequence
from xml.sax.saxutils import escape as _xml_escape

from ..clock import TIMEZONE
from .figures import PeriodFigures, PostFigures, format_number

BAR = "#004699"
TEXT = "#181818"
FONT = "Arial, Helvetica, sans-serif"

WIDTH = 360  # viewBox units; the SVG has no fixed size and scales to its container
MARGIN = 8
VALUE_SPACE = 64  # room right of the longest bar for its value
LABEL_SIZE = 13
VALUE_SIZE = 13
HEADING_SIZE = 14
BAR_HEIGHT = 16
ROW_HEIGHT = 44  # label line, bar, gap
LABEL_MAX = 44  # characters that fit a label line at 360 units; the table has the full text

_ID = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}")
# Characters XML 1.0 does not allow at all; escaping cannot make them valid.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass(frozen=True)
class Column:
    header: str
    decimals: int = 0


@dataclass(frozen=True)
class Row:
    label: str
    values: tuple[float | int | None, ...]
    href: str = ""  # for the table (e.g. the post on Mastodon); the chart does not link


@dataclass(frozen=True)
class Table:
    """A data table: its caption is the chart's title, its description the chart's desc."""

    caption: str
    description: str
    label_header: str
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]

    def cell(self, row: Row, column: int, *, decimal_comma: bool = True) -> str:
        """A value as the table and the chart print it ("–" for none)."""
        return format_number(row.values[column], self.columns[column].decimals, decimal_comma=decimal_comma)


def text(value: str) -> str:
    """Escape for SVG/XML text and attribute values."""
    return _xml_escape(_NOT_XML.sub("", str(value)), {'"': "&quot;", "'": "&#x27;"})


def _short(label: str) -> str:
    label = " ".join(label.split())
    return label if len(label) <= LABEL_MAX else label[:LABEL_MAX - 1] + "…"


def _open(chart_id: str, height: int, table: Table) -> list[str]:
    if not _ID.fullmatch(chart_id):
        raise ValueError(f"chart id must be a plain HTML id, got {chart_id!r}")
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" class="chart" id="{chart_id}" '
        f'font-family="{FONT}" fill="{TEXT}">',
        f'<title id="{chart_id}-title">{text(table.caption)}</title>',
        f'<desc id="{chart_id}-desc">{text(table.description)}</desc>',
    ]


def _bar(y: float, value: float | int | None, scale: float, shown: str, label: str, *, solid: bool) -> list[str]:
    """A label line, then the bar with its value printed after it."""
    parts = [f'<text x="{MARGIN}" y="{y + LABEL_SIZE}" font-size="{LABEL_SIZE}">{text(_short(label))}</text>']
    top = y + 20
    length = max(0.0, (value or 0) * scale)
    if length > 0:
        if solid:
            parts.append(f'<rect x="{MARGIN}" y="{top}" width="{length:.1f}" height="{BAR_HEIGHT}" fill="{BAR}"/>')
        else:  # the second series: outlined, so colour is not the only difference
            parts.append(f'<rect x="{MARGIN + 1}" y="{top + 1}" width="{max(length - 2, 0.5):.1f}" '
                         f'height="{BAR_HEIGHT - 2}" fill="#ffffff" stroke="{BAR}" stroke-width="2"/>')
    parts.append(f'<text x="{MARGIN + length + 6:.1f}" y="{top + BAR_HEIGHT - 3}" font-size="{VALUE_SIZE}">'
                 f'{text(shown)}</text>')
    return parts


def _scale(values: Sequence[float | int | None]) -> float:
    largest = max((v for v in values if v is not None and v > 0), default=0)
    return (WIDTH - 2 * MARGIN - VALUE_SPACE) / largest if largest else 0.0


def bar_chart(table: Table, *, chart_id: str, column: int = 0, decimal_comma: bool = True,
              empty_text: str = "–") -> str:
    """Horizontal bars, one per row of the table, for one of its columns (e.g. replies per post)."""
    if not table.rows:
        parts = _open(chart_id, 40, table)
        parts.append(f'<text x="{MARGIN}" y="26" font-size="{LABEL_SIZE}">{text(empty_text)}</text>')
        return "".join(parts) + "</svg>"
    scale = _scale([row.values[column] for row in table.rows])
    parts = _open(chart_id, len(table.rows) * ROW_HEIGHT + MARGIN, table)
    for index, row in enumerate(table.rows):
        parts += _bar(index * ROW_HEIGHT, row.values[column], scale,
                      table.cell(row, column, decimal_comma=decimal_comma), row.label, solid=True)
    return "".join(parts) + "</svg>"


def grouped_bar_chart(table: Table, *, chart_id: str, columns: Sequence[int] | None = None,
                      count_column: int | None = None, decimal_comma: bool = True) -> str:
    """One panel per column (a measure), one bar per row (a group) in each: e.g. interaction vs information.

    Each panel has its own scale (the measures differ in size) and every bar prints its value. With
    `count_column`, a bar's label says its group's n: "Interactie (n = 3)".
    """
    columns = list(range(len(table.columns))) if columns is None else list(columns)
    panel_height = 24 + len(table.rows) * ROW_HEIGHT
    parts = _open(chart_id, len(columns) * panel_height + MARGIN, table)
    for panel, column in enumerate(columns):
        top = panel * panel_height
        parts.append(f'<text x="{MARGIN}" y="{top + 18}" font-size="{HEADING_SIZE}" font-weight="bold">'
                     f'{text(_short(table.columns[column].header))}</text>')
        scale = _scale([row.values[column] for row in table.rows])
        for index, row in enumerate(table.rows):
            label = row.label
            if count_column is not None:
                label = f"{label} (n = {table.cell(row, count_column, decimal_comma=decimal_comma)})"
            parts += _bar(top + 24 + index * ROW_HEIGHT, row.values[column], scale,
                          table.cell(row, column, decimal_comma=decimal_comma), label, solid=index % 2 == 0)
    return "".join(parts) + "</svg>"


# --- tables from the figures ---------------------------------------------------------------------
# Texts default to Dutch; the staff pages pass their translations.

def post_name(post: PostFigures) -> str:
    """A post as staff recognise it: its first words and its day ("Hoe wil jij …? (2026-11-03)")."""
    day = post.posted_at.astimezone(TIMEZONE)
    if not post.first_words:
        return day.strftime("%Y-%m-%d %H:%M")
    return f"{post.first_words} ({day.strftime('%Y-%m-%d')})"


def replies_per_post_table(period: PeriodFigures, *, caption: str = "Reacties per bericht",
                           description: str | None = None, label_header: str = "Bericht",
                           headers: Sequence[str] = ("Reacties", "Favorieten", "Keer gedeeld",
                                                     "Reacties per favoriet", "Accounts"),
                           name: Callable[[PostFigures], str] = post_name) -> Table:
    """One row per post of the period, newest first: replies, favourites, boosts, ratio, accounts.

    `name` labels a post (the staff pages pass one that writes the date in the page's language).
    """
    if description is None:
        description = (f"Aantal reacties op elk bericht van {period.start.isoformat()} tot en met "
                       f"{period.end.isoformat()}, nieuwste eerst. De tabel geeft dezelfde cijfers.")
    decimals = (0, 0, 0, 2, 0)
    rows = tuple(Row(name(post),
                     (post.replies, post.favourites, post.reblogs, post.reply_like_ratio, post.accounts),
                     post.url)
                 for post in period.posts)
    return Table(caption, description, label_header,
                 tuple(Column(h, d) for h, d in zip(headers, decimals, strict=True)), rows)


def interaction_table(period: PeriodFigures, *, caption: str = "Interactie tegenover informatie",
                      description: str | None = None, label_header: str = "Soort bericht",
                      groups: Sequence[str] = ("Interactie (vraag of peiling)", "Informatie"),
                      headers: Sequence[str] = ("Berichten (n)", "Gemiddeld aantal reacties",
                                                "Reacties per favoriet")) -> Table:
    """Posts with a poll or a question against the rest: n, average replies, reply/favourite ratio."""
    if description is None:
        description = ("Gemiddeld aantal reacties en reacties per favoriet van berichten met een vraag of "
                       "peiling, vergeleken met de andere berichten, met het aantal berichten per groep.")
    rows = tuple(Row(name, (group.posts, group.replies_per_post, group.reply_like_ratio))
                 for name, group in zip(groups, (period.interaction, period.information), strict=True))
    return Table(caption, description, label_header,
                 tuple(Column(h, d) for h, d in zip(headers, (0, 2, 2), strict=True)), rows)


def new_accounts_table(period: PeriodFigures, *, caption: str = "Nieuwe accounts per week",
                       description: str | None = None, label_header: str = "Week",
                       header: str = "Nieuwe accounts") -> Table:
    if description is None:
        description = ("Accounts die voor het eerst reageerden, per ISO-week, "
                       f"van {period.start.isoformat()} tot en met {period.end.isoformat()}.")
    rows = tuple(Row(f"{week.week} ({week.starts_on.isoformat()})", (week.new_accounts,))
                 for week in period.accounts.new_per_week)
    return Table(caption, description, label_header, (Column(header),), rows)


def scans_table(per_day: Sequence[tuple[date, int]], *, start: date | None = None, end: date | None = None,
                caption: str = "Scans per dag", description: str | None = None, label_header: str = "Dag",
                header: str = "Scans", day_label: Callable[[date], str] = date.isoformat) -> Table:
    """Every day from `start` (default: the first day with scans) to `end`, days without scans as 0."""
    counts = {day: count for day, count in per_day}
    start = start or min(counts, default=None)
    end = end or max(counts, default=None)
    if description is None:
        description = "Aantal scans van de QR-code per dag; de tabel geeft dezelfde cijfers."
    rows = []
    if start is not None and end is not None:
        day = start
        while day <= end:
            rows.append(Row(day_label(day), (counts.get(day, 0),)))
            day += timedelta(days=1)
    return Table(caption, description, label_header, (Column(header),), tuple(rows))
