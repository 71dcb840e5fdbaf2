"""The topology drill: nginx in front of two gunicorn instances sharing PostgreSQL and Redis.

Run by hand (`make drill`); prints a markdown table per check for docs/deployment.md.
Everything runs on loopback and is thrown away at the end: a PostgreSQL cluster and a redis-server
in temporary folders (tests/servers.py), the fake home server of benchmarks/fake_mastodon.py, two
gunicorn instances with their own instance folders, and nginx configured from the guide's own
nginx block (only addresses, certificate and paths are replaced), so the deployment guide is what
gets tested.

    .venv/bin/python -m drill.run [--scans 10000] [--seconds 20] [--keep] [--only moderation]
"""
from __future__ import annotations

import argparse
import atexit
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from itertools import pairwise
from pathlib import Path

import requests

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from tests.support.gateways import TWILIO_TOKEN  # noqa: E402
from tests.support.servers import PostgresCluster, RedisServer, free_port, postgres_bin  # after the sys.path line

PYTHON = sys.executable
README = PROJECT / "docs" / "deployment.md"  # the guide whose nginx block the drill runs
MARKER = "<!-- drill: the nginx configuration below is read by drill/run.py -->"
SLUG = "drill"
PUBLIC_URL = "https://amsterdam.nl/praatmee"
CACHE_TTL, INSTANCE_CACHE_TTL = 5, 10
WORKERS = 2  # per instance
SLICES = 3  # throughput: turns of wrk on the pair and on one instance
PHONE = ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
         "Chrome/130.0.0.0 Mobile Safari/537.36")
# API path → the TTL its cache key lives by.
UPSTREAM_TTL = {
    "/api/v1/accounts/lookup": INSTANCE_CACHE_TTL,
    "/api/v2/instance": INSTANCE_CACHE_TTL,
    "/api/v1/accounts/1/statuses": CACHE_TTL,
    "/api/v1/statuses/100": CACHE_TTL,
    "/api/v1/statuses/100/context": CACHE_TTL,
}

_processes: list[subprocess.Popen] = []


# --- processes -------------------------------------------------------------------------------------

def start(command: list[str], **kwargs) -> subprocess.Popen:
    process = subprocess.Popen(command, start_new_session=True, **kwargs)
    _processes.append(process)
    return process


