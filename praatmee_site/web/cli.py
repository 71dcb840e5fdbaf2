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

from .. import campaigns, moderation, outcomes
from ..campaigns import posters
from ..clock import local_time
from ..messages import N_
from ..sms import counts as keyword_counts
from ..staff.accounts import StaffDirectory, StaffError, log_action, normalise_email
from ..staff.audit_sentences import CLI_ACTOR
from . import printed
from .services import current_db, current_home_server, current_publisher

db_cli = AppGroup("db", help="The database schema.")


@db_cli.command("upgrade")
def db_upgrade() -> None:
    """Create or upgrade the schema (safe to run again, also from several hosts at once)."""
    db = current_db()
    applied = db.upgrade()
    version = db.current_version()
    click.echo(f"Schema is at revision {version}" + (f" (applied now: {', '.join(applied)})." if applied else "."))


# --- campaigns ------------------------------------------------------------------------------
# Errors are printed in English and Dutch ("… / …") from the catalog's msgids, so the staff pages
# can show the same words; what succeeded is reported in English.

campaign_cli = AppGroup("campaign", help="Campaigns: a slug per place or event, posters, scan counts.")



def _both_languages(msgid: str, **params) -> str:
    texts = []
    for lang in ("en", "nl"):
        with force_locale(lang):
            texts.append(gettext(msgid, **params))
    return " / ".join(texts)


def _refuse(error: campaigns.CampaignError | outcomes.OutcomeError) -> click.ClickException:
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
        click.option("--keyword", "keyword", metavar="WORD",
                     help="2-20 letters and digits: texting PRAATMEE WORD answers with this campaign's link."),
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
    log_action(current_db(), CLI_ACTOR, "campaign.create", campaign.slug, campaign.name)
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
    before = campaigns.get(current_db(), slug)
    try:
        campaign = campaigns.update(current_db(), slug, home_url=current_app.config["MASTODON_URL"], **changes)
    except campaigns.CampaignError as error:
        raise _refuse(error) from None
    changed = campaigns.changed_fields(campaigns.field_values(before), campaign)
    if not changed:
        click.echo(f"Campaign {campaign.slug} already had these values: nothing changed.")
        return
    log_action(current_db(), CLI_ACTOR, "campaign.update", campaign.slug, ", ".join(changed))
    click.echo(f"Updated campaign {campaign.slug}: {', '.join(changed)}.")


@campaign_cli.command("end")
@click.argument("slug")
def campaign_end(slug: str) -> None:
    """Make today the campaign's last day (Europe/Amsterdam)."""
    today = campaigns.today()
    try:
        state = campaigns.ending(campaigns.require(current_db(), slug), today)
        campaign = campaigns.end(current_db(), slug, today=today, home_url=current_app.config["MASTODON_URL"])
    except campaigns.CampaignError as error:
        raise _refuse(error) from None
    if campaigns.has_ended(campaign, today):
        click.echo(f"Campaign {slug} already ended on {campaign.ends_on.isoformat()}.")
        return
    if state == campaigns.ENDS_NOW:
        log_action(current_db(), CLI_ACTOR, "campaign.end", slug, today.isoformat())
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
                             for i, (cell, w) in enumerate(zip(row, widths, strict=True))).rstrip())


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
        ("keyword", f"PRAATMEE {campaign.keyword}" if campaign.keyword else "-"),
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
    messages = keyword_counts.totals(current_db(), campaign.id, today)
    click.echo("Text messages (no phone number is kept): " + "; ".join(
        f"{channel.channel} today {channel.today}, last 7 days {channel.last_7_days}, total {channel.all_time}"
        for channel in messages))


def _moment(value: datetime) -> str:
    if value.tzinfo is None:  # SQLite hands timestamps back without their zone; they are UTC
        value = value.replace(tzinfo=timezone.utc)
    return local_time(value)


@campaign_cli.command("poster")
@click.argument("slug")
@click.option("--size", type=click.Choice(posters.SIZES), required=True,
              help="A6 table card, A5 to A0 poster, or abri: the bus-shelter poster (1185 × 1750 mm).")
@click.option("--format", "fmt", type=click.Choice(posters.FORMATS), required=True,
              help="pdf (vector), png (rendered from that PDF: 300 dpi up to A3, less above), "
                   "or svg: the bare QR code at the poster's size.")
