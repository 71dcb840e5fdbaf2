"""Stuur PRAATMEE: keyword messages by SMS and WhatsApp are answered with the right link, through each
gateway's own webhook, verified with the gateway's own scheme, within the limits, counted, and no
phone number is kept anywhere.

Requests are signed as the gateways sign them (Twilio's RequestValidator.compute_signature, Meta's
HMAC-SHA256); the WhatsApp and CM APIs are local fakes that record what was sent (tests/support/gateways.py).
"""
from __future__ import annotations

import logging
import re
import xml.etree.ElementTree as ElementTree
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy

from praatmee_site import campaigns
from praatmee_site.campaigns import rules
from praatmee_site.clock import today
from praatmee_site.kpi import exports
from praatmee_site.sms import counts, keyword, replies
from praatmee_site.staff.accounts import StaffDirectory
from tests.conftest import HOME
from tests.support.gateways import (
    CM_KEY,
    CM_TOKEN,
    PUBLIC,
    WHATSAPP_ACCESS,
    WHATSAPP_PHONE_ID,
    WHATSAPP_VERIFY,
    FakeApi,
    gateway_config,
    meta_signature,
    post_cm,
    post_twilio,
    post_whatsapp,
    twilio_form,
    twilio_signature,
    whatsapp_payload,
)

TWILIO_SENDER, WHATSAPP_SENDER, CM_SENDER = "+31612345678", "31687654321", "+31611112222"
# What any way of writing the test numbers contains (+31 6…, 0031 6…, 06…): their last nine digits.
NUMBER_DIGITS = ("612345678", "687654321", "611112222")
GENERAL = f"Praat mee met de gemeente Amsterdam: {PUBLIC}"
ENGLISH_LINE = 'EN: open it, tap "Read this page in English".'


@pytest.fixture
def api():
    fake = FakeApi()
    yield fake
    fake.stop()


@pytest.fixture
def sms_app(make_app, api):
    def make(**overrides):
        return make_app(**gateway_config(api, **overrides))
    return make


@pytest.fixture
def app(sms_app):
    return sms_app()


def database(app):
    return app.extensions["praatmee_db"]


def outbox(app):
    return app.extensions["praatmee_sms"].outbox


def bieb(app, **values):
    return campaigns.create(database(app), "bieb-oost", home_url=HOME, name="OBA Oost", place="bibliotheek",
                            cta_nl="Stel je vraag aan het Innovatieteam", **({"keyword": "bieb"} | values))


def twiml(response) -> str | None:
    """The text of TwiML's <Message>, or None for an empty <Response/>."""
    assert response.status_code == 200
    assert response.mimetype == "text/xml"
    root = ElementTree.fromstring(response.data)
    assert root.tag == "Response"
    message = root.find("Message")
    return None if message is None else message.text


def sent_texts(api, app) -> list[str]:
    assert outbox(app).wait_until_sent(10)
    texts = []
    for request in api.requests:
        body = request["json"]
        texts.append(body["text"]["body"] if "text" in body else body["messages"]["msg"][0]["body"]["content"])
    return texts


def counted(app) -> list[tuple[str, date, str, int]]:
    return counts.between(database(app), date(2020, 1, 1), date(2100, 1, 1))


# --- the keyword ----------------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["PRAATMEE", "praatmee", "Praat mee", "Praatmee!", "  praat-mee. ", "PRAATME",
                                  "PRATMEE", "PRAATMÉÉ", "P R A A T M E E", "Hoi, praatmee"])
def test_every_way_of_writing_praatmee_gets_the_general_link(client, app, text):
    answer = twiml(post_twilio(client, text))
    assert answer == f"{GENERAL}\n{ENGLISH_LINE}"
    assert counted(app) == [("algemeen", today(), "sms", 1)]


def test_a_campaign_word_gets_the_campaigns_link_and_counts_for_it(client, app):
    bieb(app)
    for index, text in enumerate(("PRAATMEE BIEB", "praatmee bieb", "Praat mee, Bieb!", "PRAATMEEBIEB")):
        answer = twiml(post_twilio(client, text, sender=f"+3161234567{index}"))
        assert answer == f"Praat mee met de gemeente Amsterdam: {PUBLIC}/c/bieb-oost\n{ENGLISH_LINE}"
    assert counted(app) == [("bieb-oost", today(), "sms", 4)]


def test_an_unknown_word_gets_the_general_link_and_says_so(client, app):
    answer = twiml(post_twilio(client, "PRAATMEE ZWEMBAD"))
    assert answer.splitlines()[0] == f"Dat woord kennen we niet. Praat mee met de gemeente Amsterdam: {PUBLIC}"
    assert answer.splitlines()[1].startswith("EN: unknown word.")
    assert counted(app) == [("algemeen", today(), "sms", 1)]


def test_an_ended_campaigns_word_gets_the_current_conversation(client, app):
    bieb(app, starts_on="2020-01-01", ends_on="2020-01-31")
    assert twiml(post_twilio(client, "PRAATMEE BIEB")).startswith(GENERAL + "\n")
    assert counted(app) == [("algemeen", today(), "sms", 1)]


