"""The layers are held by import-linter (pyproject.toml, `lint-imports` in `make test`). These tests
keep its lists complete and prove that it catches what it is there for: Flask reached through a
chain of imports, an import from the web layer, a cycle.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "praatmee_site"
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def contracts() -> list[dict]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]["contracts"]


def top_level() -> set[str]:
    names = {path.stem for path in PACKAGE.glob("*.py") if path.stem != "__init__"}
    names |= {path.name for path in PACKAGE.iterdir() if (path / "__init__.py").is_file()}
    return names


def test_every_domain_package_and_module_is_kept_from_flask():
    [forbidden] = [c for c in contracts() if c["type"] == "forbidden"]
    listed = {name.removeprefix("praatmee_site.") for name in forbidden["source_modules"]}
    assert listed == top_level() - {"web"}
    assert {"flask", "flask_babel", "flask_wtf", "flask_limiter", "praatmee_site.web"} <= set(
        forbidden["forbidden_modules"])


def test_every_package_has_its_layer():
    [layers] = [c for c in contracts() if c["type"] == "layers"]
    assert layers.get("exhaustive") is True
    placed = {name.strip() for layer in layers["layers"] for name in layer.split("|")}
    assert placed == top_level()


def run_lint_imports(tmp_path: Path, change: tuple[str, str] | None = None) -> subprocess.CompletedProcess:
    """lint-imports on a copy of the package, with one line added to one module."""
    copy = tmp_path / "copy"
    shutil.copytree(PACKAGE, copy / "praatmee_site", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    if change is not None:
        module, line = change
        path = copy / "praatmee_site" / module
        path.write_text(path.read_text(encoding="utf-8") + "\n" + line + "\n", encoding="utf-8")
    return subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=copy, capture_output=True, text=True,
                          env={"PYTHONPATH": str(copy), "PATH": "/usr/bin:/bin"}, timeout=120)


def broken_contracts(result: subprocess.CompletedProcess) -> list[str]:
    """The start of each contract's name that lint-imports reports as BROKEN."""
    names = ("The domain never imports Flask", "Layers", "No import cycles")
    return [name for name in names for line in result.stdout.splitlines()
            if line.startswith(name) and line.rstrip().endswith("BROKEN")]


def test_the_contracts_hold_today(tmp_path):
    result = run_lint_imports(tmp_path)
    assert result.returncode == 0, result.stdout[-3000:]


@pytest.mark.parametrize("module, line, broken", [
    # The trap the old hand-written test missed: Flask through another module of ours.
    ("campaigns/rules.py", "from ..web.pages import entry_page  # noqa", "The domain never imports Flask"),
    ("kpi/figures.py", "import flask_babel  # noqa", "The domain never imports Flask"),
    ("mastodon/client.py", "from ..campaigns import rules  # noqa", "Layers"),
    ("clock.py", "from . import db  # noqa", "Layers"),
], ids=["web-through-a-chain", "flask-extension", "home-server-reaching-up", "foundation-reaching-up"])
def test_a_broken_layer_fails_the_contracts(tmp_path, module, line, broken):
    result = run_lint_imports(tmp_path, (module, line))
    assert result.returncode != 0
    assert broken in broken_contracts(result)


def test_a_cycle_between_web_modules_fails_the_contracts(tmp_path):
    # pages is imported by residents; pages importing residents back closes a loop.
    result = run_lint_imports(tmp_path, ("web/pages.py", "from . import residents  # noqa"))
    assert result.returncode != 0 and broken_contracts(result) == ["No import cycles"]
