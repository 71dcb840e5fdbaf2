"""By hand: what 10,000 requests to made-up campaign slugs cost a worker (issue 12, finding 6).

    .venv/bin/python benchmarks/unknown_slugs.py [--requests 10000]

Two measurements, both in demo mode (no network), with one real campaign:

- **RSS**: one gunicorn sync worker; its resident set (`/proc/<pid>/statm`) after a warm-up (the
  real pages and five unknown slugs, fifty times), then after N requests to unique unknown slugs
  sent over one keep-alive connection.
- **Renders**: the same N requests in this process through Flask's test client, counting renders of
  the entry page (`template_rendered`): the real pages (`/`, `/en/`, `/c/<slug>`) are asked for every
  100 unknown slugs, and each of those asks should be answered from the kept copy.

`tests/test_page_caches.py` holds the bounds and the hit rate in the suite; this script gives the figure.
"""
from __future__ import annotations

import argparse
import http.client
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
PAGE = os.sysconf("SC_PAGE_SIZE")
REAL = ("/c/bieb-oost", "/", "/en/")


def rss_mib(pid: int | str = "self") -> float:
    return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE / 2**20


def environment(folder: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PRAATMEE_")}
    env.update(PRAATMEE_DEMO="1", PRAATMEE_INSTANCE_PATH=str(folder), PRAATMEE_SECRET_KEY="bench")
    return env


def make_campaign(env: dict[str, str]) -> None:
    subprocess.run([sys.executable, "-m", "flask", "--app", "praatmee_site", "campaign", "create", "bieb-oost",
                    "--name", "OBA Oost", "--place", "bibliotheek", "--cta", "Stel je vraag aan de bieb"],
                   env=env, check=True, capture_output=True, cwd=PROJECT)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def worker_of(master: int) -> int:
    for _ in range(100):
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        if children:
            return int(children[0])
        time.sleep(0.1)
    raise SystemExit("no gunicorn worker appeared")


def measure_rss(requests: int) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        env = environment(Path(folder))
        make_campaign(env)
        port = free_port()
        gunicorn = subprocess.Popen([str(Path(sys.executable).parent / "gunicorn"), "--workers", "1", "--bind",
                                     f"127.0.0.1:{port}", "--keep-alive", "30", "praatmee_site:create_app()"],
                                    env=env, cwd=PROJECT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            worker = worker_of(gunicorn.pid)
            connection = None
            for _ in range(100):
                try:
                    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                    connection.request("GET", "/healthz")
                    connection.getresponse().read()
                    break
                except OSError:
                    time.sleep(0.1)
            assert connection is not None

            def get(path: str) -> int:
                connection.request("GET", path, headers={"User-Agent": "Mozilla/5.0 (iPhone) bench"})
                response = connection.getresponse()
                response.read()
                return response.status

            for number in range(50):  # warm-up: every code path (real pages, a few unknown slugs) a few times
                get(f"/c/warm-{number % 5}")
                for path in REAL:
                    get(path)
            before = rss_mib(worker)
            started = time.perf_counter()
            for number in range(requests):
                assert get(f"/c/onbekend-{number}") == 404
            seconds = time.perf_counter() - started
            after = rss_mib(worker)
        finally:
            gunicorn.terminate()
            gunicorn.wait(10)
    return dict(before=before, after=after, growth=after - before, seconds=seconds)


def measure_renders(requests: int) -> dict:
    os.environ.update(environment(Path(tempfile.mkdtemp())), PRAATMEE_PAGE_CACHE="0")  # the entry-page store alone
    make_campaign(dict(os.environ))
    from flask import template_rendered

    from praatmee_site import create_app
    app = create_app()
    client = app.test_client()
    renders = {"real": 0, "unknown": 0}

    def record(sender, template, context, **extra):
        if template.name == "index.html":
            renders["unknown" if context.get("canonical_url") and not context.get("campaign_slug")
                    and not context.get("note") else "real"] += 1
    template_rendered.connect(record, app)
    asks = 0
    for path in REAL:
        client.get(path)
    first = renders["real"]
    for number in range(requests):
        client.get(f"/c/onbekend-{number}")
        if number % 100 == 99:
            for path in REAL:
                client.get(path)
                asks += 1
    return dict(real_renders=renders["real"] - first, real_asks=asks, unknown_renders=renders["unknown"],
                kept=len(app.extensions["praatmee_entry_pages"]) if hasattr(app.extensions.get(
                    "praatmee_entry_pages"), "__len__") else None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=10_000)
    args = parser.parse_args()
    rss = measure_rss(args.requests)
    renders = measure_renders(args.requests)
    hits = 1 - renders["real_renders"] / renders["real_asks"] if renders["real_asks"] else 1.0
    print(f"| {args.requests:,} unknown slugs | measured |")
    print("| --- | --- |")
    print(f"| gunicorn worker RSS before → after | {rss['before']:.1f} MiB → {rss['after']:.1f} MiB "
          f"(**{rss['growth']:+.1f} MiB**) in {rss['seconds']:.1f} s |")
    print(f"| renders of the unknown-slug page | {renders['unknown_renders']:,} |")
    print(f"| real pages asked for in between / rendered again | {renders['real_asks']:,} / "
          f"{renders['real_renders']:,} (hit rate {hits:.1%}) |")
    print(f"| entry pages kept at the end | {renders['kept']} |")


if __name__ == "__main__":
    main()