@pytest.mark.parametrize("text", ["STOP", "stop", "Stop.", "PRAATMEE STOP", "afmelden"])
def test_stop_gets_one_line_of_acknowledgement_and_is_not_counted(client, app, text):
    answer = twiml(post_twilio(client, text))
    assert answer.splitlines() == ["Goed. We sturen je nooit zomaar iets: we antwoorden alleen als jij ons een "
                                   "bericht stuurt.", "EN: fine, we only ever answer your own messages."]
    assert counted(app) == []


@pytest.mark.parametrize("text", ["hallo", "Wat is dit?", "", "🙂"])
def test_anything_else_gets_the_keyword_to_send(client, app, text):
    answer = twiml(post_twilio(client, text))
    assert answer.splitlines() == ["Stuur PRAATMEE en je krijgt de link naar het gesprek met de gemeente.",
                                   "EN: send PRAATMEE to get the link."]
    assert counted(app) == []


def test_every_answer_fits_one_sms_in_the_gsm_alphabet(app):
    public = "https://amsterdam.nl/praatmee"  # the default; the longest slug for a campaign's link
    links = {"campaign": campaigns.public_url(public, "x" * rules.SLUG_MAX), "general": public,
             "unknown_word": public, "stop": "", "help": ""}
    with app.test_request_context():
        from praatmee_site.web.sms import _translate
        for kind in replies.KINDS:
            text = replies.wording(replies.Reply(kind, links[kind]), _translate)
            assert replies.gsm_length(text) is not None, (kind, text)
            assert replies.gsm_length(text) <= 160, (kind, replies.gsm_length(text), text)


def test_the_campaign_rules_reserve_every_word_the_keyword_line_reads():
    assert {spelling.upper() for spelling in keyword.SPELLINGS} | {word.upper() for word in keyword.STOP_WORDS} \
        == rules.RESERVED_KEYWORDS


# --- WhatsApp Cloud API and CM.com --------------------------------------------------------------

def test_whatsapp_answers_200_at_once_and_replies_through_the_graph_api(client, app, api):
    bieb(app)
    response = post_whatsapp(client, "praatmee bieb")
    assert response.status_code == 200 and response.data == b""
    assert sent_texts(api, app) == [f"Praat mee met de gemeente Amsterdam: {PUBLIC}/c/bieb-oost\n{ENGLISH_LINE}"]
    [request] = api.requests
    assert request["path"] == f"/v21.0/{WHATSAPP_PHONE_ID}/messages"
    assert request["headers"]["Authorization"] == f"Bearer {WHATSAPP_ACCESS}"
    assert request["json"]["messaging_product"] == "whatsapp" and request["json"]["to"] == WHATSAPP_SENDER
    assert request["json"]["type"] == "text"
    assert counted(app) == [("bieb-oost", today(), "whatsapp", 1)]


def test_whatsapp_ignores_status_updates_and_other_phone_numbers(client, app, api):
    for payload in (whatsapp_payload("PRAATMEE", phone_number_id="999"),
                    b'{"object": "whatsapp_business_account", "entry": [{"changes": [{"field": "messages", '
                    b'"value": {"metadata": {"phone_number_id": "' + WHATSAPP_PHONE_ID.encode() + b'"}, '
                    b'"statuses": [{"id": "wamid.x", "status": "delivered"}]}}]}]}',
                    b"[1, 2", b'{"entry": "nonsense"}'):
        response = client.post("/sms/whatsapp", data=payload, headers={"X-Hub-Signature-256": meta_signature(payload)})
        assert response.status_code == 200
    assert sent_texts(api, app) == [] and counted(app) == []


def test_a_whatsapp_voice_message_gets_the_keyword_to_send(client, app, api):
    assert post_whatsapp(client, "", kind="audio").status_code == 200
    assert sent_texts(api, app) == ["Stuur PRAATMEE en je krijgt de link naar het gesprek met de gemeente.\n"
                                    "EN: send PRAATMEE to get the link."]


def test_the_whatsapp_subscription_handshake_echoes_the_challenge_for_our_token_only(client):
    response = client.get(f"/sms/whatsapp?hub.mode=subscribe&hub.verify_token={WHATSAPP_VERIFY}"
                          "&hub.challenge=1158201444")
    assert response.status_code == 200 and response.data == b"1158201444" and response.mimetype == "text/plain"
    for query in ("hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1",
                  f"hub.mode=unsubscribe&hub.verify_token={WHATSAPP_VERIFY}&hub.challenge=1",
                  f"hub.mode=subscribe&hub.verify_token={WHATSAPP_VERIFY}&hub.challenge=<script>",
                  "hub.mode=subscribe&hub.challenge=1", ""):
        assert client.get(f"/sms/whatsapp?{query}").status_code == 403, query


