"""`flask` commands. Thin: parse arguments, call the modules that own the rules, print the outcome."""
from __future__ import annotations

import os
import tempfile
from datetime import datetime, timezone
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from flask_babel import force_locale, gettext

from . import campaigns, posters, printed
from .db import current_db

db_cli = AppGroup("db", help="The database schema.")


@db_cli.command("upgrade")
def db_upgrade() -> None:
    """Create or upgrade the schema (safe to run again)."""
    db = current_db()
    applied = db.upgrade()
    version = db.current_version()
    click.echo(f"Schema is at version {version}" + (f" (applied now: {', '.join(map(str, applied))})." if applied else "."))


# --- campaigns ------------------------------------------------------------------------------
# Errors are printed in English and Dutch ("… / …") from the catalog's msgids, so the staff pages
# can show the same words; what succeeded is reported in English.

campaign_cli = AppGroup("campaign", help="Campaigns: a slug per place or event, posters, scan counts.")


def N_(message: str) -> str:
    return message


def _both_languages(msgid: str, **params) -> str:
    texts = []
    for lang in ("en", "nl"):
        with force_locale(lang):
            texts.append(gettext(msgid, **params))
    return " / ".join(texts)


def _refuse(error: campaigns.CampaignError) -> click.ClickException:
    return click.ClickException("\n".join(
        _both_languages(problem.message, **problem.params) for problem in error.problems))


def campaign_fields(required: bool):
    """The campaign's fields as options; `update` takes the same ones, all optional."""
    options = [
        click.option("--name", required=required, help="What staff call it, e.g. \"OBA Oost\"."),
        click.option("--place", required=required, metavar="|".join(campaigns.PLACES), help="Place type."),
        click.option("--cta", "cta_nl", required=required,
                     help="Call to action in Dutch: the page's heading and the poster's headline."),
        click.option("--cta-en", "cta_en", help="Call to action in English (default: the Dutch one)."),
        click.option("--thread", "thread_url", metavar="URL",
                     help="A post on the home server; default: the current conversation."),
        click.option("--invite", "invite_url", metavar="URL",
                     help="https://<home>/invite/<code>: replaces the sign-up link."),
        click.option("--input-text", "input_text", help="\"What happens with your input\" for this campaign."),
        click.option("--start", "starts_on", metavar="YYYY-MM-DD", help="First day (scans count before it too)."),
        click.option("--end", "ends_on", metavar="YYYY-MM-DD",
                     help="Last day; after it /c/<slug> shows the current conversation."),
    ]

    def decorate(command):
        for option in reversed(options):
            command = option(command)
        return command
    return decorate


@campaign_cli.command("create")
@click.argument("slug")
@campaign_fields(required=True)
def campaign_create(slug: str, **fields) -> None:
    """Create a campaign; its address is <PRAATMEE_PUBLIC_URL>/c/SLUG, for good."""
    config = current_app.config
    try:
        campaign = campaigns.create(current_db(), slug, home_url=config["MASTODON_URL"], **fields)
    except campaigns.CampaignError as error:
        raise _refuse(error) from None
    click.echo(f"Created campaign {campaign.slug} ({campaign.name}): "
               f"{campaigns.public_url(config['PUBLIC_URL'], campaign.slug)}")


@campaign_cli.command("update")
@click.argument("slug")
@campaign_fields(required=False)
def campaign_update(slug: str, **fields) -> None:
    """Change a campaign (not its slug). An empty value ("") clears an optional field."""
    changes = {name: value for name, value in fields.items() if value is not None}
    if not changes:
        raise click.UsageError(_both_languages(N_("Nothing to change: give at least one option, e.g. --cta")))
    try:
        campaign = campaigns.update(current_db(), slug, home_url=current_app.config["MASTODON_URL"], **changes)
    except campaigns.CampaignError as error:
        raise _refuse(error) from None
    click.echo(f"Updated campaign {campaign.slug}: {', '.join(sorted(changes))}.")


@campaign_cli.command("end")
@click.argument("slug")
def campaign_end(slug: str) -> None:
    """Make today the campaign's last day (Europe/Amsterdam)."""
    today = campaigns.today()
    try:
        campaign = campaigns.end(current_db(), slug, today=today, home_url=current_app.config["MASTODON_URL"])
    except campaigns.CampaignError as error:
        raise _refuse(error) from None
    if campaigns.has_ended(campaign, today):
        click.echo(f"Campaign {slug} already ended on {campaign.ends_on.isoformat()}.")
        return
    click.echo(f"Campaign {slug} ends today ({campaign.ends_on.isoformat()}): from tomorrow its address "
               "shows the current conversation with a note, and scans are no longer counted.")


@campaign_cli.command("list")
def campaign_list() -> None:
    """Every campaign with its scans today, in the last 7 days and in all."""
    today = campaigns.today()
    summaries = campaigns.list_with_totals(current_db(), today)
    if not summaries:
        click.echo("No campaigns yet: create one with `flask --app praatmee_site campaign create`.")
        return
    rows = [("slug", "name", "place", "status", "today", "7 days", "total")]
    for summary in summaries:
        campaign, scans = summary.campaign, summary.scans
        rows.append((campaign.slug, campaign.name, campaign.place, _status(campaign, today),
                     str(scans.today), str(scans.last_7_days), str(scans.all_time)))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        click.echo("  ".join(cell.rjust(w) if i >= 4 else cell.ljust(w)
                             for i, (cell, w) in enumerate(zip(row, widths))).rstrip())


