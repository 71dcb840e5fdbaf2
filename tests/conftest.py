"""Shared fixtures: an app on a throw-away database, a mocked home server, a live server and a browser.

The database is a SQLite file in the test's tmp_path, or, when PRAATMEE_TEST_DATABASE_URL names a
PostgreSQL database (`make test-pg` starts one), a schema of its own in that database per test.
"""
from __future__ import annotations

import contextlib
import functools
import gc
import json
import os
import re
import shutil
import threading
from pathlib import Path

import jinja2
import jinja2.bccache
import pytest
import responses
from werkzeug.routing import Rule
from werkzeug.serving import make_server

from praatmee_site import create_app

# The fake fediverse's fixtures (fake_fediverse_server, fediverse, connect_spy) for every test module.
pytest_plugins = ("tests.support.fediverse", "tests.support.crashes")

FIXTURES = Path(__file__).parent / "fixtures"
SHARED_FIXTURES = Path(__file__).resolve().parent / "fixtures" / "shared"
HOME = "https://social.test"
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
CHROMIUM = os.environ.get("PRAATMEE_TEST_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = os.environ.get("PRAATMEE_TEST_SCREENSHOTS", "") not in ("", "0")
# Read once at import: the app fixtures clear PRAATMEE_* from the environment.
TEST_DATABASE_URL = os.environ.get("PRAATMEE_TEST_DATABASE_URL", "")


def fixture_json(name: str):
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


class PostgresSchemas:
    """A fresh schema per test (and name) in the one test database, dropped when the test ends.

    Measured on this machine: a schema, its migrations and its drop take about 60 ms; a database per
    test about 170 ms (also from a migrated template: 140 ms). TRUNCATE would be faster still, but
    tests would then share one migrated schema and never see a fresh database.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.created: dict[str, str] = {}  # tmp_path/name → schema
        self.counter = 0

    def _admin(self):
        import psycopg
        from sqlalchemy.engine import make_url
        parts = make_url(self.url)
        return psycopg.connect(host=parts.host, port=parts.port, user=parts.username, password=parts.password,
                               dbname=parts.database, autocommit=True)

    def url_for(self, tmp_path: Path, name: str) -> str:
        place = f"{tmp_path}/{name}"
        schema = self.created.get(place)
        if schema is None:
            self.counter += 1
            schema = f"t{os.getpid()}_{self.counter}"
            with self._admin() as connection:
                connection.execute(f'CREATE SCHEMA "{schema}"')
            self.created[place] = schema
        # search_path puts every table in the schema; application_name lets teardown find its connections.
        return f"{self.url}?application_name={schema}&options=-csearch_path%3D{schema}"

    def drop_all(self) -> None:
        if not self.created:
            return
        schemas, self.created = list(self.created.values()), {}
        with self._admin() as connection:
            for schema in schemas:
                # Apps of a finished test may still hold pooled connections: close them first.
                connection.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                   "WHERE application_name = %s AND pid <> pg_backend_pid()", (schema,))
                connection.execute("SET lock_timeout = '5s'")
                try:
                    connection.execute(f'DROP SCHEMA "{schema}" CASCADE')
                except Exception:  # noqa: BLE001 - the cluster is thrown away after the run anyway
                    pass


POSTGRES_SCHEMAS = PostgresSchemas(TEST_DATABASE_URL) if TEST_DATABASE_URL.startswith("postgresql") else None


def database_url(tmp_path: Path, name: str = "test") -> str:
    """The test's own database: `name`.sqlite in tmp_path, or a fresh PostgreSQL schema."""
    if POSTGRES_SCHEMAS is not None:
        return POSTGRES_SCHEMAS.url_for(tmp_path, name)
    return f"sqlite:///{tmp_path / (name + '.sqlite')}"


def pytest_collection_finish(session):
    """What collection built (modules, fixtures, ~2,000 test items) lives to the end of the run: kept
    out of the garbage collector's full passes (`gc.freeze`), which walked all of it again and again
    (gen-2 passes 7 s → 4 s per test worker). What a test makes is collected as before, so a file or
    socket it leaks in a reference cycle still warns, and fails, within that test."""
    gc.collect()
    gc.freeze()


def pytest_collection_modifyitems(config, items):
    """Without `make test-pg`'s database, PostgreSQL-only tests are deselected, and the summary says so."""
    if POSTGRES_SCHEMAS is not None:
        return
    chosen = [item for item in items if item.get_closest_marker("postgres") is None]
    left_out = [item for item in items if item.get_closest_marker("postgres") is not None]
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = chosen


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    # Under xdist the workers collect; the summary is written here, by the controller.
    if POSTGRES_SCHEMAS is None and not hasattr(config, "workerinput"):
        terminalreporter.write_line("PostgreSQL-only tests were left out: `make test-pg` runs them")


CALL_REPORT = pytest.StashKey()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """On CI (CI=true) a skip is a failure: a missing Redis or Chromium must not pass quietly."""
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item.stash[CALL_REPORT] = report  # open_page photographs the pages of a failed test
    if report.skipped and os.environ.get("CI", "").lower() == "true" and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped on CI, which must run everything: {reason}"


@pytest.fixture(autouse=True)
def _close_databases(monkeypatch):
    """Every Database a test made (through an app or by hand) gives its pooled connections back at
    the end of the test, so none is garbage-collected while open (a ResourceWarning, so an error)."""
    from praatmee_site import db
    made = []
    real_init = db.Database.__init__

    def init(self, *args, **kwargs):
        real_init(self, *args, **kwargs)
        made.append(self)

    monkeypatch.setattr(db.Database, "__init__", init)
    yield
    for database in made:
        database.engine.dispose()


@pytest.fixture(autouse=True)
def _only_loopback(connect_spy):
    """Every test, not only those that ask: a connect() beyond 127.0.0.0/8 and ::1 fails the test."""
    yield connect_spy


@pytest.fixture(autouse=True)
def _close_pooled_connections(monkeypatch):
    """Every Database a test made (through create_app or directly) lives until the test ends, then
    closes its pool. Left to the garbage collector, a PostgreSQL connection is closed at some moment
    of this or a later test, which then fails on psycopg's ResourceWarning (warnings are errors here).
    """
    from praatmee_site.db import Database
    made: list = []
    original = Database.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        made.append(self)
    monkeypatch.setattr(Database, "__init__", init)
    yield
    for database in made:
        database.engine.dispose()


# Staff passwords in tests: Werkzeug's scrypt with a smaller work factor (about 2 ms instead of 90 ms
# per hash or check); the code path is the same. Tests marked `real_password_cost` keep the site's
# own parameters, and one of them checks what those are (test_staff.py).
CHEAP_SCRYPT = "scrypt:1024:8:1"


@functools.cache
def _cheap_dummy_hash() -> str:
    from werkzeug.security import generate_password_hash
    return generate_password_hash("not a real password", method=CHEAP_SCRYPT)


@pytest.fixture(autouse=True)
def _cheap_staff_passwords(request, monkeypatch):
    if request.node.get_closest_marker("real_password_cost"):
        return
    from praatmee_site.staff import accounts
    monkeypatch.setattr(accounts, "HASH_METHOD", CHEAP_SCRYPT)
    monkeypatch.setattr(accounts, "_DUMMY_HASH", _cheap_dummy_hash())


@pytest.fixture(autouse=True)
def _drop_test_schemas():
    yield
    if POSTGRES_SCHEMAS is not None:
        POSTGRES_SCHEMAS.drop_all()


def base_config(tmp_path: Path, **overrides) -> dict:
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "MASTODON_URL": HOME,
        "ACCOUNT": "stad",
        "PUBLIC_URL": "https://amsterdam.test/praatmee",
        "DATABASE_URL": database_url(tmp_path),
        "TESTING_SYNC_CACHE": True,
        "PAGE_CACHE": 0,  # tests change the fake home server between requests; test_app checks the cache
        "DEMO": False,
    }
    config.update(overrides)
    return config