def kill(process: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 15) -> None:
    """The process and everything in its session (gunicorn's workers, nginx's workers)."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, sig)
            process.wait(timeout)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def stop_all() -> None:
    for process in reversed(_processes):
        kill(process)
    _processes.clear()


def ensure_installed() -> None:
    """nginx, redis-server, PostgreSQL and wrk from Debian, when missing (as root)."""
    missing = [package for package, present in (
        ("nginx", shutil.which("nginx") or Path("/usr/sbin/nginx").exists()),
        ("redis-server", shutil.which("redis-server") or Path("/usr/bin/redis-server").exists()),
        ("postgresql", _has_postgres()),
        ("wrk", shutil.which("wrk")),
    ) if not present]
    if not missing:
        return
    if os.geteuid() != 0:
        raise SystemExit(f"drill: please install {' '.join(missing)} (apt-get install {' '.join(missing)})")
    print(f"drill: installing {' '.join(missing)}", flush=True)
    subprocess.run(["apt-get", "update", "-qq"], check=True)
    subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing], check=True,
                   env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})


def _has_postgres() -> bool:
    try:
        postgres_bin("initdb")
        return True
    except Exception:  # noqa: BLE001
        return False


class FakeMastodon:
    """benchmarks/fake_mastodon.py over HTTPS with a throw-away CA (passed to the app as REQUESTS_CA_BUNDLE)."""

    def __init__(self, folder: Path) -> None:
        import trustme
        ca = trustme.CA()
        certificate = ca.issue_cert("127.0.0.1", "localhost")
        self.ca_path, cert, key = folder / "fake-ca.pem", folder / "fake-cert.pem", folder / "fake-key.pem"
        ca.cert_pem.write_to_path(str(self.ca_path))
        certificate.cert_chain_pems[0].write_to_path(str(cert))
        certificate.private_key_pem.write_to_path(str(key))
        self.process = start([PYTHON, str(PROJECT / "benchmarks" / "fake_mastodon.py"), "--certfile", str(cert),
                              "--keyfile", str(key)], stdout=subprocess.PIPE, text=True)
        line = self.process.stdout.readline()
        if not line.startswith("READY "):
            raise RuntimeError(f"the fake Mastodon did not start: {line!r}")
        self.url = f"https://127.0.0.1:{int(line.split()[1])}"

    def stats(self) -> dict:
        return requests.get(self.url + "/__stats", verify=str(self.ca_path), timeout=10).json()

    def reset(self) -> None:
        requests.post(self.url + "/__reset", verify=str(self.ca_path), timeout=10).raise_for_status()


class Instance:
    """One app server: gunicorn on its own port, with its own instance folder and access log."""

    def __init__(self, name: str, folder: Path, env: dict[str, str], workers: int = WORKERS) -> None:
        self.name = name
        self.workers = workers
        self.folder = folder / f"instance-{name}"
        self.folder.mkdir()
        self.access_log = folder / f"access-{name}.log"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        with open(folder / f"gunicorn-{name}.log", "ab") as log:
            self.process = start(
                [PYTHON, "-m", "gunicorn", "--workers", str(workers), "--bind", f"127.0.0.1:{self.port}",
                 "--chdir", str(PROJECT), "--access-logfile", str(self.access_log), "--log-level", "warning",
                 "--graceful-timeout", "5", "praatmee_site:create_app()"],
                env={**env, "PRAATMEE_INSTANCE_PATH": str(self.folder)}, stdout=log, stderr=subprocess.STDOUT)

    def wait_ready(self) -> None:
        wait_for(self.url + "/healthz", self.process, f"instance {self.name}")

    def served(self, path: str, method: str = "GET") -> int:
        if not self.access_log.exists():
            return 0
        needle = f'"{method} {path} '
        with open(self.access_log, encoding="utf-8", errors="replace") as log:
            return sum(1 for line in log if needle in line)


def wait_for(url: str, process: subprocess.Popen, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}")
        try:
            if requests.get(url, timeout=5).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{what} did not answer {url} within {timeout} s")


# --- nginx from the guide (docs/deployment.md) -------------------------------------------------------------------------

def readme_nginx_block() -> str:
    text = README.read_text(encoding="utf-8")
    if MARKER not in text:
        raise SystemExit(f"drill: docs/deployment.md lacks the marker {MARKER!r} before its nginx block")
    after = text.split(MARKER, 1)[1]
    match = re.search(r"```nginx\n(.*?)```", after, re.S)
    if not match:
        raise SystemExit("drill: no ```nginx block after the marker in docs/deployment.md")
    return match.group(1)


def render_site(block: str, *, port: int, upstreams: list[int], cache: Path) -> str:
    """The guide's block with only addresses, certificate and paths replaced; each must be found once."""
    replacements = [
        ("    listen 443 ssl http2;\n", f"    listen 127.0.0.1:{port};\n"),
        ("    ssl_certificate     /etc/ssl/certs/amsterdam.nl.pem;\n", ""),
        ("    ssl_certificate_key /etc/ssl/private/amsterdam.nl.key;\n", ""),
        ("/var/cache/nginx/praatmee", str(cache)),
        ("/srv/praatmee/static/", f"{PROJECT / 'static'}/"),
        ("    server 127.0.0.1:8001 max_fails=1 fail_timeout=5s;\n",
         f"    server 127.0.0.1:{upstreams[0]} max_fails=1 fail_timeout=5s;\n"),
        ("    server 127.0.0.1:8002 max_fails=1 fail_timeout=5s;\n",
         f"    server 127.0.0.1:{upstreams[1]} max_fails=1 fail_timeout=5s;\n" if len(upstreams) > 1 else ""),
    ]
    for old, new in replacements:
        if block.count(old) != 1:
            raise SystemExit(f"drill: the guide's nginx block no longer has {old.strip()!r} exactly once; "
                             "update drill/run.py together with the guide")
        block = block.replace(old, new)
    return block


