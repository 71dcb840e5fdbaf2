"""Where a warm entry page spends its time: a request loop in one process, timed, then profiled.

Run by `run.py profile` in a child process whose environment points the site at the fake home
server (the same PRAATMEE_* and REQUESTS_CA_BUNDLE as gunicorn gets). Prints markdown.
"""
from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def per_request_ms(call, rounds: int) -> float:
    """The median of five batches, in ms per call: robust against a stray pause."""
    batches = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(rounds):
            call()
        batches.append((time.perf_counter() - start) * 1000 / rounds)
    return statistics.median(batches)


BROWSER = {"User-Agent": "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
                         "Chrome/130.0.0.0 Mobile Safari/537.36"}


def get_ok(client, path: str):
    def call():
        response = client.get(path, headers=BROWSER)
        assert response.status_code == 200, (path, response.status_code)
    return call


# (what, [(file suffix, function names)]): the steps of a request as the code names them.
STEPS = [
    ("home.conversation (cache hit → parse JSON → shape thread)", [("praatmee_site/conversation/home_server.py", "conversation")]),
    ("  mastodon.current_thread_id (parse account + pinned)", [("praatmee_site/mastodon/client.py", "current_thread_id")]),
    ("  mastodon.thread (parse status + context)", [("praatmee_site/mastodon/client.py", "thread")]),
    ("  content.shape_thread (nh3 sanitize, emoji, tree)", [("praatmee_site/conversation/display.py", "shape_thread")]),
    ("home.registration (parse instance)", [("praatmee_site/conversation/home_server.py", "registration")]),
    ("flask.render_template (Jinja)", [("flask/templating.py", "render_template")]),
    ("  babel date formatting (format_datetime, format_time)",
     [("flask_babel/__init__.py", "format_datetime|format_time")]),
    ("  gettext/ngettext in templates and code", [("jinja2/ext.py", "gettext|ngettext"),
                                                  ("flask_babel/__init__.py", "gettext|ngettext")]),
    ("  url_for", [("flask/helpers.py", "url_for")]),
    ("security headers (after_request)", [("praatmee_site/web/http.py", "security_headers")]),
]


def step_times(stats: pstats.Stats, requests: int) -> list[tuple[str, float, int]]:
    rows = []
    for label, places in STEPS:
        cumulative, calls = 0.0, 0
        for suffix, names in places:
            wanted = set(names.split("|"))
            for (filename, _line, function), (_cc, ncalls, _tt, ct, _callers) in stats.stats.items():
                if filename.endswith(suffix) and function in wanted:
                    cumulative += ct
                    calls += ncalls
        rows.append((label, cumulative * 1000 / requests, calls // requests))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=60)
    parser.add_argument("--profiled", type=int, default=300)
    parser.add_argument("--campaign", help="slug of a campaign that exists in the database")
    args = parser.parse_args()

    from hello import app as hello_app

    from praatmee_site import create_app
    from praatmee_site.web.services import current_home_server as current_home

    # Without the one-second page copy (PRAATMEE_PAGE_CACHE), which would answer before Flask runs:
    # this profiles what a worker does once a second, and on every /c/ request.
    app = create_app({"PAGE_CACHE": 0})
    client = app.test_client()
    paths = ["/", "/en/"] + ([f"/c/{args.campaign}"] if args.campaign else [])
    for path in paths:
        for _ in range(20):  # warm: cache filled, templates compiled, catalogs loaded
            get_ok(client, path)()
    hello = hello_app.test_client()

    print("| in one process, warm (median of 5 batches) | ms per call |")
    print("| --- | ---: |")
    timings = {
        "GET / (whole request, Flask test client, page copy off)": per_request_ms(get_ok(client, "/"), args.rounds),
        "GET /en/ (whole request)": per_request_ms(get_ok(client, "/en/"), args.rounds),
        "GET / of the hello-world app (whole request)": per_request_ms(get_ok(hello, "/"), args.rounds * 20),
    }
    if args.campaign:
        from praatmee_site import campaigns
        from praatmee_site.web.services import current_db
        timings[f"GET /c/{args.campaign} (whole request, counts a scan)"] = per_request_ms(
            get_ok(client, f"/c/{args.campaign}"), args.rounds)
        with app.app_context():
            database = current_db()
            found = campaigns.get(database, args.campaign)
            today = campaigns.today()
            timings["  of which: campaigns.get() (SQLite read)"] = per_request_ms(
                lambda: campaigns.get(database, args.campaign), args.rounds)
            timings["  of which: campaigns.count_scan() (SQLite upsert + commit)"] = per_request_ms(
                lambda: campaigns.count_scan(database, found.id, today), args.rounds)
    with app.test_request_context("/"):
        home = current_home()
        conversation = home.conversation()
        timings["home.conversation() alone"] = per_request_ms(home.conversation, args.rounds)
        timings["  of which: client.thread() + current_thread_id() (parse)"] = per_request_ms(
            lambda: home.client.thread(home.client.current_thread_id().value), args.rounds)
        from praatmee_site.conversation.display import shape_thread
        thread = conversation.thread
        timings["  of which: content.shape_thread() alone"] = per_request_ms(
            lambda: shape_thread(thread, home_domain=home.domain, images=home.images), args.rounds)
        timings["home.registration() alone"] = per_request_ms(lambda: home.registration("nl"), args.rounds)
    for label, value in timings.items():
        print(f"| {label} | {value:.2f} |")
    print(f"\nThread on the page: {len(conversation.replies)} replies shown "
          f"({len(conversation.thread.replies) if conversation.thread else 0} public in the API answer).")

    profile = cProfile.Profile()
    profile.enable()
    call = get_ok(client, "/")
    for _ in range(args.profiled):
        call()
    profile.disable()
    stats = pstats.Stats(profile)
    total = stats.total_tt * 1000 / args.profiled
    print(f"\ncProfile of {args.profiled} warm `GET /` (profiler overhead included: "
          f"{total:.1f} ms per request under the profiler)\n")
    print("| step | ms per request | share | calls per request |")
    print("| --- | ---: | ---: | ---: |")
    for label, ms, calls in step_times(stats, args.profiled):
        print(f"| {label} | {ms:.2f} | {100 * ms / total:.0f} % | {calls} |")

    print("\nTop functions by own time:\n")
    print("| function | own ms per request | cumulative ms per request | calls per request |")
    print("| --- | ---: | ---: | ---: |")
    rows = sorted(stats.stats.items(), key=lambda item: item[1][2], reverse=True)[:15]
    for (filename, line, function), (_cc, ncalls, tt, ct, _callers) in rows:
        where = filename.split("site-packages/")[-1].split("/work/main/")[-1]
        name = f"{where}:{line} {function}" if line else function
        print(f"| `{name}` | {tt * 1000 / args.profiled:.2f} | {ct * 1000 / args.profiled:.2f} | "
              f"{ncalls // args.profiled} |")


if __name__ == "__main__":
    main()
