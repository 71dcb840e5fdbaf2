"""When a test worker dies (a segfault in a C library, or a kill from outside), say how, and give the
test one more go in a fresh worker.

A crash is not an assertion: xdist only learns "worker 'gw0' crashed while running X", which tells
nobody why. Here every worker writes Python's faulthandler traceback (all threads) to its own file,
and the controller prints those files in the summary, so the next crash names the library and line.
The crashed test is scheduled once more in a new worker; if it crashes again it fails. Failures and
errors are never run again: only a dead worker is.
"""
from __future__ import annotations

import faulthandler
import os
import shutil
import tempfile
from pathlib import Path

import pytest

_FOLDER = "PRAATMEE_TEST_CRASH_LOGS"
_crashed: dict[str, int] = {}
_RUNNER = ("_pytest", "pluggy", "execnet", "xdist")


def pytest_configure(config):
    if not hasattr(config, "workerinput") and _FOLDER not in os.environ:
        # The controller: the workers it starts inherit the folder, and it removes it at the end.
        os.environ[_FOLDER] = config._praatmee_crash_folder = tempfile.mkdtemp(prefix="praatmee-crashes-")


def pytest_sessionstart(session):
    worker = getattr(session.config, "workerinput", None)
    if worker is None or _FOLDER not in os.environ:
        return
    # One file per worker process (a restarted gw0 gets a new one): opened for good, as faulthandler
    # needs a file it can write to from a signal handler.
    log = open(Path(os.environ[_FOLDER]) / f"{worker['workerid']}-{os.getpid()}.log", "w")  # noqa: SIM115
    session.config._praatmee_crash_log = log
    faulthandler.enable(file=log, all_threads=True)


def pytest_unconfigure(config):
    log = getattr(config, "_praatmee_crash_log", None)
    if log is not None:
        faulthandler.disable()
        log.close()
        if os.path.getsize(log.name) == 0:
            os.unlink(log.name)
    folder = getattr(config, "_praatmee_crash_folder", None)
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)
        del os.environ[_FOLDER]


@pytest.hookimpl(optionalhook=True)
def pytest_handlecrashitem(crashitem, report, sched):
    _crashed[crashitem] = _crashed.get(crashitem, 0) + 1
    if _crashed[crashitem] == 1:
        try:
            sched.mark_test_pending(crashitem)
        except NotImplementedError:  # a scheduler that cannot (--dist loadscope): it stays a failure
            return
        report.outcome = "rerun"


def pytest_report_teststatus(report, config):
    if report.outcome == "rerun":
        return "rerun", "R", ("CRASHED, RUN AGAIN", {"yellow": True})
    return None


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if hasattr(config, "workerinput") or not _crashed:
        return
    terminalreporter.section("test workers that crashed", yellow=True)
    for nodeid, times in _crashed.items():
        terminalreporter.write_line(f"crashed {times}x while running {nodeid}"
                                    + (" (then run again in a fresh worker)" if times == 1 else ""))
    folder = Path(os.environ.get(_FOLDER, "/nonexistent"))
    logs = sorted(path for path in folder.glob("*.log") if path.stat().st_size) if folder.is_dir() else []
    for path in logs:
        terminalreporter.write_line(f"--- faulthandler, {path.name} ---")
        # The frames of the test runner itself (pytest, pluggy, execnet, xdist) say nothing: left out.
        lines = [line for line in path.read_text(errors="replace").splitlines()
                 if not any(f"/{noise}/" in line for noise in _RUNNER)]
        terminalreporter.write_line("\n".join(lines[:200]))
    if not logs:
        terminalreporter.write_line("no faulthandler traceback: the worker was killed from outside "
                                    "(SIGKILL, e.g. the kernel's out-of-memory killer), not by a crash inside")
