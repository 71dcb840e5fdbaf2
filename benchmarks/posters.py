"""Poster speed and size (issue 17): the vector PDFs beside the raster ones they replaced.

    python benchmarks/posters.py            # or: make bench BENCH_ARGS=posters

Median of 10 renders after one warm-up render (fonts and layout caches filled), and median of 10
with the text-measuring caches emptied before each (a campaign's first render in a worker), in one
process, on this machine. Targets: an A4 PDF in at most 200 ms, an abri PDF in at most 1 s and at most 1 MB.
The raster figures are from the Pillow renderer (a 300-dpi JPEG inside a PDF) as it was at commit
649d7d0, measured on this machine before it was replaced: kept here to compare, not re-run.
"""
from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from praatmee_site.campaigns import posters  # noqa: E402
from praatmee_site.campaigns.posters import PosterSpec, PosterText  # noqa: E402

RASTER_BEFORE = {  # output: (median ms, size in bytes), 649d7d0, median of 10
    "A4 PDF": (77, 630_000), "A3 PDF": (117, 1_030_000), "A3 PNG": (332, 330_000),
    "handout PDF (4 × A6 on A4)": (46, 1_050_000),
}


def spec(languages: int = 1) -> PosterSpec:
    dutch = PosterText(
        headline="Stel je vraag aan het Innovatieteam",
        why="Praat mee met de gemeente op Mastodon — eerst lezen mag ook",
        reason="Jouw input → zichtbaar resultaat", sms="Stuur PRAATMEE naar 4444",
        steps=("Scan de QR-code of typ amsterdam.nl/praatmee", "Tik op ‘Account aanmaken (2 min)’",
               "Kies een naam, vul je e-mail in en bevestig die", "Reageer: stel je vraag of deel je idee"),
        tagline="Praat mee op Mastodon", scan="Scan met de camera van je telefoon",
    )
    english = PosterText(
        headline="Ask the Innovation Team your question",
        why="Join the conversation with the city on Mastodon — reading first is fine too",
        reason="Your input → a visible result", sms="Text PRAATMEE to 4444",
        steps=dutch.steps, tagline="Join the conversation on Mastodon", scan="Scan with your phone's camera",
    )
    return PosterSpec("https://amsterdam.nl/praatmee/c/bibliotheek-oost", "amsterdam.nl/praatmee",
                      (dutch, english)[:languages])


def cases():
    one, two = spec(1), spec(2)
    return [
        ("A6 PDF (table card)", lambda: posters.render(one, "A6", "pdf"), None, None),
        ("A4 PDF", lambda: posters.render(one, "A4", "pdf"), 200, None),
        ("A3 PDF", lambda: posters.render(one, "A3", "pdf"), None, None),
        ("A0 PDF", lambda: posters.render(one, "A0", "pdf"), None, None),
        ("abri PDF", lambda: posters.render(one, "abri", "pdf"), 1000, 1_000_000),
        ("abri PDF, nl+en, bleed", lambda: posters.render(two, "abri", "pdf", bleed=True), 1000, 1_000_000),
        ("A3 PNG (the PDF at 300 dpi)", lambda: posters.render(one, "A3", "png"), None, None),
        ("handout PDF (4 × A6 on A4)", lambda: posters.handout_pdf(two), None, None),
        ("QR-only SVG", lambda: posters.render(one, "A4", "svg"), 20, None),
    ]


def forget_layouts() -> None:
    """Empty the text-measuring caches (not the loaded fonts): a campaign rendered the first time."""
    for name in ("_pieces", "_word_extent", "_glyph_ink", "_font", "_pil_font", "_font_for", "_qr_matrix"):
        getattr(posters, name).cache_clear()


def timed(render, renders: int, cold: bool) -> list[float]:
    times = []
    for _ in range(renders):
        if cold:
            forget_layouts()
        start = time.perf_counter()
        render()
        times.append((time.perf_counter() - start) * 1000)
    return times


def measure(renders: int = 10) -> list[list[str]]:
    rows = []
    for label, render, target_ms, target_bytes in cases():
        size = len(render())
        times = timed(render, renders, cold=False)
        cold = statistics.median(timed(render, renders, cold=True))
        median = max(statistics.median(times), cold) if target_ms else statistics.median(times)
        before = next((v for k, v in RASTER_BEFORE.items() if label.startswith(k)), None)
        targets = []
        if target_ms:
            targets.append(f"≤ {target_ms} ms: {'met' if median <= target_ms else 'MISSED'}")
        if target_bytes:
            targets.append(f"≤ {target_bytes // 1_000_000} MB: {'met' if size <= target_bytes else 'MISSED'}")
        rows.append([label, f"{statistics.median(times):.1f}", f"{cold:.1f}", f"{min(times):.1f}", f"{max(times):.1f}",
                     f"{size / 1000:.0f} kB",
                     f"{before[0]} ms, {before[1] / 1000:.0f} kB" if before else "", "; ".join(targets)])
    return rows


def markdown(rows: list[list[str]]) -> str:
    headers = ["output", "median ms", "median ms, first render of a campaign", "min ms", "max ms", "size",
               "raster before (649d7d0)", "target (the slower median)"]
    lines = ["| " + " | ".join(headers) + " |", "| " + " | ".join("---" for _ in headers) + " |"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown(measure(3 if "--quick" in sys.argv else 10)))
