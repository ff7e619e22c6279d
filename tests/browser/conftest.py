"""The real server as a subprocess (demo data, temporary SQLite), one Chromium, a fresh context per test.

The server is started the way `make run` starts it (migrate, seed-demo, serve) but with real TOTP:
demo users enrol at their first login in the browser, and the test session keeps their secrets.
Chromium is Debian's (`scripts/install-system-packages.sh`); Playwright's own download is not used.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from tests.browser.support import TotpSecrets

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
]
START_TIMEOUT_SECONDS = 30


@dataclass(frozen=True)
class Server:
    base_url: str
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _cli(env: dict[str, str], *args: str) -> None:
    done = subprocess.run([sys.executable, "-m", "server.cli", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        pytest.fail(f"samkonsult {' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as resp:
            return bool(resp.status == 200)
    except (urllib.error.URLError, OSError):
        return False


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`samkonsult migrate`, `seed-demo` and `serve` on a free loopback port and a temporary database."""
    tmp = tmp_path_factory.mktemp("browser-server")
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAMKONSULT_")}
    env.update({
        "SAMKONSULT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp / 'db.sqlite'}",
        "SAMKONSULT_DEMO_MODE": "true",
        "SAMKONSULT_DEMO_SECRETS_FILE": str(tmp / "secrets.json"),
        "SAMKONSULT_PORT": str(port),
        "SAMKONSULT_PUBLIC_URL": base_url,
    })
    _cli(env, "migrate")
    _cli(env, "seed-demo")
    log_path = tmp / "serve.log"
    with log_path.open("w", encoding="utf-8") as log_file:
        proc = subprocess.Popen([sys.executable, "-m", "server.cli", "serve"], cwd=ROOT, env=env,
                                stdout=log_file, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + START_TIMEOUT_SECONDS
            while not _ready(f"{base_url}/readyz"):
                if proc.poll() is not None:
                    pytest.fail(f"the server exited with {proc.returncode}:\n{log_path.read_text()}")
                if time.monotonic() > deadline:
                    pytest.fail(f"the server was not ready within {START_TIMEOUT_SECONDS} s:\n{log_path.read_text()}")
                time.sleep(0.1)
            yield Server(base_url, log_path)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


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