class Nginx:
    def __init__(self, name: str, folder: Path, site: str) -> None:
        self.prefix = folder / f"nginx-{name}"
        for sub in ("tmp", "logs", "cache"):
            (self.prefix / sub).mkdir(parents=True)
        os.chmod(folder, 0o755)  # workers run as an unprivileged user and need to reach their folders
        for path in (self.prefix, *self.prefix.iterdir()):
            os.chmod(path, 0o777)
        self.access_log = self.prefix / "logs" / "access.log"
        conf = self.prefix / "nginx.conf"
        temp = self.prefix / "tmp"
        conf.write_text(f"""
worker_processes 2;
daemon off;
pid {self.prefix}/nginx.pid;
error_log {self.prefix}/logs/error.log warn;
events {{ worker_connections 4096; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    log_format drill '$status "$request" upstream=$upstream_addr upstream_status=$upstream_status cache=$upstream_cache_status';
    access_log {self.access_log} drill;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    sendfile on;
    keepalive_timeout 65;
    keepalive_requests 100000;
# --- from docs/deployment.md ---
{site}
}}
""")
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        check = subprocess.run([nginx, "-t", "-p", str(self.prefix), "-c", str(conf)], capture_output=True, text=True,
                               check=False)
        if check.returncode != 0:
            raise SystemExit(f"drill: nginx refuses the configuration:\n{check.stderr}")
        self.process = start([nginx, "-p", str(self.prefix), "-c", str(conf)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)

    def lines(self) -> list[str]:
        return self.access_log.read_text(encoding="utf-8", errors="replace").splitlines()


# --- load ------------------------------------------------------------------------------------------

def wrk(url: str, seconds: int, connections: int = 32) -> dict:
    result = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "10s",
                             "-H", f"User-Agent: {PHONE}", url], capture_output=True, text=True, check=True)
    out = result.stdout

    def number(pattern: str) -> int:
        found = re.search(pattern, out)
        return int(found.group(1)) if found else 0
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {
        "requests": number(r"(\d+) requests in"),
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50": re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1),
        "p99": re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1),
        "non_2xx": number(r"Non-2xx or 3xx responses: (\d+)"),
        "socket_errors": sum(int(n) for n in socket_errors.groups()) if socket_errors else 0,
        "raw": out,
    }