@click.option("--lang", type=click.Choice(list(printed.LANGUAGES)), default="nl", show_default=True)
@click.option("--bleed", is_flag=True, help=f"Add {posters.BLEED_MM} mm bleed with crop marks, for a print shop.")
@click.option("--output", type=click.Path(path_type=Path), required=True, help="The file to write.")
def campaign_poster(slug: str, size: str, fmt: str, lang: str, bleed: bool, output: Path) -> None:
    """Render the campaign's poster; the QR encodes <PRAATMEE_PUBLIC_URL>/c/SLUG."""
    config = current_app.config
    campaign = _campaign_or_refuse(slug)
    _check_writable(output)
    spec = printed.poster_spec(campaign, config, printed.LANGUAGES[lang])
    try:
        data = posters.render(spec, size, fmt, bleed=bleed)
    except ValueError as error:
        raise _unprintable(error) from None
    _write_whole(output, data)
    extra = f", {posters.BLEED_MM} mm bleed and crop marks" if bleed and fmt != "svg" else ""
    click.echo(f"Wrote {output} ({size} {fmt}, {lang}{extra}): the QR code leads to {spec.url}")


@campaign_cli.command("handout")
@click.argument("slug")
@click.option("--sheet", type=click.Choice(posters.HANDOUT_SHEETS), default="A4", show_default=True,
              help="Four A6 cards on A4, or two on A5, to cut.")
@click.option("--lang", type=click.Choice(list(printed.LANGUAGES)), default="nl", show_default=True)
@click.option("--output", type=click.Path(path_type=Path), required=True, help="The PDF file to write.")
def campaign_handout(slug: str, sheet: str, lang: str, output: Path) -> None:
    """The handout: A6 cards with the QR code, the short link and four numbered steps."""
    campaign = _campaign_or_refuse(slug)
    _check_writable(output)
    try:
        data = printed.handout_pdf(campaign, current_app.config, printed.LANGUAGES[lang], sheet)
    except posters.DoesNotFit as error:
        raise _unprintable(error) from None
    _write_whole(output, data)
    click.echo(f"Wrote {output} (handout, A6 cards on {sheet}, {lang}).")


@campaign_cli.command("social")
@click.argument("slug")
@click.option("--format", "kind", type=click.Choice(posters.SOCIAL_KINDS), required=True,
              help="square (1080×1080) or story (1080×1920).")
@click.option("--qr/--no-qr", default=False, show_default=True,
              help="Add the QR code (off by default: phones cannot scan their own screen).")
@click.option("--lang", type=click.Choice(list(printed.LANGUAGES)), default="nl", show_default=True)
@click.option("--output", type=click.Path(path_type=Path), required=True, help="The PNG file to write.")
def campaign_social(slug: str, kind: str, qr: bool, lang: str, output: Path) -> None:
    """An image for Instagram, LinkedIn or the city's website: call to action and short link."""
    campaign = _campaign_or_refuse(slug)
    _check_writable(output)
    try:
        data = printed.social_png(campaign, current_app.config, kind, printed.LANGUAGES[lang], qr)
    except posters.DoesNotFit as error:
        raise _unprintable(error) from None
    _write_whole(output, data)
    click.echo(f"Wrote {output} ({kind}, {lang}{', with QR code' if qr else ''}).")


def _unprintable(error: ValueError) -> click.ClickException:
    return click.ClickException(_both_languages(N_("The poster could not be made: %(reason)s"), reason=str(error)))


def _campaign_or_refuse(slug: str):
    try:
        return campaigns.require(current_db(), slug)
    except campaigns.CampaignError as error:
        raise _refuse(error) from None


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


# --- KPIs ------------------------------------------------------------------------------------

kpi_cli = AppGroup("kpi", help="The KPIs: daily snapshots of the city account's public counts.")


@kpi_cli.command("collect")
@click.option("--days", default=30, show_default=True, type=click.IntRange(1, 366),
              help="Collect the account's posts of this many days, up to today.")
@click.option("--thread", "threads", multiple=True, metavar="ID",
              help="Also collect this thread (a status id), like a campaign's; repeatable.")
@click.option("--reserve", default=None, type=click.IntRange(0, 10_000),
              help="Stop while this many API calls are left in the rate-limit window (default: "
                   "kpi.DEFAULT_RESERVE), so the pages keep working.")
