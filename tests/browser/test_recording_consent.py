"""Recording with everyone's consent, tried as new users would in three browsers.

The specialist proposes a recording for teaching; the relative declines, so nothing is recorded. Proposed
again, everyone agrees and every page shows "Opptak pågår", with the recorder listed among the
participants. The nurse withdraws: it stops for all at once. The specialist then plays the file back (decoded by
PyAV here, and in the browser from the consultation's recordings page after saying why), and the bytes
on disk hold no WebM or VP8 in the clear. Retention and deletion
with an injected clock are covered in tests/integration; here the server's real clock runs.
"""

from __future__ import annotations

import io
from pathlib import Path

import av
import pytest
from playwright.async_api import Browser, expect

from tests.browser.call_steps import guest_waits, make_code, staff_joins
from tests.browser.support import TotpSecrets, separate_people
from tests.browser.test_call_consultation import _book_now
from tests.serverproc import Server

pytestmark = pytest.mark.browser

EBML_HEADER = bytes.fromhex("1a45dfa3")
VP8_KEYFRAME_START_CODE = bytes.fromhex("9d012a")


def _stored(server: Server) -> set[Path]:
    """The files in the test server's recordings directory."""
    return {p for p in (server.log_path.parent / "recordings").rglob("*") if p.is_file()}


@pytest.mark.asyncio(loop_scope="session")
async def test_nothing_is_recorded_without_everyone_and_anyone_can_stop_it(
        browser: Browser, server: Server, totp_secrets: TotpSecrets) -> None:
    booking = _book_now(server)
    stored_before = _stored(server)
    async with separate_people(browser, server.base_url, 3) as (specialist, nurse, relative):
        await staff_joins(specialist, "lege", booking, totp_secrets)
        await staff_joins(nurse, "sykepleier.rodoy", booking, totp_secrets)
        await guest_waits(relative, await make_code(specialist, "Kari Nordmann"))
        await specialist.get_by_role("button", name="Slipp inn Kari Nordmann").click()
        await expect(relative.locator("#call")).to_have_attribute("data-state", "incall")
        everyone = (specialist, nurse, relative)

        # proposed for teaching: the others are asked on their own page; the relative says no
        await specialist.get_by_label("Formål med opptaket").select_option("teaching")
        await specialist.get_by_role("button", name="Foreslå opptak").click()
        for page in (nurse, relative):
            await expect(page.locator("#recording-ask")).to_be_visible()
            await expect(page.locator("#recording-ask-text")).to_contain_text("undervisning")
            await expect(page.locator("#recording-ask-text")).to_contain_text("90 dager")
        await expect(specialist.locator("#recording-banner")).to_contain_text("Venter på")
        await relative.get_by_role("button", name="Nei, ikke ta opp").click()
        for page in everyone:
            await expect(page.locator("#recording-result")).to_contain_text("Ingenting tas opp: noen sa nei.")
            await expect(page.locator("#recording-banner")).to_be_hidden()
            await expect(page.locator("#recording-ask")).to_be_hidden()
        assert _stored(server) == stored_before, "nothing was recorded"

        # proposed again, and everyone agrees: "Opptak pågår" on every page, the recorder in the list
        await specialist.get_by_role("button", name="Foreslå opptak").click()
        for page in (nurse, relative):
            await page.get_by_role("button", name="Ja, ta opp").click()
        for page in everyone:
            await expect(page.locator("#recording-banner")).to_contain_text("Opptak pågår")
            await expect(page.locator("#recording-banner")).to_contain_text("undervisning")
            await expect(page.locator("#roster li[data-recorder]")).to_have_count(1)
        await specialist.wait_for_timeout(4000)  # a few seconds of the call are recorded

        # the nurse withdraws: it stops for everyone at once
        await nurse.get_by_role("button", name="Stopp opptaket").click()
        for page in everyone:
            await expect(page.locator("#recording-banner")).to_be_hidden()
            await expect(page.locator("#recording-result")).to_contain_text("Opptaket ble stoppet")
            await expect(page.locator("#roster li[data-recorder]")).to_have_count(0)

        # the specialist plays it back, with a reason; the bytes on disk are sealed
        listed = await specialist.request.get(f"/api/bookings/{booking}/recordings")
        assert listed.ok, await listed.text()
        recordings = await listed.json()
        assert len(recordings) == 1 and recordings[0]["purpose"] == "teaching", recordings
        played = await specialist.request.get(recordings[0]["part_paths"][0],
                                              params={"reason": "Undervisning av nye sykepleiere"})
        assert played.ok, await played.text()
        webm = await played.body()
        with av.open(io.BytesIO(webm), format="webm") as container:
            kinds = {stream.type for stream in container.streams}
            decoded = sum(1 for packet in container.demux(video=0) for _ in packet.decode())
        assert {"video", "audio"} <= kinds
        assert decoded > 10, "the recording holds video that decodes"
        # and plays it on the consultation's recordings page, after saying why
        await specialist.goto(f"/bookings/{booking}")
        await specialist.get_by_role("link", name="Opptak av konsultasjonen").click()
        await expect(specialist.get_by_role("cell", name="undervisning")).to_be_visible()
        await specialist.get_by_role("button", name="Spill av").click()  # no reason given: nothing plays
        await expect(specialist.locator("video")).to_have_count(0)
        await specialist.goto(f"/bookings/{booking}/recordings?play={recordings[0]['public_id']}&reason=")
        await expect(specialist.get_by_text("Skriv hvorfor du spiller av opptaket")).to_be_visible()
        await specialist.get_by_label("Hvorfor du spiller det av").fill("Gjennomgang med sykepleierne")
        await specialist.get_by_role("button", name="Spill av").click()
        await specialist.locator("#playback-0").evaluate("(v) => { v.muted = true; return v.play(); }")
        await specialist.wait_for_function(
            "() => document.getElementById('playback-0').videoWidth > 0"
            " && document.getElementById('playback-0').currentTime > 0.5", timeout=20_000)

        stored = _stored(server) - stored_before
        assert stored
        for path in stored:
            data = path.read_bytes()
            assert EBML_HEADER not in data and VP8_KEYFRAME_START_CODE not in data, f"{path} is not sealed"