@pytest.mark.parametrize("channel, ours", [("SMS", "sms"), ("WhatsApp", "whatsapp")])
def test_cm_replies_on_the_channel_it_came_in_on_from_our_number(client, app, api, channel, ours):
    bieb(app)
    to = "4444" if channel == "SMS" else "+31201234567"
    response = post_cm(client, "PRAATMEE BIEB", channel=channel, to=to)
    assert response.status_code == 200
    assert sent_texts(api, app) == [f"Praat mee met de gemeente Amsterdam: {PUBLIC}/c/bieb-oost\n{ENGLISH_LINE}"]
    [request] = api.requests
    assert request["path"] == "/v1.0/message"
    assert request["headers"]["X-CM-PRODUCTTOKEN"] == CM_KEY
    messages = request["json"]["messages"]
    assert messages["authentication"] == {"producttoken": CM_KEY}
    [msg] = messages["msg"]
    assert msg["from"] == to and msg["to"] == [{"number": CM_SENDER}] and msg["allowedChannels"] == [channel]
    assert len(msg["reference"]) == 32 and msg["reference"].isalnum()
    assert counted(app) == [("bieb-oost", today(), ours, 1)]


def test_twilio_whatsapp_counts_as_whatsapp(client, app):
    assert twiml(post_twilio(client, "PRAATMEE", sender="whatsapp:+31612345678", to="whatsapp:+31201234567"))
    assert counted(app) == [("algemeen", today(), "whatsapp", 1)]


# --- the signature before anything else ----------------------------------------------------------

def test_a_bad_or_missing_signature_gets_403_counts_nothing_and_sends_nothing(client, app, api):
    bieb(app)
    form = twilio_form("PRAATMEE BIEB")
    assert client.post("/sms/twilio", data=form).status_code == 403
    assert client.post("/sms/twilio", data=form, headers={"X-Twilio-Signature": "bm9wZQ=="}).status_code == 403
    # Signed for another URL (what a proxy-unaware check would compute), and a changed body.
    other = twilio_signature(form, url="http://127.0.0.1:5000/sms/twilio")
    assert client.post("/sms/twilio", data=form, headers={"X-Twilio-Signature": other}).status_code == 403
    changed = twilio_signature(form)
    assert client.post("/sms/twilio", data={**form, "Body": "PRAATMEE"},
                       headers={"X-Twilio-Signature": changed}).status_code == 403
    assert post_whatsapp(client, "PRAATMEE BIEB", signature=None).status_code == 403
    assert post_whatsapp(client, "PRAATMEE BIEB", signature="sha256=" + "0" * 64).status_code == 403
    payload = whatsapp_payload("PRAATMEE BIEB")
    assert client.post("/sms/whatsapp", data=payload.replace(b"BIEB", b"BIEP"),
                       headers={"X-Hub-Signature-256": meta_signature(payload)}).status_code == 403
    assert client.post("/sms/whatsapp", data=payload,
                       headers={"X-Hub-Signature-256": meta_signature(payload, "another-secret")}).status_code == 403
    assert post_cm(client, "PRAATMEE BIEB", token=CM_TOKEN[:-1] + "x").status_code == 403
    assert post_cm(client, "PRAATMEE BIEB", token="short").status_code == 403
    assert sent_texts(api, app) == [] and counted(app) == []
    # …and the same messages, signed, are answered: the checks were the only thing in the way.
    assert twiml(post_twilio(client, "PRAATMEE BIEB"))
    assert post_whatsapp(client, "PRAATMEE BIEB").status_code == 200
    assert post_cm(client, "PRAATMEE BIEB").status_code == 200
    assert len(sent_texts(api, app)) == 2
    assert [row[2:] for row in counted(app)] == [("sms", 2), ("whatsapp", 1)]


def test_a_gateway_without_its_secrets_is_not_there(make_app):
    client = make_app().test_client()  # no PRAATMEE_TWILIO_*, _WHATSAPP_*, _CM_*
    form = twilio_form("PRAATMEE")
    assert client.post("/sms/twilio", data=form, headers={"X-Twilio-Signature": twilio_signature(form)}).status_code == 404
    assert client.get(f"/sms/whatsapp?hub.mode=subscribe&hub.verify_token={WHATSAPP_VERIFY}&hub.challenge=1"
                      ).status_code == 404
    assert post_whatsapp(client, "PRAATMEE").status_code == 404
    assert post_cm(client, "PRAATMEE").status_code == 404


def test_only_the_configured_gateway_is_on(sms_app, api):
    client = sms_app(WHATSAPP_APP_SECRET=None, WHATSAPP_VERIFY_TOKEN=None, WHATSAPP_ACCESS_TOKEN=None,
                     WHATSAPP_PHONE_NUMBER_ID=None, CM_WEBHOOK_TOKEN=None, CM_API_KEY=None).test_client()
    assert twiml(post_twilio(client, "PRAATMEE"))
    assert post_whatsapp(client, "PRAATMEE").status_code == 404
    assert post_cm(client, "PRAATMEE").status_code == 404