def kpi_collect(days: int, threads: tuple[str, ...], reserve: int | None) -> None:
    """Store today's counts (idempotent: run it from cron as often as you like; the next run continues)."""
    from .. import kpi
    for thread in threads:
        if not thread.isdigit():
            raise click.BadParameter(f"{thread!r} is not a status id (digits only)", param_hint="--thread")
    config = current_app.config
    day = kpi.today()
    thread_ids = list(dict.fromkeys([*campaigns.thread_status_ids(current_db(), config["MASTODON_URL"]),
                                     *outcomes.thread_status_ids(current_db(), config["MASTODON_URL"]), *threads]))
    result = kpi.collect(current_db(), current_home_server().client, account=config["ACCOUNT"], today=day,
                         period_days=days, campaign_threads=thread_ids, secret=config["SECRET_KEY"],
                         reserve=kpi.DEFAULT_RESERVE if reserve is None else reserve)
    start = kpi.default_period(day, days)[0]
    click.echo(f"KPI snapshot of {day.isoformat()} for @{config['ACCOUNT']} (posts since {start.isoformat()}, "
               f"{len(thread_ids)} campaign thread(s)):")
    click.echo(f"  posts seen: {result.posts_seen} ({result.pages} page(s) of statuses, "
               f"{result.campaign_threads} campaign thread(s) outside them)")
    click.echo(f"  contexts fetched: {result.contexts_fetched}; skipped (replies unchanged): "
               f"{result.contexts_skipped}; left for the next run: {result.contexts_pending}")
    remaining = "unknown" if result.rate_limit_remaining is None else result.rate_limit_remaining
    click.echo(f"  requests: {result.requests}; rate limit remaining: {remaining}")
    for thread in result.missing_threads:
        click.echo(f"  warning: thread {thread} is not public on the home server (deleted or private?)")
    if result.unreachable:
        raise click.ClickException(
            f"The home server {config['MASTODON_URL']} could not be reached or did not answer properly "
            f"({result.stop_reason}). What was collected is kept; the next run continues.")
    if result.stop_reason == kpi.ACCOUNT_NOT_FOUND:
        raise click.ClickException(f"The account @{config['ACCOUNT']} was not found on {config['MASTODON_URL']}: "
                                   "check PRAATMEE_ACCOUNT.")
    if result.stopped_early:
        click.echo(f"Stopped early ({result.stop_reason}): the rate limit is nearly used up; "
                   "the next run continues where this one stopped.")
    else:
        click.echo("Complete.")


# --- staff accounts ---------------------------------------------------------------------------

staff_cli = AppGroup("staff", help="Staff accounts for /beheer.")


def _staff_directory() -> StaffDirectory:
    return StaffDirectory(current_db())


def _ask_password() -> str:
    return click.prompt("Password (at least 12 characters)", hide_input=True, confirmation_prompt=True)


@staff_cli.command("add")
@click.argument("email")
def staff_add(email: str) -> None:
    """Add a staff member; asks for the password twice."""
    directory = _staff_directory()
    try:
        normalise_email(email)
        staff = directory.add(email, _ask_password())
    except StaffError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Added {staff.email}: they can log in at /beheer.")


@staff_cli.command("list")
def staff_list() -> None:
    """Every staff account, with its last login."""
    accounts = _staff_directory().list()
    if not accounts:
        click.echo("No staff accounts yet: add one with `flask --app praatmee_site staff add EMAIL`.")
    for account in accounts:
        last = _moment(account.last_login_at) if account.last_login_at else "never"
        click.echo(f"{account.email}  (added {_moment(account.created_at)}, last login {last})")


@staff_cli.command("remove")
@click.argument("email")
def staff_remove(email: str) -> None:
    """Remove a staff account; their session ends at the next request."""
    try:
        _staff_directory().remove(email)
    except StaffError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Removed {email.strip().lower()}.")


@staff_cli.command("password")
@click.argument("email")
def staff_password(email: str) -> None:
    """Set a new password; asks for it twice."""
    directory = _staff_directory()
    try:
        normalise_email(email)
        if not any(a.email == email.strip().lower() for a in directory.list()):
            raise StaffError("unknown", f"There is no staff account for {email.strip().lower()}.")
        directory.set_password(email, _ask_password())
    except StaffError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"The password of {email.strip().lower()} is changed.")


# --- moderation -------------------------------------------------------------------------------
# Bad input (a link that names no reply or account we show, an unknown account, a malformed link or
# server name, no reason) changes nothing and says why in English and Dutch, as on the staff pages.