def table(headers: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "| " + " | ".join("---" for _ in headers) + " |"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def count_scans(cluster: PostgresCluster) -> int:
    import psycopg
    with psycopg.connect(host="127.0.0.1", port=cluster.port, user="postgres", dbname=cluster.database) as db:
        return db.execute("SELECT coalesce(sum(s.count), 0) FROM scan_counts s JOIN campaigns c "
                          "ON c.id = s.campaign_id WHERE c.slug = %s", (SLUG,)).fetchone()[0]


# --- the checks -----------------------------------------------------------------------------------

def check_guide(base: str) -> tuple[str, bool]:
    """What the guide promises, seen through nginx: the mount, the caches, gzip."""
    rows = []
    r = requests.get(base + "/praatmee", allow_redirects=False, timeout=10)
    rows.append(["`/praatmee`", r.status_code, r.headers.get("Location", ""), r.status_code == 301])
    first = requests.get(base + "/praatmee/", headers={"User-Agent": PHONE}, timeout=10)
    second = requests.get(base + "/praatmee/", headers={"User-Agent": PHONE}, timeout=10)
    prefixed = 'href="/praatmee/static/css/site.css' in first.text
    rows.append(["`/praatmee/` twice", f"{first.status_code}, {second.status_code}",
                 f"X-Cache-Status {first.headers.get('X-Cache-Status')} → {second.headers.get('X-Cache-Status')}; "
                 f"links under /praatmee: {prefixed}",
                 first.status_code == 200 and second.headers.get("X-Cache-Status") == "HIT" and prefixed])
    campaign = [requests.get(base + f"/praatmee/c/{SLUG}", headers={"User-Agent": PHONE}, timeout=10)
                for _ in range(2)]
    uncached = all("X-Cache-Status" not in r.headers for r in campaign)
    rows.append([f"`/praatmee/c/{SLUG}` twice", ", ".join(str(r.status_code) for r in campaign),
                 f"Cache-Control {campaign[1].headers.get('Cache-Control')}; not in nginx's cache: {uncached}",
                 all(r.status_code == 200 for r in campaign) and uncached])
    # An outcome (added with the CLI) on the campaign page and in the results and their feed, under the mount.
    shown = 'href="/praatmee/resultaten#campagne-' in campaign[1].text and "Drill: tien nieuwe bankjes" in campaign[1].text
    results = requests.get(base + "/praatmee/resultaten", timeout=10)
    feed = requests.get(base + "/praatmee/resultaten.atom", timeout=10)
    rows.append(["`/praatmee/resultaten` and `.atom`", f"{results.status_code}, {feed.status_code}",
                 f"outcome on /c/: {shown}; feed {feed.headers.get('Content-Type', '')}",
                 shown and results.status_code == feed.status_code == 200 and "Drill: tien" in results.text
                 and feed.headers.get("Content-Type", "").startswith("application/atom+xml")
                 and 'href="/praatmee/resultaten.atom"' in results.text])
    staff = requests.get(base + "/praatmee/beheer/", allow_redirects=False, timeout=10)
    rows.append(["`/praatmee/beheer/`", staff.status_code,
                 f"Location {staff.headers.get('Location', '')}; cached: {'X-Cache-Status' in staff.headers}",
                 staff.status_code in (302, 303) and "X-Cache-Status" not in staff.headers])
    css = re.search(r'href="(/praatmee/static/css/site\.css\?v=[^"]+)"', first.text)
    static = requests.get(base + (css.group(1) if css else "/praatmee/static/css/site.css"),
                          headers={"Accept-Encoding": "gzip"}, timeout=10)
    rows.append(["site.css", static.status_code,
                 f"{static.headers.get('Content-Encoding')}, {static.headers.get('Cache-Control')}",
                 static.status_code == 200 and static.headers.get("Content-Encoding") == "gzip"
                 and "immutable" in static.headers.get("Cache-Control", "")])
    return table(["request", "status", "seen", "as the guide says"], rows), all(row[-1] for row in rows)


STAFF = ("drill@amsterdam.nl", "een wachtwoord voor de drill")
HIDDEN_TEXT = "Mooi, maar te klein."  # reply 101 of the fake home server's thread


def check_moderation(base: str, instances: list[Instance], rounds: int = 8) -> tuple[str, bool]:
    """"Verberg" on instance A's staff page, then how long until the reply is gone from `/praatmee/`
    and `/praatmee/en/` through nginx (which keeps them 1 s) and from `/` of instance B; then undo."""
    staff = requests.Session()
    staff.headers["User-Agent"] = PHONE
    a = instances[0].url

    def token(path: str) -> str:
        return re.search(r'name="csrf_token" value="([^"]+)"', staff.get(a + path, timeout=10).text).group(1)

    login = staff.post(a + "/beheer/login", data={"email": STAFF[0], "password": STAFF[1],
                                                   "csrf_token": token("/beheer/login")}, allow_redirects=False)
    if login.status_code != 302:
        return f"could not log in to instance A ({login.status_code})", False
    watched = {"`/praatmee/` through nginx": base + "/praatmee/", "`/praatmee/en/` through nginx": base + "/praatmee/en/",
               "`/` of instance B": instances[1].url + "/"}
    reader = requests.Session()
    reader.headers["User-Agent"] = PHONE

    def wait(shown: bool, started: float) -> dict[str, float]:
        found: dict[str, float] = {}
        while len(found) < len(watched) and time.monotonic() - started < 10:
            for name, url in watched.items():
                if name not in found and (HIDDEN_TEXT in reader.get(url, timeout=10).text) == shown:
                    found[name] = time.monotonic() - started
            time.sleep(0.02)
        return found

    if len(wait(True, time.monotonic())) < len(watched):
        return "the reply is not on the pages to begin with", False
    taken: dict[str, list[float]] = {name: [] for name in watched}
    for round_ in range(rounds):
        form = {"post": "101", "wat": "reactie", "reden": "1", "csrf_token": token("/beheer/moderatie")}
        started = time.monotonic()
        staff.post(a + "/beheer/moderatie/verberg", data=form, allow_redirects=False).raise_for_status()
        for name, seconds in wait(False, started).items():
            taken[name].append(seconds)
        hide_id = re.search(r'name="id" value="(\d+)"', staff.get(a + "/beheer/moderatie", timeout=10).text).group(1)
        started = time.monotonic()
        staff.post(a + "/beheer/moderatie/tonen", data={"id": hide_id, "csrf_token": token("/beheer/moderatie")},
                   allow_redirects=False).raise_for_status()
        wait(True, started)
        time.sleep(0.3 * round_)  # each hide meets the caches at another point of their second
    # The app promises 2 s. nginx keeps `/` and `/en/` "1 s", but counts in whole seconds (a copy is
    # fresh until the end of the second after it was made), so through nginx it may take up to 2 s more.
    limits = {name: 3.0 if "nginx" in name else 2.0 for name in watched}
    rows = [[name, len(times), " / ".join(f"{t:.2f}" for t in times), f"{max(times):.2f} s" if times else "–",
             f"{limits[name]:.0f} s", len(times) == rounds and max(times) < limits[name]]
            for name, times in taken.items()]
    return table(["page", "hides", "seconds from \"Verberg\" on A to gone", "slowest", "promised", "kept"], rows), \
        all(row[-1] for row in rows)


def check_counting(base: str, cluster: PostgresCluster, instances: list[Instance], scans: int) -> tuple[str, bool]:
    before = count_scans(cluster)
    served_before = [i.served(f"/c/{SLUG}") for i in instances]
    statuses: Counter = Counter()
    lock = threading.Lock()
    local = threading.local()

    def scan(_index: int) -> None:
        session = getattr(local, "session", None)
        if session is None:
            session = local.session = requests.Session()
            session.headers["User-Agent"] = PHONE
        try:
            status = session.get(base + f"/praatmee/c/{SLUG}", timeout=30).status_code
        except requests.RequestException as exc:
            status = exc.__class__.__name__
        with lock:
            statuses[status] += 1

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=32) as pool:
        list(pool.map(scan, range(scans)))
    seconds = time.monotonic() - started
    counted = count_scans(cluster) - before
    served = [i.served(f"/c/{SLUG}") - b for i, b in zip(instances, served_before, strict=True)]
    ok = statuses[200] == scans and counted == scans and all(s > 0 for s in served)
    return table(
        ["scans sent", "answered 200", "failed", "served by A", "served by B", "counted in PostgreSQL", "seconds",
         "exact"],
        [[scans, statuses[200], scans - statuses[200], served[0], served[1], counted, f"{seconds:.1f}", ok]]), ok


