"""The home Mastodon server, seen from our side: typed entities, the client and its caches.

`entities` parses every answer once into frozen dataclasses, `client` makes the calls (timeouts,
stale-on-error cache, one shared 429 pause), `cache` and `shared_cache` keep the answers, `demo`
answers from bundled example data. No Flask in this package.
"""
from .client import *  # noqa: F401,F403 - the package's public face: MastodonClient, Status, …
from .entities import *  # noqa: F401,F403