def test_webhooks_take_no_csrf_token_and_are_never_kept(sms_app):
    client = sms_app(WTF_CSRF_ENABLED=True).test_client()
    response = post_twilio(client, "PRAATMEE")
    assert response.status_code == 200  # CSRF protection is on for every other POST, yet no token here
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers
    assert client.post("/en/sms/twilio", data=twilio_form("PRAATMEE")).status_code == 404


# --- retries, limits and a flood ---------------------------------------------------------------------

def test_a_gateways_retry_is_never_answered_twice(client, app, api):
    form = twilio_form("PRAATMEE")
    headers = {"X-Twilio-Signature": twilio_signature(form)}
    assert twiml(client.post("/sms/twilio", data=form, headers=headers))
    assert twiml(client.post("/sms/twilio", data=form, headers=headers)) is None
    for _ in range(2):
        assert post_whatsapp(client, "PRAATMEE", message_id="wamid.same").status_code == 200
        assert post_cm(client, "PRAATMEE", reference="cm-same-reference").status_code == 200
    assert len(sent_texts(api, app)) == 2
    assert [row[2:] for row in counted(app)] == [("sms", 2), ("whatsapp", 1)]


def test_at_most_three_answers_per_sender_per_hour(client, app):
    answers = [twiml(post_twilio(client, f"PRAATMEE {word}")) for word in ("A1", "B2", "C3", "D4", "E5")]
    assert [answer is not None for answer in answers] == [True, True, True, False, False]
    assert twiml(post_twilio(client, "PRAATMEE", sender="+31699999999"))  # someone else is answered
    assert counted(app) == [("algemeen", today(), "sms", 4)]  # the ones over the limit are not counted


def test_one_answer_per_identical_message_per_minute(client, app):
    assert twiml(post_twilio(client, "PRAATMEE"))
    assert twiml(post_twilio(client, " praatmee ")) is None  # the same message, a new MessageSid
    assert twiml(post_twilio(client, "PRAATMEE BIEB"))  # another message from the same sender


def test_the_global_ceiling_holds_answers_but_counts_the_messages(sms_app, api):
    app = sms_app(SMS_REPLIES_PER_MINUTE=2)
    client = app.test_client()
    answered = [twiml(post_twilio(client, "PRAATMEE", sender=f"+3161000000{n}")) is not None for n in range(4)]
    assert answered == [True, True, False, False]
    assert post_whatsapp(client, "PRAATMEE").status_code == 200
    assert sent_texts(api, app) == []
    assert [row[2:] for row in counted(app)] == [("sms", 4), ("whatsapp", 1)]


# --- when the outgoing API fails -------------------------------------------------------------------

@pytest.mark.parametrize("status, delay, problem", [(500, 0, "HTTP 500"), (503, 0, "HTTP 503"),
                                                      (200, 2.5, "timeout")])
def test_the_webhook_answers_200_when_the_api_fails_and_logs_without_the_number(client, app, api, caplog,
                                                                                  status, delay, problem):
    api.status, api.delay = status, delay
    caplog.set_level(logging.DEBUG)
    response = post_whatsapp(client, "PRAATMEE")
    assert response.status_code == 200
    assert outbox(app).wait_until_sent(15)
    attempts = api.sent("/messages")
    assert len(attempts) == 2  # one retry…
    assert attempts[0]["json"] == attempts[1]["json"]  # …with the same body, so the same id
    assert attempts[0]["json"]["biz_opaque_callback_data"].startswith("pm")
    warning = [r.getMessage() for r in caplog.records if "not sent after 2 attempt(s)" in r.getMessage()]
    assert len(warning) == 1 and problem in warning[0] and "whatsapp" in warning[0]
    assert not any(digits in caplog.text for digits in NUMBER_DIGITS)
    assert counted(app) == [("algemeen", today(), "whatsapp", 1)]


def test_a_4xx_from_the_api_is_not_tried_again(client, app, api, caplog):
    api.status = 401
    post_cm(client, "PRAATMEE")
    assert outbox(app).wait_until_sent(10)
    assert len(api.requests) == 1
    assert "HTTP 401" in caplog.text


def test_a_failure_inside_is_logged_by_its_class_only(client, app, monkeypatch, caplog):
    def broken(message):
        raise ValueError(f"could not answer {message.sender}: {message.text}")
    monkeypatch.setattr(app.extensions["praatmee_sms"].desk, "answer", broken)
    assert twiml(post_twilio(client, "PRAATMEE")) is None
    assert post_whatsapp(client, "PRAATMEE").status_code == 200
    assert "the twilio webhook failed: ValueError" in caplog.text
    assert "the whatsapp webhook failed: ValueError" in caplog.text
    assert not any(digits in caplog.text for digits in NUMBER_DIGITS) and "could not answer" not in caplog.text


# --- no number anywhere ---------------------------------------------------------------------------------

