"""The call page shows one state at a time, each with only the action that makes sense in it.

A relative on a desktop and on a phone goes through the states a guest meets: before joining, the
waiting room, turned away, let in, leaving and coming back, and the consultation ended for everyone by
the specialist. After every step exactly one state's panel is on the page, and axe checks it. An
invite made while the specialist's first media negotiation is still running is answered.
"""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, Page, expect

from tests.browser.call_steps import (
    DESKTOP,
    PHONE,
    expect_state,
    guest_waits,
    make_code,
    person,
    staff_joins,
)
from tests.browser.support import TotpSecrets, assert_accessible, log_in
from tests.browser.test_call_consultation import _book_now
from tests.serverproc import Server

pytestmark = pytest.mark.browser


async def _no_call_actions(page: Page) -> None:
    for name in ("Forlat", "Avslutt for alle", "Bli med igjen", "Lag tilgangskode"):
        await expect(page.get_by_role("button", name=name, exact=True)).to_have_count(0)


@pytest.mark.asyncio(loop_scope="session")
@pytest.mark.parametrize("device", [DESKTOP, PHONE], ids=["desktop", "phone"])
async def test_each_step_shows_one_state_with_its_own_action(
    browser: Browser, server: Server, totp_secrets: TotpSecrets, device: dict[str, object]
) -> None:
    booking = _book_now(server)
    async with person(browser, server.base_url, DESKTOP) as doctor, \
            person(browser, server.base_url, device) as relative:
        # Before joining: the device check and its one button; nothing that belongs to a call.
        await log_in(doctor, "lege", totp_secrets)
        await doctor.goto(f"/consultations/{booking}")
        await expect_state(doctor, "before", "precall")
        await _no_call_actions(doctor)
        await assert_accessible(doctor)
        await doctor.get_by_role("button", name="Bli med i konsultasjonen").click()
        await expect_state(doctor, "incall", "incall")
        await expect(doctor.get_by_role("button", name="Avslutt for alle")).to_be_visible()
        await assert_accessible(doctor)

        # Waiting, then turned away: only the refusal, no waiting-room text and no way back in.
        await guest_waits(relative, await make_code(doctor, "Kari Nordmann"))
        await expect_state(relative, "waiting", "waiting-room")
        await expect(relative.locator("#waiting-staff")).to_have_text("Legen vet at du venter.")
        await expect(relative.get_by_role("button", name="Forlat venterommet")).to_be_visible()
        await expect(relative.get_by_role("button", name="Forlat", exact=True)).to_have_count(0)
        await assert_accessible(relative)
        await doctor.get_by_role("button", name="Avvis Kari Nordmann").click()
        await expect_state(relative, "denied", "after")
        await expect(relative.locator("#after-text")).to_have_text("Du ble ikke sluppet inn i denne konsultasjonen.")
        await expect(relative.locator("#call-status")).to_have_text("")
        await _no_call_actions(relative)
        await assert_accessible(relative)

        # A new code, let in: the call and its controls, nothing of the waiting room.
        await guest_waits(relative, await make_code(doctor, "Per Nordmann"))
        await doctor.get_by_role("button", name="Slipp inn Per Nordmann").click()
        await expect_state(relative, "incall", "incall")
        await expect(relative.locator("#call-status")).to_have_text("Du er med i konsultasjonen.")
        await expect(relative.get_by_role("button", name="Avslutt for alle")).to_have_count(0)
        await assert_accessible(relative)

        # Leaving: the one action offered is joining again, which leads back to the waiting room.
        await relative.get_by_role("button", name="Forlat", exact=True).click()
        await expect_state(relative, "left", "after")
        await expect(relative.get_by_role("button", name="Bli med igjen")).to_be_visible()
        await assert_accessible(relative)
        await relative.get_by_role("button", name="Bli med igjen").click()
        await expect_state(relative, "waiting", "waiting-room")
        await doctor.get_by_role("button", name="Slipp inn Per Nordmann").click()
        await expect_state(relative, "incall", "incall")

        # Ended for everyone: both pages say so, and only so; nobody is offered to join again.
        await doctor.get_by_role("button", name="Avslutt for alle").click()
        for page in (doctor, relative):
            await expect_state(page, "ended", "after")
            await expect(page.locator("#after-text")).to_have_text("Konsultasjonen er avsluttet.")
            await expect(page.locator("#call-status")).to_have_text("")
            await _no_call_actions(page)
            await assert_accessible(page)


