"""`flask staff add|list|remove|password`: accounts for /beheer, passwords asked twice, never shown."""
from __future__ import annotations

from praatmee_site.db import StaffAccount
from praatmee_site.web.services import current_db

PASSWORD = "correct paard batterij"


def add(runner, email="medewerker@amsterdam.test", password=PASSWORD, again=None):
    return runner.invoke(args=["staff", "add", email], input=f"{password}\n{again or password}\n")


def test_add_asks_twice_and_stores_only_an_scrypt_hash(app, runner):
    result = add(runner)
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output
    with app.app_context(), current_db().Session() as session:
        stored = session.query(StaffAccount).one()
    assert stored.email == "medewerker@amsterdam.test"
    assert stored.password_hash.startswith("scrypt:") and PASSWORD not in stored.password_hash


def test_passwords_that_differ_are_asked_again_and_nothing_is_added(runner):
    result = runner.invoke(args=["staff", "add", "a@amsterdam.test"], input=f"{PASSWORD}\nanders maar lang genoeg\n")
    assert result.exit_code != 0
    assert "do not match" in result.output.lower()
    assert "a@amsterdam.test" not in runner.invoke(args=["staff", "list"]).output


def test_short_password_bad_address_and_duplicates_are_refused(runner):
    short = add(runner, password="kort")
    assert short.exit_code != 0 and "at least 12 characters" in short.output
    assert add(runner, email="geen-adres").exit_code != 0
    assert add(runner).exit_code == 0
    duplicate = add(runner)
    assert duplicate.exit_code != 0 and "already a staff account" in duplicate.output


def test_list_remove_and_password(runner):
    add(runner)
    assert "medewerker@amsterdam.test" in runner.invoke(args=["staff", "list"]).output
    changed = runner.invoke(args=["staff", "password", "medewerker@amsterdam.test"],
                            input="een nieuw lang wachtwoord\neen nieuw lang wachtwoord\n")
    assert changed.exit_code == 0, changed.output
    assert runner.invoke(args=["staff", "password", "niemand@amsterdam.test"]).exit_code != 0
    assert runner.invoke(args=["staff", "remove", "medewerker@amsterdam.test"]).exit_code == 0
    assert "No staff accounts yet" in runner.invoke(args=["staff", "list"]).output
    gone = runner.invoke(args=["staff", "remove", "medewerker@amsterdam.test"])
    assert gone.exit_code != 0 and "no staff account" in gone.output


def test_cli_changes_are_in_the_audit_log(app, runner):
    from praatmee_site.staff.accounts import audit_log
    add(runner)
    runner.invoke(args=["staff", "remove", "medewerker@amsterdam.test"])
    with app.app_context():
        actions = [(e.actor, e.action) for e in audit_log(current_db())]
    assert actions == [("cli", "staff.remove"), ("cli", "staff.add")]