def files_holding(folder: Path, needles) -> list[str]:
    found = []
    for path in folder.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            found += [f"{path.name}: {needle}" for needle in needles
                      if needle.encode() in data or needle.encode("utf-16-le") in data]
    return found


def rows_holding(app, needles) -> list[str]:
    """Every row of every table, read back as text: what a database kept wherever it keeps it (SQLite's
    file in the instance folder, or a PostgreSQL cluster elsewhere under `make test-pg`)."""
    engine = database(app).engine
    found = []
    with engine.connect() as connection:
        for table in sorted(sqlalchemy.inspect(engine).get_table_names()):
            for row in connection.execute(sqlalchemy.text(f'SELECT * FROM "{table}"')):
                data = repr(tuple(row))
                found += [f"{table}: {needle}" for needle in needles if needle in data]
    return found


def test_no_phone_number_is_stored_or_logged_anywhere(sms_app, api, tmp_path, caplog, capsys):
    caplog.set_level(logging.DEBUG)
    app = sms_app()
    client = app.test_client()
    bieb(app)
    for text in ("PRAATMEE", "PRAATMEE BIEB", "PRAATMEE ZWEMBAD", "STOP", "hallo", "PRAATMEE 4", "PRAATMEE 5"):
        post_twilio(client, text, sender=TWILIO_SENDER)
        post_twilio(client, text, sender="whatsapp:" + TWILIO_SENDER)
        post_whatsapp(client, text, sender=WHATSAPP_SENDER)
        post_cm(client, text, sender=CM_SENDER, channel="WhatsApp")
    post_twilio(client, "PRAATMEE", sender=TWILIO_SENDER, signature="bm9wZQ==")  # refused
    api.status = 500  # failures are logged: still without the number
    post_whatsapp(client, "PRAATMEE BIEB", sender="31600000000" + "1")
    post_cm(client, "PRAATMEE BIEB", sender=CM_SENDER, reference="fails")
    assert outbox(app).wait_until_sent(15)
    # The numbers did pass through (the fake APIs got them), and the search does find what is there.
    assert any(request["json"].get("to") == WHATSAPP_SENDER for request in api.requests)
    assert rows_holding(app, ["bieb-oost"])
    assert rows_holding(app, NUMBER_DIGITS + ("600000000",)) == []
    app.extensions["praatmee_db"].engine.dispose()
    if database(app).is_sqlite:  # the file itself too: free pages and the journal keep what rows no longer show
        assert files_holding(tmp_path, ["bieb-oost"])
    assert files_holding(tmp_path, NUMBER_DIGITS + ("600000000",)) == []
    out = capsys.readouterr()
    logged = caplog.text + out.out + out.err
    assert "not sent after 2 attempt(s): HTTP 500" in logged
    assert not any(digits in logged for digits in NUMBER_DIGITS + ("600000000",))
    assert counted(app)  # and the counts are there


# --- counted like scans ---------------------------------------------------------------------------------

def log_in(app, client) -> None:
    with app.app_context():
        StaffDirectory(database(app)).add("sms@amsterdam.test", "een lang wachtwoord 123")
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/beheer/login").text).group(1)
    client.post("/beheer/login", data={"email": "sms@amsterdam.test", "password": "een lang wachtwoord 123",
                                       "csrf_token": token})


def csrf_token(client, path: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text).group(1)


def test_counts_per_campaign_and_channel_on_the_staff_pages_and_in_the_exports(app, api, client):
    bieb(app)
    post_twilio(client, "PRAATMEE BIEB", sender="+31600000001")
    post_twilio(client, "PRAATMEE BIEB", sender="whatsapp:+31600000002")
    post_whatsapp(client, "PRAATMEE BIEB", sender="31600000003")
    post_cm(client, "PRAATMEE", sender="+31600000004")
    post_cm(client, "PRAATMEE BIEB", sender="+31600000005", channel="WhatsApp")
    day = today()
    assert counted(app) == [("algemeen", day, "sms", 1), ("bieb-oost", day, "sms", 1),
                            ("bieb-oost", day, "whatsapp", 3)]
    log_in(app, client)
    page = client.get("/beheer/campagnes/bieb-oost").text
    assert "PRAATMEE BIEB" in page
    assert "sms: vandaag 1 · laatste 7 dagen 1 · totaal 1" in page
    assert "WhatsApp: vandaag 3 · laatste 7 dagen 3 · totaal 3" in page
    dashboard = client.get("/beheer/kpi").text
    assert "Berichten (Stuur PRAATMEE)" in dashboard and "keywords.csv" in dashboard
    rows = exports.read_csv(client.get("/beheer/kpi/keywords.csv").data)
    assert rows == [{"campaign": "algemeen", "day": day.isoformat(), "channel": "sms", "messages": "1"},
                    {"campaign": "bieb-oost", "day": day.isoformat(), "channel": "sms", "messages": "1"},
                    {"campaign": "bieb-oost", "day": day.isoformat(), "channel": "whatsapp", "messages": "3"}]
    data = client.get("/beheer/kpi.json").get_json()
    assert {"campaign": "bieb-oost", "day": day.isoformat(), "channel": "whatsapp", "messages": 3} \
        in data["keyword_messages"]


