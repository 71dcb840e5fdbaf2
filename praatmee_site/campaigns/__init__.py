"""Campaigns: a slug per place or event, with its own call to action and thread, posters and scans.

`rules` holds every rule about a campaign (the CLI and the staff pages share its structured
problems), `store` keeps them, `scans` counts visits without tracking anyone, `posters` and
`printed` draw what goes on paper. No Flask in this package.
"""
from .rules import *  # noqa: F401,F403 - the package's public face: campaigns.clean, campaigns.today, …
from .rules import _well_formed  # noqa: F401
from .scans import *  # noqa: F401,F403
from .store import *  # noqa: F401,F403