moderation_cli = AppGroup("moderation", help="Hide replies, accounts or servers from our pages; approve for kiosks.")


def _refuse_moderation(error: moderation.ModerationError) -> click.ClickException:
    return click.ClickException("\n".join(
        _both_languages(problem.message, **problem.params) for problem in error.problems))


def _moderation_references() -> tuple[str, ...]:
    return tuple(campaigns.thread_status_ids(current_db(), current_app.config["MASTODON_URL"]))


def _changed_everywhere() -> None:
    current_home_server().moderation.refresh()


@moderation_cli.command("hide")
@click.argument("url", required=False)
@click.option("--domain", help="Hide every post from this server, e.g. spam.example (instead of URL).")
@click.option("--reason", required=True, metavar="TEXT",
              help="A rule of the home server by its number (1, 2, … as the house rules list them) or its "
                   f"text, or your own words (at most {moderation.REASON_MAX} characters).")
def moderation_hide(url: str | None, domain: str | None, reason: str) -> None:
    """Hide a reply (URL of a post) or every post of an account (URL of the account) from our pages."""
    home = current_home_server()
    if bool(url) == bool(domain):
        raise click.UsageError(_both_languages(N_("Give either the link of a post or account, or --domain")))
    try:
        chosen = moderation.reason_from_text(reason, home.registration("nl").rules)
        target = (moderation.domain_target(domain, home.domain) if domain
                  else home.find_target(url, _moderation_references()))
    except moderation.ModerationError as error:
        raise _refuse_moderation(error) from None
    result = moderation.ModerationStore(current_db()).hide(target, chosen, staff=CLI_ACTOR)
    _changed_everywhere()
    what = {"post": "the reply", "account": "every post of", "domain": "every post from the server"}[target.kind]
    if not result.changed:
        click.echo(f"Already hidden: {what} {target.label} (by {result.hide.staff}, reason: {result.hide.reason}).")
        return
    click.echo(f"Hidden: {what} {target.label} (reason: {chosen.text}). It is gone from every page and kiosk "
               "within seconds; `moderation unhide` undoes it.")


@moderation_cli.command("unhide")
@click.argument("url", required=False)
@click.option("--domain", help="Show the posts of this server again.")
def moderation_unhide(url: str | None, domain: str | None) -> None:
    """Undo a hide: the URL of the post or account as it was hidden, or --domain DOMAIN."""
    if bool(url) == bool(domain):
        raise click.UsageError(_both_languages(N_("Give either the link of a post or account, or --domain")))
    home = current_home_server()
    store = moderation.ModerationStore(current_db())
    try:
        if domain:
            key = moderation.normalise_domain(domain)
            result = store.unhide_target("domain", key, staff=CLI_ACTOR, label=key)
        else:
            result = store.unhide(_hidden_by_link(home, store, url), staff=CLI_ACTOR)
    except moderation.ModerationError as error:
        raise _refuse_moderation(error) from None
    _changed_everywhere()
    click.echo(f"Shown again: {result.hide.url or result.hide.target} (it was hidden by {result.hide.staff}).")


def _hidden_by_link(home, store, url: str) -> int:
    """The hide a link names: by the link it was hidden with, or by the post or account it names."""
    url = url.strip()
    hides = store.load().hides
    for hide in hides:
        if hide.url and hide.url == url:
            return hide.id
    try:
        target = home.find_target(url, _moderation_references())
    except moderation.ModerationError as error:
        if error.problems[0].code not in ("not_shown", "unknown_account", "lookup_failed"):
            raise
        target = None
    for hide in hides:
        if target is not None and (hide.kind, hide.target) == (target.kind, target.key):
            return hide.id
    raise moderation.refuse("url", "not_hidden", value=" ".join(url.split())[:moderation.URL_MAX])


@moderation_cli.command("approve")
@click.argument("url")
def moderation_approve(url: str) -> None:
    """Approve a reply for kiosks (PRAATMEE_KIOSK_REPLIES=approved), and for every page if it was held."""
    home = current_home_server()
    try:
        link = moderation.require_link(url)
        reply = home.find_reply(link, _moderation_references())
        if reply is None:
            raise moderation.refuse("url", "not_reply", value=link)
    except moderation.ModerationError as error:
        raise _refuse_moderation(error) from None
    result = moderation.ModerationStore(current_db()).approve(reply, staff=CLI_ACTOR)
    _changed_everywhere()
    if result.changed:
        click.echo(f"Approved for kiosks: {reply.url or reply.id}.")
    else:
        click.echo(f"Already approved: {reply.url or reply.id} (by {result.approval.staff}).")