# --- two instances, one Redis ------------------------------------------------------------------------

def test_two_instances_share_the_limits_and_the_retries_through_redis_and_keep_no_number_there(
        make_app, api, redis_server):
    import redis
    first, second = (make_app(**gateway_config(api, REDIS_URL=redis_server.url)) for _ in range(2))
    a, b = first.test_client(), second.test_client()
    # A retry that reaches the other instance is not answered again.
    form = twilio_form("PRAATMEE", TWILIO_SENDER)
    headers = {"X-Twilio-Signature": twilio_signature(form)}
    assert twiml(a.post("/sms/twilio", data=form, headers=headers))
    assert twiml(b.post("/sms/twilio", data=form, headers=headers)) is None
    assert post_whatsapp(a, "PRAATMEE", message_id="wamid.shared").status_code == 200
    assert post_whatsapp(b, "PRAATMEE", message_id="wamid.shared").status_code == 200
    # Three answers per sender per hour over both instances: one above, two more here.
    answered = [twiml(post_twilio(client, f"PRAATMEE X{n}", TWILIO_SENDER)) is not None
                for n, client in enumerate((b, a, b, a))]
    assert answered == [True, True, False, False]
    # The same message within a minute, once over both.
    assert post_whatsapp(b, " praatmee").status_code == 200  # WHATSAPP_SENDER said PRAATMEE on `a`
    assert outbox(first).wait_until_sent(10) and outbox(second).wait_until_sent(10)
    assert len(api.requests) == 1
    connection = redis.Redis.from_url(redis_server.url)
    keys = connection.keys("*")
    assert any(b"sms" in key for key in keys)
    dump = b"".join(keys) + b"".join(connection.dump(key) or b"" for key in keys)
    assert not any(digits.encode() in dump for digits in NUMBER_DIGITS)
    connection.close()


def test_a_shared_ceiling_holds_over_both_instances(make_app, api, redis_server):
    first, second = (make_app(**gateway_config(api, REDIS_URL=redis_server.url, SMS_REPLIES_PER_MINUTE=3))
                     for _ in range(2))
    answered = [twiml(post_twilio(app.test_client(), "PRAATMEE", f"+3161000000{n}")) is not None
                for n, app in enumerate((first, second) * 3)]
    assert answered == [True, True, True, False, False, False]
    assert counted(first) == [("algemeen", today(), "sms", 6)]


def test_the_sms_limits_go_on_in_each_process_while_redis_is_down(make_app, api, redis_server, caplog):
    app = make_app(**gateway_config(api, REDIS_URL=redis_server.url))
    client = app.test_client()
    assert twiml(post_twilio(client, "PRAATMEE"))
    redis_server.stop()
    assert twiml(post_twilio(client, "PRAATMEE A", sender="+31600000077"))
    assert twiml(post_twilio(client, "PRAATMEE A", sender="+31600000077")) is None  # still limited, in memory
    assert "sms limits: storage unreachable" in caplog.text


# --- settings ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("overrides, names", [
    ({"WHATSAPP_APP_SECRET": "s"}, ["PRAATMEE_WHATSAPP_VERIFY_TOKEN", "PRAATMEE_WHATSAPP_ACCESS_TOKEN",
                                    "PRAATMEE_WHATSAPP_PHONE_NUMBER_ID"]),
    ({"CM_API_KEY": "k"}, ["PRAATMEE_CM_WEBHOOK_TOKEN"]),
    ({"CM_API_KEY": "k", "CM_WEBHOOK_TOKEN": "too-short"}, ["PRAATMEE_CM_WEBHOOK_TOKEN", "at least 32"]),
    ({"SMS_NUMBER": "bel ons"}, ["PRAATMEE_SMS_NUMBER"]),
    ({"WHATSAPP_NUMBER": "4444"}, ["PRAATMEE_WHATSAPP_NUMBER"]),
    ({"WHATSAPP_API_URL": "http://graph.facebook.com/v21.0"}, ["PRAATMEE_WHATSAPP_API_URL", "https://"]),
    ({"CM_API_URL": "https://user:secret@gateway.cm.com"}, ["PRAATMEE_CM_API_URL"]),
    ({"SMS_REPLIES_PER_MINUTE": "0"}, ["PRAATMEE_SMS_REPLIES_PER_MINUTE"]),
], ids=["whatsapp-half", "cm-half", "cm-short-token", "sms-number", "whatsapp-number", "http-api", "api-password",
        "no-replies"])
def test_a_gateway_setting_that_cannot_work_stops_start_up_with_one_line(make_app, overrides, names):
    with pytest.raises(SystemExit) as stopped:
        make_app(**overrides)
    message = str(stopped.value)
    assert message.startswith("praatmee: configuration error:") and "\n" not in message
    assert all(name in message for name in names), message
    assert ":secret@" not in message  # a password in an address is never repeated


