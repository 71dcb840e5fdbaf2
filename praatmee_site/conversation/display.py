"""Shaping a Mastodon thread for display: sanitize HTML with nh3, place custom emoji, build the tree.

Only `sanitize_html` output and `emojify` output are ever marked safe; every other field stays
plain text for Jinja to escape. Images are shown only from origins the CSP allows.
No Flask in this module.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

import nh3
from markupsafe import Markup, escape

from ..mastodon import Emoji, MediaAttachment, Poll, Status, Thread
from ..urls import is_absolute_http, origin

# Exactly what Mastodon emits in status content (app/lib/sanitize_config.rb), nothing more.
ALLOWED_TAGS = {"p", "br", "a", "span", "del", "pre", "code", "em", "strong", "b", "i", "u",
                "ul", "ol", "li", "blockquote"}
ALLOWED_CLASSES = {
    "span": {"invisible", "ellipsis", "h-card"},
    "a": {"mention", "hashtag", "u-url"},
}
# Replies deeper than this are drawn at this depth and say whom they answer.
MAX_INDENT = 3


def _only_absolute_http(tag: str, attribute: str, value: str) -> str | None:
    return None if attribute == "href" and not is_absolute_http(value) else value


_cleaner = nh3.Cleaner(
    tags=ALLOWED_TAGS,
    clean_content_tags={"script", "style"},
    attributes={"*": set(), "a": {"href"}, "span": set()},  # "*": no lang/title from strangers either
    allowed_classes=ALLOWED_CLASSES,
    attribute_filter=_only_absolute_http,
    url_schemes={"http", "https"},
    link_rel="nofollow noopener ugc",
    strip_comments=True,
)

# A tag as html5ever serializes it: attribute values are always double-quoted.
_TAG = re.compile(r'<[^>"]*(?:"[^"]*"[^>"]*)*>')
_SHORTCODE = re.compile(r":([A-Za-z0-9_]{1,64}):")


@dataclass(frozen=True)
class ImagePolicy:
    """Which origins the page may load images from (the CSP's img-src, kept in one place)."""

    origins: frozenset[str]

    @classmethod
    def for_urls(cls, *urls: str | None) -> "ImagePolicy":
        return cls(frozenset(origin(u) for u in urls if u))

    def allows(self, url: str) -> bool:
        return bool(url) and origin(url) in self.origins


def sanitize_html(html: str) -> Markup:
    """Stranger-written status HTML → HTML with only Mastodon's own vocabulary left."""
    return Markup(_cleaner.clean(html or ""))


def _emoji_img(emoji: Emoji) -> str:
    return (f'<img class="emoji" src="{escape(emoji.url)}" alt=":{emoji.shortcode}:" '
            f'title=":{emoji.shortcode}:" width="20" height="20">')


def _replace_shortcodes(text: str, table: dict[str, Emoji]) -> str:
    return _SHORTCODE.sub(lambda m: _emoji_img(table[m.group(1)]) if m.group(1) in table else m.group(0), text)


def _emoji_table(emojis: tuple[Emoji, ...], images: ImagePolicy) -> dict[str, Emoji]:
    return {e.shortcode: e for e in emojis if images.allows(e.url)}


def emojify(text: str, emojis: tuple[Emoji, ...], images: ImagePolicy) -> Markup:
    """Plain text (a display name, a poll option) → escaped text with custom emoji as images."""
    table = _emoji_table(emojis, images)
    escaped = str(escape(text))
    return Markup(_replace_shortcodes(escaped, table) if table else escaped)


def emojify_html(html: Markup, emojis: tuple[Emoji, ...], images: ImagePolicy) -> Markup:
    """Sanitized HTML → the same with emoji images, replacing shortcodes in text only, never in tags."""
    table = _emoji_table(emojis, images)
    if not table:
        return html
    pieces = []
    position = 0
    for match in _TAG.finditer(html):
        pieces.append(_replace_shortcodes(html[position:match.start()], table))
        pieces.append(match.group(0))
        position = match.end()
    pieces.append(_replace_shortcodes(html[position:], table))
    return Markup("".join(pieces))


# --- display shapes ---------------------------------------------------------------------------

@dataclass(frozen=True)
class DisplayMedia:
    kind: str  # image, video, audio, other
    url: str
    preview_url: str
    description: str
    show_image: bool  # False: the origin is not ours or the home server's; show a link instead


@dataclass(frozen=True)
class DisplayPollOption:
    title: Markup
    percent: int
    votes: int | None


@dataclass(frozen=True)
class DisplayPoll:
    options: tuple[DisplayPollOption, ...]
    voters: int
    expired: bool
    expires_at: datetime | None
    multiple: bool


@dataclass(frozen=True)
class DisplayPost:
    status: Status
    name: Markup
    handle: str
    content: Markup
    depth: int
    reply_to: str | None  # "@name" when the indentation no longer shows whom this answers
    media: tuple[DisplayMedia, ...]
    poll: DisplayPoll | None

    @property
    def id(self) -> str:
        return self.status.id


def handle_of(acct: str, home_domain: str) -> str:
    return f"@{acct}" if "@" in acct else f"@{acct}@{home_domain}"


def _media(items: tuple[MediaAttachment, ...], images: ImagePolicy) -> tuple[DisplayMedia, ...]:
    shown = []
    for item in items:
        kind = item.type if item.type in ("image", "video", "audio") else ("video" if item.type == "gifv" else "other")
        preview = item.preview_url if images.allows(item.preview_url) else ""
        shown.append(DisplayMedia(kind, item.url, preview, item.description,
                                  show_image=kind == "image" and bool(preview)))
    return tuple(shown)


def _poll(poll: Poll | None, images: ImagePolicy) -> DisplayPoll | None:
    if poll is None:
        return None
    # As Mastodon's web app: multiple-choice polls count voters, single-choice polls count votes.
    total = poll.voters_count if poll.multiple and poll.voters_count else poll.votes_count
    options = tuple(
        DisplayPollOption(emojify(o.title, poll.emojis, images),
                          round(100 * (o.votes_count or 0) / total) if total else 0, o.votes_count)
        for o in poll.options
    )
    voters = poll.voters_count if poll.voters_count is not None else poll.votes_count
    return DisplayPoll(options, voters, poll.expired, poll.expires_at, poll.multiple)


def display_post(status: Status, *, depth: int, reply_to: str | None, home_domain: str,
                 images: ImagePolicy) -> DisplayPost:
    return DisplayPost(
        status=status,
        name=emojify(status.account.name, status.account.emojis, images),
        handle=handle_of(status.account.acct, home_domain),
        content=emojify_html(sanitize_html(status.content), status.emojis, images),
        depth=depth,
        reply_to=reply_to,
        media=_media(status.media, images),
        poll=_poll(status.poll, images),
    )


def shape_thread(thread: Thread, *, home_domain: str, images: ImagePolicy) -> list[DisplayPost]:
    """Root first, then replies depth-first, oldest first within a branch."""
    children: dict[str, list[Status]] = {}
    known = {thread.root.id} | {s.id for s in thread.replies}
    for reply in thread.replies:
        # A reply whose parent we may not show (private, deleted, cut off) hangs under the root.
        parent = reply.in_reply_to_id if reply.in_reply_to_id in known else thread.root.id
        children.setdefault(parent, []).append(reply)
    for siblings in children.values():
        siblings.sort(key=lambda s: (s.created_at, s.id))

    posts = [display_post(thread.root, depth=0, reply_to=None, home_domain=home_domain, images=images)]
    # Iterative depth-first walk: a long chain of replies must not hit the recursion limit.
    stack = [(reply, 1, thread.root) for reply in reversed(children.get(thread.root.id, []))]
    seen = {thread.root.id}
    while stack:
        status, depth, parent = stack.pop()
        if status.id in seen:
            continue
        seen.add(status.id)
        reply_to = None
        if depth > MAX_INDENT:
            reply_to = handle_of(parent.account.acct, home_domain)
        posts.append(display_post(status, depth=min(depth, MAX_INDENT), reply_to=reply_to,
                                  home_domain=home_domain, images=images))
        for child in reversed(children.get(status.id, [])):
            stack.append((child, depth + 1, status))
    return posts
