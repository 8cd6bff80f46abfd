"""Playwright (sync API) driving Debian's Chromium against pytest-django's live server.

While Playwright's sync API is running, the test thread has a running asyncio loop. Two things follow:

* Django refuses ORM calls from such a thread (SynchronousOnlyOperation); the tests and the
  database flush between them are plain sync code, so DJANGO_ALLOW_ASYNC_UNSAFE is set while the
  browser is up.
* Django's connection handler keeps separate connections for "async" code, so the connection seen
  by the tests is not the one the test database was set up (and serialized) on; the serialized
  contents are carried over, and the extra connections are closed before Playwright stops.

The browser lives for this package only (launched once for all browser tests), so the running
loop does not leak into the rest of the suite (asyncio.run() there would fail).
"""

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connections
from playwright.sync_api import Browser, Page, expect, sync_playwright

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
SCREENSHOTS = Path(settings.VAR_DIR) / "screenshots"
TIMEOUT_MS = 5_000

expect.set_options(timeout=TIMEOUT_MS)

_reports = pytest.StashKey[dict]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the item, so the page fixture knows whether the test failed."""
    report = yield
    item.stash.setdefault(_reports, {})[report.when] = report
    return report


@pytest.fixture(scope="package")
def browser(django_db_setup, django_db_blocker) -> Iterator[Browser]:
    serialized = {
        alias: connections[alias]._test_serialized_contents
        for alias in connections
        if hasattr(connections[alias], "_test_serialized_contents")
    }
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            for alias, contents in serialized.items():
                connections[alias]._test_serialized_contents = contents
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                yield browser
            finally:
                browser.close()
                with django_db_blocker.unblock():
                    connections.close_all()
    finally:
        if previous is None:
            del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(request, browser, live_server, django_db_serialized_rollback) -> Iterator[Page]:
    """A fresh browser context (no cookies) on a Japanese staff PC, pointed at the live server.

    Serialized rollback puts the rows migrations create (vaccines, the audit chain head, roles) back
    before each test: the live server needs a real commit, so the database is flushed between tests.
    """
    context = browser.new_context(
        base_url=live_server.url,
        locale="ja-JP",
        viewport={"width": 1280, "height": 860},
    )
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.failed_assets = []
    page.on(
        "response",
        lambda r: (
            page.failed_assets.append(f"{r.status} {r.url}")
            if "/static/" in r.url and r.status >= 400
            else None
        ),
    )
    page.on("requestfailed", lambda r: page.failed_assets.append(f"failed {r.url}"))
    yield page
    reports = request.node.stash.get(_reports, {})
    if any(r.failed for r in reports.values()):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^\w.-]+", "_", request.node.name)
        page.screenshot(path=SCREENSHOTS / f"FAILED-{name}.png", full_page=True)
    context.close()


@pytest.fixture
def screenshot():
    """Save a full-page screenshot under var/screenshots/ (one per flow)."""

    def save(page: Page, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=path, full_page=True)
        return path

    return save


@pytest.fixture
def log_in():
    """Log in through the real login form (Japanese labels) and wait for the home page."""

    def as_user(page: Page, username: str, password: str) -> None:
        page.goto("/")
        expect(page.get_by_role("heading", name="ログイン")).to_be_visible()
        page.get_by_label("ユーザーID").fill(username)
        page.get_by_label("パスワード").fill(password)
        page.get_by_role("button", name="ログイン").click()

    return as_user
