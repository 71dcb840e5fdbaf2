"""What the home server sends, as frozen dataclasses: the errors, the entities and their parsing.

Everything Mastodon sends is parsed here, once; the rest of the site never touches raw JSON, and
any shape nobody foresaw becomes `BadResponse`, never a 500. Nothing here is sanitized for display:
that is `conversation.display`'s job. No Flask in this module.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable

from ..urls import is_absolute_http
from .cache import UpstreamError

PUBLIC_VISIBILITIES = frozenset({"public", "unlisted"})
# Mastodon 4.x caps what a logged-out reader gets from /context.
LOGGED_OUT_DESCENDANT_CAP = 60


# --- errors -------------------------------------------------------------------------------------

class MastodonError(UpstreamError):
    """The home server could not give us what we asked for (kinds: see subclasses)."""

    kind = "unavailable"


class Timeout(MastodonError):
    kind = "timeout"


class Unavailable(MastodonError):
    kind = "unavailable"


class RateLimited(MastodonError):
    kind = "rate_limited"

    def __init__(self, message: str, until: float):
        super().__init__(message)
        self.until = until


class BadResponse(MastodonError):
    kind = "bad_response"


class NotFound(MastodonError):
    kind = "not_found"


# --- entities -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Emoji:
    shortcode: str
    url: str


@dataclass(frozen=True)
class Account:
    id: str
    username: str
    acct: str
    display_name: str
    url: str
    bot: bool = False
    emojis: tuple[Emoji, ...] = ()
    # The day the account was made, as the home server says (Mastodon gives midnight UTC of that day;
    # for an account on another server, what that server claimed, or when ours first saw it).
    created_at: datetime | None = None

    @property
    def name(self) -> str:
        return self.display_name.strip() or self.username


@dataclass(frozen=True)
class MediaAttachment:
    id: str
    type: str  # image, gifv, video, audio, unknown
    url: str
    preview_url: str
    description: str
    remote_url: str = ""


@dataclass(frozen=True)
class PollOption:
    title: str
    votes_count: int | None


@dataclass(frozen=True)
class Poll:
    options: tuple[PollOption, ...]
    votes_count: int
    voters_count: int | None
    multiple: bool
    expired: bool
    expires_at: datetime | None
    emojis: tuple[Emoji, ...] = ()


@dataclass(frozen=True)
class Card:
    url: str
    title: str
    description: str
    provider_name: str = ""


@dataclass(frozen=True)
class Status:
    id: str
    uri: str
    url: str
    created_at: datetime
    account: Account
    content: str  # HTML written by a stranger: sanitize before display
    visibility: str
    spoiler_text: str = ""
    sensitive: bool = False
    language: str | None = None
    in_reply_to_id: str | None = None
    in_reply_to_account_id: str | None = None
    edited_at: datetime | None = None
    replies_count: int = 0
    reblogs_count: int = 0
    favourites_count: int = 0
    media: tuple[MediaAttachment, ...] = ()
    poll: Poll | None = None
    card: Card | None = None
    emojis: tuple[Emoji, ...] = ()
    is_reblog: bool = False

    @property
    def is_public(self) -> bool:
        return self.visibility in PUBLIC_VISIBILITIES


@dataclass(frozen=True)
class Thread:
    """A root post and its public replies, as the API returned them (flat, in API order)."""

    root: Status
    replies: tuple[Status, ...]
    # True when we know the API left replies out (logged-out cap, or replies_count says more).
    incomplete: bool = False


@dataclass(frozen=True)
class Rule:
    id: str
    text: str
    hint: str = ""


@dataclass(frozen=True)
class Instance:
    domain: str
    title: str
    registrations_enabled: bool
    approval_required: bool
    min_age: int | None = None
    registrations_url: str | None = None
    rules: tuple[Rule, ...] = ()
    version: str = ""
    # What one status may hold (configuration.statuses); every URL counts as the reserved length.
    max_characters: int = 500
    characters_reserved_per_url: int = 23


# --- parsing (the edge: raw JSON in, entities out) ----------------------------------------------

def _require(obj: Any, kind: type, what: str):
    if not isinstance(obj, kind):
        raise BadResponse(f"expected {what}")
    return obj


def _string(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def _http_url(value: Any) -> str:
    """Only absolute http(s) URLs survive as plain fields; anything else becomes ''."""
    if not isinstance(value, str) or not is_absolute_http(value):
        return ""
    value = value.strip()
    # These fields end up in attributes we build ourselves: refuse characters no URL needs there.
    return "" if any(c in value for c in "\x00\r\n\t <>\"'`") else value


def parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        try:
            parsed = datetime.fromisoformat(value[:10])  # last_status_at style dates
        except ValueError:
            return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _emojis(raw: Any) -> tuple[Emoji, ...]:
    found = []
    for item in raw if isinstance(raw, list) else []:
        if isinstance(item, dict):
            code, url = _string(item.get("shortcode")), _http_url(item.get("static_url") or item.get("url"))
            if re.fullmatch(r"[A-Za-z0-9_]{1,64}", code) and url:
                found.append(Emoji(code, url))
    return tuple(found)


def parse_account(raw: Any) -> Account:
    raw = _require(raw, dict, "an account object")
    account_id, username = raw.get("id"), raw.get("username")
    if not isinstance(account_id, (str, int)) or not isinstance(username, str):
        raise BadResponse("account without id or username")
    return Account(
        id=str(account_id),
        username=username,
        acct=_string(raw.get("acct")) or username,
        display_name=_string(raw.get("display_name")),
        url=_http_url(raw.get("url")),
        bot=raw.get("bot") is True,
        emojis=_emojis(raw.get("emojis")),
        created_at=parse_time(raw.get("created_at")),
    )


def parse_accounts(raw: Any) -> tuple[Account, ...]:
    """A list of accounts (e.g. who favourited a post); a malformed entry is left out."""
    found = []
    for item in _require(raw, list, "a list of accounts"):
        try:
            found.append(parse_account(item))
        except BadResponse:
            continue
    return tuple(found)


def _media(raw: Any) -> tuple[MediaAttachment, ...]:
    items = []
    for item in raw if isinstance(raw, list) else []:
        if not isinstance(item, dict):
            continue
        url = _http_url(item.get("url")) or _http_url(item.get("remote_url"))
        if not url:
            continue
        items.append(MediaAttachment(
            id=str(item.get("id", "")),
            type=_string(item.get("type")) or "unknown",
            url=url,
            preview_url=_http_url(item.get("preview_url")) or url,
            description=_string(item.get("description")).strip(),
            remote_url=_http_url(item.get("remote_url")),
        ))
    return tuple(items)


def _poll(raw: Any) -> Poll | None:
    if not isinstance(raw, dict):
        return None
    options = tuple(
        PollOption(_string(o.get("title")), o.get("votes_count") if isinstance(o.get("votes_count"), int) else None)
        for o in _list(raw.get("options")) if isinstance(o, dict)
    )
    if not options:
        return None
    voters = raw.get("voters_count")
    return Poll(
        options=options,
        votes_count=_int(raw.get("votes_count")),
        voters_count=voters if isinstance(voters, int) and voters >= 0 else None,
        multiple=raw.get("multiple") is True,
        expired=raw.get("expired") is True,
        expires_at=parse_time(raw.get("expires_at")),
        emojis=_emojis(raw.get("emojis")),
    )


def _card(raw: Any) -> Card | None:
    if not isinstance(raw, dict):
        return None
    url = _http_url(raw.get("url"))
    title = _string(raw.get("title")).strip()
    if not url or not title:
        return None
    # card.html (an embed iframe) is deliberately never read.
    return Card(url=url, title=title, description=_string(raw.get("description")).strip(),
                provider_name=_string(raw.get("provider_name")).strip())


def parse_status(raw: Any) -> Status:
    raw = _require(raw, dict, "a status object")
    status_id, created = raw.get("id"), parse_time(raw.get("created_at"))
    if not isinstance(status_id, (str, int)) or created is None:
        raise BadResponse("status without id or created_at")
    if not isinstance(raw.get("content"), str):
        raise BadResponse("status without content")
    language = raw.get("language")
    if not (isinstance(language, str) and re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*", language)):
        language = None
    return Status(
        id=str(status_id),
        uri=_http_url(raw.get("uri")),
        url=_http_url(raw.get("url")) or _http_url(raw.get("uri")),
        created_at=created,
        account=parse_account(raw.get("account")),
        content=raw["content"],
        visibility=_string(raw.get("visibility")) or "private",  # unknown means: do not show
        spoiler_text=_string(raw.get("spoiler_text")).strip(),
        sensitive=raw.get("sensitive") is True,
        language=language,
        in_reply_to_id=str(raw["in_reply_to_id"]) if raw.get("in_reply_to_id") is not None else None,
        in_reply_to_account_id=(str(raw["in_reply_to_account_id"])
                                if raw.get("in_reply_to_account_id") is not None else None),
        edited_at=parse_time(raw.get("edited_at")),
        replies_count=_int(raw.get("replies_count")),
        reblogs_count=_int(raw.get("reblogs_count")),
        favourites_count=_int(raw.get("favourites_count")),
        media=_media(raw.get("media_attachments")),
        poll=_poll(raw.get("poll")),
        card=_card(raw.get("card")),
        emojis=_emojis(raw.get("emojis")),
        is_reblog=raw.get("reblog") is not None,
    )


def parse_statuses(raw: Any) -> list[Status]:
    """Parse a list; a single malformed entry is dropped rather than failing the whole page."""
    result = []
    for item in _require(raw, list, "a list of statuses"):
        try:
            result.append(parse_status(item))
        except BadResponse:
            continue
    return result


def parse_context(raw: Any) -> tuple[Status, ...]:
    """The descendants of a status; ancestors do not matter for a thread that starts at its root."""
    context = _require(raw, dict, "a context object")
    return tuple(parse_statuses(context.get("descendants", [])))


def build_thread(root: Status, descendants: tuple[Status, ...], *, capped_reader: bool = True) -> Thread:
    replies = tuple(s for s in descendants if s.is_public and not s.is_reblog)
    incomplete = len(descendants) < root.replies_count
    if capped_reader and len(descendants) >= LOGGED_OUT_DESCENDANT_CAP:
        incomplete = True
    # Replies of replies can be missing too: a reply claims more answers than we received.
    by_parent: dict[str, int] = {}
    for status in descendants:
        if status.in_reply_to_id:
            by_parent[status.in_reply_to_id] = by_parent.get(status.in_reply_to_id, 0) + 1
    if any(s.replies_count > by_parent.get(s.id, 0) for s in descendants):
        incomplete = True
    return Thread(root=root, replies=replies, incomplete=incomplete)


def parse_instance(raw: Any, rules_raw: Any = None) -> Instance:
    raw = _require(raw, dict, "an instance object")
    registrations = raw.get("registrations")
    if isinstance(registrations, dict):  # v2
        enabled = registrations.get("enabled") is True
        approval = registrations.get("approval_required") is True
        min_age = registrations.get("min_age")
        reg_url = _http_url(registrations.get("url")) or None
        domain = _string(raw.get("domain"))
    elif isinstance(registrations, bool):  # v1
        enabled = registrations
        approval = raw.get("approval_required") is True
        min_age = None
        reg_url = None
        domain = _string(raw.get("uri"))
    else:
        raise BadResponse("instance without registration information")
    rules_source = rules_raw if isinstance(rules_raw, list) else raw.get("rules")
    rules = tuple(
        Rule(str(r.get("id", "")), _string(r.get("text")).strip(), _string(r.get("hint")).strip())
        for r in _list(rules_source) if isinstance(r, dict) and _string(r.get("text")).strip()
    )
    return Instance(
        domain=domain,
        title=_string(raw.get("title")),
        registrations_enabled=enabled,
        approval_required=approval,
        min_age=min_age if isinstance(min_age, int) and 0 < min_age < 120 else None,
        registrations_url=reg_url,
        rules=rules,
        version=_string(raw.get("version")),
        **_status_limits(raw),
    )


def _status_limits(raw: dict) -> dict:
    """configuration.statuses (v2, and v1 since Mastodon 3.4); Mastodon's defaults where it says nothing."""
    configuration = raw.get("configuration")
    statuses = configuration.get("statuses") if isinstance(configuration, dict) else None
    statuses = statuses if isinstance(statuses, dict) else {}
    limits = {}
    maximum = statuses.get("max_characters", raw.get("max_toot_chars"))
    if _int(maximum) >= 50:  # anything smaller cannot hold a reply with its link: not believed
        limits["max_characters"] = _int(maximum)
    reserved = statuses.get("characters_reserved_per_url")
    if 1 <= _int(reserved) <= 200:
        limits["characters_reserved_per_url"] = _int(reserved)
    return limits


def _checked(parse: Callable[[Any], Any], raw: Any) -> Any:
    """Parse a stranger's JSON; any shape we did not foresee is a bad response, never a crash."""
    try:
        return parse(raw)
    except MastodonError:
        raise
    except (TypeError, AttributeError, KeyError, ValueError, IndexError) as exc:
        raise BadResponse(f"unexpected shape: {exc.__class__.__name__}") from None


def _checked_instance(raw: Any) -> dict:
    parse_instance(raw)
    return raw


