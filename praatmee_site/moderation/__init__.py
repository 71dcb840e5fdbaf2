"""Moderation: the city decides what its own pages show, in seconds, on every screen, with a record.

`rules` holds every rule (what can be hidden, with which reason; structured problems the CLI and
the staff pages share), `store` keeps the decisions and gives every worker the current ones,
`filter` applies them to a thread before anything is shaped for display. It sits below
`conversation`, which applies it to every page. No Flask in this package.
"""
from .filter import *  # noqa: F401,F403 - the package's public face: moderation.apply, moderation.Rules, …
from .rules import *  # noqa: F401,F403
from .store import *  # noqa: F401,F403
