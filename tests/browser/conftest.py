"""Browser-test harness: a live server, Debian's Chromium driven by Playwright, strict page fixtures.

Every test here is marked `browser`. Without /usr/bin/chromium or the playwright package the tests
skip, unless REQUIRE_BROWSER=1 (CI), where they fail. Every page fixture fails its test when the
browser logged a console error or an uncaught exception, and saves a full-page screenshot under
test-artifacts/screenshots/.

Two live servers: `live_server` (seeded pools, an admin user, DEMO_TRADES back-dated demo trades from
demo.simulate) for `page`/`phone_page`, which are signed in as that admin; `empty_live_server` (no trades) for
empty states, opened with `fresh_page`/`fresh_phone_page` and `sign_in(page, url)`.
"""
from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
REPO_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT_DIR = REPO_ROOT / "test-artifacts" / "screenshots"
DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}
BROWSER_DIR = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test under tests/browser with `browser`."""
    for item in items:
        if BROWSER_DIR in item.path.resolve().parents:
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """Fail a browser test, as a failure of the test itself, when one of its pages logged a console error."""
    result = yield
    funcargs = getattr(item, "funcargs", {})
    for name in ("page", "phone_page", "fresh_page", "fresh_phone_page"):
        errors = getattr(funcargs.get(name), "console_errors", None)
        if errors:
            page_errors = list(errors)
            errors.clear()  # reported here; teardown only reports errors that arrive later
            pytest.fail(f"the browser recorded console errors on `{name}`:\n  " + "\n  ".join(page_errors),
                        pytrace=False)
    return result


def _browser_unavailable_reason() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} is missing (apt-get install -y chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as exc:
        return f"the playwright package cannot be imported ({exc}); pip install -r requirements-dev.txt"
    return None


def _require_browser() -> None:
    """Skip (or, with REQUIRE_BROWSER=1, fail) when Chromium or Playwright is missing."""
    reason = _browser_unavailable_reason()
    if reason is None:
        return
    if os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail(f"REQUIRE_BROWSER=1 but browser tests cannot run: {reason}", pytrace=False)
    pytest.skip(f"browser tests skipped: {reason}")


def _free_port() -> int:
    """An unused TCP port on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


ADMIN_USER, ADMIN_PASSWORD = "desk-admin", "browser-tests-password"
DEMO_TRADES, DEMO_DAYS, DEMO_SEED = 80, 7, 7


def _make_app(db_path: str, demo_trades: int, **overrides: Any) -> Any:
    """The real app (CSRF on, fresh migrated and seeded SQLite, one admin user), with demo trades if asked;
    `overrides` go into its config (e.g. the job runner's backend)."""
    from app import create_app

    app = create_app({
        "TESTING": False,
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_path}",
        "SECRET_KEY": "browser-tests",
        "WTF_CSRF_ENABLED": True,
        **overrides,
    })
    with app.app_context():
        from services import accounts
        from services.seed import init_database

        init_database()
        accounts.create_user(ADMIN_USER, "admin", ADMIN_PASSWORD)
        if demo_trades:
            from cli.demo import simulate

            simulate(demo_trades, days=DEMO_DAYS, seed=DEMO_SEED)
    return app


@contextlib.contextmanager
def _serving(app: Any) -> Iterator[str]:
    """Serve `app` on a free port of 127.0.0.1 in a thread; yields its base URL."""
    from werkzeug.serving import make_server

    port = _free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name=f"browser-live-server-{port}", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        with app.app_context():
            from models import db

            db.engine.dispose()


@pytest.fixture(scope="session")
def live_app() -> Iterator[Any]:
    """The app behind `live_server`: seeded pools, an admin user and DEMO_TRADES back-dated demo trades."""
    _require_browser()
    tmp = tempfile.mkdtemp(prefix="olr-browser-")
    try:
        yield _make_app(f"{tmp}/browser.db", DEMO_TRADES)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(scope="session")
def live_server(live_app: Any) -> Iterator[str]:
    """`live_app` served on 127.0.0.1; yields its base URL."""
    with _serving(live_app) as url:
        yield url


@pytest.fixture(scope="session")
def empty_live_server() -> Iterator[str]:
    """A second live app on a fresh database with no trades (empty states); yields its base URL."""
    _require_browser()
    tmp = tempfile.mkdtemp(prefix="olr-browser-empty-")
    try:
        with _serving(_make_app(f"{tmp}/empty.db", 0)) as url:
            yield url
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def sign_in(page: Any, base_url: str) -> None:
    """Sign the page's browser context in as the admin through the login form."""
    page.goto(base_url + "/login")
    page.fill("#username", ADMIN_USER)
    page.fill("#password", ADMIN_PASSWORD)
    page.locator("#login-form button[type=submit]").click()
    page.wait_for_url(base_url + "/")


