"""The note before it exists: opening it creates nothing, and nothing typed before the first save is lost.

The specialist opens the note of a consultation booked for this test (so nobody has written in it) and
types while offline; the browser keeps the text, the tab is closed. Meanwhile the nurse writes her part,
which creates the note. When the specialist opens the note again, online, the text kept from before the
note existed is saved into it beside the nurse's. A copy kept by an older editor under the note's own
address is taken over and saved in the same way.
"""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, expect

from tests.browser.support import TotpSecrets
from tests.browser.test_call_consultation import _book_now
from tests.browser.test_notes_live import GET_NOTE, OWN_WORDS, WISHES, _open
from tests.serverproc import Server

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]

NURSE_TEXT = "Hjemmetjenesten kommer morgen og kveld."
OFFLINE_TEXT = "Skrevet før notatet fantes."
OLD_COPY_TEXT = "Tatt vare på av en eldre side."
OFFLINE = "Frakoblet"
# A copy of unsent work as the editor kept it before it opened notes at the consultation's address.
OLD_COPY = """async ([bookingUrl, text]) => {
  const note = await (await fetch(bookingUrl, {headers: {Accept: 'application/json'}})).json();
  const local = JSON.parse(JSON.stringify(note.content));
  local.acp = {wishes_if_seriously_ill: text, hospital_admission: '', end_of_life: '', who_present: '',
               palliative_plan: '', talk_again_on: null};
  localStorage.setItem(`samkonsult-note:/api/notes/${note.id}`, JSON.stringify({note, baseVersion: note.version,
    baseDoc: note.content, local, conflicts: [], edited: ['acp']}));
}"""


async def test_text_typed_before_the_note_existed_is_saved_into_it(browser: Browser, server: Server,
                                                                    totp_secrets: TotpSecrets) -> None:
    booking = _book_now(server)
    api = f"/api/bookings/{booking}/note"
    errors: list[str] = []
    d_ctx, doctor = await _open(browser, server, totp_secrets, "lege", booking, errors)
    try:
        empty = await doctor.evaluate(GET_NOTE, api)
        assert empty["id"] is None and empty["version"] == 0  # opened, not created

        # Offline, the doctor writes; the browser keeps it (the note still does not exist), the tab closes.
        await d_ctx.set_offline(True)
        await doctor.get_by_label(OWN_WORDS).fill(OFFLINE_TEXT)
        await expect(doctor.get_by_role("status").first).to_contain_text(OFFLINE)
        await doctor.close()
        await d_ctx.set_offline(False)

        # The nurse's first save creates the note.
        n_ctx, nurse = await _open(browser, server, totp_secrets, "sykepleier.rodoy", booking, errors)
        try:
            await nurse.get_by_label("Sykepleier", exact=True).fill(NURSE_TEXT)
            await expect(nurse.get_by_role("status").first).to_have_text("Lagret")
            created = await nurse.evaluate(GET_NOTE, api)
            assert created["id"] and created["content"]["what_matters"] is None

            # The doctor comes back: what she typed before the note existed is saved into it, beside hers.
            doctor = await d_ctx.new_page()
            await doctor.goto(f"/consultations/{booking}/note")
            await expect(doctor.get_by_role("status").first).to_have_text("Lagret")
            await expect(doctor.get_by_label(OWN_WORDS)).to_have_value(OFFLINE_TEXT)
            await expect(doctor.get_by_label("Sykepleier", exact=True)).to_have_value(NURSE_TEXT)
            stored = await doctor.evaluate(GET_NOTE, api)
            assert stored["id"] == created["id"] and stored["content"]["what_matters"]["own_words"] == OFFLINE_TEXT
            await expect(nurse.get_by_label(OWN_WORDS)).to_have_value(OFFLINE_TEXT)  # live, without reloading

            # A copy an older editor kept under the note's own address is taken over and saved too.
            await doctor.evaluate(OLD_COPY, [api, OLD_COPY_TEXT])
            await doctor.reload()
            await expect(doctor.get_by_role("status").first).to_have_text("Lagret")
            await expect(doctor.get_by_label(WISHES)).to_have_value(OLD_COPY_TEXT)
            stored = await doctor.evaluate(GET_NOTE, api)
            assert stored["content"]["acp"]["wishes_if_seriously_ill"] == OLD_COPY_TEXT
            assert stored["content"]["what_matters"]["own_words"] == OFFLINE_TEXT
            assert not await doctor.evaluate(
                "() => Object.keys(localStorage).filter((k) => k.startsWith('samkonsult-note:/api/notes/'))")
            assert not errors, errors
        finally:
            await n_ctx.close()
    finally:
        await d_ctx.close()
