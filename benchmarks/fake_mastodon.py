"""A local fake of the home server's public API, for the benchmarks' load and fault drills.

Runs as its own process (so the load's GIL does not slow it) over HTTPS with a certificate the
benchmark makes with trustme. It answers what praatmee calls, in Mastodon's documented entity
format, built from tests/fixtures plus generated replies so the thread has 16 visible replies.

Control endpoints (not part of Mastodon): `GET /__stats` (requests per path, and a log with
arrival time, status and client port), `POST /__mode?mode=normal|hang|429&reset_in=90`,
`POST /__reset` (clears the counters). Modes: `hang` accepts a request and never answers it;
`429` answers every API call with Mastodon's rate-limit response, reset `reset_in` seconds after
the switch. Start: `python fake_mastodon.py --certfile c.pem --keyfile k.pem`; it prints
`READY <port>` once it listens.
"""
from __future__ import annotations

import argparse
import copy
import json
import ssl
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures"
FIXTURE_ORIGIN = "https://social.test"
ROOT_ID = "100"
ACCOUNT = "stad"

# Replies added to the fixture thread: (id, in reply to, author, content). Realistic lengths,
# with the things Mastodon puts in content: mentions, hashtags, shortened links, custom emoji.
EXTRA_REPLIES = [
    ("111", "100", "bas", "<p>Ik fiets elke dag langs het station en 's ochtends is er echt geen plek meer. "
     "Kunnen jullie ook kijken naar de rekken aan de oostkant? Daar staan veel weesfietsen. "
     '<a href="{o}/tags/fietsparkeren" class="mention hashtag" rel="tag">#<span>fietsparkeren</span></a></p>'),
    ("112", "111", "stad", '<p><span class="h-card"><a href="{o}/@bas" class="u-url mention">@<span>bas</span></a>'
     "</span> "
     "Goede tip, dank je. We nemen de oostkant mee in de telling van volgende maand. Weesfietsen worden "
     "na vier weken gelabeld en daarna weggehaald. :amsterdam:</p>"),
    ("113", "112", "bas", "<p>Fijn! Waar kan ik de uitkomst van die telling straks lezen?</p>"),
    ("114", "113", "stad", "<p>We zetten de uitkomst hier in dit gesprek en op "
     '<a href="https://example.org/fietsparkeren/telling-2026" rel="nofollow noopener" target="_blank">'
     '<span class="invisible">https://</span><span class="ellipsis">example.org/fietsparkeren/tel</span>'
     '<span class="invisible">ling-2026</span></a></p>'),
    ("115", "114", "chris", "<p>En komt er ook een plek voor bakfietsen? Die passen niet in de gewone rekken "
     "en staan nu vaak op de stoep, waar mensen met een rollator er niet langs kunnen.</p>"),
    ("116", "100", "dewi", "<p>Meer plek is mooi, maar wat kost dit? Ik lees liever eerst hoe het geld wordt "
     "verdeeld tussen de stadsdelen voordat er weer ergens een nieuwe stalling komt.</p><p>Groet uit Noord.</p>"),
    ("117", "116", "stad", '<p><span class="h-card"><a href="{o}/@dewi" class="u-url mention">@<span>dewi</span></a>'
     "</span> "
     "De begroting staat online en we leggen in januari uit hoe de keuze is gemaakt. Vragen daarover "
     "mag je hier stellen; het team leest alles.</p>"),
    ("118", "100", "emma", "<p>Graag ook overdekt! In de regen is het nu geen pretje. "
     '<a href="{o}/tags/amsterdam" class="mention hashtag" rel="tag">#<span>amsterdam</span></a> '
     '<a href="{o}/tags/fiets" class="mention hashtag" rel="tag">#<span>fiets</span></a></p>'),
]


def _rebased(value, origin: str):
    """The fixtures speak of https://social.test; point them at this server instead."""
    return json.loads(json.dumps(value).replace(FIXTURE_ORIGIN, origin))


def _fixture(name: str, origin: str):
    return _rebased(json.loads((FIXTURES / name).read_text(encoding="utf-8")), origin)


def _account(template: dict, username: str, origin: str) -> dict:
    account = copy.deepcopy(template)
    account.update(id=str(sum(map(ord, username)) + 10), username=username, acct=username,
                   display_name=username.capitalize(), url=f"{origin}/@{username}", uri=f"{origin}/users/{username}",
                   emojis=[])
    return account


