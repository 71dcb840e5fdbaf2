"""The processes a benchmark run starts: the fake home server, gunicorn, wrk; and their clean-up.

Every process is started in its own session and registered here; `stop_all()` (run at exit, on
Ctrl-C and on SIGTERM) ends each one by its own process group id, so nothing outlives the run.
"""
from __future__ import annotations

import atexit
import os
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import requests

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parent
PYTHON = sys.executable

_started: list[subprocess.Popen] = []


def start(cmd: list[str], **kwargs) -> subprocess.Popen:
    process = subprocess.Popen(cmd, start_new_session=True, **kwargs)
    _started.append(process)
    return process


def stop(process: subprocess.Popen, timeout: float = 10) -> None:
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.wait()
    if process in _started:
        _started.remove(process)


def stop_all() -> None:
    for process in list(reversed(_started)):
        stop(process)


def _on_signal(signum, _frame):
    stop_all()
    raise SystemExit(128 + signum)


atexit.register(stop_all)
signal.signal(signal.SIGTERM, _on_signal)
signal.signal(signal.SIGINT, _on_signal)


def clean_environment(**extra: str) -> dict[str, str]:
    """This process's environment without any PRAATMEE_* the caller had set, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PRAATMEE_")}
    env.update(extra)
    return env


# --- the fake home server -------------------------------------------------------------------------

class FakeMastodon:
    """`fake_mastodon.py` in its own process, over HTTPS with a throw-away trustme CA."""

    def __init__(self, workdir: Path):
        import trustme

        ca = trustme.CA()
        certificate = ca.issue_cert("127.0.0.1", "localhost")
        self.ca_path = workdir / "fake-ca.pem"
        self.cert_path = workdir / "fake-cert.pem"
        self.key_path = workdir / "fake-key.pem"
        ca.cert_pem.write_to_path(str(self.ca_path))
        certificate.cert_chain_pems[0].write_to_path(str(self.cert_path))
        certificate.private_key_pem.write_to_path(str(self.key_path))
        self.process = start([PYTHON, str(HERE / "fake_mastodon.py"), "--certfile", str(self.cert_path),
                              "--keyfile", str(self.key_path)], stdout=subprocess.PIPE, text=True)
        line = self.process.stdout.readline()
        if not line.startswith("READY "):
            raise RuntimeError(f"the fake Mastodon did not start: {line!r}")
        self.url = f"https://127.0.0.1:{int(line.split()[1])}"
        self.session = requests.Session()

    def get(self, path: str, **kwargs) -> requests.Response:
        # verify= on each call: a REQUESTS_CA_BUNDLE in the environment would override session.verify.
        return self.session.get(self.url + path, verify=str(self.ca_path), timeout=10, **kwargs)

    def _post(self, path: str, **kwargs) -> requests.Response:
        response = self.session.post(self.url + path, verify=str(self.ca_path), timeout=5, **kwargs)
        response.raise_for_status()
        return response

    def mode(self, name: str, reset_in: float = 90) -> dict:
        return self._post("/__mode", params={"mode": name, "reset_in": reset_in}).json()

    def stats(self) -> dict:
        return self.get("/__stats").json()

    def reset(self) -> None:
        self._post("/__reset")

    def stop(self) -> None:
        stop(self.process)


def site_environment(fake: FakeMastodon, database: Path, **extra: str) -> dict[str, str]:
    return clean_environment(
        PRAATMEE_MASTODON_URL=fake.url,
        PRAATMEE_ACCOUNT="stad",
        PRAATMEE_SECRET_KEY="benchmark-" + os.urandom(16).hex(),
        PRAATMEE_DATABASE_URL=f"sqlite:///{database}",
        PRAATMEE_PUBLIC_URL="https://amsterdam.nl/praatmee",
        REQUESTS_CA_BUNDLE=str(fake.ca_path),
        **extra,
    )


# --- gunicorn -------------------------------------------------------------------------------------

def workers_for_this_machine() -> int:
    return 2 * (os.cpu_count() or 1)


class Gunicorn:
    """gunicorn on a socket we bind ourselves (fd://), so the port is free by construction."""

    def __init__(self, app: str, env: dict[str, str], *, workers: int, chdir: Path = PROJECT,
                 log_path: Path | None = None, ready_path: str = "/"):
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen(2048)
        self.port = listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        log = open(log_path, "ab") if log_path else subprocess.DEVNULL
        self.process = start(
            [PYTHON, "-m", "gunicorn", "--workers", str(workers), "--bind", f"fd://{listener.fileno()}",
             "--chdir", str(chdir), "--log-level", "warning", "--graceful-timeout", "5", app],
            env=env, pass_fds=(listener.fileno(),), stdout=log, stderr=log,
        )
        listener.close()
        if log_path:
            log.close()
        self.workers = workers
        self._wait_ready(ready_path)

    def _wait_ready(self, path: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}; see {self.log_path}")
            try:
                requests.get(self.url + path, timeout=10)
                if len(self.worker_pids()) >= self.workers:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer within {timeout} s; see {self.log_path}")

    def worker_pids(self) -> list[int]:
        try:
            children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text()
        except OSError:
            return []
        return [int(pid) for pid in children.split()]

    def memory(self) -> list[dict]:
        """Peak (VmHWM) and current (VmRSS) resident memory of each worker, in KiB."""
        found = []
        for pid in self.worker_pids():
            status = Path(f"/proc/{pid}/status").read_text()
            fields = dict(re.findall(r"^(VmHWM|VmRSS):\s+(\d+) kB", status, re.M))
            found.append({"pid": pid, "hwm_kib": int(fields["VmHWM"]), "rss_kib": int(fields["VmRSS"])})
        return found

    def pids(self) -> list[int]:
        return [self.process.pid, *self.worker_pids()]

    def stop(self) -> None:
        stop(self.process)


# --- what else the machine was doing -------------------------------------------------------------

_TICK = os.sysconf("SC_CLK_TCK")


def _machine_seconds() -> tuple[float, float]:
    """(busy, steal) CPU seconds of the whole machine since boot, from /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    return (user + nice + system + irq + softirq) / _TICK, steal / _TICK


def _process_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return sum(int(v) for v in fields[11:15]) / _TICK  # utime, stime, cutime, cstime


class OtherCpu:
    """How much CPU other processes used while we measured: busy time of the machine minus ours
    (this process and its waited children such as wrk, plus the given live processes)."""

    def __init__(self, pids) -> None:
        self.pids = pids  # a callable: the live processes we started (gunicorn masters, workers, fake)
        self.start = self._sample()

    def _sample(self) -> tuple[float, float, float, float]:
        busy, steal = _machine_seconds()
        times = os.times()
        ours = times.user + times.system + times.children_user + times.children_system
        ours += sum(_process_seconds(pid) for pid in self.pids())
        return time.monotonic(), busy, steal, ours

    def share(self) -> tuple[float, float]:
        """(other processes, hypervisor steal) as a share of all cores over the interval."""
        end = self._sample()
        capacity = (end[0] - self.start[0]) * (os.cpu_count() or 1)
        other = (end[1] - self.start[1]) - (end[3] - self.start[3])
        return max(0.0, other / capacity), (end[2] - self.start[2]) / capacity


# --- wrk ------------------------------------------------------------------------------------------

@dataclass
class WrkResult:
    url: str
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    requests: int
    seconds: float
    non_2xx_3xx: int
    socket_errors: int
    output: str


# A phone's browser: campaign pages count a scan only for what looks like a person's browser.
BROWSER_AGENT = ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
                 "Chrome/130.0.0.0 Mobile Safari/537.36")

_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(number) * _UNITS[unit]


def wrk(url: str, *, duration: int, connections: int, threads: int | None = None) -> WrkResult:
    threads = threads or min(os.cpu_count() or 1, connections)
    process = start(["wrk", "--latency", "-t", str(threads), "-c", str(connections), "-d", f"{duration}s",
                     "--timeout", "10s", "-H", f"User-Agent: {BROWSER_AGENT}", url],
                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        output, _ = process.communicate(timeout=duration + 60)
    finally:
        stop(process)
    if process.returncode != 0:
        raise RuntimeError(f"wrk failed ({process.returncode}):\n{output}")
    percentiles = dict(re.findall(r"^\s+(50|99)%\s+(\S+)\s*$", output, re.M))
    if len(percentiles) != 2:
        raise RuntimeError(f"unexpected wrk output:\n{output}")
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    return WrkResult(
        url=url,
        requests_per_s=float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        p50_ms=_ms(percentiles["50"]),
        p99_ms=_ms(percentiles["99"]),
        requests=int(re.search(r"(\d+) requests in", output).group(1)),
        seconds=_ms(re.search(r"requests in ([\d.]+(?:us|ms|s|m)),", output).group(1)) / 1000,
        non_2xx_3xx=int(m.group(1)) if (m := re.search(r"Non-2xx or 3xx responses: (\d+)", output)) else 0,
        socket_errors=sum(map(int, socket_errors.groups())) if socket_errors else 0,
        output=output,
    )
