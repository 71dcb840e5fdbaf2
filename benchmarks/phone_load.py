"""Page load on a mid-range phone: first and largest contentful paint of `/` and `/c/<slug>`, beside the
very same HTML and CSS served as static files (issue 14).

    .venv/bin/python benchmarks/phone_load.py [--loads 5] [--keep]

Everything runs on this machine: the fake home server (benchmarks/fake_mastodon.py, 16 replies on the
page), the site under gunicorn, and one nginx with two servers that differ only in where a page comes
from: the first proxies to gunicorn (as the README's deployment guide, without its 10 s page cache), the
second serves the pages saved from the first as files. Both serve /static/ from disk and gzip alike.

Chromium (Debian's, through Playwright) loads each page cold (a fresh context: empty cache, new
connections) over the DevTools protocol with a mid-range phone's limits: `Emulation.setCPUThrottlingRate`
4×, and `Network.emulateNetworkConditions` at Lighthouse's "Slow 4G" figures: 150 ms round trip,
1.6 Mbit/s down, 750 kbit/s up. The viewport is 360×740 at device pixel ratio 2. FCP is the
`first-contentful-paint` paint entry, LCP the last `largest-contentful-paint` entry after the load
event. Loads take turns, each server first every other round, so a busy neighbour hits both alike;
the table has the median of `--loads` cold loads of each. (The navigation's own first-byte time is not
used: under DevTools throttling Chromium reports it before the emulated latency; the table gives the
servers' unthrottled answer time instead.)
"""
from __future__ import annotations

import argparse
import gzip
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import services  # noqa: E402 - benchmarks are scripts beside each other, not a package

CHROMIUM = os.environ.get("PRAATMEE_TEST_CHROMIUM", "/usr/bin/chromium")
CAMPAIGN = "bench"
PAGES = ("/", f"/c/{CAMPAIGN}")
PHONE_UA = ("Mozilla/5.0 (Linux; Android 14; Pixel 7a) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/126.0 Mobile Safari/537.36")
SLOW_4G = {"offline": False, "latency": 150, "downloadThroughput": 1.6e6 / 8, "uploadThroughput": 750e3 / 8}
CPU_SLOWDOWN = 4
LCP_TARGET_MS = 1000
RATIO_TARGET = 1.10

# The README's gzip settings; the same in both servers.
GZIP = """
    gzip on;
    gzip_proxied any;
    gzip_vary on;
    gzip_min_length 512;
    gzip_comp_level 5;
    gzip_types text/css application/javascript application/json image/svg+xml text/csv text/plain;
"""


