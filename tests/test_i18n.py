"""Every catalog is complete, and no string in the code or templates is missing from them."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
CATALOGS = sorted((ROOT / "translations").glob("*/LC_MESSAGES/messages.po"))


def load(path: Path):
    with path.open("rb") as handle:
        return read_po(handle)


def test_there_is_a_dutch_and_an_english_catalog():
    assert {p.parts[-3] for p in CATALOGS} >= {"nl", "en"}


@pytest.mark.parametrize("path", CATALOGS, ids=lambda p: p.parts[-3])
def test_catalog_has_no_untranslated_or_fuzzy_entries(path):
    problems = []
    for message in load(path):
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy or not all(strings):
            problems.append(message.id)
    assert problems == [], f"{path.parts[-3]}: untranslated or fuzzy: {problems}"


@pytest.mark.parametrize("path", CATALOGS, ids=lambda p: p.parts[-3])
def test_placeholders_survive_translation(path):
    import re
    for message in load(path):
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = set(re.findall(r"%\(\w+\)[sd]", ids[0]))
        for string in strings:
            assert set(re.findall(r"%\(\w+\)[sd]", string)) == wanted, (message.id, string)


def test_code_and_templates_hold_no_string_the_catalogs_lack(tmp_path):
    pot = tmp_path / "fresh.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract", "-F", str(ROOT / "babel.cfg"),
                    "-k", "_l", "-k", "lazy_gettext", "-o", str(pot), str(ROOT)],
                   check=True, capture_output=True, cwd=ROOT)
    wanted = {m.id if isinstance(m.id, str) else m.id[0] for m in load(pot) if m.id}
    for path in CATALOGS:
        have = {m.id if isinstance(m.id, str) else m.id[0] for m in load(path) if m.id}
        missing = sorted(wanted - have)
        assert missing == [], f"{path.parts[-3]} lacks {missing}: run `make update-messages` and translate"