def count_keyword_messages(cluster: PostgresCluster) -> int:
    import psycopg
    with psycopg.connect(host="127.0.0.1", port=cluster.port, user="postgres", dbname=cluster.database) as db:
        return db.execute("SELECT coalesce(sum(count), 0) FROM keyword_counts").fetchone()[0]


def check_keywords(base: str, cluster: PostgresCluster, redis: RedisServer,
                   instances: list[Instance]) -> tuple[str, bool]:
    """Stuur PRAATMEE through nginx, spread over both instances: one Redis holds the retries and limits."""
    import redis as redis_client

    from tests.support.gateways import twilio_form, twilio_signature
    before, served_before = count_keyword_messages(cluster), [i.served("/sms/twilio", "POST") for i in instances]

    def answered(form: dict) -> bool:
        signature = twilio_signature(form, url=f"{PUBLIC_URL}/sms/twilio")
        response = requests.post(base + "/praatmee/sms/twilio", data=form, headers={"X-Twilio-Signature": signature},
                                 timeout=10)
        return response.status_code == 200 and "<Message>" in response.text

    retry = twilio_form("PRAATMEE", "+31600000101", sid="SM" + "d" * 32)
    retries = sum(answered(retry) for _ in range(6))
    sender = sum(answered(twilio_form(f"PRAATMEE W{n}", "+31600000102")) for n in range(6))
    served = [i.served("/sms/twilio", "POST") - b for i, b in zip(instances, served_before, strict=True)]
    counted = count_keyword_messages(cluster) - before
    connection = redis_client.Redis.from_url(redis.url)
    keys = connection.keys("*sms*")
    dump = b"".join(keys) + b"".join(connection.dump(key) or b"" for key in keys)
    connection.close()
    no_number = bool(keys) and b"600000101" not in dump and b"600000102" not in dump
    rows = [["one message delivered 6 times (a gateway's retries)", retries, 1, retries == 1],
            ["6 messages from one sender", sender, 3, sender == 3],
            ["counted in PostgreSQL", counted, 4, counted == 4],
            ["served by A, by B", f"{served[0]}, {served[1]}", "both", all(n > 0 for n in served)],
            ["a number among the SMS keys and values in Redis", "no" if no_number else "yes", "no", no_number]]
    return table(["what", "answered", "expected", "as promised"], rows), all(row[-1] for row in rows)


