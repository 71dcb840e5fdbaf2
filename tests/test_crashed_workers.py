"""A test worker that dies is reported with the reason, and its test gets one more go in a fresh
worker (tests/support/crashes.py): a real segfault, in a real xdist run, in a subprocess."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CRASHING = '''
import ctypes, faulthandler, os
from pathlib import Path

def test_crashes_the_first_time(tmp_path_factory):
    mark = Path(os.environ["CRASH_MARK"])
    if not mark.exists():
        mark.write_text("crashed once")
        ctypes.string_at(0)  # a segfault, as a C library with a bug would give

def test_crashes_every_time():
    if os.environ.get("CRASH_ALWAYS"):
        faulthandler._sigsegv()

def test_fails_plainly():
    assert os.environ.get("FAIL_PLAINLY") is None
'''


def run(tmp_path: Path, **env) -> subprocess.CompletedProcess:
    (tmp_path / "test_crashing.py").write_text(textwrap.dedent(CRASHING))
    environment = {key: value for key, value in os.environ.items() if not key.startswith("PRAATMEE_TEST_")}
    environment |= {"PYTHONPATH": str(ROOT), "CRASH_MARK": str(tmp_path / "mark")} | env
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-n", "1", "-p", "tests.support.crashes", "-p", "no:cacheprovider",
         "-p", "no:randomly", "-q", "-o", "addopts=", "-W", "default", "--rootdir", str(tmp_path), str(tmp_path)],
        cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=120)


def test_a_test_that_crashed_once_runs_again_and_passes(tmp_path):
    result = run(tmp_path)
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    assert "3 passed" in out and "1 rerun" in out
    assert "crashed 1x while running test_crashing.py::test_crashes_the_first_time" in out
    assert "Fatal Python error: Segmentation fault" in out  # the worker's own traceback, kept for us
    assert "test_crashing.py\", line" in out  # the line it died on
    assert "pluggy" not in out.split("test workers that crashed")[1]  # the runner's own frames left out


def test_a_test_that_crashes_again_fails_and_a_plain_failure_is_not_run_again(tmp_path):
    result = run(tmp_path, CRASH_ALWAYS="1", FAIL_PLAINLY="1")
    out = result.stdout + result.stderr
    assert result.returncode == 1, out
    assert "crashed 2x while running test_crashing.py::test_crashes_every_time" in out
    assert "FAILED test_crashing.py::test_crashes_every_time" in out
    assert out.count("FAILED test_crashing.py::test_fails_plainly") == 1
    assert "while running test_crashing.py::test_fails_plainly" not in out  # a failure is not run again
    assert "2 failed, 1 passed, 2 rerun" in out
