"""Every moderation rule in one place: what can be hidden, with which reason, and who decides it.

A reply is hidden when staff hid the reply itself, its account or its whole server; a reply from a
young account may be held until staff approve it. The CLI and the staff pages both call this module
(through `store`), so both give the same structured problems (field + code + values); `MESSAGES`
holds their English msgids, which callers translate. No Flask in this module.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from .. import messages
from ..mastodon import Account, MastodonError, NotFound, Rule, Status, Thread
from ..messages import N_
from ..urls import home_status_id, looks_like_ip_literal, profile_acct, to_ascii_hostname

KINDS = ("post", "account", "domain")
# The reason staff give in their own words ("anders"), when none of the server's rules fits.
OTHER = "anders"
REASON_MAX = 200
URL_MAX = 500

# (field, code) → English msgid; `Problem.params` fill its placeholders.
MESSAGES: dict[tuple[str, str], str] = {
    ("url", "malformed"): N_("'%(value)s' is not a link to a post or an account: use a link like "
                             "https://social.example/@name/123456"),
    ("url", "not_shown"): N_("'%(value)s' is not a reply in a conversation on our pages, nor an account "
                             "in one of them"),
    ("url", "root"): N_("'%(value)s' is the city's own post that starts a conversation: it cannot be hidden"),
    ("url", "city_account"): N_("'%(value)s' is the city's own account: it cannot be hidden"),
    ("url", "unknown_account"): N_("The home server does not know the account '%(value)s'"),
    ("url", "lookup_failed"): N_("The home server could not be asked about '%(value)s'. Try again in a moment"),
    ("url", "not_hidden"): N_("Nothing is hidden for '%(value)s'"),
    ("url", "not_reply"): N_("'%(value)s' is not a reply in a conversation on our pages: only replies can be "
                             "approved"),
    ("domain", "invalid"): N_("'%(value)s' is not a server name: use a name like mastodon.example"),
    ("domain", "home"): N_("'%(value)s' is our own home server: hide replies or accounts instead"),
    ("domain", "not_hidden"): N_("The server '%(value)s' is not hidden"),
    ("reason", "required"): N_("Give a reason: choose one of the server rules, or write a short reason "
                               "of your own"),
    ("reason", "too_long"): N_("The reason is too long: use at most %(max)s characters"),
    ("reason", "unknown_rule"): N_("That rule is not one of the server rules (any more): choose again"),
    ("target", "nothing"): N_("Choose what to hide: this reply, every post of the account, or the whole server"),
}


class Problem(messages.Problem):
    """One thing wrong with a moderation action, worded by `MESSAGES` above."""

    MESSAGES = MESSAGES


class ModerationError(messages.RuleError):
    """The input breaks a rule; nothing was changed."""


def refuse(field_name: str, code: str, **params) -> ModerationError:
    return ModerationError([Problem(field_name, code, params)])


# --- what was decided --------------------------------------------------------------------------

@dataclass(frozen=True)
class Reason:
    text: str  # a rule of the home server as it read when chosen, or staff's own words
    rule_id: str = ""  # the home server's rule id; "" for own words


@dataclass(frozen=True)
class Target:
    """What staff asked to hide or approve, as we recognise it again on every page."""

    kind: str  # post, account, domain
    key: str  # the status id on the home server, user@domain, or the domain
    url: str  # where staff can look at it
    label: str  # how messages name it: the post's link, @user@domain, or the domain


@dataclass(frozen=True)
class Hide:
    id: int
    kind: str
    target: str
    url: str
    reason: str
    rule_id: str
    staff: str
    at: datetime


@dataclass(frozen=True)
class Approval:
    status_id: str
    url: str
    staff: str
    at: datetime


@dataclass(frozen=True)
class Rules:
    """Everything moderation decided, as of `version` (it changes with every action).

    `known` is False only when the decisions could not be read at all: pages then show no replies
    rather than replies that may have been hidden.
    """

    version: str
    hides: tuple[Hide, ...] = ()
    approvals: tuple[Approval, ...] = ()
    known: bool = True
    _by_kind: dict = field(default_factory=dict, init=False, repr=False, compare=False)
    _approved: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for kind in KINDS:
            self._by_kind[kind] = {hide.target: hide for hide in self.hides if hide.kind == kind}
        self._approved.update((approval.status_id, approval) for approval in self.approvals)

    @classmethod
    def unknown(cls) -> "Rules":
        return cls(version="unknown", known=False)

    def hidden(self, kind: str, key: str) -> Hide | None:
        return self._by_kind[kind].get(key)

    def hide_for(self, status: Status, home_domain: str) -> Hide | None:
        """Why this post may not be shown: the post itself, then its account, then its server."""
        key = account_key(status.account, home_domain)
        return (self._by_kind["post"].get(status.id) or self._by_kind["account"].get(key)
                or self._by_kind["domain"].get(key.rsplit("@", 1)[1]))

    def approval(self, status_id: str) -> Approval | None:
        return self._approved.get(status_id)

    def held(self, status: Status, hold_days: int) -> bool:
        """Waits for approval: the account was younger than `hold_days` days when it wrote this.

        An account without a creation date counts as young (Mastodon always sends one).
        """
        if hold_days <= 0 or status.id in self._approved:
            return False
        created = status.account.created_at
        return created is None or status.created_at - created < timedelta(days=hold_days)


# --- names: accounts and servers ----------------------------------------------------------------

def normalise_domain(text: str) -> str:
    """A server name in lower-case ASCII (punycode), or ModerationError."""
    value = (text or "").strip().rstrip(".").lower()
    if value.startswith(("http://", "https://")):
        value = urlsplit(value).hostname or ""
    try:
        ascii_name = to_ascii_hostname(value)
    except ValueError:
        raise refuse("domain", "invalid", value=text.strip()[:URL_MAX]) from None
    if "." not in ascii_name or looks_like_ip_literal(ascii_name):
        raise refuse("domain", "invalid", value=text.strip()[:URL_MAX])
    return ascii_name


def domain_key(domain: str) -> str:
    try:
        return to_ascii_hostname(domain)
    except ValueError:
        return domain.lower()


def acct_key(acct: str, home_domain: str) -> str:
    """``user@domain`` in lower case for an acct as the home server gives it (``user`` for its own)."""
    user, _, domain = acct.partition("@")
    return f"{user.lower()}@{domain_key(domain or home_domain)}"


def account_key(account: Account, home_domain: str) -> str:
    return acct_key(account.acct, home_domain)


def handle(key: str) -> str:
    return f"@{key}"


# --- the reason ---------------------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def _one_line(text: str) -> str:
    return " ".join(_CONTROL.sub(" ", text or "").split())


def clean_reason(choice: str, own_words: str, rules: Iterable[Rule]) -> Reason:
    """The staff form's reason: one of the server's rules (by id), or `OTHER` with a short text."""
    choice = (choice or "").strip()
    if choice == OTHER:
        text = _one_line(own_words)
        if not text:
            raise refuse("reason", "required")
        if len(text) > REASON_MAX:
            raise refuse("reason", "too_long", max=REASON_MAX)
        return Reason(text)
    if not choice:
        raise refuse("reason", "required")
    for rule in rules:
        if rule.id == choice:
            return Reason(_one_line(rule.text)[:500], rule.id)
    raise refuse("reason", "unknown_rule")


def reason_from_text(text: str, rules: Iterable[Rule]) -> Reason:
    """The CLI's `--reason`: a rule's number (1, 2, … as the house rules list them) or its text; else own words."""
    text = _one_line(text)
    rules = tuple(rules)
    if text.isdigit() and 1 <= int(text) <= len(rules):
        rule = rules[int(text) - 1]
        return Reason(_one_line(rule.text)[:500], rule.id)
    for rule in rules:
        if _one_line(rule.text).casefold() == text.casefold():
            return Reason(_one_line(rule.text)[:500], rule.id)
    return clean_reason(OTHER, text, ())


# --- finding what a link names ------------------------------------------------------------------

def _is_link(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return len(url) <= URL_MAX and parts.scheme == "https" and bool(parts.hostname) and url.isprintable()


def require_link(url: str) -> str:
    """``url`` without surrounding space when it is an https link at all; else ModerationError."""
    url = (url or "").strip()
    if not _is_link(url):
        raise refuse("url", "malformed", value=_one_line(url)[:URL_MAX])
    return url


def names_post(status: Status, url: str, home_url: str) -> bool:
    """Does `url` name this post: its own link, its ActivityPub id, or its page on the home server?"""
    return url in (status.url, status.uri) or home_status_id(url, home_url) == status.id


def find_reply(url: str, threads: Iterable[Thread], home_url: str) -> Status | None:
    for thread in threads:
        for reply in thread.replies:
            if names_post(reply, url, home_url):
                return reply
    return None


def post_target(status: Status) -> Target:
    return Target("post", status.id, status.url, status.url or status.id)


def account_target(account: Account, home_domain: str) -> Target:
    key = account_key(account, home_domain)
    return Target("account", key, account.url, handle(key))


def domain_target(domain: str, home_domain: str) -> Target:
    key = normalise_domain(domain)
    if key == domain_key(home_domain):
        raise refuse("domain", "home", value=key)
    return Target("domain", key, f"https://{key}", key)


def find_target(url: str, threads: Iterable[Thread], *, home_url: str, home_domain: str, city_account: str,
                lookup: Callable[[str], Account]) -> Target:
    """The reply or account a link names, among the conversations we show; else ModerationError.

    A post must be a reply in one of `threads` (the conversation that starts a thread is the city's
    own and stays). An account is one that wrote in them, or one the home server knows (`lookup`,
    which raises NotFound for an account it does not know). Nothing else is fetched.
    """
    url = require_link(url)
    shown = url
    threads = tuple(threads)
    for thread in threads:
        if names_post(thread.root, url, home_url):
            raise refuse("url", "root", value=shown)
    reply = find_reply(url, threads, home_url)
    if reply is not None:
        return post_target(reply)
    acct = profile_acct(url, home_url)
    city = acct_key(city_account, home_domain)
    accounts = [s.account for t in threads for s in (t.root, *t.replies)]
    for account in accounts:
        key = account_key(account, home_domain)
        if key == acct or (account.url and account.url == url):
            if key == city:
                raise refuse("url", "city_account", value=shown)
            return account_target(account, home_domain)
    if acct is None:
        raise refuse("url", "not_shown", value=shown)
    if acct == city:
        raise refuse("url", "city_account", value=shown)
    user, domain = acct.split("@", 1)
    try:
        account = lookup(user if domain == domain_key(home_domain) else acct)
    except NotFound:
        raise refuse("url", "unknown_account", value=handle(acct)) from None
    except MastodonError:
        raise refuse("url", "lookup_failed", value=handle(acct)) from None
    return Target("account", acct, account.url or url, handle(acct))
