"""Stuur PRAATMEE: the Twilio and WhatsApp webhooks under 50 concurrent requests (issue 18).

    .venv/bin/python benchmarks/sms.py [--seconds 10] [--connections 50] [--redis]

gunicorn with 2 × cores sync workers on an SQLite database, as `make bench` runs the site; wrk
(50 connections) replays signed requests prepared beforehand: every one a new message id from a new
sender, so each is verified, parsed, checked against the limits, counted (an upsert) and answered,
and none is a retry. The global ceiling is lifted so that every request takes the whole path. The
outgoing API is excluded: the WhatsApp answers go to a local fake Graph API that answers at once,
after the webhook's 200 (Twilio answers in its TwiML). With --redis the limits live in a
throw-away redis-server, as with several instances. Prints a markdown table.
"""
from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Thread
from urllib.parse import urlencode

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from benchmarks import services  # noqa: E402
from tests.support.gateways import gateway_config, meta_signature, twilio_form, twilio_signature, whatsapp_payload  # noqa: E402

SITE_APP = "praatmee_site:create_app()"
TARGET_P99_MS = 50.0


class FastGraph:
    """Answers every POST 200 at once (keep-alive), counting them."""

    def __init__(self):
        self.count = 0
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):  # noqa: N802
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                fake.count += 1
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        Thread(target=self.server.serve_forever, daemon=True).start()


def lua_string(text: str) -> str:
    """A quoted Lua string (a long bracket would turn CR LF into LF, which gunicorn refuses)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\r", "\\r").replace("\n", "\\n") + '"'


def prepared(kind: str, count: int, first: int = 0) -> list[tuple[str, bytes, dict[str, str]]]:
    """(path, body, headers) of `count` signed requests, each a new message from a new sender."""
    found = []
    for n in range(first, first + count):
        if kind == "twilio":
            form = twilio_form("PRAATMEE", f"+316{n:08d}", sid=f"SM{n:032x}")
            body = urlencode(form)
            headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": twilio_signature(form)}
            target = "/sms/twilio"
        else:
            payload = whatsapp_payload("PRAATMEE", f"316{n:08d}", message_id=f"wamid.bench{n:012d}")
            body = payload.decode()
            headers = {"Content-Type": "application/json", "X-Hub-Signature-256": meta_signature(payload)}
            target = "/sms/whatsapp"
        found.append((target, body.encode(), headers))
    return found


def write_requests(path: Path, kind: str, count: int) -> None:
    """A Lua file returning `count` raw HTTP requests, each a new message from a new sender."""
    lines = ["return {"]
    for target, body, headers in prepared(kind, count):
        head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        raw = f"POST {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n{head}Content-Length: {len(body)}\r\n\r\n{body.decode()}"
        lines.append(lua_string(raw) + ",")
    lines.append("}")
    path.write_text("\n".join(lines))


def bursts(base: str, kind: str, *, rounds: int, size: int, pause: float) -> list[float]:
    """`rounds` times `size` requests sent at the same moment (one per thread, each on its own kept-alive
    connection); the latency of each, in milliseconds."""
    import http.client
    from threading import Barrier
    port = int(base.rsplit(":", 1)[1])
    requests_ = prepared(kind, rounds * size, first=100_000)
    latencies: list[float] = []
    barrier = Barrier(size + 1)

    def client(index: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for round_ in range(rounds):
            target, body, headers = requests_[round_ * size + index]
            barrier.wait()
            start = time.perf_counter()
            connection.request("POST", target, body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            latencies.append((time.perf_counter() - start) * 1000)
            assert response.status == 200, response.status
            barrier.wait()
        connection.close()

    threads = [Thread(target=client, args=(i,)) for i in range(size)]
    for thread in threads:
        thread.start()
    for _ in range(rounds):
        barrier.wait()  # go
        barrier.wait()  # all answered
        time.sleep(pause)
    for thread in threads:
        thread.join()
    return latencies


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


SCRIPT = """
local requests = dofile("%s")
local threads = {}
local counter = 0
function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end
function init(args)
  position = id
  step = %d