def test_numbers_and_ids_from_the_environment_stay_text(tmp_path, monkeypatch, api):
    from praatmee_site import create_app
    from tests.conftest import base_config
    for name, value in {**gateway_config(api), "SMS_NUMBER": "4444", "WHATSAPP_PHONE_NUMBER_ID": WHATSAPP_PHONE_ID,
                        "WHATSAPP_NUMBER": "31201234567"}.items():
        monkeypatch.setenv(f"PRAATMEE_{name}", str(value))  # from_prefixed_env reads 4444 as JSON: a number
    monkeypatch.setenv("PRAATMEE_INSTANCE_PATH", str(tmp_path / "instance"))
    config = base_config(tmp_path)
    config.pop("PUBLIC_URL")
    app = create_app(config)
    assert app.config["SMS_NUMBER"] == "4444" and app.config["WHATSAPP_PHONE_NUMBER_ID"] == WHATSAPP_PHONE_ID
    assert post_whatsapp(app.test_client(), "PRAATMEE").status_code == 200
    assert outbox(app).wait_until_sent(10) and len(api.requests) == 1


# --- the keyword of a campaign: CLI and staff forms, one set of rules --------------------------------

def test_the_cli_sets_changes_and_clears_a_campaigns_keyword(app):
    from tests.test_cli_campaigns import CREATE, ok, refused
    runner = app.test_cli_runner()
    ok(runner, *CREATE, "--keyword", "bieb")
    assert campaigns.get(database(app), "bieb-oost").keyword == "BIEB"
    assert "PRAATMEE BIEB" in ok(runner, "campaign", "show", "bieb-oost")
    assert "Text messages (no phone number is kept): sms today 0" in ok(runner, "campaign", "show", "bieb-oost")
    ok(runner, "campaign", "create", "bieb-west", "--name", "OBA West", "--place", "bibliotheek",
       "--cta", "Denk mee over digitalisering in Amsterdam")
    taken = refused(runner, "campaign", "update", "bieb-west", "--keyword", "Bieb")
    assert "Another campaign already has the keyword 'BIEB' / Een andere campagne heeft het trefwoord 'BIEB' al" in taken
    assert "Invalid keyword 'BIEB OOST'" in refused(runner, "campaign", "update", "bieb-west", "--keyword", "bieb oost")
    assert "already means PRAATMEE or STOP" in refused(runner, "campaign", "update", "bieb-west", "--keyword", "stop")
    assert "Invalid keyword 'CAFÉ'" in refused(runner, "campaign", "update", "bieb-west", "--keyword", "café")
    assert campaigns.get(database(app), "bieb-west").keyword is None
    ok(runner, "campaign", "update", "bieb-oost", "--keyword", "")
    assert campaigns.get(database(app), "bieb-oost").keyword is None
    ok(runner, "campaign", "update", "bieb-west", "--keyword", "bieb")  # free again
    assert campaigns.by_keyword(database(app), "bieb").slug == "bieb-west"


def test_staff_set_the_keyword_in_the_form_with_the_same_rules(sms_app):
    app = sms_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    log_in(app, client)
    bieb(app)
    form = {"name": "OBA West", "place": "bibliotheek", "cta_nl": "Denk mee over digitalisering in Amsterdam",
            "slug": "bieb-west", "keyword": "bieb"}
    refused = client.post("/beheer/campagnes/nieuw", data={**form, "csrf_token": csrf_token(client, "/beheer/campagnes/nieuw")})
    assert refused.status_code == 400
    assert "Trefwoord voor sms en WhatsApp: een andere campagne heeft “BIEB” al. Kies een ander" in refused.text
    assert 'id="keyword" name="keyword" type="text" value="bieb"' in refused.text
    made = client.post("/beheer/campagnes/nieuw", data={**form, "keyword": "west2",
                                                        "csrf_token": csrf_token(client, "/beheer/campagnes/nieuw")})
    assert made.status_code == 303
    assert "PRAATMEE WEST2" in client.get("/beheer/campagnes/bieb-west").text
    edit = "/beheer/campagnes/bieb-west/bewerken"
    assert 'value="WEST2"' in client.get(edit).text
    changed = client.post(edit, data={**form, "keyword": "", "csrf_token": csrf_token(client, edit)})
    assert changed.status_code == 303 and campaigns.get(database(app), "bieb-west").keyword is None


# --- on paper and on screen --------------------------------------------------------------------------

