"""Publishing an outcome back where the conversation is: a public reply of the city account to the
thread's first post, exactly as previewed, never twice.

`Publisher.preview` makes the text (at most the server's `max_characters`, counted as Mastodon
counts, with the link to /resultaten); `Publisher.publish` posts that text with an Idempotency-Key
made from the outcome and the text, so a retry with the same text is the same post to Mastodon. Its
keys last an hour, so a retry after an attempt whose answer never came first looks in the thread for
a reply of the city that carries this outcome's link, and takes that one. Posting happens only here,
and only when staff click or confirm. No Flask in this module.
"""
from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

from ..db import Database
from ..mastodon import MastodonClient, MastodonError, NotFound, Status
from ..mastodon.writer import Refused, StatusWriter, TokenCheck
from ..messages import N_
from . import store
from . import text as outcome_text
from .rules import STATUS_LABELS_NL

log = logging.getLogger(__name__)

# Why publishing did not happen; each has a message in PUBLISH_MESSAGES for staff (CLI and pages).
PUBLISH_MESSAGES: dict[str, str] = {
    "timeout": N_("Mastodon did not answer in time. The outcome is saved; it may or may not have been posted. "
                  "Try again: a retry never posts it twice."),
    "rate_limited": N_("Mastodon asks us to wait a moment (too many requests). The outcome is saved. "
                       "Try again in a few minutes."),
    "unavailable": N_("Mastodon is not working properly right now (a server error). The outcome is saved. "
                      "Try again later."),
    "bad_response": N_("Mastodon gave an answer we do not understand. The outcome is saved. Try again later."),
    "refused": N_("Mastodon refused the post: %(reason)s. The outcome is saved."),
    "unreachable": N_("Mastodon cannot be reached right now, so there is no preview. The outcome is saved. "
                      "Try again later."),
    "no_thread": N_("The thread of this outcome is no longer on Mastodon, so there is nothing to reply to."),
    "changed": N_("The outcome changed after the preview was made. Look at the new preview and publish again."),
    "too_long": N_("The post does not fit in %(max)s characters, even with the text shortened. "
                   "Shorten the title or the reason."),
    "token": N_("The write token may not be used: %(reason)s"),
}
TOKEN_PROBLEMS: dict[str, str] = {
    "invalid": N_("Mastodon does not accept PRAATMEE_MASTODON_WRITE_TOKEN (wrong, revoked or expired)"),
    "too_broad": N_("PRAATMEE_MASTODON_WRITE_TOKEN may do more than post: its app has the scopes %(scopes)s; "
                    "make a token with only write:statuses"),
    "can_read": N_("PRAATMEE_MASTODON_WRITE_TOKEN can read the account; make a token with only write:statuses"),
    "unreachable": N_("Mastodon could not be reached to check PRAATMEE_MASTODON_WRITE_TOKEN"),
}


class PublishError(Exception):
    def __init__(self, code: str, **params: object):
        self.code = code
        self.params = params
        super().__init__(code)

    @property
    def message(self) -> str:
        """The English msgid; translate it, then fill in `params`."""
        return PUBLISH_MESSAGES[self.code]


@dataclass(frozen=True)
class Preview:
    """Exactly what will be posted, where, and how long Mastodon will count it."""

    text: str
    in_reply_to_id: str
    thread_url: str
    length: int
    max_characters: int
    idempotency_key: str
    language: str = "nl"
    visibility: str = "public"

    @property
    def fingerprint(self) -> str:
        """Sent back by the staff form: the click publishes this preview or nothing."""
        return hashlib.sha256(f"{self.in_reply_to_id}\n{self.text}".encode()).hexdigest()[:32]


def counted_length(text: str, url_length: int) -> int:
    """The length Mastodon counts, or a little more: every address counts as at least `url_length`."""
    length = len(text)
    for url in outcome_text.urls(text):
        length += max(len(url), url_length) - len(url)
    return length


def outcome_link(public_url: str, outcome_id: int) -> str:
    return f"{public_url.rstrip('/')}/resultaten#uitkomst-{outcome_id}"


def post_text(outcome: store.Outcome, *, link: str, max_characters: int, url_length: int) -> str:
    """The reply in Dutch (the thread's language), shortened to fit: title, text, reason, decision, link."""
    head = f"Wat er met jullie input gebeurde: {STATUS_LABELS_NL[outcome.status]}. {outcome.title_nl}"
    tail = []
    if outcome.decision_url:
        tail.append(f"Het besluit: {outcome.decision_url}")
    tail.append(f"Alle resultaten: {link}")
    body, reason = outcome.text_nl, outcome.reason("nl")

    def compose(body: str, reason: str) -> str:
        parts = [head, body] + ([f"Waarom niet: {reason}"] if reason else []) + ["\n".join(tail)]
        return "\n\n".join(part for part in parts if part)

    whole = compose(body, reason)
    excess = counted_length(whole, url_length) - max_characters
    if excess > 0 and body:
        body = _without_cut_link(outcome_text.shortened(body, max(0, len(body) - excess - 1)))
        whole = compose(body, reason)
        excess = counted_length(whole, url_length) - max_characters
    if excess > 0 and reason:
        reason = _without_cut_link(outcome_text.shortened(reason, max(0, len(reason) - excess - 1)))
        whole = compose(body, reason)
        excess = counted_length(whole, url_length) - max_characters
    if excess > 0:
        raise PublishError("too_long", max=max_characters)
    return whole