@pytest.fixture(scope="session")
def auth_state(browser: Any, live_server: str) -> dict[str, Any]:
    """Cookies of a signed-in admin session on `live_server`, for every page fixture's context."""
    context = browser.new_context()
    try:
        page = context.new_page()
        sign_in(page, live_server)
        return context.storage_state()
    finally:
        context.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's headless Chromium, launched once per session."""
    _require_browser()
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    except Exception:
        playwright.stop()
        raise
    try:
        yield chromium
    finally:
        chromium.close()
        playwright.stop()


def _screenshot_name(node: pytest.Item, suffix: str = "") -> str:
    """A file name for a test's screenshot: its name with parameters, filesystem-safe."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", node.name).strip("_") + suffix + ".png"


def _open_page(browser: Any, request: pytest.FixtureRequest, viewport: dict[str, int], suffix: str,
               storage_state: dict[str, Any] | None = None) -> Iterator[Any]:
    """A fresh context and page that record console errors; screenshot and enforce 'no console errors' at teardown."""
    # Reduced motion: Bootstrap transitions and Chart.js animations settle at once, so screenshots are stable.
    context = browser.new_context(viewport=viewport, locale="en-US", timezone_id="UTC", reduced_motion="reduce",
                                  storage_state=storage_state)
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    allowed: list[re.Pattern[str]] = []

    def record(text: str) -> None:
        if not any(pattern.search(text) for pattern in allowed):
            errors.append(text)

    def on_console(msg: Any) -> None:
        if msg.type == "error":
            location = msg.location or {}
            where = f" ({location.get('url', '')}:{location.get('lineNumber', '')})" if location.get("url") else ""
            record(f"console.error: {msg.text}{where}")

    def on_pageerror(exc: Any) -> None:
        record(f"uncaught exception: {exc}")

    def allow_console_error(pattern: str) -> None:
        """Expect console errors matching `pattern` (a regex): they are not recorded, now or later."""
        compiled = re.compile(pattern)
        allowed.append(compiled)
        errors[:] = [e for e in errors if not compiled.search(e)]

    page.on("console", on_console)
    page.on("pageerror", on_pageerror)
    page.console_errors = errors
    page.allow_console_error = allow_console_error
    try:
        yield page
    finally:
        try:
            if not page.is_closed() and page.url not in ("", "about:blank"):
                SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
                try:
                    page.evaluate("window.scrollTo(0, 0)")  # a sticky navbar would show mid-page otherwise
                    page.screenshot(path=str(SCREENSHOT_DIR / _screenshot_name(request.node, suffix)), full_page=True)
                except Exception as exc:  # a failed screenshot must not hide the test's own outcome
                    sys.stderr.write(f"screenshot of {request.node.nodeid} failed: {exc}\n")
        finally:
            context.close()
    if errors:
        pytest.fail("the browser recorded console errors after the test body:\n  " + "\n  ".join(errors),
                    pytrace=False)


@pytest.fixture
def page(browser: Any, auth_state: dict[str, Any], request: pytest.FixtureRequest) -> Iterator[Any]:
    """A desktop page (1440x900), signed in as an admin on `live_server`, that fails its test on any console error
    or uncaught exception.

    `page.console_errors` lists the errors so far; `page.allow_console_error(regex)` excuses an expected one
    (e.g. Chromium's "Failed to load resource ... 404" when a test opens a missing page on purpose).
    """
    yield from _open_page(browser, request, DESKTOP, "", auth_state)


@pytest.fixture
def phone_page(browser: Any, auth_state: dict[str, Any], request: pytest.FixtureRequest) -> Iterator[Any]:
    """A phone page (390x844); same rules as `page` (its screenshot gets "-phone" when the test also uses `page`)."""
    yield from _open_page(browser, request, PHONE, "-phone" if "page" in request.fixturenames else "", auth_state)


@pytest.fixture
def fresh_page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A desktop page with no session (sign it in with sign_in(page, url)); same console rules as `page`."""
    yield from _open_page(browser, request, DESKTOP, "")


@pytest.fixture
def fresh_phone_page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A phone page with no session; same rules as `page` (screenshot suffixed "-phone")."""
    yield from _open_page(browser, request, PHONE, "-phone")


@pytest.fixture
def console_errors(page: Any) -> list[str]:
    """The console errors recorded so far on `page` (the same list as page.console_errors)."""
    return page.console_errors


def shot(page: Any, name: str) -> None:
    """Save a full-page screenshot of the page now as test-artifacts/screenshots/<name>.png."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(SCREENSHOT_DIR / f"{name}.png"), full_page=True)


def api_post(page: Any, base_url: str, path: str, body: dict[str, Any]) -> Any:
    """POST JSON with the page's session and CSRF token (as OLR.fetchJSON does); returns the APIResponse."""
    token = page.locator('meta[name="csrf-token"]').get_attribute("content")
    return page.request.post(base_url + path, data=body, headers={"X-CSRFToken": token or ""})
