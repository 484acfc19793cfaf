"""Headless Chromium driven by Playwright for the browser tests in tests/e2e."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.conftest import service_unavailable

# The paired box of tests/fleet: the live page's batches go through the signed agent API.
from tests.fleet.conftest import box, paired_box, unclaimed  # noqa: F401

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # The machine has no network beyond loopback: without these Chromium keeps retrying
    # refused connections (updates, sync, field trials) in the background.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
E2E_DIR = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test under tests/e2e is an e2e test (select or deselect them with -m e2e)."""
    for item in items:
        if item.path.is_relative_to(E2E_DIR):
            item.add_marker(pytest.mark.e2e)


def _apt_get(*args: str) -> bool:
    apt_get = shutil.which("apt-get")
    if apt_get is None:
        return False
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    result = subprocess.run([apt_get, *args], env=env, capture_output=True, text=True, check=False)
    return result.returncode == 0


def _ensure_chromium() -> None:
    if CHROMIUM.exists():
        return
    if os.geteuid() == 0 and not _apt_get("install", "-y", "chromium"):
        _apt_get("update")
        _apt_get("install", "-y", "chromium")
    if not CHROMIUM.exists():
        service_unavailable(
            f"Chromium is not installed at {CHROMIUM} and could not be installed "
            "(run `apt-get install -y chromium` as root)"
        )


@pytest.fixture(scope="session")
def chromium() -> Path:
    """The Chromium binary, installed once per session if it is missing."""
    _ensure_chromium()
    return CHROMIUM


# Module scope, not session scope: Playwright's event loop keeps running in the main thread
# until sync_playwright() exits. Left open for the whole session it would still be running
# when the rest of the suite runs after tests/e2e, and every async_to_sync() there (e.g. the
# channels consumer tests) would fail with "You cannot use AsyncToSync in the same thread as
# an async event loop". Launching Chromium once per module costs well under a second.
#
# Playwright's sync API also keeps an asyncio loop running in this (main) thread, so Django
# would raise SynchronousOnlyOperation on any ORM access from it: building the `world`
# fixture, flushing the test database, reading objects in asserts. The tests only *talk* to
# the browser through that loop and no Django code runs inside it, so the check guards
# nothing here; it is lifted only while a browser is open (Django reads it on every ORM
# call), so the rest of the suite keeps the check.
@pytest.fixture(scope="module")
def browser(chromium: Path) -> Iterator[Browser]:
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = playwright.chromium.launch(
            executable_path=str(chromium), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser context (no cookies, no storage) for every test."""
    context = browser.new_context()
    context.set_default_timeout(10_000)
    try:
        yield context.new_page()
    finally:
        context.close()