def check_upstream(fake: FakeMastodon, window: float) -> tuple[str, bool]:
    log = fake.stats()["log"]
    rows, ok = [], True
    for path, ttl in UPSTREAM_TTL.items():
        times = sorted(entry["t"] for entry in log if entry["path"] == path)
        gaps = [b - a for a, b in pairwise(times)]
        fine = all(gap >= ttl for gap in gaps)
        ok = ok and fine
        rows.append([f"`{path}`", f"{ttl} s", len(times), int(window // ttl) + 1,
                     f"{min(gaps):.2f} s" if gaps else "–", fine])
    others = sorted({entry["path"] for entry in log} - set(UPSTREAM_TTL))
    if others:
        rows.append([", ".join(others), "", sum(1 for e in log if e["path"] in others), "", "", ""])
    return table(["API path (one cache key)", "TTL", "requests in the run", "at most (run / TTL + 1)",
                  "shortest gap between two", "≥ TTL apart"], rows), ok


def check_kill(base: str, cluster: PostgresCluster, instances: list[Instance], nginx: Nginx,
               seconds: int) -> tuple[str, bool]:
    time.sleep(1)  # requests the last wrk run abandoned may still be counted: let them land first
    lines_before = len(nginx.lines())
    counted_before = count_scans(cluster)
    victim = instances[1]
    killed_at: list[float] = []

    def killer() -> None:
        time.sleep(seconds / 2)
        os.killpg(victim.process.pid, signal.SIGKILL)  # master and workers, no goodbye
        killed_at.append(time.monotonic())

    thread = threading.Thread(target=killer)
    thread.start()
    result = wrk(base + f"/praatmee/c/{SLUG}", seconds)
    thread.join()
    victim.process.wait()
    time.sleep(1)  # let the last upserts of requests wrk abandoned at its end land
    counted = count_scans(cluster) - counted_before
    lines = nginx.lines()[lines_before:]
    statuses = Counter(line.split(" ", 1)[0] for line in lines)
    retried = sum(1 for line in lines if re.search(r"upstream=\S+, ", line))
    # 499: wrk hung up at the end of its run, before an answer came; not an error of the site.
    errors_at_nginx = sum(count for status, count in statuses.items() if status.startswith("5"))
    ok = result["non_2xx"] == 0 and result["socket_errors"] == 0 and errors_at_nginx == 0 and bool(killed_at)
    return table(
        ["requests (wrk, 32 connections)", "killed", "non-2xx at the client", "socket errors", "5xx logged by nginx",
         "retried on the other instance", "answered 200 / abandoned by wrk at its end (499) / counted in PostgreSQL",
         "requests/s", "p99",
         "no failed request"],
        [[result["requests"], f"instance B (SIGKILL) after {seconds / 2:.0f} s", result["non_2xx"],
          result["socket_errors"], errors_at_nginx, retried, f"{statuses['200']} / {statuses['499']} / {counted}",
          f"{result['rps']:.0f}", result["p99"], ok]]), ok


def check_throughput(runs: dict[str, list[dict]]) -> str:
    def mean(side: str) -> float:
        return sum(run["rps"] for run in runs[side]) / len(runs[side])

    def line(name: str, workers: str, side: str) -> list:
        return [name, workers, f"{mean(side):.0f}", " / ".join(f"{run['rps']:.0f}" for run in runs[side]),
                " / ".join(run["p50"] for run in runs[side]), " / ".join(run["p99"] for run in runs[side]),
                sum(run["non_2xx"] + run["socket_errors"] for run in runs[side])]
    return table(
        ["through nginx to", "gunicorn workers", "requests/s (mean)", "per slice", "p50", "p99", "errors"],
        [line("the pair, A and B", f"{WORKERS} + {WORKERS}", "pair"),
         line("instance A alone", str(WORKERS), "single"),
         line("one instance as big as the pair (C)", str(2 * WORKERS), "big"),
         ["pair / A alone", "", f"{mean('pair') / mean('single'):.2f}", "", "", "", ""],
         ["pair / C", "", f"{mean('pair') / mean('big'):.2f}", "", "", "", ""]])


# --- the run ---------------------------------------------------------------------------------------

def machine() -> str:
    memory = next((line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal")), "?")
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor())
    try:
        commit = subprocess.run(["git", "-C", str(PROJECT), "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, check=False).stdout.strip()
    except OSError:
        commit = "?"
    return table(["date", "CPU", "cores", "memory", "Python", "commit"],
                 [[datetime.now().strftime("%Y-%m-%d %H:%M"), model, os.cpu_count(),
                   f"{int(memory) // 1024 // 1024} GiB" if memory.isdigit() else memory,
                   platform.python_version(), commit]])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scans", type=int, default=10_000)
    parser.add_argument("--seconds", type=int, default=20, help="length of each wrk run")
    parser.add_argument("--keep", action="store_true", help="keep the logs and configurations (path printed)")
    parser.add_argument("--only", choices=["moderation"], help="run the guide's check and this one only")
    args = parser.parse_args(argv)
    ensure_installed()

    folder = Path(tempfile.mkdtemp(prefix="praatmee-drill-"))
    cluster = PostgresCluster("praatmee")
    redis = RedisServer()
    atexit.register(stop_all)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    results: list[bool] = []
    try:
        print("drill: starting PostgreSQL, Redis, the fake home server", flush=True)
        cluster.start()
        redis.start()
        fake = FakeMastodon(folder)
        env = {k: v for k, v in os.environ.items() if not k.startswith("PRAATMEE_")}
        env.update(
            PRAATMEE_DATABASE_URL=cluster.url, PRAATMEE_REDIS_URL=redis.url, PRAATMEE_MASTODON_URL=fake.url,
            PRAATMEE_ACCOUNT="stad", PRAATMEE_PUBLIC_URL=PUBLIC_URL,
            PRAATMEE_SECRET_KEY="drill-" + os.urandom(16).hex(), PRAATMEE_CACHE_TTL=str(CACHE_TTL),
            PRAATMEE_INSTANCE_CACHE_TTL=str(INSTANCE_CACHE_TTL), PRAATMEE_PROXIES="1",
            PRAATMEE_TWILIO_AUTH_TOKEN=TWILIO_TOKEN, REQUESTS_CA_BUNDLE=str(fake.ca_path),
        )
        flask = [PYTHON, "-m", "flask", "--app", "praatmee_site"]
        # The guide's order: migrate once, then start the instances (which find nothing left to do).
        subprocess.run(flask + ["db", "upgrade"], env=env, cwd=PROJECT, check=True, capture_output=True)
        subprocess.run(flask + ["campaign", "create", SLUG, "--name", "Drill", "--place", "evenement",
                                "--cta", "Denk mee over digitalisering in Amsterdam"],
                       env=env, cwd=PROJECT, check=True, capture_output=True)
        subprocess.run(flask + ["staff", "add", STAFF[0]], input=f"{STAFF[1]}\n{STAFF[1]}\n", text=True,
                       env=env, cwd=PROJECT, check=True, capture_output=True)
        subprocess.run(flask + ["outcome", "add", "--campaign", SLUG, "--status", "besloten", "--date",
                                time.strftime("%Y-%m-%d"), "--title", "Drill: tien nieuwe bankjes",
                                "--text", "Jullie vroegen erom; we doen het."],
                       env=env, cwd=PROJECT, check=True, capture_output=True)

        print(f"drill: starting two gunicorn instances ({WORKERS} workers each) and nginx", flush=True)
        instances = [Instance("A", folder, env), Instance("B", folder, env)]
        # For the throughput comparison only: one instance as big as the pair together.
        big = Instance("C", folder, env, workers=2 * WORKERS)
        for instance in (*instances, big):
            instance.wait_ready()
        block = readme_nginx_block()
        pair_port, single_port = free_port(), free_port()
        pair = Nginx("pair", folder, render_site(block, port=pair_port, cache=folder / "nginx-pair" / "cache",
                                                  upstreams=[i.port for i in instances]))
        single = Nginx("single", folder, render_site(block, port=single_port, cache=folder / "nginx-single" / "cache",
                                                      upstreams=[instances[0].port]))
        big_port = free_port()
        big_nginx = Nginx("big", folder, render_site(block, port=big_port, cache=folder / "nginx-big" / "cache",
                                                     upstreams=[big.port]))
        pair_url, single_url = f"http://127.0.0.1:{pair_port}", f"http://127.0.0.1:{single_port}"
        big_url = f"http://127.0.0.1:{big_port}"
        for url, server in ((pair_url, pair), (single_url, single), (big_url, big_nginx)):
            wait_for(url + "/praatmee/healthz", server.process, "nginx")

        print("\n" + machine() + "\n", flush=True)
        print("### The guide's nginx configuration, seen through nginx\n")
        text, ok = check_guide(pair_url)
        print(text + "\n", flush=True)
        results.append(ok)

        print("### e. Moderation: a reply hidden on instance A, gone through nginx and from instance B\n", flush=True)
        text, ok = check_moderation(pair_url, instances)
        print(text + "\n", flush=True)
        results.append(ok)

        if args.only == "moderation":
            print("drill: the checks asked for passed" if all(results) else "drill: SOME CHECKS FAILED")
            return 0 if all(results) else 1
        print(f"### a. {args.scans:,} scans of one campaign through nginx, over both instances\n", flush=True)
        text, ok = check_counting(pair_url, cluster, instances, args.scans)
        print(text + "\n", flush=True)
        results.append(ok)

        print("### e. Stuur PRAATMEE through nginx, over both instances (retries and limits in Redis)\n", flush=True)
        text, ok = check_keywords(pair_url, cluster, redis, instances)
        print(text + "\n", flush=True)
        results.append(ok)

        print(f"### c. Requests to the home server during {args.seconds} s of load on both instances\n",
              flush=True)
        time.sleep(INSTANCE_CACHE_TTL)  # start with every entry expired, as after a quiet spell
        fake.reset()
        started = time.monotonic()
        wrk(pair_url + f"/praatmee/c/{SLUG}", args.seconds)
        text, ok = check_upstream(fake, time.monotonic() - started)
        print(text + "\n", flush=True)
        results.append(ok)

        print(f"### d. Requests per second of `/praatmee/c/{SLUG}`: wrk, 32 connections, "
              f"{SLICES} slices of {args.seconds // 2} s each, taking turns\n", flush=True)
        # Taking turns, so that whatever else the machine does weighs on both sides alike.
        runs: dict[str, list[dict]] = {"pair": [], "single": [], "big": []}
        for _ in range(SLICES):
            for side, url in (("single", single_url), ("pair", pair_url), ("big", big_url)):
                runs[side].append(wrk(url + f"/praatmee/c/{SLUG}", args.seconds // 2))
        print(check_throughput(runs) + "\n", flush=True)
        results.append(all(run["non_2xx"] == 0 and run["socket_errors"] == 0 for side in runs.values() for run in side))

        print(f"### b. Instance B killed in the middle of {args.seconds} s of load through nginx\n", flush=True)
        text, ok = check_kill(pair_url, cluster, instances, pair, args.seconds)
        print(text + "\n", flush=True)
        results.append(ok)
    finally:
        stop_all()
        redis.remove()
        cluster.stop()
        if args.keep:
            print(f"drill: logs and configurations kept in {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)
    print("drill: every check passed" if all(results) else "drill: SOME CHECKS FAILED")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
