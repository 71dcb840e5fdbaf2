"""Answers that go out through a gateway's API (WhatsApp Cloud API, CM.com), after the webhook's 200.

One deadline covers each attempt (connect, send, read the answer), then one retry with the same
body, and so the same idempotent id, when the first attempt timed out, could not connect or got a
5xx or 429. A few threads per process send; when they are all busy and the queue is full an answer
is dropped (and logged). Logs name the gateway, the answer's id and what went wrong, never the
number or the text, and never an exception's message. No Flask in this module.
"""
from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import requests
from urllib3.util import Timeout

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class Outgoing:
    """One answer to send: where, with which headers, and the JSON body (which holds the number)."""

    gateway: str
    url: str
    reply_id: str
    headers: Mapping[str, str] = field(repr=False, default_factory=dict)
    body: Mapping = field(repr=False, default_factory=dict)


class Outbox:
    def __init__(self, *, user_agent: str, deadline: float = 4.0, workers: int = 2, queue_limit: int = 200,
                 retry_pause: float = 0.2):
        self.user_agent = user_agent
        self.deadline = deadline
        self.retry_pause = retry_pause
        self.queue_limit = queue_limit
        self._executor: ThreadPoolExecutor | None = None
        self._workers = workers
        self._pending = 0
        self._lock = threading.Condition()
        self._local = threading.local()

    def send(self, outgoing: Outgoing) -> bool:
        """Queue the answer; False (and a log line) when the queue is full."""
        with self._lock:
            if self._pending >= self.queue_limit:
                log.warning("sms: answer %s through %s dropped: %d answers are waiting already",
                            outgoing.reply_id, outgoing.gateway, self._pending)
                return False
            self._pending += 1
            if self._executor is None:  # made on first use, so a pre-forking server gets one per worker
                self._executor = ThreadPoolExecutor(self._workers, thread_name_prefix="praatmee-sms")
            executor = self._executor
        executor.submit(self._deliver_and_count, outgoing)
        return True

    def wait_until_sent(self, timeout: float = 10.0) -> bool:
        """True when nothing is waiting or being sent (tests, and a clean shutdown)."""
        end = time.monotonic() + timeout
        with self._lock:
            while self._pending:
                left = end - time.monotonic()
                if left <= 0:
                    return False
                self._lock.wait(left)
        return True

    def _deliver_and_count(self, outgoing: Outgoing) -> None:
        try:
            self.deliver(outgoing)
        except Exception as exc:  # noqa: BLE001 - a thread must not die with the number in a traceback
            log.error("sms: answer %s through %s failed: %s", outgoing.reply_id, outgoing.gateway,
                      exc.__class__.__name__)
        finally:
            with self._lock:
                self._pending -= 1
                self._lock.notify_all()

    def deliver(self, outgoing: Outgoing) -> bool:
        """Send now, in this thread: True when the API took it (2xx)."""
        problem = ""
        for attempt in (1, 2):
            problem, retry = self._attempt(outgoing)
            if not problem:
                log.info("sms: answer %s sent through %s (attempt %d)", outgoing.reply_id, outgoing.gateway, attempt)
                return True
            if not retry or attempt == 2:
                break
            time.sleep(self.retry_pause)
        log.warning("sms: answer %s through %s not sent after %d attempt(s): %s", outgoing.reply_id,
                    outgoing.gateway, attempt, problem)
        return False

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
            session.headers["User-Agent"] = self.user_agent
        return session

    def _attempt(self, outgoing: Outgoing) -> tuple[str, bool]:
        """("", False) when sent; else what went wrong and whether a second attempt may help.

        urllib3's `total` is one deadline from connecting to the status line; the status says whether
        the API took the answer. Its (small) body is read and dropped, up to 64 KB, so the connection
        goes back to the pool for the next answer instead of a new TCP and TLS handshake each time.
        """
        data = json.dumps(outgoing.body, ensure_ascii=False).encode("utf-8")
        headers = {"Content-Type": "application/json", **outgoing.headers}
        timeout = Timeout(total=self.deadline, connect=min(2.0, self.deadline))
        try:
            response = self._session().post(outgoing.url, data=data, headers=headers, stream=True,
                                            timeout=timeout, allow_redirects=False)
            try:
                read = 0
                for chunk in response.iter_content(8192):
                    read += len(chunk)
                    if read > 64 * 1024:
                        break  # more than an API says about one message: drop the connection instead
            finally:
                response.close()
        except requests.Timeout:
            return "timeout", True
        except requests.ConnectionError:
            return "connection error", True
        except requests.RequestException as exc:
            return exc.__class__.__name__, False
        if 200 <= response.status_code < 300:
            return "", False
        return f"HTTP {response.status_code}", response.status_code in RETRY_STATUSES
