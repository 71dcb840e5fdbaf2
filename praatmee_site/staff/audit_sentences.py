"""How each entry of the audit log reads on the staff page: one sentence per action, as English msgids.

The log stores the raw code (`campaign.create`, `staff.password`, …); the page shows the sentence in
its own language, the CSV/JSON export keeps the code for scripts. A new action needs one line in
`SENTENCES` (tests/test_audit_sentences.py fails for an action that is recorded anywhere in the code
without one). No Flask in this module.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..messages import N_

# The actor of everything done with `flask …` on the server (there is no one logged in there).
CLI_ACTOR = "cli"
# How an entry's `detail` fills %(detail)s: as it is, as field codes (shown by their labels), as an ISO day.
TEXT, FIELDS, DAY = "text", "fields", "day"


@dataclass(frozen=True)
class Sentence:
    """%(who)s is the person (or "someone on the command line"), %(subject)s what the action was about
    (%(action)s, the raw code, is there too but only the fallback for an unknown action shows it)."""

    text: str
    # With a `detail` kind, `text` also has %(detail)s; `short` is for an entry whose detail is empty
    # or in an older form the page cannot read.
    detail: str | None = None
    short: str | None = None
    # A code in front of the subject that the sentence says in words itself: "outcome 12" → "12".
    subject_prefix: str = ""


SENTENCES: dict[str, Sentence] = {
    "campaign.create": Sentence(N_("%(who)s made the campaign %(subject)s (%(detail)s)"), TEXT,
                                N_("%(who)s made the campaign %(subject)s")),
    "campaign.update": Sentence(N_("%(who)s changed the campaign %(subject)s: %(detail)s"), FIELDS,
                                N_("%(who)s changed the campaign %(subject)s")),
    "campaign.end": Sentence(N_("%(who)s ended the campaign %(subject)s: %(detail)s was its last day"), DAY,
                             N_("%(who)s ended the campaign %(subject)s")),
    "staff.add": Sentence(N_("%(who)s gave %(subject)s a staff account")),
    "staff.remove": Sentence(N_("%(who)s removed the staff account of %(subject)s")),
    "staff.password": Sentence(N_("New password for %(subject)s, set by %(who)s")),
    "staff.login": Sentence(N_("%(who)s logged in")),
    "staff.logout_everywhere": Sentence(N_("%(who)s logged out on every computer")),
    "kpi.collect": Sentence(N_("%(who)s updated the KPI figures")),
    "outcome.add": Sentence(N_("%(who)s added outcome %(subject)s"), subject_prefix="outcome "),
    "outcome.update": Sentence(N_("%(who)s changed outcome %(subject)s"), subject_prefix="outcome "),
    "outcome.remove": Sentence(N_("%(who)s removed outcome %(subject)s"), subject_prefix="outcome "),
    "outcome.publish_attempt": Sentence(N_("%(who)s started to post outcome %(subject)s in its thread on Mastodon"),
                                        subject_prefix="outcome "),
    "outcome.published": Sentence(N_("Outcome %(subject)s is in its thread on Mastodon, posted by %(who)s"),
                                  subject_prefix="outcome "),
    "outcome.publish_failed": Sentence(N_("Outcome %(subject)s could not be posted on Mastodon (tried by %(who)s)"),
                                       subject_prefix="outcome "),
    # Moderation: the subject is the post, account or server; the detail says what and why.
    "moderation.hide_post": Sentence(N_("%(who)s hid the reply %(subject)s (%(detail)s)"), TEXT,
                                     N_("%(who)s hid the reply %(subject)s")),
    "moderation.hide_account": Sentence(N_("%(who)s hid every post of the account %(subject)s (%(detail)s)"), TEXT,
                                        N_("%(who)s hid every post of the account %(subject)s")),
    "moderation.hide_domain": Sentence(N_("%(who)s hid every post from the server %(subject)s (%(detail)s)"), TEXT,
                                       N_("%(who)s hid every post from the server %(subject)s")),
    "moderation.unhide_post": Sentence(N_("%(who)s showed the reply %(subject)s again")),
    "moderation.unhide_account": Sentence(N_("%(who)s showed the posts of the account %(subject)s again")),
    "moderation.unhide_domain": Sentence(N_("%(who)s showed the posts from the server %(subject)s again")),
    "moderation.approve": Sentence(N_("%(who)s approved the reply %(subject)s for kiosk screens")),
    "moderation.withdraw_approval": Sentence(N_("%(who)s withdrew the kiosk approval of the reply %(subject)s")),
}
# An action nobody wrote a sentence for yet still reads as something, never as an error page.
UNKNOWN = Sentence(N_("%(who)s: %(action)s %(subject)s (%(detail)s)"), TEXT, N_("%(who)s: %(action)s %(subject)s"))
CLI_WHO = N_("someone on the command line")

# Dutch and English name particles that stay lower case inside a name ("Anna de Vries").
_PARTICLES = frozenset({"van", "de", "der", "den", "het", "ten", "ter", "te", "in", "t", "op", "la", "le", "du"})


def sentence_for(action: str) -> Sentence:
    return SENTENCES.get(action, UNKNOWN)


def is_cli(actor: str) -> bool:
    return actor == CLI_ACTOR


def person_name(actor: str) -> str:
    """A readable name from a staff e-mail address: anna.de.vries@… → "Anna de Vries", j.jansen@… → "J. Jansen"."""
    local = actor.split("@", 1)[0]
    words = [word for word in re.split(r"[._+\-]+", local) if word]
    if not words:
        return actor
    named = []
    for index, word in enumerate(words):
        if len(word) == 1 and word.isalpha():
            named.append(word.upper() + ".")
        elif index > 0 and word.lower() in _PARTICLES:
            named.append(word.lower())
        else:
            named.append(word[:1].upper() + word[1:])
    return " ".join(named)