@moderation_cli.command("list")
def moderation_list() -> None:
    """What is hidden (by whom, when, why) and what is approved for kiosks."""
    rules = moderation.ModerationStore(current_db()).load()
    config = current_app.config
    click.echo(f"Kiosk replies: {config['KIOSK_REPLIES']}; new accounts held: "
               + (f"{config['HOLD_NEW_ACCOUNTS_DAYS']} days" if config["HOLD_NEW_ACCOUNTS_DAYS"] else "off"))
    if not rules.hides:
        click.echo("Nothing is hidden.")
    for hide in sorted(rules.hides, key=lambda h: (h.at, h.id), reverse=True):
        what = {"post": "reply", "account": f"account @{hide.target}", "domain": f"server {hide.target}"}[hide.kind]
        click.echo(f"hidden  {what}  {hide.url or hide.target}")
        click.echo(f"        by {hide.staff}, {_moment(hide.at)}; reason: {hide.reason}"
                   + (f" (rule {hide.rule_id})" if hide.rule_id else ""))
    for approval in sorted(rules.approvals, key=lambda a: a.at, reverse=True):
        click.echo(f"approved  {approval.url or approval.status_id}  by {approval.staff}, {_moment(approval.at)}")
# --- outcomes ("Je zei, wij deden", issue 16) --------------------------------------------------

outcome_cli = AppGroup("outcome", help="Outcomes: what came of residents' input, per campaign or per thread.")


def outcome_fields(required: bool):
    options = [
        click.option("--status", required=required, metavar="|".join(outcomes.STATUSES),
                     help="Where it stands; niet_gedaan needs --reason."),
        click.option("--title", "title_nl", required=required, help=f"Short title in Dutch (at most {outcomes.TITLE_MAX})."),
        click.option("--text", "text_nl", required=required,
                     help="What came of the input, in Dutch: plain text, an empty line between paragraphs, "
                          f"https:// addresses become links (at most {outcomes.TEXT_MAX} characters)."),
        click.option("--date", "happened_on", required=required, metavar="YYYY-MM-DD", help="The day of this step."),
        click.option("--reason", "reason_nl", help="Why it was not done (required for niet_gedaan), in Dutch."),
        click.option("--decision-url", "decision_url", metavar="URL", help="The decision on amsterdam.nl (https)."),
        click.option("--title-en", "title_en", help="The title in English (default: the Dutch one)."),
        click.option("--text-en", "text_en", help="The text in English (default: the Dutch one)."),
        click.option("--reason-en", "reason_en", help="The reason in English."),
    ]

    def decorate(command):
        for option in reversed(options):
            command = option(command)
        return command
    return decorate


def _target_options(command):
    command = click.option("--thread", "thread_url", metavar="URL",
                           help="The link of the thread's first post on the home server.")(command)
    return click.option("--campaign", metavar="SLUG", help="The campaign it is about.")(command)


def _outcome_line(outcome: outcomes.Outcome) -> str:
    about = f"campaign {outcome.campaign_slug}" if outcome.campaign_slug else f"thread {outcome.own_thread_url}"
    posted = f"posted {outcome.posted_url}" if outcome.posted_url else (
        f"not posted (last attempt: {outcome.publish_error})" if outcome.publish_error else "not posted")
    return f"#{outcome.id}  {outcome.happened_on.isoformat()}  {outcome.status}  {outcome.title_nl}  [{about}; {posted}]"


@outcome_cli.command("add")
@_target_options
@outcome_fields(required=True)
def outcome_add(campaign: str | None, thread_url: str | None, **fields) -> None:
    """Add an outcome of a campaign (--campaign SLUG) or of a thread (--thread URL); shown at once."""
    try:
        outcome = outcomes.add(current_db(), campaign=campaign, thread_url=thread_url,
                               home_url=current_app.config["MASTODON_URL"], today=campaigns.today(), actor="cli",
                               **fields)
    except outcomes.OutcomeError as error:
        raise _refuse(error) from None
    click.echo(f"Added outcome #{outcome.id}: {outcome.title_nl}. Residents see it on the conversation's page, "
               f"on {current_app.config['PUBLIC_URL']}/resultaten and in its feed.")