def build_api(origin: str) -> dict[str, object]:
    """Path (without query) → JSON body, for everything the site asks of the home server."""
    root = _fixture("thread_status.json", origin)
    context = _fixture("thread_context.json", origin)
    lookup = _fixture("account_lookup.json", origin)
    template = copy.deepcopy(context["descendants"][4])  # a plain public reply without media
    descendants = context["descendants"]
    for number, (status_id, parent, author, content) in enumerate(EXTRA_REPLIES):
        reply = copy.deepcopy(template)
        account = copy.deepcopy(lookup) if author == ACCOUNT else _account(template["account"], author, origin)
        created = datetime(2026, 11, 1, 15, 0, tzinfo=timezone.utc) + timedelta(minutes=17 * number)
        reply.update(id=status_id, in_reply_to_id=parent, account=account, content=content.format(o=origin),
                     created_at=created.isoformat().replace("+00:00", ".000Z"),
                     uri=f"{origin}/users/{author}/statuses/{status_id}", url=f"{origin}/@{author}/{status_id}",
                     favourites_count=number % 4, reblogs_count=number % 2)
        if author == ACCOUNT:
            reply["emojis"] = copy.deepcopy(lookup["emojis"])
        descendants.append(reply)
    children: dict[str, int] = {}
    for status in descendants:
        children[status["in_reply_to_id"]] = children.get(status["in_reply_to_id"], 0) + 1
    for status in descendants:
        status["replies_count"] = children.get(status["id"], 0)
    root["replies_count"] = len(descendants)
    pinned = _fixture("statuses_pinned.json", origin)
    pinned = [root if status["id"] == ROOT_ID else status for status in pinned]
    instance = _fixture("instance_open.json", origin)
    instance["domain"] = urlsplit(origin).netloc
    account_id = lookup["id"]
    return {
        "/api/v1/accounts/lookup": lookup,
        f"/api/v1/accounts/{account_id}/statuses": pinned,
        f"/api/v1/statuses/{ROOT_ID}": root,
        f"/api/v1/statuses/{ROOT_ID}/context": context,
        "/api/v2/instance": instance,
        "/api/v1/instance": _fixture("instance_v1.json", origin),
        "/api/v1/instance/rules": instance["rules"],
    }


class State:
    """Mode and counters, shared by the handler threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.mode = "normal"
        self.reset_at = 0.0
        self.counts: dict[str, int] = {}
        self.log: list[tuple[float, str, int, int]] = []  # (arrival, path, status or 0 = no answer, client port)

    def record(self, path: str, port: int) -> int:
        with self.lock:
            self.counts[path] = self.counts.get(path, 0) + 1
            self.log.append((time.time(), path, 0, port))
            return len(self.log) - 1

    def answered(self, index: int, status: int) -> None:
        with self.lock:
            arrival, path, _, port = self.log[index]
            self.log[index] = (arrival, path, status, port)

    def snapshot(self) -> dict:
        with self.lock:
            return {"mode": self.mode, "reset_at": self.reset_at, "counts": dict(self.counts),
                    "total": sum(self.counts.values()),
                    "log": [{"t": t, "path": p, "status": s, "port": port} for t, p, s, port in self.log]}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as a real server behind nginx
    server_version = "Mastodon"
    sys_version = ""

    def log_message(self, *args) -> None:  # quiet: the benchmark prints tables, not access logs
        pass

    def _send(self, status: int, body: object, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        state: State = self.server.state
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        if url.path == "/__mode" and query.get("mode") in ("normal", "hang", "429"):
            with state.lock:
                state.mode = query["mode"]
                state.reset_at = time.time() + float(query.get("reset_in", 90))
            self._send(200, {"mode": state.mode, "reset_at": state.reset_at})
        elif url.path == "/__reset":
            with state.lock:
                state.counts.clear()
                state.log.clear()
            self._send(200, {"ok": True})
        else:
            self._send(404, {"error": "Record not found"})

    def do_GET(self) -> None:
        state: State = self.server.state
        url = urlsplit(self.path)
        if url.path == "/__stats":
            return self._send(200, state.snapshot())
        index = state.record(url.path, self.client_address[1])
        mode = state.mode
        if mode == "hang":
            # Accept and never answer; when the drill switches back, drop the connection.
            while state.mode == "hang":
                time.sleep(0.1)
            self.close_connection = True
            return
        limit_headers = {"X-RateLimit-Limit": "300"}
        if mode == "429":
            now = time.time()
            reset = datetime.fromtimestamp(state.reset_at, timezone.utc)
            limit_headers.update({
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": reset.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                "Retry-After": str(max(1, round(state.reset_at - now))),
            })
            state.answered(index, 429)
            return self._send(429, {"error": "Too many requests"}, limit_headers)
        body = self.server.api.get(url.path)
        if body is None:
            state.answered(index, 404)
            return self._send(404, {"error": "Record not found"})
        reset = datetime.now(timezone.utc) + timedelta(minutes=5)
        limit_headers.update({"X-RateLimit-Remaining": "299",
                              "X-RateLimit-Reset": reset.isoformat(timespec="milliseconds").replace("+00:00", "Z")})
        state.answered(index, 200)
        self._send(200, body, limit_headers)


class TLSServer(ThreadingHTTPServer):
    """TLS per connection in the handler's thread, so a slow handshake never blocks accept()."""

    daemon_threads = True
    request_queue_size = 128

    def __init__(self, address, context: ssl.SSLContext, api: dict, state: State):
        self.context, self.api, self.state = context, api, state
        super().__init__(address, Handler)

    def finish_request(self, request, client_address) -> None:
        request.settimeout(30)
        try:
            tls = self.context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        try:
            self.RequestHandlerClass(tls, client_address, self)
        except OSError:
            pass
        finally:
            try:
                tls.close()
            except OSError:
                pass


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--certfile", required=True)
    parser.add_argument("--keyfile", required=True)
    args = parser.parse_args(argv)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(args.certfile, args.keyfile)
    server = TLSServer((args.host, args.port), context, {}, State())
    server.api = build_api(f"https://{args.host}:{server.server_address[1]}")
    print(f"READY {server.server_address[1]}", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    sys.exit(main())
