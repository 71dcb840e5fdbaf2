"""Smoke under load: the site served by gunicorn stays correct while many requests arrive at once.

Not a benchmark (nothing here is timed, see benchmarks/ for that): a fixed number of concurrent
requests from a thread pool against a real gunicorn in demo mode (no network), and every answer
must be the one the page should give. A fixed count, not a wall-clock span: the same work on a fast
machine and on a busy CI runner.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

PROJECT = Path(__file__).resolve().parent.parent
THREADS = 16
REQUESTS_PER_VISITOR = 60  # 960 requests in all, each path 160 times
MISSING = "/bestaat-niet"
PATHS = ["/", "/en/", "/privacy", "/healthz", MISSING, "/static/css/site.css"]
# What each answer must carry besides its status: the page it should be, not just any 200.
EXPECTED = {"/": "Account aanmaken", "/en/": "Create an account", "/privacy": "Privacy",
            "/healthz": '"status": "ok"', MISSING: "</html>", "/static/css/site.css": "#004699"}
BROWSER = ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
           "Chrome/130.0.0.0 Mobile Safari/537.36")


@pytest.fixture
def gunicorn_site(tmp_path):
    """gunicorn with two workers on a socket bound here (no port race), stopped even when a test fails."""
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(256)
    url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PRAATMEE_")}
    env.update(PRAATMEE_DEMO="1", PRAATMEE_SECRET_KEY="smoke-test",
               PRAATMEE_DATABASE_URL=f"sqlite:///{tmp_path / 'smoke.sqlite'}")
    log_path = tmp_path / "gunicorn.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"fd://{listener.fileno()}",
             "--chdir", str(PROJECT), "--log-level", "warning", "--graceful-timeout", "5", "--no-control-socket",
             "praatmee_site:create_app()"],
            env=env, pass_fds=(listener.fileno(),), stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
    listener.close()
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                pytest.fail(f"gunicorn exited with {process.returncode}:\n{log_path.read_text()[-3000:]}")
            try:
                if requests.get(url + "/healthz", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"gunicorn did not answer within 60 s:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.2)
        yield url
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def test_site_under_gunicorn_answers_every_concurrent_request_correctly(gunicorn_site):
    answers: Counter[tuple[str, int]] = Counter()
    errors: list[str] = []
    lock = threading.Lock()

    def visitor(number: int) -> None:
        with requests.Session() as session:
            session.headers["User-Agent"] = BROWSER
            for turn in range(number, number + REQUESTS_PER_VISITOR):
                path = PATHS[turn % len(PATHS)]
                try:
                    response = session.get(gunicorn_site + path, timeout=15, allow_redirects=False)
                except requests.RequestException as exc:
                    with lock:
                        errors.append(f"{path}: {exc.__class__.__name__}: {exc}")
                    continue
                with lock:
                    answers[(path, response.status_code)] += 1
                    if EXPECTED[path] not in response.text:
                        errors.append(f"{path}: {response.status_code} without {EXPECTED[path]!r}")

    with ThreadPoolExecutor(THREADS) as pool:
        for future in [pool.submit(visitor, number) for number in range(THREADS)]:
            future.result()

    assert not errors, f"{len(errors)} requests failed, e.g. {errors[:5]}"
    wrong = {key: count for key, count in answers.items()
             if (key[1] != 404 if key[0] == MISSING else not 200 <= key[1] < 400)}
    assert not wrong, f"unexpected answers (path, status): count → {wrong}"
    assert sum(answers.values()) == THREADS * REQUESTS_PER_VISITOR
    for path in PATHS:
        assert sum(count for (p, _), count in answers.items() if p == path) == THREADS * REQUESTS_PER_VISITOR / len(PATHS)
