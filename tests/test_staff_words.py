"""The staff area in staff's own words (issue 19), in Dutch and English: every field problem names its
field by its label and says how to fix it (the CLI keeps its own wording), every entry of the log is a
sentence, dates read as a period, CLI changes are in the log, and the login page says whom to ask."""
from __future__ import annotations

import ast
import json
import re
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from flask_babel import force_locale, gettext

from praatmee_site import campaigns, config, kpi
from praatmee_site.campaigns import Problem
from praatmee_site.mastodon.entities import parse_status
from praatmee_site.staff import audit_sentences
from praatmee_site.staff.accounts import Audit, StaffDirectory, audit_log, log_action
from praatmee_site.web import wording
from praatmee_site.web.services import current_db
from tests.conftest import fixture_json
from tests.test_staff import EMAIL, PASSWORD, csrf_token, log_in

ROOT = Path(__file__).resolve().parent.parent
LANGS = ("nl", "en")
# A value for each placeholder a problem can have.
PARAMS = {"value": "Bieb Noord", "max": 200, "choices": ", ".join(campaigns.PLACES), "characters": "😀 (U+1F600)",
          "sizes": "A6/A4", "server": "social.test", "start": "2026-12-10", "end": "2026-12-01"}


def problem(field: str, code: str) -> Problem:
    wanted = set(re.findall(r"%\((\w+)\)s", campaigns.MESSAGES[field, code] + campaigns.STAFF_MESSAGES[field, code]))
    return Problem(field, code, {name: PARAMS[name] for name in wanted})


# --- field problems ------------------------------------------------------------------------------

def test_every_problem_has_a_staff_wording_and_a_cli_wording_in_the_rules():
    assert set(campaigns.STAFF_MESSAGES) == set(campaigns.MESSAGES)
    assert {field for field, _code in campaigns.MESSAGES} <= set(campaigns.LABELS)
    assert set(campaigns.LABELS) == {"slug", *campaigns.FIELDS}


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("key", sorted(campaigns.STAFF_MESSAGES), ids="-".join)
def test_every_staff_message_names_its_field_by_its_label_and_says_how_to_fix_it(app, lang, key):
    field, code = key
    found = problem(field, code)
    with app.test_request_context(), force_locale(lang):
        text = wording.problem_text(found)
        label = gettext(campaigns.LABELS[field])
        cli = gettext(found.message, **found.params)
    assert "%(" not in text and text.strip() == text
    assert label.casefold() in text.casefold(), (label, text)
    assert text != cli
    # Words of the screen, not of the code or the CLI: no option names, no "slug", no date format codes.
    for internal in ("--", "slug", "yyyy", "cta", "thread_url", "invite_url"):
        assert internal not in text.casefold(), (internal, text)
    assert not re.search(r"\d{4}-\d\d-\d\d", text) or code == "invalid_date"  # a date is written out…
    if code == "before_start":  # … except where the example says how to type one
        assert ("1 december 2026" if lang == "nl" else "1 December 2026") in text


@pytest.mark.parametrize("lang, key, expected", [
    ("nl", ("slug", "invalid"), "Korte naam in de link: gebruik kleine letters, cijfers en streepjes, zoals bieb-oost "
                                "(2 tot 40 tekens, geen streepje aan het begin of het eind)"),
    ("en", ("slug", "invalid"), "Short name in the link: use lowercase letters, digits and hyphens, e.g. bieb-oost "
                                "(2 to 40 characters, no hyphen at the start or the end)"),
    ("nl", ("place", "required"), "Kies een soort plek"),
    ("en", ("place", "required"), "Choose a kind of place"),
    ("nl", ("ends_on", "before_start"), "Einddatum: 1 december 2026 ligt voor de begindatum, 10 december 2026. "
                                        "Kies een einddatum op of na de begindatum"),
    ("en", ("ends_on", "before_start"), "End date: 1 December 2026 is before the start date, 10 December 2026. "
                                        "Choose an end date on or after the start date"),
    ("nl", ("thread_url", "not_home_status"), "Gesprek: plak de link van een bericht op social.test, "
                                              "zoals https://social.test/@account/123456"),
    ("nl", ("cta_nl", "unprintable_handout"), "Oproep in het Nederlands: de oproep past niet leesbaar op de kaartjes "
                                              "van de flyer. Gebruik minder of kortere woorden"),
])
def test_staff_messages_read_as_written(app, lang, key, expected):
    with app.test_request_context(), force_locale(lang):
        assert wording.problem_text(problem(*key)) == expected