@outcome_cli.command("list")
@_target_options
def outcome_list(campaign: str | None, thread_url: str | None) -> None:
    """Every outcome, newest first (or those of one campaign or one thread)."""
    found = outcomes.every(current_db())
    if campaign:
        found = [o for o in found if o.campaign_slug == campaign]
    if thread_url:
        found = [o for o in found if o.own_thread_url == thread_url.strip()]
    if not found:
        click.echo("No outcomes yet: add one with `flask --app praatmee_site outcome add`.")
    for outcome in found:
        click.echo(_outcome_line(outcome))


@outcome_cli.command("update")
@click.argument("outcome_id")
@_target_options
@outcome_fields(required=False)
def outcome_update(outcome_id: str, campaign: str | None, thread_url: str | None, **fields) -> None:
    """Change an outcome. An empty value ("") clears an optional field."""
    changes = {name: value for name, value in fields.items() if value is not None}
    if not changes and campaign is None and thread_url is None:
        raise click.UsageError(_both_languages(N_("Nothing to change: give at least one option, e.g. --title")))
    try:
        outcome = outcomes.update(current_db(), outcome_id, campaign=campaign, thread_url=thread_url,
                                  home_url=current_app.config["MASTODON_URL"], today=campaigns.today(),
                                  actor="cli", **changes)
    except outcomes.OutcomeError as error:
        raise _refuse(error) from None
    click.echo(f"Updated outcome #{outcome.id}.")


@outcome_cli.command("remove")
@click.argument("outcome_id")
def outcome_remove(outcome_id: str) -> None:
    """Remove an outcome from our pages and the feed (a reply on Mastodon stays there)."""
    try:
        outcome = outcomes.remove(current_db(), outcome_id, actor="cli")
    except outcomes.OutcomeError as error:
        raise _refuse(error) from None
    click.echo(f"Removed outcome #{outcome.id}." + (
        f" Its reply on Mastodon stays: {outcome.posted_url}" if outcome.posted_url else ""))


@outcome_cli.command("publish")
@click.argument("outcome_id")
@click.option("--yes", is_flag=True, help="Post without asking (the preview is printed all the same).")
def outcome_publish(outcome_id: str, yes: bool) -> None:
    """Post the outcome as the city account's public reply in its thread, after a preview."""
    publisher = current_publisher()
    if publisher is None:
        raise click.ClickException(_both_languages(N_(
            "Publishing needs PRAATMEE_MASTODON_WRITE_TOKEN: a token of the city account with only write:statuses")))
    try:
        outcome = outcomes.require(current_db(), outcome_id)
    except outcomes.OutcomeError as error:
        raise _refuse(error) from None
    if outcome.is_posted:
        click.echo(f"Outcome #{outcome.id} is already in the conversation: {outcome.posted_url}")
        return
    try:
        preview = publisher.preview(outcome)
    except outcomes.PublishError as error:
        raise _publish_refused(error) from None
    click.echo(f"The city account @{current_app.config['ACCOUNT']} will reply to {preview.thread_url} "
               f"(public, language {preview.language}, {preview.length} of {preview.max_characters} characters):")
    click.echo("")
    for line in preview.text.split("\n"):
        click.echo(f"  {line}")
    click.echo("")
    if not yes and not click.confirm("Post this reply now?", default=False):
        click.echo("Nothing was posted.")
        return
    try:
        outcome = publisher.publish(current_db(), outcome.id, actor="cli", fingerprint=preview.fingerprint)
    except outcomes.PublishError as error:
        raise _publish_refused(error) from None
    click.echo(f"Posted: {outcome.posted_url}")


def _publish_refused(error: outcomes.PublishError) -> click.ClickException:
    params = dict(error.params)
    if error.code == "token":
        problem = outcomes.TOKEN_PROBLEMS.get(str(params.get("reason_code")), outcomes.TOKEN_PROBLEMS["unreachable"])
        texts = []
        for lang in ("en", "nl"):
            with force_locale(lang):
                texts.append(gettext(error.message, reason=gettext(problem, scopes=params.get("scopes", ""))))
        return click.ClickException(" / ".join(texts))
    return click.ClickException(_both_languages(error.message, **params))


def register_cli(app: Flask) -> None:
    app.cli.add_command(db_cli)
    app.cli.add_command(campaign_cli)
    app.cli.add_command(kpi_cli)
    app.cli.add_command(staff_cli)
    app.cli.add_command(moderation_cli)
    app.cli.add_command(outcome_cli)