def _share_url_builders() -> None:
    """Werkzeug's URL builders made once per test process instead of once per rule of every app.

    Each Rule compiles two small functions from generated Python (two thirds of the 22 ms a test's
    `create_app` takes). A builder takes its rule as its first argument and holds nothing of it, so
    the same function serves every rule with the same parts, defaults and mode: that is the key.
    Should Werkzeug change this private method, the suite runs without the sharing."""
    real = getattr(Rule, "_compile_builder", None)
    if real is None or getattr(real, "shared", False):
        return
    builders: dict[tuple, object] = {}

    def compile_builder(self, append_unknown: bool = True):
        defaults = tuple(sorted((name, self._converters[name].to_url(value) if name in self._converters
                                 else repr(value)) for name, value in (self.defaults or {}).items()))
        key = (tuple(self._trace), defaults, append_unknown)
        if key not in builders:
            builders[key] = real(self, append_unknown)
        return builders[key]
    compile_builder.shared = True
    Rule._compile_builder = compile_builder


_share_url_builders()


class CompiledTemplates(jinja2.BytecodeCache):
    """Jinja's compiled templates shared by every app of this test process.

    A site compiles each template once per process; a test's new app would compile it again (about
    8 ms per template). Keyed by Jinja on the template's name and a checksum of its source."""

    def __init__(self) -> None:
        self.code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        if bucket.key in self.code:
            bucket.bytecode_from_string(self.code[bucket.key])

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self.code[bucket.key] = bucket.bytecode_to_string()