def _without_cut_link(text: str) -> str:
    """A shortened text never ends in half an address (it would link somewhere else)."""
    if not text.endswith("…"):
        return text
    words = text[:-1].split(" ")
    if words and words[-1].lower().startswith(("http://", "https://")):
        return " ".join(words[:-1]).rstrip() + "…"
    return text


class Publisher:
    """Built once per app when PRAATMEE_MASTODON_WRITE_TOKEN is set (none without it: no button)."""

    def __init__(self, writer: StatusWriter, reader: MastodonClient, *, account: str, public_url: str,
                 home_url: str):
        self.writer = writer
        self.reader = reader
        self.account = account
        self.public_url = public_url
        self.home_url = home_url
        self._token_ok = False

    # -- the token ---------------------------------------------------------------------------
    def check_token(self) -> TokenCheck:
        result = self.writer.check_token()
        self._token_ok = result.ok
        return result

    def _require_token(self) -> None:
        if self._token_ok:
            return
        result = self.check_token()
        if not result.ok:
            raise PublishError("token", reason_code=result.problem, scopes=", ".join(result.scopes))

    # -- preview and publish -----------------------------------------------------------------
    def _root(self, outcome: store.Outcome) -> Status:
        try:
            status_id = outcome.thread_status_id(self.home_url) or self.reader.current_thread_id().value
            root = self.reader.status(status_id, fresh=True).value
        except NotFound:
            raise PublishError("no_thread") from None
        except MastodonError:
            raise PublishError("unreachable") from None
        if not root.is_public or root.is_reblog:
            raise PublishError("no_thread")
        return root

    def preview(self, outcome: store.Outcome) -> Preview:
        root = self._root(outcome)
        try:
            instance = self.reader.instance().value
            maximum, url_length = instance.max_characters, instance.characters_reserved_per_url
        except MastodonError:
            maximum, url_length = 500, 23  # Mastodon's defaults; the server checks again anyway
        link = outcome_link(self.public_url, outcome.id)
        text = post_text(outcome, link=link, max_characters=maximum, url_length=url_length)
        key = "praatmee-outcome-{}-{}".format(
            outcome.id, hashlib.sha256(f"{root.id}\n{text}".encode()).hexdigest()[:24])
        return Preview(text, root.id, root.url, counted_length(text, url_length), maximum, key)

    def publish(self, db: Database, outcome_id: int | str, *, actor: str,
                fingerprint: str | None = None) -> store.Outcome:
        """Post the outcome as previewed; `fingerprint` (from the form) must match the preview now.

        Raises `PublishError` (the outcome stays as it is, with `publish_error` set where it got that far).
        """
        outcome = store.require(db, outcome_id)
        if outcome.is_posted:
            return outcome
        self._require_token()
        preview = self.preview(outcome)
        if fingerprint is not None and fingerprint != preview.fingerprint:
            raise PublishError("changed")
        if outcome.publish_attempted_at is not None:
            earlier = self._earlier_post(outcome, preview.in_reply_to_id)
            if earlier is not None:
                log.info("outcome %s was already posted as %s; not posting again", outcome.id, earlier.url)
                return store.note_posted(db, outcome.id, actor=actor, url=earlier.url, status_id=earlier.id)
        store.note_publish_attempt(db, outcome.id, actor=actor)
        try:
            posted = self.writer.post_status(preview.text, in_reply_to_id=preview.in_reply_to_id,
                                             idempotency_key=preview.idempotency_key, language=preview.language,
                                             visibility=preview.visibility)
        except Refused as refused:
            store.note_publish_failed(db, outcome.id, actor=actor, code="refused",
                                      detail=f"{refused.status_code} {refused.error}")
            raise PublishError("refused", reason=refused.error or f"HTTP {refused.status_code}") from None
        except MastodonError as error:
            store.note_publish_failed(db, outcome.id, actor=actor, code=error.kind, detail=str(error))
            raise PublishError(error.kind if error.kind in PUBLISH_MESSAGES else "unavailable") from None
        return store.note_posted(db, outcome.id, actor=actor, url=posted.url, status_id=posted.id)

    def _earlier_post(self, outcome: store.Outcome, root_id: str) -> Status | None:
        """A reply of the city to the root that carries this outcome's link: an earlier attempt that worked."""
        link = outcome_link(self.public_url, outcome.id)
        try:
            descendants = self.reader.context(root_id, fresh=True).value
        except MastodonError:
            return None  # the Idempotency-Key still covers the last hour
        for status in descendants:
            if (status.in_reply_to_id == root_id and status.account.acct.lower() == self.account.lower()
                    and (f'href="{link}"' in status.content or link in status.content)):
                return status
        return None
