"""praatmee's benchmarks: speed beside a baseline, page weight, upstream faults, posters, memory.

    python benchmarks/run.py                 # everything (≈ 6 minutes), as `make bench` runs it
    python benchmarks/run.py throughput      # or: profile, weight, faults, posters (several allowed)
    python benchmarks/run.py --quick all     # short runs, to try the harness (numbers not comparable)

Every part prints a markdown table; the README quotes them. The site runs under gunicorn with
2 × cores sync workers against `fake_mastodon.py` (HTTPS, own CA via REQUESTS_CA_BUNDLE); every
process this script starts is stopped again on exit and on Ctrl-C.
"""
from __future__ import annotations

import argparse
import gzip
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
import services  # noqa: E402
from services import FakeMastodon, Gunicorn, site_environment, workers_for_this_machine, wrk  # noqa: E402

PARTS = ("throughput", "weight", "profile", "faults", "posters")
SITE_APP = "praatmee_site:create_app()"
HELLO_APP = "hello:app"
CAMPAIGN = "bench"


def table(headers: list[str], rows: list[list[object]], align: str | None = None) -> str:
    align = align or "l" + "r" * (len(headers) - 1)
    lines = ["| " + " | ".join(headers) + " |",
             "| " + " | ".join("---:" if a == "r" else "---" for a in align) + " |"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def heading(text: str) -> None:
    print(f"\n### {text}\n", flush=True)


def verdict(ok: bool) -> str:
    return "met" if ok else "**not met**"


def kib(size: int) -> str:
    return f"{size / 1024:.1f} KiB"


# --- the run's shared state -------------------------------------------------------------------------

class Run:
    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.quick = args.quick
        self.duration = 5 if args.quick else args.duration
        self.connections = args.connections
        self.workers = args.workers or workers_for_this_machine()
        self.workdir = Path(tempfile.mkdtemp(prefix="praatmee-bench-"))
        self.fake = FakeMastodon(self.workdir)
        self._site: Gunicorn | None = None
        self.campaign_note: str | None = None
        self._databases = 0

    def database(self) -> Path:
        """A fresh, empty SQLite file for each site we start."""
        self._databases += 1
        return self.workdir / f"site-{self._databases}.sqlite"

    def env(self, database: Path, **extra: str) -> dict[str, str]:
        return site_environment(self.fake, database, **extra)

    def gunicorn(self, app: str, env: dict[str, str], name: str, **kwargs) -> Gunicorn:
        chdir = services.HERE if app == HELLO_APP else services.PROJECT
        return Gunicorn(app, env, workers=self.workers, chdir=chdir, log_path=self.workdir / f"{name}.log", **kwargs)

    def site(self) -> Gunicorn:
        """The site with default settings, shared by the throughput, memory and weight parts."""
        if self._site is None:
            self.fake.mode("normal")
            database = self.database()
            env = self.env(database)
            self.campaign_note = create_campaign(env)
            self._site = self.gunicorn(SITE_APP, env, "site", ready_path="/healthz")
        return self._site

    def stop_site(self) -> None:
        if self._site is not None:
            self._site.stop()
            self._site = None

    def close(self) -> None:
        self.stop_site()
        self.fake.stop()
        services.stop_all()
        if not self.args.keep:
            shutil.rmtree(self.workdir, ignore_errors=True)


def create_campaign(env: dict[str, str]) -> str | None:
    """Create the benchmark campaign through the CLI; None when done, else why its row is skipped."""
    command = [services.PYTHON, "-m", "flask", "--app", "praatmee_site", "campaign", "create", CAMPAIGN,
               "--name", "Bench", "--place", "online", "--cta", "Benchmark"]
    result = subprocess.run(command, env=env, cwd=services.PROJECT, capture_output=True, text=True, timeout=120)
    if result.returncode == 0:
        return None
    message = (result.stderr.strip() or result.stdout.strip()).splitlines()
    last = message[-1] if message else f"exit code {result.returncode}"
    if "No such command" in result.stderr:
        return "`flask campaign create` does not exist yet"
    return f"`flask campaign create` failed: {last}"


def warm(url: str, seconds: int = 3) -> None:
    """A short wrk burst: every worker fills its cache and compiles its templates."""
    try:
        wrk(url, duration=seconds, connections=16)
    except RuntimeError as exc:  # the warm-up's numbers are not used; only its effect is
        print(f"(warm-up of {url}: {exc})", file=sys.stderr)


# --- machine --------------------------------------------------------------------------------------

def machine() -> None:
    cpu = "unknown"
    try:
        cpu = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.M).group(1).strip()
    except (OSError, AttributeError):
        pass
    memory = "unknown"
    try:
        total_kib = int(re.search(r"^MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text(), re.M).group(1))
        memory = f"{total_kib / 1024 / 1024:.1f} GiB"
    except (OSError, AttributeError):
        pass
    versions = {}
    for name, command in (("gunicorn", [services.PYTHON, "-m", "gunicorn", "--version"]), ("wrk", ["wrk", "-v"])):
        try:
            output = subprocess.run(command, capture_output=True, text=True, timeout=10)
            versions[name] = (output.stdout + output.stderr).strip().splitlines()[0]
        except (OSError, IndexError):
            versions[name] = "not found"
    commit = "unknown"
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=services.PROJECT, capture_output=True,
                                text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=services.PROJECT, capture_output=True,
                               text=True, timeout=10).stdout.strip()
        commit += " (with uncommitted changes)" if dirty else ""
    except OSError:
        pass
    heading("Machine")
    print(table(["", ""], [
        ["date", datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")],
        ["CPU", cpu],
        ["cores", os.cpu_count()],
        ["RAM", memory],
        ["OS", f"{platform.system()} {platform.release()}"],
        ["Python", platform.python_version()],
        ["gunicorn", versions["gunicorn"]],
        ["wrk", versions["wrk"]],
        ["commit", commit],
    ], "ll"))


# --- 1. throughput and latency, and 6. memory --------------------------------------------------------

def combined(slices: list) -> dict:
    """One row from interleaved wrk slices: rate over their total time, median p50, worst p99."""
    requests_total = sum(r.requests for r in slices)
    return {
        "rps": requests_total / sum(r.seconds for r in slices),
        "p50": statistics.median(r.p50_ms for r in slices),
        "p99": max(r.p99_ms for r in slices),
        "requests": requests_total,
        "errors": sum(r.non_2xx_3xx + r.socket_errors for r in slices),
    }


def part_throughput(run: Run) -> None:
    """Hello world and the site run side by side, measured in interleaved slices, so a neighbour's
    burst of CPU use on a shared machine hits both sides of the ratio alike."""
    connections = run.connections
    rounds = 1 if run.quick else 3
    slice_seconds = max(5, run.duration // rounds)
    hello = run.gunicorn(HELLO_APP, services.clean_environment(), "hello")
    site = run.site()
    targets = [("hello world (baseline)", hello.url + "/")]
    skipped = []
    if run.campaign_note is None:
        status = requests.get(f"{site.url}/c/{CAMPAIGN}", timeout=30).status_code
        if status != 200:
            skipped.append(f"`/c/{CAMPAIGN}` skipped: the campaign exists but the page answers {status}.")
    else:
        skipped.append(f"`/c/{CAMPAIGN}` skipped: {run.campaign_note}.")
    targets += [("`/`", site.url + "/"), ("`/en/`", site.url + "/en/")]
    if not skipped:
        targets.append((f"`/c/{CAMPAIGN}`", f"{site.url}/c/{CAMPAIGN}"))
    try:
        for _label, url in targets:
            warm(url)
        others = services.OtherCpu(lambda: [run.fake.process.pid, *hello.pids(), *site.pids()])
        slices: dict[str, list] = {label: [] for label, _ in targets}
        for _ in range(rounds):
            for label, url in targets:
                slices[label].append(wrk(url, duration=slice_seconds, connections=connections))
        other_share, steal_share = others.share()
        hello_memory = hello.memory()
        site_memory = site.memory()
    finally:
        hello.stop()

    rows_data = {label: combined(results) for label, results in slices.items()}
    baseline = rows_data[targets[0][0]]["rps"]
    heading(f"Throughput and latency (wrk, {rounds * slice_seconds} s per page in {rounds} interleaved slices, "
            f"{connections} connections, gunicorn {run.workers} sync workers)")
    rows = []
    for index, (label, data) in enumerate(rows_data.items()):
        ratio = data["rps"] / baseline if baseline else 0
        rows.append([label, f"{data['rps']:,.0f}", f"{data['p50']:.1f}", f"{data['p99']:.1f}",
                     f"{data['requests']:,}", data["errors"],
                     "1.00" if index == 0 else f"{ratio:.2f} ({verdict(ratio >= 0.7)})"])
    print(table(["page", "requests/s", "p50 ms", "p99 ms", "requests", "errors", "ratio to hello (target ≥ 0.7)"],
                rows))
    for note in skipped:
        print(f"\n{note}")
    print(f"\nEach page ran {rounds} × {slice_seconds} s, taking turns with the others; p50 is the median of the "
          "slices' p50, p99 the worst slice's p99. wrk runs on the same machine (2 threads), so it takes CPU "
          "from the workers in every row alike; errors = non-2xx/3xx answers + socket errors. wrk sends a "
          f"phone browser's User-Agent, so every request to `/c/{CAMPAIGN}` counts a scan (one database "
          f"write), as a real visit does. CPU taken by other processes during the slices: {100 * other_share:.0f} % "
          f"of the machine, hypervisor steal {100 * steal_share:.0f} %"
          + (" — **a busy machine: absolute numbers are depressed, the ratio less so**"
             if other_share + steal_share > 0.10 else "") + ".")

    heading("Memory: peak RSS per gunicorn worker after the load (VmHWM)")
    rows = []
    for label, memory in (("site", site_memory), ("hello world", hello_memory)):
        peaks = [w["hwm_kib"] / 1024 for w in memory]
        rows.append([label, len(peaks), " / ".join(f"{p:.1f}" for p in peaks),
                     f"{max(peaks):.1f}" if peaks else "-"])
    print(table(["app", "workers", "peak RSS per worker, MiB", "largest, MiB"], rows))


# --- profile ----------------------------------------------------------------------------------------

def part_profile(run: Run) -> None:
    run.stop_site()
    run.fake.mode("normal")
    heading("Where a warm `GET /` spends its time (one process, Flask test client)")
    env = run.env(run.database())
    arguments = ["--rounds", "20", "--profiled", "60"] if run.quick else []
    if create_campaign(env) is None:
        arguments += ["--campaign", CAMPAIGN]
    result = subprocess.run([services.PYTHON, str(services.HERE / "profile_entry.py"), *arguments],
                            env=env, cwd=services.PROJECT, capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        print(f"profile failed:\n```\n{result.stderr[-3000:]}\n```")
        return
    print(result.stdout.rstrip())


# --- 3. page weight -----------------------------------------------------------------------------------

class HeadScan(HTMLParser):
    """Collects what the browser must fetch: styles and scripts (with where they sit), fonts, images."""

    def __init__(self):
        super().__init__()
        self.in_head = False
        self.blocking: list[str] = []
        self.styles: list[str] = []
        self.scripts: list[str] = []
        self.fonts: list[str] = []
        self.images: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = {k: (v or "") for k, v in attrs}
        rel = a.get("rel", "").lower().split()
        if tag == "head":
            self.in_head = True
        elif tag == "link" and "stylesheet" in rel:
            self.styles.append(a.get("href", ""))
            if self.in_head and a.get("media", "all") in ("all", "screen", "") and "disabled" not in a:
                self.blocking.append(a.get("href", ""))
        elif tag == "link" and "preload" in rel and a.get("as") == "font":
            self.fonts.append(a.get("href", ""))
        elif tag == "script" and a.get("src"):
            self.scripts.append(a["src"])
            deferred = "async" in a or "defer" in a or a.get("type") == "module"
            if self.in_head and not deferred:
                self.blocking.append(a["src"])
        elif tag == "img" and a.get("src"):
            self.images.append(a["src"])

    def handle_endtag(self, tag):
        if tag == "head":
            self.in_head = False


def css_fonts(css: str) -> list[str]:
    found = []
    for block in re.findall(r"@font-face\s*{[^}]*}", css, re.I):
        found += [u.strip("'\" ") for u in re.findall(r"url\(([^)]+)\)", block)]
    return found


def part_weight(run: Run) -> None:
    site = run.site()
    page_url = site.url + "/"
    html = requests.get(page_url, timeout=30)
    html.raise_for_status()
    scan = HeadScan()
    scan.feed(html.text)
    assets: list[tuple[str, str, bytes]] = [("HTML `/`", page_url, html.content)]
    seen = {page_url}

    def fetch(kind: str, reference: str) -> bytes:
        url = urljoin(page_url, reference)
        if url in seen:
            return b""
        seen.add(url)
        if urlsplit(url).netloc != urlsplit(page_url).netloc:
            assets.append((f"{kind} (other origin!)", url, b""))
            return b""
        body = requests.get(url, timeout=30).content
        assets.append((kind, url, body))
        return body

    for href in scan.styles:
        css = fetch("CSS", href).decode("utf-8", "replace")
        for font in css_fonts(css):
            fetch("font", urljoin(urljoin(page_url, href), font))
    for src in scan.scripts:
        fetch("JS", src)
    for href in scan.fonts:
        fetch("font", href)

    replies = html.text.count('class="reply depth-')
    heading(f"Page weight of `/` (thread with {replies} replies on the page; gzip level 6)")
    rows, total_raw, total_gzip = [], 0, 0
    for kind, url, body in assets:
        packed = len(gzip.compress(body, 6)) if body else 0
        total_raw += len(body)
        total_gzip += packed
        path = urlsplit(url).path + ("?" + urlsplit(url).query if urlsplit(url).query else "")
        rows.append([kind, f"`{path}`", kib(len(body)), kib(packed)])
    rows.append(["**total**", "", f"**{kib(total_raw)}**", f"**{kib(total_gzip)}**"])
    print(table(["what", "URL", "raw", "gzip"], rows, "llrr"))
    home = urlsplit(run.fake.url).netloc
    images_home = sum(1 for src in scan.images if urlsplit(urljoin(page_url, src)).netloc == home)
    print()
    print(table(["target", "measured", ""], [
        ["≤ 30 KB gzip in total (HTML + CSS + JS + fonts)", kib(total_gzip), verdict(total_gzip <= 30 * 1024)],
        ["≤ 1 render-blocking request in `<head>`",
         f"{len(scan.blocking)} ({', '.join(f'`{b}`' for b in scan.blocking) or 'none'})",
         verdict(len(scan.blocking) <= 1)],
    ], "llr"))
    print(f"\nNot counted: {len(scan.images)} images in the thread ({images_home} from the home server), "
          "which the browser loads after the text.")


# --- 4. upstream faults -------------------------------------------------------------------------------

def sequential(url: str, count: int) -> tuple[list[float], list[int], list[str]]:
    """`count` requests one after another: latencies in ms, statuses, bodies."""
    latencies, statuses, bodies = [], [], []
    for _ in range(count):
        start = time.perf_counter()
        response = requests.get(url, timeout=30)
        latencies.append((time.perf_counter() - start) * 1000)
        statuses.append(response.status_code)
        bodies.append(response.text)
    return latencies, statuses, bodies


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def _summary(latencies: list[float]) -> tuple[float, float, float]:
    return statistics.median(latencies), percentile(latencies, 0.99), max(latencies)


def part_faults(run: Run) -> None:
    ttl = 5
    samples = 50 if run.quick else 200
    load_seconds = 5 if run.quick else 10
    run.stop_site()
    fake = run.fake

    # Warm page, upstream hangs: measured after the TTL expired, so every worker tries to refresh.
    fake.mode("normal")
    site = run.gunicorn(SITE_APP, run.env(run.database(), PRAATMEE_CACHE_TTL=str(ttl)), "faults-warm",
                        ready_path="/healthz")
    try:
        warm(site.url + "/")
        time.sleep(ttl + 1)
        normal_seq, _, _ = sequential(site.url + "/", samples)
        time.sleep(ttl + 1)
        normal_load = wrk(site.url + "/", duration=load_seconds, connections=run.connections)
        fake.reset()
        fake.mode("hang")
        time.sleep(ttl + 1)
        hang_seq, hang_statuses, hang_bodies = sequential(site.url + "/", samples)
        hang_load = wrk(site.url + "/", duration=load_seconds, connections=run.connections)
        hang_upstream = fake.stats()["total"]
    finally:
        site.stop()
    stale_notes = sum(1 for body in hang_bodies if 'class="updated"' in body)

    # Cold page: a fresh app and an empty database, first with the upstream answering, then hanging.
    cold = {}
    for mode in ("normal", "hang"):
        fake.mode(mode)
        site = run.gunicorn(SITE_APP, run.env(run.database()), f"faults-cold-{mode}", ready_path="/healthz")
        try:
            cold[mode] = sequential(site.url + "/", 8)
        finally:
            site.stop()
    fake.mode("normal")

    heading(f"Upstream hangs (accepts, never answers; read timeout 3 s) — warm `/`, cache TTL {ttl} s, "
            f"measured after the TTL expired")
    n50, n99, nmax = _summary(normal_seq)
    h50, h99, hmax = _summary(hang_seq)
    print(table(["warm `/`", "p50 ms", "p99 ms", "max ms", "non-200"], [
        [f"upstream answering, {samples} sequential requests", f"{n50:.1f}", f"{n99:.1f}", f"{nmax:.1f}", "-"],
        [f"upstream hanging, {samples} sequential requests", f"{h50:.1f}", f"{h99:.1f}", f"{hmax:.1f}",
         sum(1 for s in hang_statuses if s != 200)],
        ["**added latency** (target 0)", f"**{h50 - n50:+.1f}**", f"**{h99 - n99:+.1f}**",
         f"**{hmax - nmax:+.1f}**", ""],
        [f"upstream answering, wrk {load_seconds} s × {run.connections} connections",
         f"{normal_load.p50_ms:.1f}", f"{normal_load.p99_ms:.1f}", f"{normal_load.requests_per_s:,.0f} req/s",
         normal_load.non_2xx_3xx + normal_load.socket_errors],
        [f"upstream hanging, wrk {load_seconds} s × {run.connections} connections",
         f"{hang_load.p50_ms:.1f}", f"{hang_load.p99_ms:.1f}", f"{hang_load.requests_per_s:,.0f} req/s",
         hang_load.non_2xx_3xx + hang_load.socket_errors],
    ]))
    print(f"\nSlowest warm page while hanging: {hmax:.0f} ms (a page that waited for the upstream would take "
          f"≥ 3000 ms): {verdict(hmax < 3000)}. While hanging, {hang_upstream} upstream requests reached the fake "
          f"(left hanging); {stale_notes} of {samples} pages said the conversation may be out of date.")

    heading("Cold `/` (fresh gunicorn, empty database): 8 sequential requests")
    rows = []
    for mode in ("normal", "hang"):
        latencies, statuses, bodies = cold[mode]
        calm = sum(1 for body in bodies if 'class="calm"' in body)
        first_ok = latencies[0] <= 3500
        rows.append([
            "upstream answering" if mode == "normal" else "upstream hanging",
            f"{latencies[0]:.0f}", f"{max(latencies[1:]):.0f}",
            sum(1 for value in latencies if value > 3500), "/".join(sorted({str(s) for s in statuses})), calm,
            verdict(first_ok and max(latencies) <= 3500) if mode == "hang" else "",
        ])
    print(table(["upstream", "first ms", "max of the next 7, ms", "over 3.5 s", "statuses",
                 "pages with the calm message", "target ≤ 3.5 s"], rows))
    print(f"\nEach of the {run.workers} workers has its own client, so each pays one timeout on its first "
          "cold request; the next ones are answered at once (30 s pause after a timeout).")

    part_rate_limited(run, ttl)


def part_rate_limited(run: Run, ttl: int) -> None:
    fake = run.fake
    seconds = 15 if run.quick else 60
    reset_in = 90
    fake.mode("normal")
    site = run.gunicorn(SITE_APP, run.env(run.database(), PRAATMEE_CACHE_TTL=str(ttl)), "faults-429",
                        ready_path="/healthz")
    try:
        warm(site.url + "/")
        fake.reset()
        switched = fake.mode("429", reset_in=reset_in)
        load = wrk(site.url + "/", duration=seconds, connections=run.connections)
        stats = fake.stats()
    finally:
        site.stop()
        fake.mode("normal")
    log = sorted(stats["log"], key=lambda entry: entry["t"])
    reset_at = switched["reset_at"]
    limited = [entry for entry in log if entry["status"] == 429]
    first = limited[0]["t"] if limited else None
    after_first = [e for e in log if first is not None and e["t"] > first and e["t"] < reset_at]
    # A connection belongs to one worker: a request on a connection that already got a 429 means
    # the worker itself ignored the reset time, not merely that another worker had not heard yet.
    told: dict[int, float] = {}
    repeated = 0
    for entry in log:
        port = entry["port"]
        if port in told and entry["t"] > told[port]:
            repeated += 1
        if entry["status"] == 429:
            told.setdefault(port, entry["t"])
    late = [e["t"] - first for e in after_first]

    heading(f"Upstream answers 429 (Retry-After {reset_in} s) under {seconds} s of load on `/` "
            f"(cache TTL {ttl} s, {run.connections} connections)")
    print(table(["measure", "value", "target"], [
        ["upstream requests during the load", stats["total"], ""],
        ["answered 429", len(limited), ""],
        ["requests after the first 429, before the reset time", len(after_first),
         f"0 ({verdict(not after_first)})"],
        ["  of which on a connection that had already been told 429", repeated, "0"],
        ["  of which more than 1 s after the first 429 (not merely concurrent with it)",
         sum(1 for delay in late if delay > 1), "0"],
        ["  the last of them, seconds after the first 429", f"{max(late):.2f}" if late else "-", ""],
        ["pages served (wrk)", f"{load.requests:,} at {load.requests_per_s:,.0f}/s", ""],
        ["pages that were not 2xx/3xx, socket errors", load.non_2xx_3xx + load.socket_errors, "0"],
        ["p50 / p99 latency, ms", f"{load.p50_ms:.1f} / {load.p99_ms:.1f}", ""],
    ], "lrl"))
    per_path: dict[str, int] = {}
    for entry in log:
        per_path[entry["path"]] = per_path.get(entry["path"], 0) + 1
    print("\nUpstream requests per path: " + ", ".join(f"`{p}` {n}" for p, n in sorted(per_path.items())) + ".")


# --- 5. posters --------------------------------------------------------------------------------------

def part_posters(run: Run) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import posters as poster_bench  # benchmarks/posters.py: also runs on its own

    renders = 3 if run.quick else 10
    heading(f"Posters: median of {renders} renders (after one warm-up render), in one process")
    print(poster_bench.markdown(poster_bench.measure(renders)))


# --- entry --------------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="praatmee benchmarks", epilog=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("parts", nargs="*", default=["all"], help=f"all (default), or some of: {', '.join(PARTS)}")
    parser.add_argument("--duration", type=int, default=30, help="seconds of wrk per page (default 30)")
    parser.add_argument("--connections", type=int, default=64, help="wrk connections (default 64)")
    parser.add_argument("--workers", type=int, default=0, help="gunicorn workers (default 2 × cores)")
    parser.add_argument("--quick", action="store_true", help="short runs to try the harness; numbers not comparable")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (gunicorn logs, databases)")
    args = parser.parse_args(argv)
    parts = PARTS if "all" in args.parts else args.parts
    unknown = [p for p in parts if p not in PARTS]
    if unknown:
        parser.error(f"unknown part(s): {', '.join(unknown)}")
    if shutil.which("wrk") is None and {"throughput", "weight", "faults"} & set(parts):
        parser.error("wrk is not installed: apt-get install wrk (make bench does this)")

    started = time.monotonic()
    print("## praatmee benchmarks" + (" (--quick: not comparable)" if args.quick else ""))
    machine()
    run = Run(args)
    try:
        for part in PARTS:
            if part in parts:
                globals()[f"part_{part}"](run)
                sys.stdout.flush()
    finally:
        if args.keep:
            print(f"\nLogs and databases kept in {run.workdir}")
        run.close()
    print(f"\nTotal benchmark time: {time.monotonic() - started:.0f} s.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
