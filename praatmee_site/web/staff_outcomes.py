"""Staff pages for outcomes ("Je zei, wij deden"): add, change, remove, and publish to Mastodon.

Routes on the staff blueprint, so the login check, CSRF and `no-store` hold for them too. Publishing
is a preview page first; only its button posts, and only the text it showed (its fingerprint).
Without PRAATMEE_MASTODON_WRITE_TOKEN there is no publish button and the publish routes are 404.
"""
from __future__ import annotations

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from .. import campaigns, outcomes
from .services import current_db, current_publisher
from .staff import bp

FORM_FIELDS = outcomes.FIELDS


@bp.app_context_processor
def outcome_lookups():
    return {"outcomes_of_campaign": lambda slug: outcomes.of_campaign(current_db(), slug)}


def _problems(error: outcomes.OutcomeError) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for problem in error.problems:
        # A target problem is shown where the target is chosen.
        where = "target" if problem.field in ("campaign", "thread_url", "target") else problem.field
        found.setdefault(where, []).append(_(problem.message, **dict(problem.params)))
    return found


def publish_message(error: outcomes.PublishError) -> str:
    params = dict(error.params)
    if error.code == "token":
        problem = outcomes.TOKEN_PROBLEMS.get(str(params.get("reason_code")), outcomes.TOKEN_PROBLEMS["unreachable"])
        params = {"reason": _(problem, scopes=params.get("scopes", ""))}
    return _(error.message, **params)


def _outcome_or_404(outcome_id: str) -> outcomes.Outcome:
    outcome = outcomes.get(current_db(), outcome_id)
    if outcome is None:
        abort(404)
    return outcome


def _form_values() -> dict[str, str]:
    values = {name: request.form.get(name, "") for name in FORM_FIELDS}
    values["target"] = request.form.get("target", "")
    values["campaign"] = request.form.get("campaign", "").strip()
    values["thread_url"] = request.form.get("thread_url", "").strip()
    return values


def _target(values: dict[str, str]) -> dict[str, str | None]:
    if values["target"] == "thread":
        return {"campaign": None, "thread_url": values["thread_url"]}
    if values["target"] == "campaign":
        return {"campaign": values["campaign"], "thread_url": None}
    return {"campaign": values["campaign"] or None, "thread_url": values["thread_url"] or None}


def _form(values: dict, problems: dict, outcome=None, status: int = 200):
    choices = [(c.slug, c.name) for c in campaigns.active(current_db(), campaigns.today())]
    if values.get("campaign") and values["campaign"] not in dict(choices):
        found = campaigns.get(current_db(), values["campaign"])
        if found is not None:  # an ended campaign keeps its outcomes
            choices.append((found.slug, found.name))
    return render_template("staff/outcome_form.html", values=values, problems=problems, outcome=outcome,
                           statuses=outcomes.STATUSES, labels=outcomes.STATUS_LABELS, campaigns=choices,
                           today=campaigns.today()), status


@bp.get("/resultaten")
def outcome_list():
    return render_template("staff/outcomes.html", outcomes=outcomes.every(current_db()),
                           can_publish=current_publisher() is not None)


@bp.route("/resultaten/nieuw", methods=["GET", "POST"])
def outcome_new():
    if request.method == "GET":
        slug = request.args.get("campagne", "")
        values = {name: "" for name in FORM_FIELDS} | {
            "target": "campaign" if slug or not request.args.get("draad") else "thread",
            "campaign": slug, "thread_url": "", "happened_on": campaigns.today().isoformat()}
        return _form(values, {})
    values = _form_values()
    try:
        outcome = outcomes.add(current_db(), **_target(values), home_url=current_app.config["MASTODON_URL"],
                               today=campaigns.today(), actor=g.staff.email,
                               **{name: values[name] for name in FORM_FIELDS})
    except outcomes.OutcomeError as error:
        return _form(values, _problems(error), status=400)
    flash(_("The outcome is saved and shown on the pages of the conversation and on /resultaten."))
    return redirect(url_for("staff.outcome_list", _anchor=f"uitkomst-{outcome.id}"), code=303)


@bp.route("/resultaten/<outcome_id>/bewerken", methods=["GET", "POST"])
def outcome_edit(outcome_id: str):
    outcome = _outcome_or_404(outcome_id)
    if request.method == "GET":
        values = {name: getattr(outcome, name) for name in FORM_FIELDS}
        values["happened_on"] = outcome.happened_on.isoformat()
        values |= {"target": "campaign" if outcome.campaign_slug else "thread",
                   "campaign": outcome.campaign_slug or "", "thread_url": outcome.own_thread_url}
        return _form(values, {}, outcome)
    values = _form_values()
    try:
        outcomes.update(current_db(), outcome.id, **_target(values), home_url=current_app.config["MASTODON_URL"],
                        today=campaigns.today(), actor=g.staff.email, **{name: values[name] for name in FORM_FIELDS})
    except outcomes.OutcomeError as error:
        return _form(values, _problems(error), outcome, status=400)
    flash(_("Your changes are saved."))
    return redirect(url_for("staff.outcome_list", _anchor=f"uitkomst-{outcome.id}"), code=303)


@bp.post("/resultaten/<outcome_id>/verwijderen")
def outcome_remove(outcome_id: str):
    outcome = _outcome_or_404(outcome_id)
    outcomes.remove(current_db(), outcome.id, actor=g.staff.email)
    if outcome.posted_url:
        flash(_("The outcome is removed from our pages. Its reply on Mastodon stays there: delete it on Mastodon "
                "if it should go too."))
    else:
        flash(_("The outcome is removed."))
    return redirect(url_for("staff.outcome_list"), code=303)


@bp.route("/resultaten/<outcome_id>/publiceren", methods=["GET", "POST"])
def outcome_publish(outcome_id: str):
    """GET: the preview of exactly what will be posted. POST (its button): post it, once."""
    publisher = current_publisher()
    if publisher is None:
        abort(404)
    outcome = _outcome_or_404(outcome_id)
    error = None
    if request.method == "POST" and not outcome.is_posted:
        try:
            outcome = publisher.publish(current_db(), outcome.id, actor=g.staff.email,
                                        fingerprint=request.form.get("fingerprint", ""))
        except outcomes.PublishError as failure:
            error = publish_message(failure)
            outcome = outcomes.require(current_db(), outcome.id)
        else:
            flash(_("Posted in the conversation on Mastodon: %(url)s", url=outcome.posted_url))
            return redirect(url_for("staff.outcome_list", _anchor=f"uitkomst-{outcome.id}"), code=303)
    preview = None
    if not outcome.is_posted:
        try:
            preview = publisher.preview(outcome)
        except outcomes.PublishError as failure:
            error = error or publish_message(failure)
    status = 200 if error is None else 503
    return render_template("staff/outcome_publish.html", outcome=outcome, preview=preview, error=error), status