COMPILED_TEMPLATES = CompiledTemplates()


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory) -> Path:
    """A SQLite database with every revision applied, made once per test process.

    Each test's app starts on a copy of it, as a site restarts on its own up-to-date database: the
    migrations themselves run for real in test_migrations (fresh, pre-Alembic and v3 snapshots)."""
    from praatmee_site.db import Database
    path = tmp_path_factory.mktemp("migrated") / "template.sqlite"
    database = Database(f"sqlite:///{path}")
    database.upgrade()
    database.engine.dispose()  # the last connection checkpoints the WAL into the file itself
    return path


@pytest.fixture
def make_app(tmp_path, monkeypatch, migrated_sqlite):
    for name in list(os.environ):
        if name.startswith("PRAATMEE_") and name != "PRAATMEE_TEST_CHROMIUM":
            monkeypatch.delenv(name)
    # The test's own instance folder (look-up slots, upgrade locks), never the checkout's.
    monkeypatch.setenv("PRAATMEE_INSTANCE_PATH", str(tmp_path / "instance"))

    def make(**overrides):
        config = base_config(tmp_path, **overrides)
        own = tmp_path / "test.sqlite"
        if config["DATABASE_URL"] == f"sqlite:///{own}" and not own.exists():
            shutil.copyfile(migrated_sqlite, own)
        app = create_app(config)
        app.jinja_env.bytecode_cache = COMPILED_TEMPLATES
        return app
    return make


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


class FakeHome:
    """The home server's API, answered from tests/fixtures through `responses`."""

    def __init__(self, mock: responses.RequestsMock):
        self.mock = mock
        # Only the home server is mocked; the fake fediverse (tests/fediverse.py) is real HTTPS.
        mock.add_passthru(re.compile(r"https://(?!social\.test[/:])"))

    def add(self, path: str, json_body=None, **kwargs):
        """A JSON body, or any `responses` keywords (status, body=an exception, headers, …)."""
        if json_body is not None:
            kwargs["json"] = json_body
        self.mock.add(responses.GET, HOME + path, **kwargs)

    def standard(self, instance: str = "instance_open.json"):
        self.add("/api/v1/accounts/lookup", fixture_json("account_lookup.json"))
        self.add("/api/v1/accounts/1/statuses", fixture_json("statuses_pinned.json"))
        self.add("/api/v1/statuses/100", fixture_json("thread_status.json"))
        self.add("/api/v1/statuses/100/context", fixture_json("thread_context.json"))
        self.add("/api/v2/instance", fixture_json(instance))
        return self

    def accept_posts(self, **options):
        """The write side (POST /api/v1/statuses, the token checks): see tests/support/home_posts.py."""
        from tests.support.home_posts import FakeStatuses
        return FakeStatuses(self.mock, fixture_json("thread_status.json"), **options).install()

    def calls_to(self, path: str) -> int:
        return sum(1 for call in self.mock.calls if call.request.url.split("?")[0] == HOME + path)


@pytest.fixture
def mastodon():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield FakeHome(mock)


@pytest.fixture
def redis_server():
    """A real redis-server of the test's own on a free loopback port (Debian's redis-server)."""
    from tests.support.servers import RedisServer, ServerUnavailable
    try:
        server = RedisServer()
    except ServerUnavailable as exc:
        if os.environ.get("CI"):
            pytest.fail(f"{exc} (.ci/run installs it)")
        pytest.skip(f"{exc}; the Redis tests need a real server")
    try:
        yield server.start()
    finally:
        server.remove()


# --- a live server and a real browser ---------------------------------------------------------