def test_an_empty_choice_is_its_own_problem_in_both_wordings(app, runner):
    with pytest.raises(campaigns.CampaignError) as error:
        campaigns.clean({"name": "x", "place": "", "cta_nl": "Praat mee"}, home_url="https://social.test")
    assert [(p.field, p.code) for p in error.value.problems] == [("place", "required")]
    cli = runner.invoke(args=["campaign", "create", "bieb-oost", "--name", "x", "--place", "", "--cta", "x"])
    assert cli.exit_code == 1
    assert "Give a place type: choose one of bushalte, bibliotheek" in cli.output
    assert "Geef een soort plek: kies uit bushalte" in cli.output
    assert "''" not in cli.output and "Kies een soort plek" not in cli.output


def test_the_cli_keeps_naming_options_and_values(runner):
    cli = runner.invoke(args=["campaign", "create", "Bieb Noord", "--name", "x", "--place", "bibliotheek",
                              "--cta", "x"])
    assert "Invalid slug 'Bieb Noord'" in cli.output and "Ongeldige slug 'Bieb Noord'" in cli.output
    assert "Korte naam in de link" not in cli.output


def test_the_form_names_places_and_fields_as_the_messages_do(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        StaffDirectory(current_db()).add(EMAIL, PASSWORD)
    client = app.test_client()
    log_in(client)
    for lang, labels, place in (("", ("Korte naam in de link", "Soort plek", "Begindatum"), ">Bibliotheek</option>"),
                                ("/en", ("Short name in the link", "Kind of place", "Start date"), ">Library</option>")):
        page = client.get(f"{lang}/beheer/campagnes/nieuw").text
        for label in labels:
            assert re.search(rf"<label for=\"\w+\">{label}", page), label
        assert place in page and ">bibliotheek</option>" not in page


def test_every_outcome_problem_has_a_staff_wording_that_names_its_field(app):
    from praatmee_site import outcomes
    assert set(outcomes.STAFF_MESSAGES) == set(outcomes.MESSAGES)
    params = {"value": "klaar", "choices": ", ".join(outcomes.STATUSES), "max": 120, "length": 130,
              "server": "social.test"}
    with app.test_request_context():
        for lang in LANGS:
            with force_locale(lang):
                for field, code in outcomes.STAFF_MESSAGES:
                    found = outcomes.Problem(field, code, params)
                    text = gettext(found.staff_message, **params)
                    label = gettext(outcomes.LABELS[field])
                    assert "%(" not in text and label.casefold() in text.casefold(), (lang, field, code, text)
                    assert text != gettext(found.message, **params)
                    for internal in ("niet_gedaan", "slug", "yyyy", "title_nl", "'klaar'"):
                        assert internal not in text.casefold(), (internal, text)


def test_the_outcome_form_uses_its_labels_and_an_empty_status_is_its_own_problem(staff_client, runner):
    from praatmee_site import outcomes
    with pytest.raises(outcomes.OutcomeError) as error:
        outcomes.clean({"status": "", "title_nl": "x", "text_nl": "y", "happened_on": "2026-11-01"},
                       today=date(2026, 12, 1))
    assert [(p.field, p.code) for p in error.value.problems] == [("status", "required")]
    token = csrf_token(staff_client, "/beheer/resultaten/nieuw")
    page = staff_client.post("/beheer/resultaten/nieuw", data={
        "csrf_token": token, "target": "thread", "thread_url": "https://elders.example/@a/1", "status": "",
        "title_nl": "", "text_nl": "", "happened_on": "2099-01-01"}).text
    for message in ("Kies een status", "Titel in het Nederlands: schrijf een korte titel",
                    "Link van het eerste bericht van het gesprek: plak de link van een bericht op social.test",
                    "Datum: deze dag moet nog komen"):
        assert message in page, message
    assert page.count('<div class="error-summary"') == 1 and 'href="#target-campaign"' in page


# --- readable dates ------------------------------------------------------------------------------

TODAY = date(2026, 12, 3)


@pytest.mark.parametrize("start, end, nl, en", [
    (date(2026, 12, 1), date(2026, 12, 31), "1 t/m 31 december 2026", "1 to 31 December 2026"),
    (date(2026, 11, 20), date(2026, 12, 31), "20 november t/m 31 december 2026", "20 November to 31 December 2026"),
    (date(2026, 11, 20), date(2027, 1, 3), "20 november 2026 t/m 3 januari 2027", "20 November 2026 to 3 January 2027"),
    (date(2026, 12, 1), TODAY, "1 december 2026 t/m vandaag", "1 December 2026 to today"),
    (None, TODAY, "tot en met vandaag", "up to and including today"),
    (None, date(2026, 12, 31), "tot en met 31 december 2026", "up to and including 31 December 2026"),
    (date(2026, 12, 1), None, "vanaf 1 december 2026, zonder einddatum", "from 1 December 2026, without an end date"),
    (None, None, "geen begin- of einddatum", "no start or end date"),
    (date(2026, 12, 5), date(2026, 12, 5), "alleen op 5 december 2026", "only on 5 December 2026"),
])
def test_periods_read_as_people_write_them(app, start, end, nl, en):
    with app.test_request_context():
        for lang, expected in (("nl", nl), ("en", en)):
            with force_locale(lang):
                assert wording.readable_period(start, end, TODAY) == expected


def test_the_campaign_page_shows_its_dates_as_a_period(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        StaffDirectory(current_db()).add(EMAIL, PASSWORD)
        campaigns.create(current_db(), "bieb-oost", home_url=app.config["MASTODON_URL"], name="OBA Oost",
                         place="bibliotheek", cta_nl="Praat mee", starts_on="2099-01-01", ends_on="2099-01-31")
    client = app.test_client()
    log_in(client)
    assert "<dd>1 t/m 31 januari 2099</dd>" in client.get("/beheer/campagnes/bieb-oost").text
    assert "<dd>1 to 31 January 2099</dd>" in client.get("/en/beheer/campagnes/bieb-oost").text


# --- the log as sentences -------------------------------------------------------------------------

DETAILS = {audit_sentences.TEXT: "OBA Oost", audit_sentences.FIELDS: "cta_nl, ends_on",
           audit_sentences.DAY: "2026-12-31", None: ""}
SUBJECTS = {"campaign": "bieb-oost", "staff": "bob@amsterdam.test", "kpi": "OpenStad_HVA", "outcome": "outcome 12",
            "moderation": "https://mastodon.test/@x/9"}
# Every sentence, by a person and from the command line, in both languages. A new action adds a line.
EXPECTED = {
    "campaign.create": ("Anna maakte de campagne bieb-oost aan (OBA Oost)",
                        "Anna made the campaign bieb-oost (OBA Oost)",
                        "Iemand via de opdrachtregel maakte de campagne bieb-oost aan (OBA Oost)"),
    "campaign.update": ("Anna veranderde de campagne bieb-oost: oproep in het Nederlands en einddatum",
                        "Anna changed the campaign bieb-oost: call to action in Dutch and end date",
                        "Iemand via de opdrachtregel veranderde de campagne bieb-oost: oproep in het Nederlands en "
                        "einddatum"),
    "campaign.end": ("Anna beëindigde de campagne bieb-oost: 31 december 2026 was de laatste dag",
                     "Anna ended the campaign bieb-oost: 31 December 2026 was its last day",
                     "Iemand via de opdrachtregel beëindigde de campagne bieb-oost: 31 december 2026 was de laatste "
                     "dag"),
    "staff.add": ("Anna gaf bob@amsterdam.test een account voor het beheer",
                  "Anna gave bob@amsterdam.test a staff account",
                  "Iemand via de opdrachtregel gaf bob@amsterdam.test een account voor het beheer"),
    "staff.remove": ("Anna haalde het account van bob@amsterdam.test weg",
                     "Anna removed the staff account of bob@amsterdam.test",
                     "Iemand via de opdrachtregel haalde het account van bob@amsterdam.test weg"),
    "staff.password": ("Nieuw wachtwoord voor bob@amsterdam.test, ingesteld door Anna",
                       "New password for bob@amsterdam.test, set by Anna",
                       "Nieuw wachtwoord voor bob@amsterdam.test, ingesteld door iemand via de opdrachtregel"),
    "staff.login": ("Anna logde in", "Anna logged in", "Iemand via de opdrachtregel logde in"),
    "staff.logout_everywhere": ("Anna logde uit op alle computers", "Anna logged out on every computer",
                                "Iemand via de opdrachtregel logde uit op alle computers"),
    "kpi.collect": ("Anna werkte de KPI-cijfers bij", "Anna updated the KPI figures",
                    "Iemand via de opdrachtregel werkte de KPI-cijfers bij"),
    "outcome.add": ("Anna voegde resultaat 12 toe", "Anna added outcome 12",
                    "Iemand via de opdrachtregel voegde resultaat 12 toe"),
    "outcome.update": ("Anna veranderde resultaat 12", "Anna changed outcome 12",
                       "Iemand via de opdrachtregel veranderde resultaat 12"),
    "outcome.remove": ("Anna haalde resultaat 12 weg", "Anna removed outcome 12",
                       "Iemand via de opdrachtregel haalde resultaat 12 weg"),
    "outcome.publish_attempt": ("Anna begon resultaat 12 in het gesprek op Mastodon te plaatsen",
                                "Anna started to post outcome 12 in its thread on Mastodon",
                                "Iemand via de opdrachtregel begon resultaat 12 in het gesprek op Mastodon te plaatsen"),
    "outcome.published": ("Resultaat 12 staat in het gesprek op Mastodon, geplaatst door Anna",
                          "Outcome 12 is in its thread on Mastodon, posted by Anna",
                          "Resultaat 12 staat in het gesprek op Mastodon, geplaatst door iemand via de opdrachtregel"),
    "outcome.publish_failed": ("Resultaat 12 kon niet op Mastodon geplaatst worden (geprobeerd door Anna)",
                               "Outcome 12 could not be posted on Mastodon (tried by Anna)",
                               "Resultaat 12 kon niet op Mastodon geplaatst worden (geprobeerd door iemand via de "
                               "opdrachtregel)"),
    "moderation.hide_post": ("Anna verborg de reactie https://mastodon.test/@x/9 (OBA Oost)",
                             "Anna hid the reply https://mastodon.test/@x/9 (OBA Oost)",
                             "Iemand via de opdrachtregel verborg de reactie https://mastodon.test/@x/9 (OBA Oost)"),
    "moderation.hide_account": ("Anna verborg alle berichten van het account https://mastodon.test/@x/9 (OBA Oost)",
                                "Anna hid every post of the account https://mastodon.test/@x/9 (OBA Oost)",
                                "Iemand via de opdrachtregel verborg alle berichten van het account "
                                "https://mastodon.test/@x/9 (OBA Oost)"),
    "moderation.hide_domain": ("Anna verborg alle berichten van de server https://mastodon.test/@x/9 (OBA Oost)",
                               "Anna hid every post from the server https://mastodon.test/@x/9 (OBA Oost)",
                               "Iemand via de opdrachtregel verborg alle berichten van de server "
                               "https://mastodon.test/@x/9 (OBA Oost)"),
    "moderation.unhide_post": ("Anna liet de reactie https://mastodon.test/@x/9 weer zien",
                               "Anna showed the reply https://mastodon.test/@x/9 again",
                               "Iemand via de opdrachtregel liet de reactie https://mastodon.test/@x/9 weer zien"),
    "moderation.unhide_account": ("Anna liet de berichten van het account https://mastodon.test/@x/9 weer zien",
                                  "Anna showed the posts of the account https://mastodon.test/@x/9 again",
                                  "Iemand via de opdrachtregel liet de berichten van het account "
                                  "https://mastodon.test/@x/9 weer zien"),
    "moderation.unhide_domain": ("Anna liet de berichten van de server https://mastodon.test/@x/9 weer zien",
                                 "Anna showed the posts from the server https://mastodon.test/@x/9 again",
                                 "Iemand via de opdrachtregel liet de berichten van de server "
                                 "https://mastodon.test/@x/9 weer zien"),
    "moderation.approve": ("Anna keurde de reactie https://mastodon.test/@x/9 goed voor kioskschermen",
                           "Anna approved the reply https://mastodon.test/@x/9 for kiosk screens",
                           "Iemand via de opdrachtregel keurde de reactie https://mastodon.test/@x/9 goed voor "
                           "kioskschermen"),
    "moderation.withdraw_approval": ("Anna trok de goedkeuring voor kioskschermen van de reactie "
                                     "https://mastodon.test/@x/9 in",
                                     "Anna withdrew the kiosk approval of the reply https://mastodon.test/@x/9",
                                     "Iemand via de opdrachtregel trok de goedkeuring voor kioskschermen van de reactie "
                                     "https://mastodon.test/@x/9 in"),
}


def entry(action: str, actor: str = "anna@amsterdam.test", detail: str | None = None) -> Audit:
    sentence = audit_sentences.sentence_for(action)
    return Audit(datetime(2026, 12, 3, 13, 5, tzinfo=timezone.utc), actor, action,
                 SUBJECTS[action.split(".")[0]], DETAILS[sentence.detail] if detail is None else detail)


def sentence(app, lang: str, audit: Audit) -> str:
    with app.test_request_context(), force_locale(lang):
        return wording.audit_sentence(audit)


def test_every_action_with_a_sentence_has_its_expected_wording_here():
    assert set(EXPECTED) == set(audit_sentences.SENTENCES)


@pytest.mark.parametrize("action", sorted(audit_sentences.SENTENCES))
def test_every_log_sentence_in_dutch_and_english_by_a_person_and_from_the_command_line(app, action):
    nl, en, cli = EXPECTED[action]
    assert sentence(app, "nl", entry(action)) == nl
    assert sentence(app, "en", entry(action)) == en
    assert sentence(app, "nl", entry(action, actor=audit_sentences.CLI_ACTOR)) == cli
    english_cli = sentence(app, "en", entry(action, actor=audit_sentences.CLI_ACTOR))
    assert "someone on the command line" in english_cli.casefold() and action not in english_cli
    for lang in LANGS:
        text = sentence(app, lang, entry(action))
        assert "%(" not in text and action not in text and text[:1].isupper()


def recorded_actions(package: Path = ROOT / "praatmee_site") -> dict[str, list[str]]:
    """Every action the code records (record, log_action, the staff pages' _audit): action → where."""
    positions = {"record": 2, "log_action": 2, "_audit": 0}
    found: dict[str, list[str]] = {}
    for path in sorted(package.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if name not in positions:
                continue
            arguments = {keyword.arg: keyword.value for keyword in node.keywords}
            argument = node.args[positions[name]] if len(node.args) > positions[name] else arguments.get("action")
            if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                found.setdefault(argument.value, []).append(f"{path.name}:{node.lineno}")
            elif isinstance(argument, ast.JoinedStr) and isinstance(argument.values[0], ast.Constant):
                # f"moderation.hide_{kind}": every action that starts so needs a sentence; at least one must
                found.setdefault(argument.values[0].value + "*", []).append(f"{path.name}:{node.lineno}")
            elif argument is not None and not (isinstance(argument, ast.Name) and argument.id == "action"):
                # (a helper that hands its own `action` on is fine; anything else must be a literal)
                found.setdefault(f"<not a literal: {ast.unparse(argument)}>", []).append(
                    f"{path.name}:{node.lineno}")
    return found


def test_every_action_the_code_records_has_a_sentence():
    found = recorded_actions()
    assert {"campaign.create", "campaign.update", "campaign.end", "staff.add", "staff.remove", "staff.password",
            "staff.login", "staff.logout_everywhere", "kpi.collect"} <= set(found)  # the scan works
    def has_sentence(action: str) -> bool:
        if action.endswith("*"):
            return any(known.startswith(action[:-1]) for known in audit_sentences.SENTENCES)
        return action in audit_sentences.SENTENCES
    missing = {action: where for action, where in found.items() if not has_sentence(action)}
    assert missing == {}, ("add a sentence to praatmee_site/staff/audit_sentences.py (and its translations) "
                           f"for: {missing}")


def test_the_scan_finds_a_new_action_wherever_it_is_recorded(tmp_path):
    (tmp_path / "moderation.py").write_text(
        "def hide(session, db, who):\n"
        "    record(session, who, 'moderation.hide', 'https://x.test/1', 'spam')\n"
        "    log_action(db, who, action='outcome.publish', subject='1')\n"
        "    _audit('sms.reply', 'PRAATMEE')\n"
        "    record(session, who, kind, 'x')\n"
        "    record(session, who, f'moderation.unhide_{kind}', 'x')\n", encoding="utf-8")
    assert set(recorded_actions(tmp_path)) == {"moderation.hide", "outcome.publish", "sms.reply",
                                                "<not a literal: kind>", "moderation.unhide_*"}


def test_an_action_without_a_sentence_still_reads_and_an_older_detail_does_not_break_the_page(app):
    unknown = Audit(datetime(2026, 12, 3, 13, 5, tzinfo=timezone.utc), "anna@amsterdam.test", "new.thing", "x", "y")
    assert sentence(app, "nl", unknown) == "Anna: new.thing x (y)"
    older = entry("campaign.update", detail="name=OBA Oost, place=bibliotheek, cta_nl=Praat mee")
    assert sentence(app, "nl", older) == "Anna veranderde de campagne bieb-oost"
    assert sentence(app, "nl", entry("campaign.end", detail="")) == "Anna beëindigde de campagne bieb-oost"


@pytest.mark.parametrize("email, name", [
    ("anna@amsterdam.nl", "Anna"), ("anna.de.vries@amsterdam.nl", "Anna de Vries"), ("j.jansen@amsterdam.nl", "J. Jansen"),
    ("kees_van_der_berg@amsterdam.nl", "Kees van der Berg"), ("de.boer@amsterdam.nl", "De Boer"),
])
def test_a_person_is_named_from_their_address(email, name):
    assert audit_sentences.person_name(email) == name


@pytest.fixture
def staff_client(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        StaffDirectory(current_db()).add(EMAIL, PASSWORD)
    client = app.test_client()
    assert log_in(client).status_code == 302
    return client


def test_cli_campaign_changes_are_in_the_log_as_the_command_line(staff_client, runner):
    create = ["campaign", "create", "bieb-oost", "--name", "OBA Oost", "--place", "bibliotheek", "--cta", "Praat mee"]
    assert runner.invoke(args=create).exit_code == 0
    assert runner.invoke(args=["campaign", "update", "bieb-oost", "--cta", "Denk mee", "--end", "2099-12-31"]).exit_code == 0
    same = runner.invoke(args=["campaign", "update", "bieb-oost", "--cta", "Denk mee"])
    assert same.exit_code == 0 and "nothing changed" in same.output
    assert runner.invoke(args=["campaign", "end", "bieb-oost"]).exit_code == 0
    assert runner.invoke(args=["campaign", "end", "bieb-oost"]).exit_code == 0  # already ends today: no new entry
    with staff_client.application.app_context():
        entries = [(e.actor, e.action, e.subject, e.detail) for e in audit_log(current_db())]
    assert entries[:3] == [("cli", "campaign.end", "bieb-oost", campaigns.today().isoformat()),
                           ("cli", "campaign.update", "bieb-oost", "cta_nl, ends_on"),
                           ("cli", "campaign.create", "bieb-oost", "OBA Oost")]
    log = staff_client.get("/beheer/logboek").text
    assert "Iemand via de opdrachtregel maakte de campagne bieb-oost aan (OBA Oost)" in log
    assert "Iemand via de opdrachtregel veranderde de campagne bieb-oost: oproep in het Nederlands en einddatum" in log
    assert "Iemand via de opdrachtregel beëindigde de campagne bieb-oost:" in log
    assert "op de server" in log


def test_the_log_is_grouped_by_amsterdam_day_with_amsterdam_times(staff_client):
    with staff_client.application.app_context():
        log_action(current_db(), EMAIL, "kpi.collect", "OpenStad_HVA")
        newest = audit_log(current_db())[0]
    page = staff_client.get("/beheer/logboek").text
    assert "<h2>Vandaag</h2>" in page
    shown = re.search(rf'<time datetime="{re.escape(newest.at.isoformat())}">(\d\d:\d\d)</time>', page).group(1)
    assert shown == newest.at.astimezone(kpi.TIMEZONE).strftime("%H:%M")
    assert "Medewerker werkte de KPI-cijfers bij" in page


def test_the_export_keeps_the_raw_codes_for_scripts(staff_client):
    from praatmee_site.kpi import exports
    response = staff_client.get("/beheer/logboek.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = exports.read_csv(response.data, exports.RFC4180)
    assert list(rows[0]) == ["at", "local_time", "actor", "action", "subject", "detail", "sentence"]
    assert (rows[0]["action"], rows[0]["actor"], rows[0]["sentence"]) == ("staff.login", EMAIL, "Medewerker logde in")
    assert rows[-1]["action"] == "staff.add" and rows[-1]["actor"] == "cli"
    document = json.loads(staff_client.get("/beheer/logboek.json").data)
    assert document["entries"][0]["action"] == "staff.login"
    assert datetime.fromisoformat(document["entries"][0]["at"]).tzinfo is not None
    assert staff_client.get("/en/beheer/logboek.json").get_json()["entries"][0]["sentence"] == "Medewerker logged in"
    assert staff_client.application.test_client().get("/beheer/logboek.csv").status_code == 302  # behind the login


# --- ending a campaign ------------------------------------------------------------------------------

def test_the_question_says_what_happens_and_when_in_both_languages(staff_client):
    with staff_client.application.app_context():
        campaigns.create(current_db(), "bieb-oost", home_url="https://social.test", name="OBA Oost",
                         place="bibliotheek", cta_nl="Praat mee", starts_on="2026-11-01", ends_on="2099-12-31")
    today = campaigns.today()
    with staff_client.application.test_request_context(), force_locale("nl"):
        today_words, tomorrow_words = wording.readable_date(today), wording.readable_date(
            date.fromordinal(today.toordinal() + 1))
    page = staff_client.get("/beheer/campagnes/bieb-oost/beeindigen").text
    assert f"is vandaag ({today_words}) de laatste dag" in page
    assert f"Vanaf morgen, {tomorrow_words}, leiden ze naar het gesprek van nu" in page
    assert "Deze actie is afgelopen — dit is het gesprek van nu" in page  # the note residents will see
    assert "<dd>1 november 2026 t/m 31 december 2099</dd>" in page
    assert "<dd>1 november 2026 t/m vandaag</dd>" in page
    english = staff_client.get("/en/beheer/campagnes/bieb-oost/beeindigen").text
    assert "today (" in english and "is its last day" in english and "From tomorrow" in english
    token = csrf_token(staff_client, "/beheer/campagnes/bieb-oost/beeindigen")
    staff_client.post("/beheer/campagnes/bieb-oost/beeindigen", data={"csrf_token": token})
    again = staff_client.get("/beheer/campagnes/bieb-oost/beeindigen").text
    assert "Deze campagne eindigt al vandaag" in again and "Ja, beëindig" not in again
    page = staff_client.get("/beheer/campagnes/bieb-oost").text
    assert "Beëindig de campagne vandaag" not in page and "<dd>1 november 2026 t/m vandaag</dd>" in page


# --- whom to ask for an account --------------------------------------------------------------------

@pytest.mark.parametrize("contact, shown", [
    (None, "Vraag het aan de collega die praatmee beheert in jouw team."),
    ("innovatie@amsterdam.nl", 'Vraag het aan <a href="mailto:innovatie@amsterdam.nl">innovatie@amsterdam.nl</a>.'),
    ("het Innovatieteam (kamer 3.14)", "Vraag het aan het Innovatieteam (kamer 3.14)."),
    ("<script>x</script>", "Vraag het aan &lt;script&gt;x&lt;/script&gt;."),
])
def test_the_login_page_says_whom_to_ask_never_a_command(make_app, contact, shown):
    app = make_app(STAFF_CONTACT=contact) if contact else make_app()
    page = app.test_client().get("/beheer/login").text
    assert shown in page
    assert "flask" not in page and "staff add" not in page


def test_the_wait_page_says_whom_to_ask_too(make_app):
    app = make_app(WTF_CSRF_ENABLED=True, STAFF_CONTACT="innovatie@amsterdam.nl")
    client = app.test_client()
    for _ in range(6):
        answer = log_in(client, password="verkeerd wachtwoord")
    assert answer.status_code == 429
    assert "mailto:innovatie@amsterdam.nl" in answer.text and "flask" not in answer.text


@pytest.mark.parametrize("value", ["a\nb", "x" * 201, "tab\there"])
def test_a_contact_that_is_not_one_short_line_stops_start_up_with_one_line(value):
    settings = {**config.DEFAULTS, "TESTING": True, "STAFF_CONTACT": value}
    with pytest.raises(config.ConfigError, match="PRAATMEE_STAFF_CONTACT"):
        config.validate(settings)


# --- a post named by its first words ----------------------------------------------------------------

def status(content: str, spoiler: str = ""):
    raw = fixture_json("thread_status.json")
    return parse_status({**raw, "content": content, "spoiler_text": spoiler})


@pytest.mark.parametrize("content, spoiler, words", [
    ("<p>Hoe wil jij dat de stad met je data omgaat?</p>", "", "Hoe wil jij dat de stad met je data omgaat?"),
    ("<p>Eén</p><p>twee<br>drie</p>", "", "Eén twee drie"),
    ("<p>Een heel lang bericht met veel meer woorden dan er op een regel passen, echt waar</p>", "",
     "Een heel lang bericht met veel meer woorden dan er…"),
    ("<p>Denk mee <a href=\"https://social.test/tags/stad\">#stad</a> vandaag</p>", "", "Denk mee vandaag"),
    ("<p>Iets over een moeilijk onderwerp</p>", "Let op: verkeer", "Let op: verkeer"),
    ("<p>" + "x" * 120 + "</p>", "", "x" * 79 + "…"),
    ("", "", ""),
])
def test_first_words_name_a_post(content, spoiler, words):
    assert kpi.first_words(status(content, spoiler)) == words


def test_a_post_collected_before_its_first_words_were_kept_is_named_by_its_date_and_time(staff_client):
    from datetime import time, timedelta

    from praatmee_site.db import KpiPostSnapshot
    day = campaigns.today() - timedelta(days=2)
    posted = datetime.combine(day, time(9, 30), timezone.utc)
    with staff_client.application.app_context(), current_db().Session.begin() as session:
        session.add(KpiPostSnapshot(day=day, status_id="42", posted_at=posted, url="https://social.test/@stad/42",
                                    replies=1, favourites=2, reblogs=0))
    with staff_client.application.test_request_context(), force_locale("nl"):
        from flask_babel import format_datetime
        expected = f"Bericht van {format_datetime(posted, 'd MMMM y, HH:mm')}"
    page = staff_client.get("/beheer/kpi").text
    assert f'<a href="https://social.test/@stad/42">{expected}</a>' in page