end
function request()
  position = position + step
  return requests[(position %% #requests) + 1]
end
"""


def run_wrk(base: str, script: Path, seconds: int, connections: int, threads: int) -> services.WrkResult:
    process = services.start(["wrk", "--latency", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s",
                              "--timeout", "10s", "-s", str(script), base],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output, _ = process.communicate(timeout=seconds + 60)
    services.stop(process)
    if process.returncode != 0:
        raise RuntimeError(output)
    import re
    percentiles = dict(re.findall(r"^\s+(50|90|99)%\s+(\S+)\s*$", output, re.M))
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    result = services.WrkResult(
        url=base, requests_per_s=float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        p50_ms=services._ms(percentiles["50"]), p99_ms=services._ms(percentiles["99"]),
        requests=int(re.search(r"(\d+) requests in", output).group(1)), seconds=seconds,
        non_2xx_3xx=int(m.group(1)) if (m := re.search(r"Non-2xx or 3xx responses: (\d+)", output)) else 0,
        socket_errors=sum(map(int, errors.groups())) if errors else 0, output=output)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--redis", action="store_true", help="limits in a throw-away redis-server")
    parser.add_argument("--rounds", type=int, default=40, help="bursts of --connections requests at once")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="praatmee-sms-bench-"))
    graph = FastGraph()
    redis = None
    extra = {}
    if args.redis:
        from tests.support.servers import RedisServer
        redis = RedisServer().start()
        extra["PRAATMEE_REDIS_URL"] = redis.url
    config = gateway_config(graph, SMS_REPLIES_PER_MINUTE=10**9, PUBLIC_URL="https://amsterdam.test/praatmee")
    env = services.clean_environment(
        PRAATMEE_SECRET_KEY="benchmark-" + os.urandom(16).hex(), PRAATMEE_DATABASE_URL=f"sqlite:///{workdir / 'db.sqlite'}",
        PRAATMEE_MASTODON_URL="https://social.test", PRAATMEE_INSTANCE_PATH=str(workdir / "instance"),
        **{f"PRAATMEE_{name}": str(value) for name, value in config.items()}, **extra)
    workers = services.workers_for_this_machine()
    site = services.Gunicorn(SITE_APP, env, workers=workers, log_path=workdir / "gunicorn.log", ready_path="/healthz")
    threads = min(os.cpu_count() or 1, 2)
    rows = []
    try:
        for kind in ("twilio", "whatsapp"):
            requests_file = workdir / f"{kind}.lua"
            # Enough for the whole slice at well over the rate we see, so no message id comes twice.
            write_requests(requests_file, kind, 40_000)
            script = workdir / f"{kind}-wrk.lua"
            script.write_text(SCRIPT % (requests_file, threads))
            load_before = os.getloadavg()[0]
            other = services.OtherCpu(lambda: site.pids())
            cpu_before = sum(services._process_seconds(pid) for pid in site.pids())
            result = run_wrk(site.url, script, args.seconds, args.connections, threads)
            other_share, steal = other.share()
            # The workers' own CPU per webhook: what the machine's neighbours cannot inflate.
            cpu_ms = (sum(services._process_seconds(pid) for pid in site.pids()) - cpu_before) * 1000 / result.requests
            time.sleep(2)  # the last WhatsApp answers go out
            other = services.OtherCpu(lambda: site.pids())
            burst = bursts(site.url, kind, rounds=args.rounds, size=args.connections, pause=0.3)
            burst_other, _steal = other.share()
            rows.append((kind, result, load_before, other_share, burst, burst_other, cpu_ms))
            time.sleep(2)
    finally:
        site.stop()
        if redis is not None:
            redis.remove()
    print(f"{time.strftime('%Y-%m-%d')}, {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, gunicorn {workers} sync workers, SQLite, limits in "
          f"{'Redis' if args.redis else 'each worker'}; load average before: "
          f"{', '.join(f'{row[2]:.1f}' for row in rows)}\n")
    print("| webhook | load | requests/s | p50 ms | p99 ms | errors | other processes' CPU | p99 ≤ 50 ms |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |")
    for kind, result, _load, other_share, burst, burst_other, _cpu in rows:
        name = "`POST /sms/twilio`" if kind == "twilio" else "`POST /sms/whatsapp`"
        print(f"| {name} | wrk, {args.connections} connections, {args.seconds} s | {result.requests_per_s:,.0f} | "
              f"{result.p50_ms:.1f} | {result.p99_ms:.1f} | {result.non_2xx_3xx + result.socket_errors} | "
              f"{other_share:.0%} | {'met' if result.p99_ms <= TARGET_P99_MS else 'not met'} |")
        p99 = percentile(burst, 0.99)
        print(f"| {name} | {args.rounds} bursts of {args.connections} at once | – | {percentile(burst, 0.5):.1f} | "
              f"{p99:.1f} | 0 | {burst_other:.0%} | {'met' if p99 <= TARGET_P99_MS else 'not met'} |")
    print("\n| webhook | CPU of the gunicorn workers per request (wrk run) | so two idle cores take about |")
    print("| --- | ---: | ---: |")
    for kind, *_rest, cpu_ms in rows:
        print(f"| `POST /sms/{kind}` | {cpu_ms:.2f} ms | {2000 / cpu_ms:,.0f} requests/s |")
    print(f"\nWhatsApp answers the fake Graph API received: {graph.count:,}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
