"""The home server as the pages see it: the current conversation and the registration state.

One `MastodonClient` per process (`build_home_server`), whose results and failures become what a
page shows: posts, or a calm message. Never raises for an upstream fault. Moderation is applied to
every thread here, before it is shaped, so no page can show what staff hid. No Flask in this module.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from urllib.parse import quote, urlencode, urlsplit

import requests

from .. import moderation
from ..db import DatabaseLastGood
from ..kept import KeptCopies
from ..mastodon import (
    ClientSettings,
    Instance,
    MastodonClient,
    MastodonError,
    NotFound,
    Status,
    Thread,
    Unavailable,
    status_id_from_reference,
)
from ..mastodon.cache import UpstreamCache
from ..moderation import CurrentRules, ModerationStore, NoModeration
from ..version import user_agent
from .display import DisplayPost, ImagePolicy, shape_thread

log = logging.getLogger(__name__)
KEEP_COPIES_DAYS = 7


@dataclass(frozen=True)
class HiddenReply:
    """The place of a reply the moderation hid (or holds), kept only because answers to it are shown.

    It carries the reason and nothing of the reply itself.
    """

    id: str
    depth: int
    reason: str
    held: bool
    placeholder = True  # not a field: templates tell it from a DisplayPost


@dataclass(frozen=True)
class Conversation:
    """What the conversation region shows. `problem` is None, "unavailable" or "not_found".

    `posts` and `replies` hold only what may be shown; `reply_items` is the replies in their order
    with a `HiddenReply` where a hidden reply has visible answers. `thread` is the moderated thread.
    """

    thread: Thread | None
    posts: tuple[DisplayPost, ...]
    fetched_at: float | None
    stale: bool
    problem: str | None = None
    version: tuple = ()  # changes with every upstream answer and moderation action behind it; keys copies
    reply_items: tuple = ()
    hidden_count: int = 0  # replies the moderation hid
    held_count: int = 0  # replies from new accounts waiting for approval

    @property
    def root(self) -> DisplayPost | None:
        return self.posts[0] if self.posts else None

    @property
    def replies(self) -> tuple[DisplayPost, ...]:
        return self.posts[1:]


@dataclass(frozen=True)
class StaffPost:
    """A post as staff see it on the moderation pages: all of it, with what moderation decided."""

    post: DisplayPost
    is_root: bool
    hide: "moderation.Hide | None"
    held: bool
    approval: "moderation.Approval | None"
    account_key: str
    domain: str
    by_city: bool  # the city's own account: never hidden as an account, always on kiosks
    from_home: bool  # an account of the home server: its whole server cannot be hidden


@dataclass(frozen=True)
class StaffThread:
    problem: str | None
    posts: tuple[StaffPost, ...] = ()
    root_url: str = ""


@dataclass(frozen=True)
class Registration:
    """Sign-up as the home server allows it now; `state` is open, approval, closed or unknown."""

    state: str
    signup_url: str
    min_age: int | None
    rules: tuple
    server: str


class StoredPause:
    """The rate-limit pause in the last-good store, so every worker (and host) sees another's 429."""

    def __init__(self, store, base_url: str):
        self.store = store
        self.key = f"pause:{base_url}"

    def until(self) -> float | None:
        kept = self.store.load(self.key)
        return float(kept[0].get("until", 0)) if kept and isinstance(kept[0], dict) else None

    def hold(self, until: float) -> None:
        self.store.save(self.key, {"until": until}, until)


def signup_url(base_url: str, lang: str, instance: Instance | None = None, invite_url: str | None = None) -> str:
    """The one place that decides where "Account aanmaken" leads."""
    if invite_url:
        return invite_url
    if instance is not None and instance.registrations_url:
        return instance.registrations_url
    return f"{base_url}/auth/sign_up?{urlencode({'lang': lang})}"


def home_interaction_url(base_url: str, post_uri: str) -> str:
    """The one place that decides where "Log in en reageer" leads for an account on the home server.

    Mastodon's ``/authorize_interaction?uri=`` asks for a login first, then fetches the post (also
    one from another server) and opens it, ready for a reply: the same page
    `remote_interaction.discovery` sends residents of other Mastodon servers to.
    """
    return f"{base_url}/authorize_interaction?uri={quote(post_uri, safe='')}"


