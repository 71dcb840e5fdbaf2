"""Where the files the app reads at run time live: templates, static files, catalogs and fonts.

In a wheel they are inside the package (`praatmee_site/templates`, …: pyproject.toml maps the
top-level folders there); in a source checkout, and with `pip install -e`, they are the top-level
folders themselves. `missing()` says what is not there, so start-up can stop with one line instead
of answering 500 on every page. No Flask in this module.
"""
from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
CHECKOUT = PACKAGE.parent


def _folder(name: str) -> Path:
    inside = PACKAGE / name
    return inside if inside.is_dir() else CHECKOUT / name


TEMPLATES = _folder("templates")
STATIC = _folder("static")
TRANSLATIONS = _folder("translations")
FONTS = STATIC / "fonts"
# What start-up needs, with the file that proves each one is there.
REQUIRED = {
    "templates": TEMPLATES / "base.html",
    "the Dutch catalog (compile it: pybabel compile -d translations)":
        TRANSLATIONS / "nl" / "LC_MESSAGES" / "messages.mo",
    "the English catalog (compile it: pybabel compile -d translations)":
        TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.mo",
    "static files": STATIC / "css" / "site.css",
    "the poster fonts": FONTS / "LiberationSans-Bold.ttf",
}


def missing() -> list[str]:
    """What the app cannot run without and cannot find, as words for the operator."""
    return [f"{what} ({path})" for what, path in REQUIRED.items() if not path.is_file()]
