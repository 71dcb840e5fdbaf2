"""Outcomes: "Je zei, wij deden" — what came of residents' input, per campaign or per thread.

`rules` holds every rule about an outcome (structured problems, shared by the CLI and the staff
forms), `store` keeps them with the audit log and builds the timelines, `text` turns staff's plain
text into paragraphs and links, `publish` posts an outcome as the city's reply in its thread.
No Flask in this package.
"""
from .publish import PUBLISH_MESSAGES, TOKEN_PROBLEMS, Preview, Publisher, PublishError, outcome_link  # noqa: F401
from .rules import *  # noqa: F401,F403 - the package's public face: outcomes.STATUSES, outcomes.clean, …
from .store import *  # noqa: F401,F403
from .text import Piece, paragraphs  # noqa: F401
