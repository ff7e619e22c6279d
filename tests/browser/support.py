"""What the browser tests share: logging in with real TOTP, and accessibility checks with axe-core."""

from __future__ import annotations

import json
import re
import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyotp
from playwright.async_api import Browser, BrowserContext, Page, expect

DEMO_PASSWORD = "demo-passord-2026"

# Each demo user's start page and the main-menu entries they see (in Norwegian, the default).
ROLES: dict[str, tuple[str, list[str]]] = {
    "koordinator": ("/referrals", ["Henvisningskø", "Kalender", "Pasienter", "Ressurser", "Utboks", "Min konto"]),
    "lege": ("/day", ["Dagsliste", "Kalender", "Henvisningskø", "Pasienter", "Min konto"]),
    "sykepleier.rodoy": ("/day", ["Dagsliste", "Kalender", "Henvisningskø", "Pasienter", "Min konto"]),
    "sykepleier.luroy": ("/day", ["Dagsliste", "Kalender", "Henvisningskø", "Pasienter", "Min konto"]),
    "leder": ("/team", ["Teamoversikt", "Gevinster", "Konsultasjonstyper", "Min konto"]),
    "admin": ("/admin/users", ["Brukere", "Organisasjoner", "Ressurser", "Gevinster", "Revisjonslogg", "Min konto"]),
}

AXE_SOURCE = (Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js").read_text(encoding="utf-8")
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

_RUN_AXE = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
    nodes: v.nodes.map(n => ({target: n.target, html: n.html, summary: n.failureSummary})),
  }));
}"""


class TotpSecrets:
    """The TOTP secrets the demo users enrolled with during this test session, by username."""

    def __init__(self) -> None:
        self._secrets: dict[str, str] = {}
        self._last_step: dict[str, int] = {}

    def remember(self, username: str, secret: str) -> None:
        self._secrets[username] = secret

    def code(self, username: str) -> str:
        assert username in self._secrets, f"{username} has not enrolled TOTP in this session"
        # The server takes each code once: a second login within the same 30 s uses the next
        # step's code (accepted for clock drift), as a person would wait for the app's next code.
        otp = pyotp.TOTP(self._secrets[username])
        step = max(otp.timecode(datetime.now(UTC)), self._last_step.get(username, -1) + 1)
        while step > otp.timecode(datetime.now(UTC)) + 1:
            time.sleep(1)  # rare: more than two logins of one user within one step
        self._last_step[username] = step
        return str(otp.generate_otp(step))


def path_of(page: Page) -> str:
    """The page's path without scheme, host or query."""
    return re.sub(r"^https?://[^/]+", "", page.url).split("?")[0]


async def submit_login_form(page: Page, username: str, password: str) -> None:
    await page.goto("/login")
    await page.get_by_label("Brukernavn").fill(username)
    await page.get_by_label("Passord").fill(password)
    await page.locator("main").get_by_role("button", name="Logg inn").click()
    await page.wait_for_load_state()
    if await page.get_by_role("heading", name="Skjemaet var utløpt. Prøv igjen.").count():
        raise AssertionError("the server refused the login form the browser posted (CSRF or origin check); "
                             "see the server's log")


async def log_in(page: Page, username: str, secrets: TotpSecrets, *, password: str = DEMO_PASSWORD) -> None:
    """Log in through the pages as a person would: password, then TOTP enrolment or code."""
    await submit_login_form(page, username, password)
    await expect(page).to_have_url(re.compile(r"/login/(enrol|totp)"))
    if path_of(page) == "/login/enrol":
        # The key shown for people who cannot scan the QR code is what an authenticator app stores.
        secret = (await page.locator("figure.qr figcaption code").inner_text()).strip()
        assert re.fullmatch(r"[A-Z2-7]{16,}", secret), f"not a base32 TOTP secret: {secret!r}"
        secrets.remember(username, secret)
        await page.get_by_label("Kode").fill(secrets.code(username))
        await page.get_by_role("button", name="Bekreft").click()
    else:
        await page.get_by_label("Kode").fill(secrets.code(username))
        await page.get_by_role("button", name="Fortsett").click()
    if username in ROLES:
        start, _menu = ROLES[username]
        await expect(page).to_have_url(re.compile(re.escape(start) + r"$"))
    else:  # someone the test made: past the login, wherever their role starts
        await expect(page).not_to_have_url(re.compile(r"/login"))


def format_violations(url: str, violations: list[dict[str, Any]]) -> str:
    lines = [f"{len(violations)} accessibility violation(s) on {url}:"]
    for v in violations:
        lines.append(f"- [{v['impact']}] {v['id']}: {v['help']} ({v['helpUrl']})")
        for node in v["nodes"]:
            lines.append(f"    at {json.dumps(node['target'])}: {node['html']}")
            for detail in (node["summary"] or "").splitlines():
                lines.append(f"      {detail}")
    return "\n".join(lines)


async def assert_accessible(page: Page) -> None:
    """Run axe-core's WCAG 2.1 A and AA rules on the page as it is now; fail listing every violation.

    axe goes in through the DevTools protocol (``page.evaluate``), which the page's
    Content-Security-Policy does not govern, so the page under test keeps its real CSP.
    """
    if not await page.evaluate("() => typeof window.axe === 'object'"):
        await page.evaluate(f"() => {{ {AXE_SOURCE}\n}}")
    violations = await page.evaluate(_RUN_AXE, AXE_TAGS)
    assert not violations, format_violations(page.url, violations)


@asynccontextmanager
async def separate_people(browser: Browser, base_url: str, count: int) -> AsyncIterator[list[Page]]:
    """One page each for ``count`` people, each in a browser profile of its own (Norwegian, Oslo time).

    Fails when the app's Content-Security-Policy blocked anything on any of the pages.
    """
    contexts: list[BrowserContext] = []
    pages: list[Page] = []
    blocked: list[str] = []
    for _ in range(count):
        ctx = await browser.new_context(base_url=base_url, locale="nb-NO", timezone_id="Europe/Oslo")
        ctx.set_default_timeout(30_000)  # a safety net on a loaded 2-core machine, not a timing check
        contexts.append(ctx)
        page = await ctx.new_page()
        page.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)
        pages.append(page)
    try:
        yield pages
    finally:
        for ctx in contexts:
            await ctx.close()
    assert not blocked, "\n".join(blocked)


def demo_consultation_now(database: Path) -> str:
    """The public id of the demo's try-it-now consultation (the earliest booking the seed made that still
    takes place: the demo history's are all over) in the test server's SQLite ``database``."""
    db = sqlite3.connect(database)
    try:
        row = db.execute("SELECT public_id FROM sched_bookings WHERE ical_uid NOT LIKE '%@test'"
                         " AND status IN ('booked', 'arrived', 'in_progress') ORDER BY start LIMIT 1").fetchone()
    finally:
        db.close()
    assert row is not None, "the demo seeded no consultation"
    return str(row[0])