class HomeServer:
    """The city's Mastodon server as our pages see it; built once per app by `build_home_server`,
    reached from the web layer through `web.services.current_home_server()`."""

    def __init__(self, config, store=None, shared=None, rules: "CurrentRules | None" = None) -> None:
        self.base_url = config["MASTODON_URL"]
        self.account = config["ACCOUNT"]
        # What moderation decided, as this worker holds it (see `moderation.CurrentRules`).
        self.moderation = rules if rules is not None else NoModeration()
        self.hold_days = int(config.get("HOLD_NEW_ACCOUNTS_DAYS") or 0)
        self.domain = urlsplit(self.base_url).hostname or ""
        session = requests.Session()
        if config["DEMO"]:
            from ..mastodon.demo import DemoAdapter
            session.mount(self.base_url, DemoAdapter())
        settings = ClientSettings(
            base_url=self.base_url,
            account=config["ACCOUNT"],
            user_agent=user_agent(config["PUBLIC_URL"]),
            connect_timeout=config["CONNECT_TIMEOUT"],
            read_timeout=config["READ_TIMEOUT"],
            ttl=config["CACHE_TTL"],
            instance_ttl=config["INSTANCE_CACHE_TTL"],
            token=config.get("MASTODON_TOKEN") or None,
        )
        cache = UpstreamCache(store=store, shared=shared, unavailable=Unavailable,
                              refresh_in_background=not config.get("TESTING_SYNC_CACHE"))
        self.client = MastodonClient(settings, cache=cache, session=session,
                                     shared_pause=StoredPause(store, self.base_url) if store is not None else None)
        # Keys are (status id, version, stale) of threads our own configuration and campaigns name.
        self._shaped: KeptCopies[Conversation] = KeptCopies(64)
        # Status id → (until, whether the city's account favourited it): ids of replies we show.
        self._favourites: KeptCopies[tuple[float, bool]] = KeptCopies(512)
        self.images = ImagePolicy.for_urls(self.base_url, config.get("MEDIA_URL"))

    def _thread(self, thread_reference: str | None):
        """(status id, Result, stale) of the thread a page names, or a Conversation with its problem."""
        try:
            if thread_reference:
                status_id = status_id_from_reference(thread_reference, self.base_url)
                if status_id is None:
                    return Conversation(None, (), None, False, "not_found")
                chosen_stale = False
            else:
                chosen = self.client.current_thread_id()
                status_id, chosen_stale = chosen.value, chosen.stale
            result = self.client.thread(status_id)
        except NotFound:
            return Conversation(None, (), None, False, "not_found")
        except MastodonError as exc:
            log.warning("conversation unavailable: %s", exc)
            return Conversation(None, (), None, False, "unavailable")
        return status_id, result, result.stale or chosen_stale

    def conversation(self, thread_reference: str | None = None) -> Conversation:
        found = self._thread(thread_reference)
        if isinstance(found, Conversation):
            return found
        status_id, result, stale = found
        rules = self.moderation.get()
        if not rules.known:
            # What staff hid cannot be read: better no replies than replies that were hidden.
            return Conversation(None, (), None, False, "unavailable")
        key = (status_id, result.version, stale, rules.version)
        shaped = self._shaped.get(key)
        if shaped is None:
            # Moderation, sanitizing and shaping run once per version of the thread and of the
            # moderation rules, not once per visitor.
            shaped = self._shape(result, stale, key, rules)
            self._shaped.put(key, shaped)
        return shaped

    def _shape(self, result, stale: bool, key: tuple, rules: "moderation.Rules") -> Conversation:
        moderated = moderation.apply(result.value, rules, home_domain=self.domain, hold_days=self.hold_days)
        shaped = shape_thread(moderated.thread, home_domain=self.domain, images=self.images)
        stand_ins = moderated.stand_ins
        posts, items = [], []
        for post in shaped:
            stand_in = stand_ins.get(post.id)
            if stand_in is not None:
                items.append(HiddenReply(post.id, post.depth, stand_in.reason, stand_in.held))
                continue
            if post.reply_to and post.status.in_reply_to_id in stand_ins:
                post = replace(post, reply_to=None)  # "reply to @…" would name the hidden account
            posts.append(post)
            if post.status.id != moderated.thread.root.id:
                items.append(post)
        return Conversation(moderated.thread, tuple(posts), result.fetched_at, stale, version=key,
                            reply_items=tuple(items), hidden_count=moderated.hidden, held_count=moderated.held)

    # -- what staff see and decide -------------------------------------------------------------
    def staff_thread(self, thread_reference: str | None = None) -> StaffThread:
        """Every public post of the thread a page shows, with what moderation decided about it."""
        found = self._thread(thread_reference)
        if isinstance(found, Conversation):
            return StaffThread(found.problem)
        _status_id, result, _stale = found
        rules = self.moderation.get()
        thread = result.value
        city, home = moderation.acct_key(self.account, self.domain), moderation.domain_key(self.domain)
        posts = []
        for post in shape_thread(thread, home_domain=self.domain, images=self.images):
            is_root = post.status.id == thread.root.id
            key = moderation.account_key(post.status.account, self.domain)
            domain = key.rsplit("@", 1)[1]
            hide = None if is_root else rules.hide_for(post.status, self.domain)
            held = not is_root and hide is None and rules.held(post.status, self.hold_days)
            posts.append(StaffPost(post, is_root, hide, held, rules.approval(post.status.id), key, domain,
                                   by_city=key == city, from_home=domain == home))
        return StaffThread(None, tuple(posts), thread.root.url)

    def shown_threads(self, thread_references: tuple[str, ...] = ()) -> list[Thread]:
        """The unmoderated threads of the current conversation and the given ones (for staff and the CLI)."""
        threads = []
        for reference in (None, *dict.fromkeys(r for r in thread_references if r)):
            found = self._thread(reference)
            if not isinstance(found, Conversation):
                threads.append(found[1].value)
        return threads

    def find_target(self, url: str, thread_references: tuple[str, ...] = ()) -> "moderation.Target":
        """The reply or account a link names (see `moderation.find_target`)."""
        return moderation.find_target(url, self.shown_threads(thread_references), home_url=self.base_url,
                                      home_domain=self.domain, city_account=self.account,
                                      lookup=lambda acct: self.client.lookup_account(acct).value)

    def find_reply(self, post_id_or_url: str, thread_references: tuple[str, ...] = ()) -> Status | None:
        """A reply (not a thread's first post) in the threads we show, by id or by link."""
        for thread in self.shown_threads(thread_references):
            for reply in thread.replies:
                if reply.id == post_id_or_url or moderation.names_post(reply, post_id_or_url, self.base_url):
                    return reply
        return None

    def report_url(self, status: Status) -> str:
        """The post on the home server, where a logged-in resident can report it with Mastodon's own form."""
        return f"{self.base_url}/@{quote(status.account.acct, safe='@._-')}/{quote(status.id, safe='')}"

    # -- kiosks ----------------------------------------------------------------------------------
    KIOSK_FAVOURITE_CHECKS = 10  # at most this many "who favourited it" calls per kiosk page and TTL

    def kiosk_replies(self, conversation: Conversation, mode: str, limit: int) -> list[DisplayPost]:
        """The newest replies a kiosk in a public place may show (PRAATMEE_KIOSK_REPLIES).

        all: every reply not hidden; none: no replies; approved: replies staff approved, replies the
        city's account wrote, and replies it favourited (asked with the public favourited_by call,
        for replies whose favourite count is not 0; at most `KIOSK_FAVOURITE_CHECKS` per page).
        """
        if mode == "none":
            return []
        newest = sorted(conversation.replies, key=lambda post: post.status.created_at, reverse=True)
        if mode == "all":
            return newest[:limit]
        rules = self.moderation.get()
        city = moderation.acct_key(self.account, self.domain)
        chosen, asked = [], 0
        for post in newest:
            status = post.status
            if rules.approval(status.id) or moderation.account_key(status.account, self.domain) == city:
                chosen.append(post)
            elif status.favourites_count > 0 and asked < self.KIOSK_FAVOURITE_CHECKS:
                asked += 1
                if self._favourited_by_city(status.id):
                    chosen.append(post)
            if len(chosen) == limit:
                break
        return chosen

    def _favourited_by_city(self, status_id: str) -> bool:
        # The answer is kept for the thread's TTL, a failure too (the cache keeps only answers), so a
        # server without this call costs one request per reply per TTL, not one per kiosk page.
        kept = self._favourites.get(status_id)
        now = time.time()
        if kept is not None and now < kept[0]:
            return kept[1]
        try:
            city_id = self.client.lookup_account().value.id
            favourited = any(account.id == city_id for account in self.client.favourited_by(status_id).value)
        except MastodonError as exc:
            log.info("could not ask who favourited %s: %s", status_id, exc)
            favourited = False
        self._favourites.put(status_id, (now + self.client.settings.ttl, favourited))
        return favourited

    def find_post(self, post_id: str, thread_references: tuple[str, ...] = ()) -> Status | None:
        """A post we show (the given campaign threads, then the default one); else the first root.

        Only posts already on our pages qualify, so a visitor cannot make us fetch arbitrary ids.
        """
        shown = self.find_shown_post(post_id, thread_references)
        return shown.status if shown is not None else None

    def find_shown_post(self, post_id: str, thread_references: tuple[str, ...] = ()) -> DisplayPost | None:
        """`find_post`, as the page shows it (sanitized, with its display name and handle)."""
        # Moderated conversations: a hidden post can never be the target.
        conversations = [self.conversation(ref) for ref in thread_references if ref] + [self.conversation()]
        for conversation in conversations:
            for post in conversation.posts:
                if post.status.id == post_id:
                    return post
        first = next((c for c in conversations if c.posts), None)
        return first.posts[0] if first else None

    def registration(self, lang: str, invite_url: str | None = None) -> Registration:
        try:
            instance = self.client.instance().value
        except MastodonError as exc:
            log.warning("instance information unavailable: %s", exc)
            return Registration("unknown", signup_url(self.base_url, lang, None, invite_url), None, (), self.domain)
        if not instance.registrations_enabled:
            # Mastodon invite links work even while open sign-up is closed.
            state = "open" if invite_url else "closed"
        elif instance.approval_required:
            state = "approval"
        else:
            state = "open"
        return Registration(state, signup_url(self.base_url, lang, instance, invite_url), instance.min_age,
                            instance.rules, instance.domain or self.domain)

    def account_url(self, acct: str) -> str:
        return f"{self.base_url}/@{acct}"

    def interaction_url(self, post_uri: str) -> str:
        """Where an account on this server replies to ``post_uri`` (any post we show): see `home_interaction_url`."""
        return home_interaction_url(self.base_url, post_uri)


def build_home_server(config, database) -> "HomeServer":
    """The one HomeServer of an app: its last good copies in ``database``, Redis as a shared tier if set."""
    store = DatabaseLastGood(database)
    # Copies of threads we no longer show (names and replies of residents) are not kept for long.
    store.forget_older_than(KEEP_COPIES_DAYS * 24 * 3600, time.time())
    rules = CurrentRules(ModerationStore(database))
    rules.get()  # read at start, while the database is known to answer (start-up just migrated it)
    return HomeServer(config, store, shared_cache_tier(config), rules)


def shared_cache_tier(config):
    """Redis as the cache's shared tier when PRAATMEE_REDIS_URL is set; else None (one cache per process)."""
    if not config.get("REDIS_URL"):
        return None
    from ..mastodon.shared_cache import RedisSharedCache
    # A lock outlives one upstream call (connect + read timeout); waiters give up after that.
    return RedisSharedCache(config["REDIS_URL"], lock_seconds=config["CONNECT_TIMEOUT"] + config["READ_TIMEOUT"] + 2,
                            retry_seconds=config.get("TESTING_REDIS_RETRY_SECONDS", 5.0))