def _whole_answers(app):
    """Each answer read to its end (and its file closed) before the development server writes it.

    Werkzeug's server closes a response (a static file, say) only after it has drained the socket;
    when the browser has already gone (a context closed at the end of a test), that drain raises
    first and the file is left open: a ResourceWarning, so a flaky error in teardown. The site
    streams nothing, so reading the answer first changes nothing a browser can see."""
    def whole(environ, start_response):
        answer = app(environ, start_response)
        try:
            return [b"".join(answer)]
        finally:
            if hasattr(answer, "close"):
                answer.close()
    return whole


class LiveServer:
    def __init__(self, app):
        self.app = app
        self.server = make_server("127.0.0.1", 0, _whole_answers(app), threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.thread.join(5)
        self.server.server_close()


@pytest.fixture
def live_server_for():
    servers = []

    def start(app):
        server = LiveServer(app)
        servers.append(server)
        return server
    yield start
    for server in servers:
        server.stop()


# Chromium reads only the last --disable-features, so this one must repeat the list Playwright passes
# itself (1.65; tests/test_page_pool.py fails when a newer Playwright passes one this list lacks).
PLAYWRIGHT_DISABLED_FEATURES = (
    "AvoidUnnecessaryBeforeUnloadCheckSync", "DestroyProfileOnBrowserClose", "HttpsUpgrades",
    "HttpsFirstBalancedModeAutoEnable", "LensOverlay", "MediaRouter", "PaintHolding", "ThirdPartyStoragePartitioning",
    "AvoidCorsURLLoaderRestartOnRedirect", "TcpPortRandomizationWin", "OptimizationHints",
    "NetworkTimeServiceQuerying", "AimEnabled", "PreconnectToSearch", "msForceBrowserSignIn",
    "msEdgeUpdateLaunchServicesPreferredVersion",
)
# The address bar's drop-downs, which headless never shows, are otherwise a web page kept loaded in a
# renderer of its own: about 25 ms of CPU every second the browser is open.
DISABLED_FEATURES = PLAYWRIGHT_DISABLED_FEATURES + ("WebUIOmniboxPopup", "WebUIOmniboxAimPopup")


@pytest.fixture(scope="session")
def browser():
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: install Debian's chromium (see .ci/run)")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-features=" + ",".join(DISABLED_FEATURES),
                  # No name is ever looked up: whatever a page tries beyond 127.0.0.1 fails at once.
                  "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"],
        )
        yield browser
        browser.close()


class OutsideRequests(list):
    """Every request the page made that did not go to the test server (should stay empty)."""


def new_tab(browser, *, width: int, height: int, javascript: bool):
    """A page in a context of its own (its own cookies and storage)."""
    context = browser.new_context(viewport={"width": width, "height": height}, java_script_enabled=javascript)
    return context.new_page()


class PagePool:
    """Browser tabs kept from one test to the next in this test process, each in its own context.

    A new context and page cost Chromium about 0.55 s of CPU (a fresh renderer process, and axe-core
    compiled anew in it); a page that has been used before costs a tenth of that. A tab goes back to
    the pool only after a test that passed (a failed test's contexts are closed), and only when
    nothing of its test can reach the next one: cookies and permissions cleared, the storage of every
    origin the test served cleared (local storage, IndexedDB, caches), no route left, the tabs the
    test opened itself closed, back on about:blank with the network on. A test that sets anything
    else on its page (a listener, an init script, a default timeout) asks for a context of its own:
    `open_page(..., fresh=True)`.
    """

    def __init__(self, browser) -> None:
        self.browser = browser
        self.free: dict[bool, list] = {True: [], False: []}  # javascript on/off → pages

    def take(self, *, width: int, height: int, javascript: bool):
        if self.free[javascript]:
            page = self.free[javascript].pop()
            page.set_viewport_size({"width": width, "height": height})
            return page
        return new_tab(self.browser, width=width, height=height, javascript=javascript)

    def give_back(self, page, *, javascript: bool, origins: set[str]) -> None:
        context = page.context
        try:
            if page.is_closed():
                raise RuntimeError("the test closed its page")
            for other in context.pages:
                if other != page:
                    other.close()
            page.unroute_all(behavior="ignoreErrors")
            page.goto("about:blank")
            context.set_offline(False)
            context.clear_cookies()
            context.clear_permissions()
            # Local storage, IndexedDB, caches, cookies of every origin the test served (page.route lets
            # no other origin load in this tab); the next test's server may get the same port.
            cdp = context.new_cdp_session(page)
            for origin in origins:
                cdp.send("Storage.clearDataForOrigin", {"origin": origin, "storageTypes": "all"})
            cdp.detach()
        except Exception:  # noqa: BLE001 - a tab that cannot be made clean is not used again
            context.close()
            return
        self.free[javascript].append(page)

    def close(self) -> None:
        for pages in self.free.values():
            for page in pages:
                page.context.close()


