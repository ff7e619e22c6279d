"""The waiting room talks: a waiting guest sees that staff know, and reads the note staff send them.

The note is limited to 200 characters, which the form says; a longer one is refused in the form with
the text kept (never cut), and a sent note is in the audit log like the other call events.
"""

from __future__ import annotations

import sqlite3

import pytest
from playwright.async_api import Browser, expect

from tests.browser.call_steps import DESKTOP, PHONE, expect_state, guest_waits, make_code, person, staff_joins
from tests.browser.support import TotpSecrets, assert_accessible
from tests.browser.test_call_consultation import _book_now
from tests.serverproc import Server

pytestmark = pytest.mark.browser

NOTE = "Legen er forsinket ca. 10 min"


def _audited(server: Server, booking: str, action: str) -> int:
    db = sqlite3.connect(server.log_path.parent / "db.sqlite")
    try:
        row = db.execute("SELECT count(*) FROM audit_entries WHERE object_id = ? AND action = ?",
                         (booking, action)).fetchone()
    finally:
        db.close()
    return int(row[0])


@pytest.mark.asyncio(loop_scope="session")
async def test_staff_tell_the_waiting_room_they_are_late(
    browser: Browser, server: Server, totp_secrets: TotpSecrets
) -> None:
    booking = _book_now(server)
    async with person(browser, server.base_url, DESKTOP) as doctor, \
            person(browser, server.base_url, DESKTOP) as nurse, \
            person(browser, server.base_url, PHONE) as relative:
        await staff_joins(doctor, "lege", booking, totp_secrets)
        code = await make_code(doctor, "Kari Nordmann")
        await guest_waits(relative, code)
        # The doctor is in the call, so the guest is told the doctor knows; then the nurse comes too.
        await expect(relative.locator("#waiting-staff")).to_have_text("Legen vet at du venter.")
        await staff_joins(nurse, "sykepleier.rodoy", booking, totp_secrets)
        await expect(relative.locator("#waiting-staff")).to_have_text("Legen og sykepleieren vet at du venter.")
        await assert_accessible(relative)

        # The limit is stated in the form; past it the note is refused there and stays as typed.
        field = doctor.get_by_label("Beskjed til dem som venter")
        await expect(doctor.locator("#waiting-message-help")).to_contain_text("Høyst 200 tegn")
        too_long = "x" * 201
        await field.fill(too_long)
        await expect(doctor.locator("#waiting-message-count")).to_have_text("201 av 200 tegn")
        await doctor.get_by_role("button", name="Gi beskjed til venterommet").click()
        await expect(doctor.locator("#waiting-message-result")).to_have_text(
            "Beskjeden har 201 tegn; høyst 200 kan sendes. Gjør den kortere og prøv igjen.")
        await expect(field).to_have_value(too_long)
        await expect(relative.locator("#waiting-notes li")).to_have_count(0)
        await assert_accessible(doctor)

        # A short note reaches the guest; the sender gets a receipt and an empty field.
        await field.fill(NOTE)
        await doctor.get_by_role("button", name="Gi beskjed til venterommet").click()
        await expect(relative.locator("#waiting-notes li")).to_have_count(1)
        await expect(relative.locator("#waiting-notes li")).to_contain_text(f"Ingrid Hansen: {NOTE}")
        await expect(relative.get_by_role("heading", name="Beskjed fra helsetjenesten")).to_be_visible()
        await expect(doctor.locator("#waiting-message-result")).to_contain_text("Sendt til dem som venter kl. ")
        await expect(field).to_have_value("")
        await expect_state(relative, "waiting", "waiting-room")
        await assert_accessible(relative)
        assert _audited(server, booking, "waiting_room_message") == 1

        # Once let in, the guest is in the call; notes to the waiting room are no longer theirs.
        await nurse.get_by_role("button", name="Slipp inn Kari Nordmann").click()
        await expect_state(relative, "incall", "incall")
        await field.fill("Straks")
        await doctor.get_by_role("button", name="Gi beskjed til venterommet").click()
        await expect(doctor.locator("#waiting-message-result")).to_have_text("Ingen er på venterommet nå.")
        await expect(field).to_have_value("Straks")
