"""The domain logic does not import Flask (STYLE.md): only the web layer knows it is a web app."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "praatmee_site"
DOMAIN_MODULES = ["mastodon", "cache", "content", "interact", "netguard", "posters", "campaigns", "kpi", "charts",
                  "exports", "staff_accounts", "shared_cache", "demo", "login_limits"]


@pytest.mark.parametrize("module", DOMAIN_MODULES)
def test_domain_module_does_not_import_flask(module):
    tree = ast.parse((PACKAGE / f"{module}.py").read_text(encoding="utf-8"))
    imported = {
        (node.module or "") if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))
        for alias in node.names
    }
    assert not any(name.split(".")[0] in ("flask", "flask_babel", "flask_wtf", "flask_limiter") for name in imported)