@pytest.fixture(scope="session")
def page_pool(browser):
    pool = PagePool(browser)
    yield pool
    pool.close()


@pytest.fixture
def open_page(browser, page_pool, request):
    """A tab on `server_url` at this size; requests elsewhere are recorded in `page.outside_requests`
    and fail (images of `allow_hosts` get a tiny PNG). Tabs come from the worker's `PagePool`;
    `fresh=True` gives a context of the test's own, closed at its end."""
    pooled, own, origins = [], [], set()

    def open_(server_url: str, *, width=1280, height=800, javascript=True, allow_hosts=(), fresh=False):
        if fresh:
            page = new_tab(browser, width=width, height=height, javascript=javascript)
            own.append(page.context)
        else:
            page = page_pool.take(width=width, height=height, javascript=javascript)
            pooled.append((page, javascript))
            origins.add(server_url)
        outside = OutsideRequests()

        def check(route):
            url = route.request.url
            if any(url.startswith(h) for h in allow_hosts):
                route.fulfill(status=200, content_type="image/png", body=TINY_PNG)
            else:
                outside.append(url)
                route.abort()
        # Only what is not the test server (nor a data: URL) comes to Python; Playwright lets the test
        # server's own requests through without asking, as it does for any URL no route matches.
        page.route(re.compile(f"^(?!{re.escape(server_url)}/|data:)"), check)
        page.outside_requests = outside
        return page
    yield open_
    report = request.node.stash.get(CALL_REPORT, None)
    failed = report is None or report.failed  # no report: the test never ran its body
    if failed and report is not None:  # what the failing test saw, page by page
        name = re.sub(r"[^\w.-]+", "_", request.node.name)
        pages = [p for context in [page.context for page, _ in pooled] + own for p in context.pages]
        for number, page in enumerate(pages):
            _photograph(page, f"failed_{name}_{number}")
    for page, javascript in pooled:
        if failed:
            page.context.close()
        else:
            page_pool.give_back(page, javascript=javascript, origins=origins)
    for context in own:
        context.close()


def _photograph(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    except Exception as exc:  # noqa: BLE001 - a page that is gone has nothing to show
        print(f"no screenshot {name}: {exc}")


def screenshot(page, name: str) -> None:
    """A picture of the page for people to look at, in artifacts/, with PRAATMEE_TEST_SCREENSHOTS=1
    (`make screenshots`); a failed browser test photographs its pages either way. No test reads these."""
    if SCREENSHOTS:
        _photograph(page, name)


# The rules every page must pass: WCAG 2.0, 2.1 and 2.2, levels A and AA.
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]},
               "resultTypes": ["violations"]}  # passes and inapplicable rules are not sent back


@functools.cache
def _axe_source() -> str:
    from axe_playwright_python.sync_playwright import Axe
    return Axe().axe_script  # the axe-core release the package bundles


def run_axe(page) -> list:
    """axe-core's violations on the page as it is now (an empty list is a pass)."""
    page.wait_for_load_state("load")  # a half-laid-out page gives false target-size findings
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(_axe_source())
    return page.evaluate("options => axe.run(document, options).then(results => results.violations)", AXE_OPTIONS)


class Findings(list):
    """What a walk over pages or sizes found wrong, each line saying where. The test asserts it is empty
    once, at its end, so one failing page does not hide the next."""

    def axe(self, page, where: str) -> None:
        """axe-core's violations on the page as it is now, if any."""
        violations = run_axe(page)
        if violations:
            self.append(f"{where}: {describe_violations(violations)}")

    @contextlib.contextmanager
    def at(self, where: str):
        """A failed assertion in this block is written down, and the walk goes on."""
        try:
            yield
        except AssertionError as failed:
            self.append(f"{where}: {failed}")


def describe_violations(violations) -> str:
    return "\n".join(f"{v['id']}: {v['help']} → {[(n['target'], n.get('failureSummary', '')[:200]) for n in v['nodes']][:5]}"
                     for v in violations)


# A 1×1 transparent PNG, for image requests to the (fake) home server in browser tests.
TINY_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)
