"""Messages are English msgids, translated where they are shown (`nl` is the default locale).

`N_` marks a msgid for extraction (pybabel knows it by default) without translating it: the
domain has no locale, so it hands msgids and their parameters to the web layer or the CLI, which
translate them. No Flask in this module.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar


def N_(message: str) -> str:
    """Mark ``message`` for the catalog; translate it where it is shown."""
    return message


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input: which field, a machine code, and the values for the message.

    Each rules module subclasses it with its own tables: ``MESSAGES`` ((field, code) → the CLI's
    English msgid) and ``STAFF_MESSAGES`` (the staff form's, which names the field by its label)."""

    MESSAGES: ClassVar[Mapping[tuple[str, str], str]] = {}
    STAFF_MESSAGES: ClassVar[Mapping[tuple[str, str], str]] = {}

    field: str
    code: str
    params: Mapping[str, object] = field(default_factory=dict)

    @property
    def message(self) -> str:
        """The CLI's English msgid; translate it, then fill in `params`."""
        return self.MESSAGES[self.field, self.code]

    @property
    def staff_message(self) -> str:
        """The staff form's English msgid; the CLI's until one is written for the form."""
        return self.STAFF_MESSAGES.get((self.field, self.code)) or self.message

    def __str__(self) -> str:
        return self.message % dict(self.params)


class RuleError(ValueError):
    """The input breaks one or more rules; nothing was changed."""

    def __init__(self, problems: list[Problem] | tuple[Problem, ...]):
        self.problems = tuple(problems)
        super().__init__("; ".join(str(problem) for problem in self.problems))
