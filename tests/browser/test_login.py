"""Logging in and out in a real browser: the login page, errors, cookies, language and logout."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import BrowserContext, Page, expect

from tests.browser.support import TotpSecrets, assert_accessible, log_in, submit_login_form

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]


async def test_login_page_is_norwegian_by_default_and_accessible(page: Page) -> None:
    await page.goto("/login")
    await expect(page.locator("html")).to_have_attribute("lang", "nb")
    await expect(page).to_have_title(re.compile(r"^Logg inn · Samkonsult$"))
    await expect(page.get_by_role("heading", level=1)).to_have_text("Logg inn")
    await expect(page.get_by_label("Brukernavn")).to_be_visible()
    await expect(page.get_by_label("Passord")).to_have_attribute("type", "password")
    await assert_accessible(page)


async def test_wrong_password_shows_the_error_by_the_form_and_keeps_the_username(page: Page) -> None:
    await submit_login_form(page, "sykepleier.luroy", "feil-passord-2026")
    await expect(page).to_have_url(re.compile(r"/login$"))
    card = page.locator("main section.card")
    alert = card.get_by_role("alert")
    await expect(alert).to_have_text("Feil brukernavn eller passord.")
    # The message sits in the login card, right above the form, not somewhere else on the page.
    assert await card.locator("p.form-error + form").count() == 1
    await expect(page.get_by_label("Brukernavn")).to_have_value("sykepleier.luroy")
    await expect(page.get_by_label("Passord")).to_have_value("")
    await expect(page.locator("html")).to_have_attribute("lang", "nb")
    await assert_accessible(page)


async def test_session_cookies_are_host_prefixed_secure_and_kept_on_loopback(
    page: Page, context: BrowserContext, totp_secrets: TotpSecrets
) -> None:
    # Chromium treats http://127.0.0.1 as a secure origin, so it must keep the __Host- cookies.
    await page.goto("/login")
    cookies = {c["name"]: c for c in await context.cookies()}
    assert "__Host-samkonsult-csrf" in cookies, cookies
    await log_in(page, "lege", totp_secrets)
    cookies = {c["name"]: c for c in await context.cookies()}
    for name in ("__Host-samkonsult", "__Host-samkonsult-csrf"):
        assert name in cookies, f"Chromium dropped {name}: {sorted(cookies)}"
        cookie = cookies[name]
        assert cookie["secure"] and cookie["httpOnly"], cookie
        assert cookie["path"] == "/" and cookie["domain"] == "127.0.0.1", cookie
    assert cookies["__Host-samkonsult"]["sameSite"] == "Lax"
    assert cookies["__Host-samkonsult-csrf"]["sameSite"] == "Strict"
    # The session cookie is sent back: a page that needs a login opens.
    await page.goto("/account")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Min konto")


async def test_language_switch_to_english_and_back(page: Page, totp_secrets: TotpSecrets) -> None:
    await log_in(page, "koordinator", totp_secrets)
    header = page.locator("header.site-header")
    await header.get_by_role("button", name="English").click()
    await expect(page.locator("html")).to_have_attribute("lang", "en")
    await expect(page).to_have_url(re.compile(r"/referrals$"))
    await expect(page.get_by_role("heading", level=1)).to_have_text("Referral queue")
    await expect(page.get_by_role("navigation", name="Main menu").get_by_role("link")).to_have_text(
        ["Referral queue", "Calendar", "Patients", "Resources", "Outbox", "My account"])
    await expect(header.get_by_role("button", name="Log out")).to_be_visible()
    await assert_accessible(page)
    # The choice belongs to the session: other pages follow it.
    await page.goto("/account")
    await expect(page.get_by_role("heading", level=1)).to_have_text("My account")

    await header.get_by_role("button", name="Norsk (bokmål)").click()
    await expect(page.locator("html")).to_have_attribute("lang", "nb")
    await expect(page).to_have_url(re.compile(r"/account$"))
    await expect(page.get_by_role("heading", level=1)).to_have_text("Min konto")
    await expect(header.get_by_role("button", name="Logg ut")).to_be_visible()
    await assert_accessible(page)


async def test_language_switch_before_login(page: Page) -> None:
    await page.goto("/login")
    await page.get_by_role("button", name="English").click()
    await expect(page.locator("html")).to_have_attribute("lang", "en")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Log in")
    await expect(page.get_by_label("Username")).to_be_visible()
    await assert_accessible(page)
    await page.get_by_role("button", name="Norsk (bokmål)").click()
    await expect(page.locator("html")).to_have_attribute("lang", "nb")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Logg inn")


async def test_logout_ends_the_session(page: Page, context: BrowserContext, totp_secrets: TotpSecrets) -> None:
    await log_in(page, "sykepleier.rodoy", totp_secrets)
    await page.locator("header.site-header").get_by_role("button", name="Logg ut").click()
    await expect(page).to_have_url(re.compile(r"/login$"))
    await expect(page.get_by_role("heading", level=1)).to_have_text("Logg inn")
    await expect(page.locator("header.site-header").get_by_role("button", name="Logg ut")).to_have_count(0)
    # A page that needs a login now sends us back to the login, remembering where we were going.
    await page.goto("/patients")
    await expect(page).to_have_url(re.compile(r"/login\?next=(/|%2F)patients$"))
    await expect(page.get_by_text("Olsen, Astrid")).to_have_count(0)
    # Going back in history does not show the patient list from the cache either (no-store).
    await page.go_back()
    await expect(page.get_by_text("Olsen, Astrid")).to_have_count(0)


async def test_logout_removes_the_session_cookie(
    page: Page, context: BrowserContext, totp_secrets: TotpSecrets
) -> None:
    await log_in(page, "sykepleier.rodoy", totp_secrets)
    await page.locator("header.site-header").get_by_role("button", name="Logg ut").click()
    await expect(page).to_have_url(re.compile(r"/login$"))
    names = [c["name"] for c in await context.cookies()]
    assert "__Host-samkonsult" not in names, (
        "the browser kept the ended session's cookie: the deleting Set-Cookie lacks Secure, "
        "which a __Host- cookie needs")