def _status(campaign, today) -> str:
    if campaigns.has_ended(campaign, today):
        return f"ended {campaign.ends_on.isoformat()}"
    if not campaigns.has_started(campaign, today):
        return f"starts {campaign.starts_on.isoformat()}"
    return f"active until {campaign.ends_on.isoformat()}" if campaign.ends_on else "active"


@campaign_cli.command("show")
@click.argument("slug")
def campaign_show(slug: str) -> None:
    """A campaign's details, its public address and its scans per day."""
    config = current_app.config
    today = campaigns.today()
    try:
        campaign = campaigns.require(current_db(), slug)
    except campaigns.CampaignError as error:
        raise _refuse(error) from None
    scans = campaigns.totals(current_db(), campaign, today)
    details = [
        ("name", campaign.name),
        ("place", campaign.place),
        ("status", _status(campaign, today)),
        ("public URL", campaigns.public_url(config["PUBLIC_URL"], campaign.slug)),
        ("call to action (nl)", campaign.cta_nl),
        ("call to action (en)", campaign.cta_en or "(the Dutch one)"),
        ("thread", campaign.thread_url or "(the current conversation)"),
        ("sign-up link", campaign.invite_url or "(the home server's sign-up)"),
        ("input text", campaign.input_text or "(the site's own)"),
        ("start", campaign.starts_on.isoformat() if campaign.starts_on else "-"),
        ("end", campaign.ends_on.isoformat() if campaign.ends_on else "-"),
        ("created", _moment(campaign.created_at)),
        ("updated", _moment(campaign.updated_at)),
    ]
    width = max(len(label) for label, _ in details) + 1
    click.echo(campaign.slug)
    for label, value in details:
        click.echo(f"  {label + ':':<{width}} {value}")
    click.echo(f"Scans (days in Europe/Amsterdam; nothing about who scanned is kept): today {scans.today}, "
               f"last 7 days {scans.last_7_days}, total {scans.all_time}")
    for day, count in campaigns.scans_per_day(current_db(), campaign):
        click.echo(f"  {day.isoformat()}  {count}")


def _moment(value: datetime) -> str:
    if value.tzinfo is None:  # SQLite hands timestamps back without their zone; they are UTC
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(campaigns.TIMEZONE).strftime("%Y-%m-%d %H:%M")


@campaign_cli.command("poster")
@click.argument("slug")
@click.option("--size", type=click.Choice(posters.SIZES), required=True, help="A4 or A3 poster, A6 table card.")
@click.option("--format", "fmt", type=click.Choice(posters.FORMATS), required=True,
              help="pdf or png (300 dpi), or svg: the bare QR code at the poster's size.")
@click.option("--lang", type=click.Choice(list(printed.LANGUAGES)), default="nl", show_default=True)
@click.option("--output", type=click.Path(path_type=Path), required=True, help="The file to write.")
def campaign_poster(slug: str, size: str, fmt: str, lang: str, output: Path) -> None:
    """Render the campaign's poster; the QR encodes <PRAATMEE_PUBLIC_URL>/c/SLUG."""
    config = current_app.config
    try:
        campaign = campaigns.require(current_db(), slug)
    except campaigns.CampaignError as error:
        raise _refuse(error) from None
    _check_writable(output)
    spec = printed.poster_spec(campaign, config, printed.LANGUAGES[lang])
    try:
        data = posters.render(spec, size, fmt)
    except ValueError as error:
        raise click.ClickException(_both_languages(N_("The poster could not be made: %(reason)s"),
                                                   reason=str(error))) from None
    _write_whole(output, data)
    click.echo(f"Wrote {output} ({size} {fmt}, {lang}): the QR code leads to {spec.url}")


def _check_writable(path: Path) -> None:
    """Fail before the work when the file clearly cannot be written."""
    if path.is_dir():
        raise click.ClickException(_both_languages(N_("Cannot write %(path)s: it is a folder"), path=str(path)))
    folder = path.parent
    if not folder.is_dir():
        raise click.ClickException(_both_languages(N_("Cannot write %(path)s: the folder %(folder)s does not exist"),
                                                   path=str(path), folder=str(folder)))


def _write_whole(path: Path, data: bytes) -> None:
    """Write a temporary file beside `path`, then rename it: never a half-written poster."""
    temporary = None
    try:
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.", delete=False) as handle:
            temporary = Path(handle.name)
            handle.write(data)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)  # as an ordinary new file, not the temporary file's 0600
        os.replace(temporary, path)
    except OSError as error:
        if temporary is not None:
            temporary.unlink(missing_ok=True)
        raise click.ClickException(_both_languages(N_("Cannot write %(path)s: %(reason)s"), path=str(path),
                                                   reason=error.strerror or str(error))) from None


def register_cli(app: Flask) -> None:
    app.cli.add_command(db_cli)
    app.cli.add_command(campaign_cli)