def free_port() -> int:
    import socket
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Nginx:
    """One nginx, two servers: `app_port` proxies to gunicorn, `static_port` serves `root` as files."""

    def __init__(self, folder: Path, upstream: int, root: Path):
        self.prefix = folder / "nginx"
        (self.prefix / "tmp").mkdir(parents=True)
        (self.prefix / "logs").mkdir()
        for path in (folder, self.prefix, self.prefix / "tmp", self.prefix / "logs", root):
            os.chmod(path, 0o755 if path != self.prefix / "tmp" else 0o777)
        self.app_port, self.static_port = free_port(), free_port()
        static = services.PROJECT / "static"
        temp = self.prefix / "tmp"
        conf = self.prefix / "nginx.conf"
        conf.write_text(f"""
worker_processes 1;
daemon off;
pid {self.prefix}/nginx.pid;
error_log {self.prefix}/logs/error.log warn;
events {{ worker_connections 1024; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log off;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    sendfile on;
    keepalive_timeout 65;
{GZIP}
    server {{
        listen 127.0.0.1:{self.app_port};
        location / {{
            proxy_pass http://127.0.0.1:{upstream};
            proxy_http_version 1.1;
            proxy_set_header Host $host;
        }}
        location /static/ {{ alias {static}/; add_header Cache-Control "public, max-age=31536000, immutable"; }}
    }}
    server {{
        listen 127.0.0.1:{self.static_port};
        root {root};
        index index.html;
        location = /c/{CAMPAIGN} {{ default_type text/html; try_files /c/{CAMPAIGN}.html =404; }}
        location /static/ {{ alias {static}/; add_header Cache-Control "public, max-age=31536000, immutable"; }}
    }}
}}
""")
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        check = subprocess.run([nginx, "-t", "-p", str(self.prefix), "-c", str(conf)], capture_output=True, text=True)
        if check.returncode != 0:
            raise SystemExit(f"nginx refuses the configuration:\n{check.stderr}")
        self.process = services.start([nginx, "-p", str(self.prefix), "-c", str(conf)],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        for _ in range(100):
            try:
                requests.get(f"http://127.0.0.1:{self.static_port}/static/css/site.css", timeout=1)
                return
            except requests.RequestException:
                time.sleep(0.1)
        raise SystemExit("nginx did not start")


def create_campaign(env: dict[str, str]) -> None:
    # No --thread: the fake listens on a port, which a campaign's thread URL may not name; the campaign
    # shows the same pinned thread as `/`, with its own heading.
    command = [services.PYTHON, "-m", "flask", "--app", "praatmee_site", "campaign", "create", CAMPAIGN,
               "--name", "Bench", "--place", "bibliotheek", "--cta", "Stel je vraag aan de bieb"]
    subprocess.run(command, env=env, cwd=services.PROJECT, check=True, capture_output=True, timeout=120)


def saved(root: Path, path: str) -> Path:
    """Where the static copy of a page lives (nginx serves `/` as index.html, `/c/bench` as c/bench.html)."""
    return root / ("index.html" if path == "/" else path.lstrip("/") + ".html")


def save_static_copies(app_base: str, root: Path) -> dict[str, int]:
    """The pages as our server sends them, saved as files; returns their sizes (bytes, uncompressed)."""
    sizes = {}
    for path in PAGES:
        html = requests.get(app_base + path, headers={"User-Agent": PHONE_UA}, timeout=10).content
        target = saved(root, path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(html)
        sizes[path] = len(html)
    return sizes


LCP_SCRIPT = """() => new Promise(resolve => {
    const fcp = performance.getEntriesByName('first-contentful-paint')[0];
    new PerformanceObserver(list => {
        const entries = list.getEntries();
        const last = entries[entries.length - 1];
        resolve({fcp: fcp ? fcp.startTime : null, lcp: last.startTime,
                 element: last.element ? last.element.tagName + '.' + last.element.className : String(last.url)});
    }).observe({type: 'largest-contentful-paint', buffered: true});
})"""


def cold_load(browser, url: str) -> dict:
    context = browser.new_context(viewport={"width": 360, "height": 740}, device_scale_factor=2, is_mobile=True,
                                  has_touch=True, user_agent=PHONE_UA)
    try:
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        # Images of the fake home server (https) are left out on both sides alike. Blocked in the network
        # stack, not by Playwright's routing, which would skew the page's own timing entries.
        cdp.send("Network.setBlockedURLs", {"urls": ["https://*"]})
        cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
        cdp.send("Network.emulateNetworkConditions", SLOW_4G)
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": CPU_SLOWDOWN})
        page.goto(url, wait_until="load")
        page.wait_for_timeout(300)
        return page.evaluate(LCP_SCRIPT)
    finally:
        context.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--loads", type=int, default=5, help="cold loads per page and server (default 5)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    workdir = Path(tempfile.mkdtemp(prefix="praatmee-phone-"))
    root = workdir / "static-copy"
    root.mkdir()
    fake = services.FakeMastodon(workdir)
    try:
        env = services.site_environment(fake, workdir / "site.sqlite")
        create_campaign(env)
        site = services.Gunicorn("praatmee_site:create_app()", env, workers=services.workers_for_this_machine(),
                                 log_path=workdir / "site.log", ready_path="/healthz")
        nginx = Nginx(workdir, site.port, root)
        app_base = f"http://127.0.0.1:{nginx.app_port}"
        static_base = f"http://127.0.0.1:{nginx.static_port}"
        for path in PAGES:  # the server's caches warm: this measures a cold browser, not a cold server
            for _ in range(3):
                requests.get(app_base + path, headers={"User-Agent": PHONE_UA}, timeout=10)
        sizes = save_static_copies(app_base, root)
        gzipped = {path: len(gzip.compress(saved(root, path).read_bytes(), 5)) for path in PAGES}
        results: dict[tuple[str, str], list[dict]] = {}
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
            for path in PAGES:  # one unmeasured load each: Chromium's own first start is not the page's cost
                cold_load(browser, app_base + path)
                cold_load(browser, static_base + path)
            servers = [("ours", app_base), ("static", static_base)]
            for round_number in range(args.loads):
                for path in PAGES:
                    # Each goes first every other round: a load must not pay for the one before it.
                    for name, base in (servers if round_number % 2 == 0 else servers[::-1]):
                        results.setdefault((path, name), []).append(cold_load(browser, base + path))
            browser.close()
        server_ms = {path: {"ours": server_answer_ms(app_base, path), "static": server_answer_ms(static_base, path)}
                     for path in PAGES}
        print_results(results, sizes, gzipped, args.loads, server_ms)
    finally:
        if args.keep:
            print(f"\nKept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
        services.stop_all()
    return 0


def server_answer_ms(base: str, path: str, count: int = 21) -> float:
    """How long the server takes to answer the page, unthrottled (median of `count`, gzip as a browser asks)."""
    times = []
    for _ in range(count):
        started = time.perf_counter()
        requests.get(base + path, headers={"User-Agent": PHONE_UA, "Accept-Encoding": "gzip"}, timeout=10)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def print_results(results, sizes, gzipped, loads, server_ms) -> None:
    def median(path, name, key):
        return statistics.median(r[key] for r in results[(path, name)])

    print(f"Phone page load, median of {loads} cold loads (4× CPU slowdown, 150 ms RTT, 1.6 Mbit/s down, "
          "750 kbit/s up, 360×740 @2x):\n")
    print("| page | HTML (raw / gzip) | server answer, ours / static | ours FCP, LCP | static FCP, LCP "
          "| LCP ours ÷ static | LCP ≤ 1.0 s | within 10 % |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | --- | --- |")
    for path in PAGES:
        ours_fcp, ours_lcp = median(path, "ours", "fcp"), median(path, "ours", "lcp")
        static_fcp, static_lcp = median(path, "static", "fcp"), median(path, "static", "lcp")
        ratio = ours_lcp / static_lcp
        answer = server_ms[path]
        print(f"| `{path if path == '/' else '/c/<slug>'}` | {sizes[path] / 1024:.1f} / {gzipped[path] / 1024:.1f} KiB "
              f"| {answer['ours']:.1f} / {answer['static']:.1f} ms | {ours_fcp:.0f}, **{ours_lcp:.0f}** ms "
              f"| {static_fcp:.0f}, **{static_lcp:.0f}** ms | {ratio:.2f} "
              f"| {'met' if ours_lcp <= LCP_TARGET_MS else 'NOT met'} | {'met' if ratio <= RATIO_TARGET else 'NOT met'} |")
    elements = {r["element"] for rs in results.values() for r in rs}
    print(f"\nLargest contentful element(s): {', '.join(sorted(elements))}")
    print("Every load:")
    for (path, name), rows in sorted(results.items()):
        print(f"  {path:<10} {name:<6} LCP " + ", ".join(f"{r['lcp']:.0f}" for r in rows) + " ms")


if __name__ == "__main__":
    sys.exit(main())
