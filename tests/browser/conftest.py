"""The real server as a subprocess (demo data, temporary SQLite), one Chromium, a fresh context per test.

The server is started the way `make run` starts it (migrate, seed-demo, serve) but with real TOTP:
demo users enrol at their first login in the browser, and the test session keeps their secrets.
Chromium is Debian's (`scripts/install-system-packages.sh`); Playwright's own download is not used.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import Browser, BrowserContext, Page, async_playwright, expect

from tests.browser.support import TotpSecrets
from tests.serverproc import Server, ServerError, running_server

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
# Assertions wait up to 20 s: a safety net for a loaded 2-core machine; tests never assert timings.
expect.set_options(timeout=20_000)

CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync", "--no-first-run", "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
]


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`samkonsult migrate`, `seed-demo` and `serve` on a free loopback port and a temporary database."""
    try:
        with running_server(tmp_path_factory.mktemp("browser-server")) as running:
            yield running
    except ServerError as exc:
        pytest.fail(str(exc))


@pytest.fixture(scope="session")
def totp_secrets() -> TotpSecrets:
    return TotpSecrets()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def browser() -> AsyncIterator[Browser]:
    if not shutil.which(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing; `make pytest` installs it (scripts/install-system-packages.sh)")
        pytest.skip(f"Chromium not installed at {CHROMIUM}")
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        await chromium.close()


@pytest_asyncio.fixture(loop_scope="session")
async def context(browser: Browser, server: Server) -> AsyncIterator[BrowserContext]:
    """A fresh browser profile per test: no cookies, a Norwegian user's locale and time zone."""
    ctx = await browser.new_context(base_url=server.base_url, locale="nb-NO", timezone_id="Europe/Oslo")
    ctx.set_default_timeout(10_000)
    yield ctx
    await ctx.close()


@pytest_asyncio.fixture(loop_scope="session")
async def page(context: BrowserContext) -> AsyncIterator[Page]:
    """A page that fails the test when the app's Content-Security-Policy blocks anything on it."""
    the_page = await context.new_page()
    blocked: list[str] = []
    the_page.on("console", lambda msg: blocked.append(msg.text) if "Content Security Policy" in msg.text else None)
    yield the_page
    assert not blocked, "the Content-Security-Policy blocked something:\n" + "\n".join(blocked)