def test_posters_handout_and_kiosk_print_the_line_with_the_campaigns_word(app):
    from praatmee_site.campaigns import posters
    from praatmee_site.web import printed
    from tests.test_posters import pdftotext as pdf_text
    campaign = bieb(app)
    with app.app_context():
        spec = printed.poster_spec(campaign, app.config, printed.LANGUAGES["nl+en"])
        handout = printed.handout_pdf(campaign, app.config, ("nl",))
    dutch, english = (text.sms for text in spec.texts)
    assert dutch == "Stuur PRAATMEE BIEB naar 4444 (sms) of +31 20 123 4567 (WhatsApp)"
    assert english == "Text PRAATMEE BIEB to 4444 (SMS) or +31 20 123 4567 (WhatsApp)"
    assert "Stuur PRAATMEE BIEB naar 4444" in " ".join(pdf_text(posters.render(spec, "A4", "pdf")).split())
    assert "Stuur PRAATMEE BIEB naar 4444" in " ".join(pdf_text(handout).split())
    kiosk = app.test_client().get("/kiosk/bieb-oost").text
    assert '<p class="keyword-line">Stuur PRAATMEE BIEB naar 4444 (sms) of +31 20 123 4567 (WhatsApp)</p>' in kiosk
    assert "Stuur PRAATMEE naar 4444" in app.test_client().get("/kiosk").text


@pytest.mark.parametrize("numbers, dutch", [
    ({"SMS_NUMBER": "4444", "WHATSAPP_NUMBER": None}, "Stuur PRAATMEE BIEB naar 4444"),
    ({"SMS_NUMBER": None, "WHATSAPP_NUMBER": "+31 20 123 4567"}, "Stuur PRAATMEE BIEB via WhatsApp naar +31 20 123 4567"),
    ({"SMS_NUMBER": "+31 20 123 4567", "WHATSAPP_NUMBER": "+31201234567"},
     "Stuur PRAATMEE BIEB naar +31 20 123 4567 (sms of WhatsApp)"),
    ({"SMS_NUMBER": None, "WHATSAPP_NUMBER": None}, None),
])
def test_the_line_names_the_numbers_that_are_configured(sms_app, numbers, dutch):
    from praatmee_site.web import printed
    app = sms_app(**numbers)
    campaign = bieb(app)
    with app.app_context():
        assert printed.poster_spec(campaign, app.config).texts[0].sms == dutch
    assert ('class="keyword-line"' in app.test_client().get("/kiosk/bieb-oost").text) is (dutch is not None)


def test_the_helpers_guide_has_the_line_and_whatsapp_links(app, mastodon):
    mastodon.standard()
    bieb(app)
    page = app.test_client().get("/hulp").text
    assert "Geen camera? Stuur PRAATMEE" in page
    assert 'href="https://wa.me/31201234567?text=PRAATMEE"' in page
    assert 'href="https://wa.me/31201234567?text=PRAATMEE%20BIEB"' in page
    assert "Stuur PRAATMEE BIEB naar 4444" in page


def test_the_guide_says_nothing_about_texting_without_numbers(make_app, mastodon):
    mastodon.standard()
    assert "Stuur PRAATMEE" not in make_app().test_client().get("/hulp").text


def test_the_privacy_page_says_a_number_passes_through_and_is_never_stored(client, mastodon):
    mastodon.standard()
    page = client.get("/privacy").text
    assert "je telefoonnummer één keer door onze server" in page and "We bewaren het nooit" in page


def test_a_webhook_body_too_large_to_be_a_message_is_refused(client, app, api):
    payload = whatsapp_payload("PRAATMEE " + "x" * 300_000)
    response = client.post("/sms/whatsapp", data=payload, headers={"X-Hub-Signature-256": meta_signature(payload)})
    assert response.status_code == 413
    assert sent_texts(api, app) == [] and counted(app) == []


# --- in a browser ---------------------------------------------------------------------------------------

@pytest.mark.browser
def test_with_the_line_the_kiosk_still_fits_and_the_pages_pass_axe(make_app, api, live_server_for, open_page):
    """At a desktop's and at a tablet's size, each loading the pages at its own size; what either size
    got wrong is gathered first."""
    from tests.conftest import Findings, screenshot
    app = make_app(DEMO=True, **gateway_config(api))
    bieb(app)
    server = live_server_for(app)
    page = open_page(server.url)
    problems = Findings()
    for width, height in ((1280, 800), (768, 1024)):
        page.set_viewport_size({"width": width, "height": height})
        page.goto(server.url + "/kiosk/bieb-oost")
        line = page.locator(".keyword-line").inner_text()
        if line != "Stuur PRAATMEE BIEB naar 4444 (sms) of +31 20 123 4567 (WhatsApp)":
            problems.append(f"{width}x{height}: the kiosk's line reads {line!r}")
        if page.evaluate("document.documentElement.scrollHeight") > height:
            problems.append(f"{width}x{height}: the kiosk scrolls")
        screenshot(page, f"kiosk_keyword_{width}x{height}")
        for path in ("/kiosk/bieb-oost", "/hulp", "/en/hulp", "/privacy"):
            if path != "/kiosk/bieb-oost":  # the kiosk is loaded already
                page.goto(server.url + path)
            problems.axe(page, f"{path} at {width}x{height}")
            if page.evaluate("document.documentElement.scrollWidth") > width:
                problems.append(f"{path} at {width}x{height}: scrolls sideways")
    assert problems == [], "\n".join(problems)
    assert page.outside_requests == []
