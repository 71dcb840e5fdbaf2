"""Throw-away PostgreSQL and Redis servers on loopback, for `make test-pg`, the Redis tests and the drill.

Each lives in a temporary folder of its own, listens on a free 127.0.0.1 port and is stopped and
removed on the way out, also when a test fails or the run is interrupted. initdb refuses to run as
root, so as root PostgreSQL runs as Debian's `postgres` user (or `nobody`). Nothing here is tuned
for durability: fsync is off, because the data is thrown away.

    python -m tests.support.servers postgres [redis] -- COMMAND …

runs COMMAND with PRAATMEE_TEST_DATABASE_URL (and PRAATMEE_TEST_REDIS_URL) set, then cleans up and
exits with COMMAND's exit code.
"""
from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Iterator


class ServerUnavailable(RuntimeError):
    """The server's program is not installed here (the message says what to install)."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- PostgreSQL ----------------------------------------------------------------------------------

def postgres_bin(name: str) -> str:
    """Debian keeps the server's programs out of PATH, in /usr/lib/postgresql/<version>/bin."""
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
                        key=lambda path: int(Path(path).parts[-3]) if Path(path).parts[-3].isdigit() else 0)
    found = candidates[-1] if candidates else shutil.which(name)
    if not found:
        raise ServerUnavailable(f"PostgreSQL's {name} is not installed: apt-get install postgresql")
    return found


def _unprivileged_user() -> pwd.struct_passwd | None:
    """None when we are not root (then we run the server ourselves)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise ServerUnavailable("running as root and there is no 'postgres' or 'nobody' user to run PostgreSQL as")


def _as_user(user: pwd.struct_passwd | None, command: list[str]) -> list[str]:
    if user is None:
        return command
    return ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--clear-groups", "--"] + command


class PostgresCluster:
    """initdb in a temporary folder, loopback only, trust authentication for the superuser `postgres`."""

    def __init__(self, database: str = "praatmee", port: int | None = None) -> None:
        self.database = database
        self.port = port or free_port()
        self.user = _unprivileged_user()
        self.folder = Path(tempfile.mkdtemp(prefix="praatmee-pg-"))
        self.data = self.folder / "data"
        self.log = self.folder / "postgres.log"
        self.running = False

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{self.database}"

    def admin_url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, command: list[str]) -> None:
        env = {**os.environ, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}
        result = subprocess.run(_as_user(self.user, command), env=env, cwd=self.folder, check=False,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(command[:2])} failed ({result.returncode}):\n{result.stdout[-3000:]}")

    def start(self) -> "PostgresCluster":
        initdb, pg_ctl = postgres_bin("initdb"), postgres_bin("pg_ctl")
        if self.user is not None:
            os.chown(self.folder, self.user.pw_uid, self.user.pw_gid)
        self._run([initdb, "-D", str(self.data), "-U", "postgres", "--auth=trust", "--encoding=UTF8",
                   "--locale=C.UTF-8", "--no-sync", "--no-instructions"])
        options = (f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.folder} -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off -c max_connections=300 "
                   "-c shared_buffers=64MB")
        self._run([pg_ctl, "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "-t", "60", "start"])
        self.running = True
        self._create_database()
        return self

    def _create_database(self) -> None:
        import psycopg
        with psycopg.connect(host="127.0.0.1", port=self.port, user="postgres", dbname="postgres",
                             autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{self.database}"')

    def stop(self) -> None:
        if self.running:
            with contextlib.suppress(Exception):
                self._run([postgres_bin("pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop"])
            self.running = False
        shutil.rmtree(self.folder, ignore_errors=True)


@contextlib.contextmanager
def postgres_cluster(database: str = "praatmee") -> Iterator[PostgresCluster]:
    cluster = PostgresCluster(database)
    try:
        yield cluster.start()
    finally:
        cluster.stop()


# --- Redis ---------------------------------------------------------------------------------------

class RedisServer:
    """redis-server without persistence in a temporary folder; `stop()` and `start()` keep the port."""

    def __init__(self, port: int | None = None) -> None:
        self.binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        if not Path(self.binary).exists():
            raise ServerUnavailable("redis-server is not installed: apt-get install redis-server")
        self.port = port or free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="praatmee-redis-"))
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> "RedisServer":
        with open(self.folder / "redis.log", "ab") as log:
            self.process = subprocess.Popen(
                [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.folder),
                 "--save", "", "--appendonly", "no", "--daemonize", "no", "--protected-mode", "yes"],
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited: {(self.folder / 'redis.log').read_text()[-2000:]}")
            with contextlib.suppress(OSError):
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as connection:
                    connection.sendall(b"PING\r\n")
                    if connection.recv(16).startswith(b"+PONG"):
                        return self
            time.sleep(0.05)
        raise RuntimeError("redis-server did not answer within 20 s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self.process = None

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


@contextlib.contextmanager
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer()
    try:
        yield server.start()
    finally:
        server.remove()


# --- the wrapper for `make test-pg` --------------------------------------------------------------

def _interrupted(_signum, _frame) -> None:
    """SIGTERM (CI's timeout, a killed make) must still clean up, as Ctrl-C does."""
    raise KeyboardInterrupt


def main(argv: list[str]) -> int:
    if "--" not in argv:
        print(__doc__, file=sys.stderr)
        return 2
    split = argv.index("--")
    wanted, command = argv[:split], argv[split + 1:]
    if not command or not set(wanted) <= {"postgres", "redis"}:
        print(__doc__, file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, _interrupted)
    with contextlib.ExitStack() as stack:
        env = dict(os.environ)
        if "postgres" in wanted:
            cluster = stack.enter_context(postgres_cluster("praatmee_test"))
            env["PRAATMEE_TEST_DATABASE_URL"] = cluster.url
            print(f"servers: PostgreSQL on 127.0.0.1:{cluster.port} ({cluster.folder})", flush=True)
        if "redis" in wanted:
            redis = stack.enter_context(redis_server())
            env["PRAATMEE_TEST_REDIS_URL"] = redis.url
            print(f"servers: Redis on 127.0.0.1:{redis.port}", flush=True)
        child = subprocess.Popen(command, env=env)
        try:
            return child.wait()
        except KeyboardInterrupt:
            child.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.wait(30)
            if child.poll() is None:
                child.kill()
            return 130


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
