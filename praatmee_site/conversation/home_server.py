"""The home server as the pages see it: the current conversation and the registration state.

One `MastodonClient` per process (`build_home_server`), whose results and failures become what a
page shows: posts, or a calm message. Never raises for an upstream fault. No Flask in this module.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from urllib.parse import quote, urlencode, urlsplit

import requests

from ..db import DatabaseLastGood
from ..kept import KeptCopies
from ..mastodon import (ClientSettings, Instance, MastodonClient, MastodonError, NotFound, Status, Thread,
                        Unavailable, status_id_from_reference)
from ..mastodon.cache import UpstreamCache
from ..version import user_agent
from .display import DisplayPost, ImagePolicy, shape_thread

log = logging.getLogger(__name__)
KEEP_COPIES_DAYS = 7


@dataclass(frozen=True)
class Conversation:
    """What the conversation region shows. `problem` is None, "unavailable" or "not_found"."""

    thread: Thread | None
    posts: tuple[DisplayPost, ...]
    fetched_at: float | None
    stale: bool
    problem: str | None = None
    version: tuple = ()  # changes with every upstream answer behind it; keys rendered fragments

    @property
    def root(self) -> DisplayPost | None:
        return self.posts[0] if self.posts else None

    @property
    def replies(self) -> tuple[DisplayPost, ...]:
        return self.posts[1:]


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

    def __init__(self, config, store=None, shared=None) -> None:
        self.base_url = config["MASTODON_URL"]
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
        self.images = ImagePolicy.for_urls(self.base_url, config.get("MEDIA_URL"))

    def conversation(self, thread_reference: str | None = None) -> Conversation:
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
        stale = result.stale or chosen_stale
        key = (status_id, result.version, stale)
        shaped = self._shaped.get(key)
        if shaped is None:
            # Sanitizing and shaping run once per version of the thread, not once per visitor.
            posts = shape_thread(result.value, home_domain=self.domain, images=self.images)
            shaped = Conversation(result.value, tuple(posts), result.fetched_at, stale, version=key)
            self._shaped.put(key, shaped)
        return shaped

    def find_post(self, post_id: str, thread_references: tuple[str, ...] = ()) -> Status | None:
        """A post we show (the given campaign threads, then the default one); else the first root.

        Only posts already on our pages qualify, so a visitor cannot make us fetch arbitrary ids.
        """
        shown = self.find_shown_post(post_id, thread_references)
        return shown.status if shown is not None else None

    def find_shown_post(self, post_id: str, thread_references: tuple[str, ...] = ()) -> DisplayPost | None:
        """`find_post`, as the page shows it (sanitized, with its display name and handle)."""
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
    return HomeServer(config, store, shared_cache_tier(config))


def shared_cache_tier(config):
    """Redis as the cache's shared tier when PRAATMEE_REDIS_URL is set; else None (one cache per process)."""
    if not config.get("REDIS_URL"):
        return None
    from ..mastodon.shared_cache import RedisSharedCache
    # A lock outlives one upstream call (connect + read timeout); waiters give up after that.
    return RedisSharedCache(config["REDIS_URL"], lock_seconds=config["CONNECT_TIMEOUT"] + config["READ_TIMEOUT"] + 2,
                            retry_seconds=config.get("TESTING_REDIS_RETRY_SECONDS", 5.0))
