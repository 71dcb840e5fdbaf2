"""Under gunicorn, as deployed: failures (the API answering 500 or hanging, the database failing
under a webhook) are logged, and neither gunicorn's error log, nor its access log, nor the database
holds a phone number afterwards."""
from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import requests

from tests.support.gateways import (
    CM_TOKEN,
    FakeApi,
    cm_payload,
    gateway_config,
    meta_signature,
    twilio_form,
    twilio_signature,
    whatsapp_payload,
)
from tests.support.servers import free_port

ROOT = Path(__file__).resolve().parent.parent
NUMBERS = ("+31612345678", "31687654321", "+31611112222")
DIGITS = ("612345678", "687654321", "611112222")


def wait_for(condition, seconds: float = 15) -> None:
    end = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.05)


def test_gunicorns_logs_and_the_database_hold_no_number_after_failures(tmp_path):
    api = FakeApi()
    port = free_port()
    database = tmp_path / "praatmee.sqlite"
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PRAATMEE_SECRET_KEY": "x" * 32,
           "PRAATMEE_DATABASE_URL": f"sqlite:///{database}", "PRAATMEE_INSTANCE_PATH": str(tmp_path / "instance"),
           "PRAATMEE_MASTODON_URL": "https://social.test", "PRAATMEE_PAGE_CACHE": "0", "PRAATMEE_PROXIES": "0"}
    env.update({f"PRAATMEE_{name}": str(value) for name, value in gateway_config(api, SMS_API_TIMEOUT=0.5).items()})
    error_log, access_log = tmp_path / "error.log", tmp_path / "access.log"
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("gunicorn")), "--bind", f"127.0.0.1:{port}", "--workers", "1",
         "--error-logfile", str(error_log), "--access-logfile", str(access_log), "--capture-output",
         "--log-level", "debug", "--no-control-socket", "praatmee_site:create_app()"],
        cwd=tmp_path, env=env, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(f"{base}/healthz", timeout=5).close()
                break
            except requests.RequestException:
                assert time.monotonic() < deadline and server.poll() is None, "gunicorn did not start"
                time.sleep(0.1)
        with requests.Session() as http:
            def twilio(body):
                form = twilio_form(body, NUMBERS[0])
                return http.post(f"{base}/sms/twilio", data=form, headers={"X-Twilio-Signature": twilio_signature(form)},
                                 timeout=10)

            def whatsapp(body):
                payload = whatsapp_payload(body, NUMBERS[1])
                return http.post(f"{base}/sms/whatsapp", data=payload, timeout=10,
                                 headers={"X-Hub-Signature-256": meta_signature(payload),
                                          "Content-Type": "application/json"})

            def cm(body):
                return http.post(f"{base}/sms/cm/{CM_TOKEN}", data=cm_payload(body, NUMBERS[2]), timeout=10,
                                 headers={"Content-Type": "application/json"})

            assert "<Message>" in twilio("PRAATMEE").text
            api.status = 500
            assert whatsapp("PRAATMEE").status_code == 200
            assert cm("PRAATMEE").status_code == 200
            wait_for(lambda: len(api.requests) == 4)  # two attempts each (Twilio answered in its TwiML)
            api.status, api.delay = 200, 1.5  # hanging: the deadline ends each attempt
            assert whatsapp("PRAATMEE A").status_code == 200
            assert http.post(f"{base}/sms/twilio", data=twilio_form("PRAATMEE", NUMBERS[0])).status_code == 403
            wait_for(lambda: len(api.requests) == 4 + 2)
            time.sleep(1.5)  # the second attempt's deadline
            with sqlite3.connect(database) as connection:  # the database fails under the next webhooks
                connection.execute("DROP TABLE keyword_counts")
            assert twilio("PRAATMEE B").status_code == 200
            assert whatsapp("PRAATMEE B").status_code == 200
            assert cm("PRAATMEE B").status_code == 200
            time.sleep(0.5)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(20)
        api.stop()
    logged = error_log.read_text() + access_log.read_text()
    assert "not sent after 2 attempt(s): HTTP 500" in logged and "timeout" in logged
    assert "the twilio webhook failed: OperationalError" in logged
    assert "the whatsapp webhook failed: OperationalError" in logged
    assert any(request["json"].get("to") == NUMBERS[1] for request in api.requests)  # it did pass through
    stored = b"".join(path.read_bytes() for path in tmp_path.rglob("*") if path.is_file() and "sqlite" in path.name)
    assert b"keyword" in stored  # the search reads the database's files…
    for digits in DIGITS:  # …and finds no number there, nor in either log
        assert digits not in logged, digits
        assert digits.encode() not in stored, digits