@pytest.mark.asyncio(loop_scope="session")
async def test_an_invite_made_during_the_first_negotiation_is_answered(
    browser: Browser, server: Server, totp_secrets: TotpSecrets
) -> None:
    booking = _book_now(server)
    async with person(browser, server.base_url, DESKTOP) as doctor:
        await staff_joins(doctor, "lege", booking, totp_secrets)
        await doctor.get_by_label("Navn", exact=True).fill("Kari Nordmann")
        # The form is sent in the same task that sees the media not yet connected: during the negotiation.
        sent_while = await doctor.wait_for_function("""() => {
            const pc = window.samkonsultPeer.pc;
            if (!pc || pc.connectionState === 'connected') return false;
            document.getElementById('invite-form').requestSubmit();
            return pc.connectionState + '/' + pc.signalingState;
        }""", polling="raf")
        assert not str(await sent_while.json_value()).startswith("connected"), await sent_while.json_value()
        await expect(doctor.locator("#invite-result")).to_contain_text("Tilgangskode for Kari Nordmann")


@pytest.mark.asyncio(loop_scope="session")
async def test_readings_and_refusals_reach_the_relative_in_words(
    browser: Browser, server: Server, totp_secrets: TotpSecrets
) -> None:
    booking = _book_now(server)
    async with person(browser, server.base_url, DESKTOP) as nurse, \
            person(browser, server.base_url, PHONE) as relative:
        await staff_joins(nurse, "sykepleier.rodoy", booking, totp_secrets)
        await guest_waits(relative, await make_code(nurse, "Kari Nordmann"))
        await nurse.get_by_role("button", name="Slipp inn Kari Nordmann").click()
        await expect_state(relative, "incall", "incall")

        await nurse.locator("#reading-name").select_option("blood_pressure")
        await nurse.locator("#reading-value").fill("142/88")
        await nurse.get_by_role("button", name="Del måling").click()
        await nurse.locator("#reading-name").select_option("spo2")
        await nurse.locator("#reading-value").fill("94")
        await nurse.get_by_role("button", name="Del måling").click()
        readings = relative.locator("#readings li")
        await expect(readings).to_have_count(2)
        await expect(readings.nth(0)).to_contain_text("Blodtrykk: 142/88 mmHg (av Kari Nilsen)")
        await expect(readings.nth(1)).to_contain_text("Oksygenmetning (SpO2): 94 prosent")
        assert "blood_pressure" not in await relative.locator("#readings").inner_text()

        # A pulse that is not a number: told in words next to the form, and what was typed stays.
        await nurse.locator("#reading-name").select_option("pulse")
        await nurse.locator("#reading-value").fill("sytti")
        await nurse.get_by_role("button", name="Del måling").click()
        await expect(nurse.locator("#reading-result")).to_have_text(
            "Sjekk verdien: blodtrykk som 142/88, de andre som et tall, for eksempel 72 eller 37,5.")
        await expect(nurse.locator("#reading-value")).to_have_value("sytti")
        # Refused by the server too (sent past the form): the same words, never the server's own text.
        await nurse.evaluate("""() => window.samkonsultSignal.send({type: 'reading', name: 'pulse', value: 'x',
            unit: '/min', taken_at: new Date().toISOString(), ref: 'reading-x'})""")
        await expect(nurse.locator("#reading-result")).to_have_text(
            "Sjekk verdien: blodtrykk som 142/88, de andre som et tall, for eksempel 72 eller 37,5.")
        await expect(nurse.locator("#call-error")).to_have_text("")
        await nurse.locator("#reading-value").fill("72")
        await nurse.get_by_role("button", name="Del måling").click()
        await expect(readings.nth(2)).to_contain_text("Puls: 72 slag per minutt")
        await expect(nurse.locator("#reading-value")).to_have_value("")
        await assert_accessible(relative)
        await assert_accessible(nurse)
