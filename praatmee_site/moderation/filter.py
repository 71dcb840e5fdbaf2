"""Moderation applied to a thread, before anything is sanitized or shaped for display.

What comes out holds nothing of a hidden reply but its place: a reply that others answered keeps a
stand-in (its id, its parent, its time; no text, no name, no media), so the answers stay in their
place under a one-line note. A hidden reply nobody answered is simply not there. Counts are made
honest: a post's reply count leaves out its hidden answers. No Flask in this module.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Mapping

from ..mastodon import Account, Status, Thread
from .rules import Rules

_NOBODY = Account(id="", username="", acct="", display_name="", url="")


@dataclass(frozen=True)
class StandIn:
    """Where a hidden (or held) reply was. `reason` is the hide's reason; empty while it is held."""

    id: str
    reason: str
    held: bool


@dataclass(frozen=True)
class Moderated:
    thread: Thread
    stand_ins: Mapping[str, StandIn] = field(default_factory=dict)
    hidden: int = 0  # replies hidden (post, account or server), answered or not
    held: int = 0  # replies waiting for approval (new accounts)


def _stand_in_status(status: Status) -> Status:
    """Only what keeps the tree in shape: nothing a stranger wrote survives."""
    return Status(id=status.id, uri="", url="", created_at=status.created_at, account=_NOBODY, content="",
                  visibility=status.visibility, in_reply_to_id=status.in_reply_to_id)


def apply(thread: Thread, rules: Rules, *, home_domain: str, hold_days: int = 0) -> Moderated:
    """The thread as residents may see it under `rules` (see the module's docstring)."""
    decided: dict[str, StandIn] = {}
    for reply in thread.replies:
        hide = rules.hide_for(reply, home_domain)
        if hide is not None:
            decided[reply.id] = StandIn(reply.id, hide.reason, held=False)
        elif rules.held(reply, hold_days):
            decided[reply.id] = StandIn(reply.id, "", held=True)
    if not decided:
        return Moderated(thread)

    root_id = thread.root.id
    known = {root_id} | {reply.id for reply in thread.replies}
    # As `display.shape_thread` hangs them: a reply whose parent we do not have goes under the root.
    parent = {reply.id: reply.in_reply_to_id if reply.in_reply_to_id in known else root_id
              for reply in thread.replies}
    answered: set[str] = set()  # decided replies with a visible reply somewhere below them
    for reply in thread.replies:
        if reply.id in decided:
            continue
        above, seen = parent[reply.id], set()
        while above != root_id and above not in seen:
            seen.add(above)
            if above in decided:
                if above in answered:
                    break  # everything above it was marked by an earlier walk
                answered.add(above)
            above = parent.get(above, root_id)

    taken: dict[str, int] = {}  # direct answers left out, per post
    for reply_id in decided:
        taken[parent[reply_id]] = taken.get(parent[reply_id], 0) + 1

    def honest(status: Status) -> Status:
        left_out = taken.get(status.id, 0)
        return replace(status, replies_count=max(0, status.replies_count - left_out)) if left_out else status

    replies = []
    for reply in thread.replies:
        if reply.id not in decided:
            replies.append(honest(reply))
        elif reply.id in answered:
            replies.append(_stand_in_status(reply))
    held = sum(1 for stand_in in decided.values() if stand_in.held)
    return Moderated(
        thread=Thread(root=honest(thread.root), replies=tuple(replies), incomplete=thread.incomplete),
        stand_ins={reply_id: decided[reply_id] for reply_id in answered},
        hidden=len(decided) - held,
        held=held,
    )
