"""On the booking page a specialist makes a join code for a relative, copies it, and sends it by e-mail:
the page says it is queued, then sent, and the mail server got the plain /join link and the code.

This module runs its own server with a mail server set up (aiosmtpd on loopback), so the outbox really
delivers."""

from __future__ import annotations

import email
import re
from collections.abc import Iterator
from email.message import Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from playwright.async_api import BrowserContext, Page, expect

from tests.browser.support import TotpSecrets, assert_accessible, demo_consultation_now, log_in
from tests.serverproc import Server, ServerError, free_port, running_server

pytestmark = pytest.mark.browser

CODE = re.compile(r"[2-9A-HJKMNP-Z]{4}(?:-[2-9A-HJKMNP-Z]{4}){3}")


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture(scope="module")
def inbox() -> Iterator[tuple[Inbox, int]]:
    box = Inbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, inbox: tuple[Inbox, int]) -> Iterator[Server]:
    """The demo server, as in conftest, but with the loopback mail server as its SMTP host."""
    try:
        with running_server(tmp_path_factory.mktemp("send-code-server"), SAMKONSULT_SMTP_HOST="127.0.0.1",
                            SAMKONSULT_SMTP_PORT=str(inbox[1])) as running:
            yield running
    except ServerError as exc:
        pytest.fail(str(exc))


@pytest.fixture(scope="module")
def totp_secrets() -> TotpSecrets:
    return TotpSecrets()  # this server's users enrol afresh



@pytest.mark.asyncio(loop_scope="session")
async def test_make_copy_and_email_a_join_code_from_the_booking_page(
        page: Page, context: BrowserContext, server: Server, totp_secrets: TotpSecrets,
        inbox: tuple[Inbox, int]) -> None:
    await context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.base_url)
    booking = demo_consultation_now(server.log_path.parent / "db.sqlite")
    await log_in(page, "lege", totp_secrets)
    await page.goto(f"/bookings/{booking}")
    await expect(page.get_by_role("heading", name="Inviter noen")).to_be_visible()
    await assert_accessible(page)

    await page.get_by_label("Navnet på den du inviterer").fill("Kari Nordmann")
    await page.get_by_label("Deltar som").select_option("relative")
    await page.get_by_role("button", name="Lag tilgangskode").click()
    await expect(page.locator("#send-code-code")).to_have_text(CODE)
    code = (await page.locator("#send-code-code").inner_text()).strip()
    await expect(page.locator("#send-code-link")).to_have_text(f"{server.base_url}/join")
    await expect(page.get_by_role("heading", name="Kode for Kari Nordmann")).to_be_visible()
    await assert_accessible(page)

    await page.get_by_role("button", name="Kopier kode og lenke").click()
    await expect(page.locator("#send-code-copied")).to_have_text("Kopiert")
    copied = await page.evaluate("() => navigator.clipboard.readText()")
    assert code in copied and f"{server.base_url}/join" in copied

    await page.get_by_label("E-post", exact=True).fill("kari@eksempel.no")
    await page.get_by_role("button", name="Send på e-post").click()
    status = page.locator("#send-code-status")
    await expect(status).to_have_text("E-posten til k***@eksempel.no er lagt i kø og sendes om litt.")
    await assert_accessible(page)
    # The outbox job sends it within its round; the page follows the message until it is sent.
    await expect(status).to_have_text("E-posten til k***@eksempel.no er sendt.", timeout=90_000)

    box, _port = inbox
    mails = [m for m in box.messages if m["To"] == "kari@eksempel.no"]
    assert len(mails) == 1
    body = mails[0].get_payload(decode=True).decode("utf-8")  # type: ignore[union-attr]
    assert code in body and f"{server.base_url}/join" in body


@pytest.mark.asyncio(loop_scope="session")
async def test_in_the_call_a_new_code_can_be_texted_without_leaving_the_call(
        page: Page, server: Server, totp_secrets: TotpSecrets) -> None:
    booking = demo_consultation_now(server.log_path.parent / "db.sqlite")
    await log_in(page, "lege", totp_secrets)
    await page.goto(f"/consultations/{booking}")
    await page.get_by_role("button", name="Bli med i konsultasjonen").click()
    await expect(page.locator("#incall")).to_be_visible()
    await page.wait_for_function("() => window.samkonsultPeer && window.samkonsultPeer.pc"
                                 " && window.samkonsultPeer.pc.connectionState === 'connected'")
    await expect(page.locator("#send-code")).to_be_hidden()  # nothing to send before a code exists

    await page.get_by_label("Navn", exact=True).fill("Tolk Ali")
    await page.get_by_role("button", name="Lag tilgangskode").click()
    await expect(page.locator("#send-code")).to_be_visible()
    await expect(page.locator("#send-code-code")).to_have_text(CODE)
    await expect(page.get_by_role("heading", name="Kode for Tolk Ali")).to_be_visible()

    phone = page.get_by_label("Mobilnummer")
    await phone.fill("812 34 567")
    await page.get_by_role("button", name="Send på SMS").click()
    await expect(page.locator("#send-code-form .field-error")).to_have_text(
        "Skriv et norsk mobilnummer: 8 sifre som begynner med 4 eller 9, med eller uten +47 foran.")
    await expect(phone).to_have_value("812 34 567")  # what was typed stays
    await expect(phone).to_have_attribute("aria-invalid", "true")

    await phone.fill("+47 912 34 567")
    await page.get_by_role("button", name="Send på SMS").click()
    # This server has no SMS gateway: the panel says so rather than "on its way".
    await expect(page.locator("#send-code-status")).to_have_text(
        "Ikke sendt: ingen SMS-tjeneste er satt opp. Gi koden på en annen måte, for eksempel på telefon.")
    await expect(page.locator("#incall")).to_be_visible()  # still in the call
    await assert_accessible(page)
