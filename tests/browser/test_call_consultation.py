"""Three people in real Chromium hold a consultation through the server.

The specialist and the nurse join from their day list, the specialist makes a join code for a relative,
who types it in and is admitted from the waiting room; every page decodes video from the other two; the
nurse adds the examination camera and the specialist shares the screen, and both reach the others; the
nurse leaves and joins again; a killed signaling socket resumes.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
import pytest_asyncio
from playwright.async_api import Browser, Page, expect

from tests.browser.support import TotpSecrets, assert_accessible, log_in, separate_people
from tests.serverproc import Server

pytestmark = pytest.mark.browser


def _book_now(server: Server) -> str:
    """A booking starting in five minutes for the demo specialist and the Rødøy nurse."""
    db = sqlite3.connect(server.log_path.parent / "db.sqlite")
    try:
        now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
        users = dict(db.execute("SELECT username, id FROM users").fetchall())
        orgs = dict(db.execute("SELECT name, id FROM organisations").fetchall())
        patient = db.execute("SELECT id FROM patients ORDER BY id LIMIT 1").fetchone()[0]
        cur = db.cursor()

        def resource(kind: str, name: str, org: str, user: int | None) -> int:
            cur.execute(
                "INSERT INTO sched_resources (kind, name, organisation_id, user_id, profession, address, email,"
                " timezone, closed_on_public_holidays, active, created_at) VALUES (?,?,?,?,'','','',"
                "'Europe/Oslo',1,1,?)", (kind, name, orgs[org], user, now))
            return int(cur.lastrowid or 0)

        existing = dict(db.execute("SELECT user_id, id FROM sched_resources WHERE user_id IS NOT NULL").fetchall())
        specialist = existing.get(users["lege"]) or resource("person", "Ingrid Hansen",
                                                             "Helgelandssykehuset Mo i Rana", users["lege"])
        nurse = existing.get(users["sykepleier.rodoy"]) or resource("person", "Kari Nilsen", "Rødøy kommune",
                                                                    users["sykepleier.rodoy"])
        room = resource("health_room", "Helserom Rødøy", "Rødøy kommune", None)
        cur.execute("INSERT INTO sched_consultation_types (code, name, name_en, duration_minutes,"
                    " buffer_before_minutes, buffer_after_minutes, min_notice_minutes, active)"
                    " VALUES (?, 'Samkonsultasjon', 'Joint consultation', 45, 0, 0, 0, 1)",
                    (f"test-{secrets.token_hex(4)}",))
        kind = cur.lastrowid
        public_id = secrets.token_urlsafe(16)
        start, end = now + timedelta(minutes=5), now + timedelta(minutes=50)
        cur.execute("INSERT INTO sched_bookings (public_id, patient_id, consultation_type_id, start, \"end\", status,"
                    " cancel_reason, sequence, ical_uid, patient_at_home, created_at, updated_at)"
                    " VALUES (?,?,?,?,?,'booked','',0,?,0,?,?)",
                    (public_id, patient, kind, start, end, f"{public_id}@test", now, now))
        booking = cur.lastrowid
        for position, res in enumerate((specialist, nurse, room)):
            cur.execute("INSERT INTO sched_reservations (booking_id, resource_id, requirement_key, position,"
                        " blocked_start, blocked_end, active) VALUES (?,?,?,?,?,?,1)",
                        (booking, res, f"r{position}", position, start, end))
        db.commit()
        return public_id
    finally:
        db.close()


@pytest_asyncio.fixture(loop_scope="session")
async def three(browser: Browser, server: Server) -> AsyncIterator[list[Page]]:
    async with separate_people(browser, server.base_url, 3) as pages:
        yield pages


DECODED_FROM = """([pid, label]) => [...document.querySelectorAll('#tiles figure[data-participant]')]
  .filter(f => f.dataset.participant === pid && f.dataset.label === label)
  .some(f => f.querySelector('video').videoWidth > 0)"""


DIAGNOSE = """() => ({me: window.samkonsult.me,
  pc: window.samkonsultPeer.pc && window.samkonsultPeer.pc.connectionState,
  signaling: window.samkonsultPeer.pc && window.samkonsultPeer.pc.signalingState,
  transceivers: window.samkonsultPeer.pc && window.samkonsultPeer.pc.getTransceivers().map(t => [t.mid, t.direction,
     t.currentDirection]),
  map: [...window.samkonsultPeer.mediaMap.values()],
  tiles: [...document.querySelectorAll('#tiles figure')].map(f => [f.dataset.participant, f.dataset.label,
     f.querySelector('video').videoWidth]), status: document.getElementById('call-status').textContent})"""


VIDEO_RECEIVED = """async () => {
  const out = [];
  (await window.samkonsultPeer.pc.getStats()).forEach(s => {
    if (s.type === 'inbound-rtp' && s.kind === 'video') out.push({mid: s.mid, packets: s.packetsReceived,
      lost: s.packetsLost, nacks: s.nackCount, plis: s.pliCount, firs: s.firCount, frames: s.framesReceived,
      decoded: s.framesDecoded, keyframes: s.keyFramesDecoded, dropped: s.framesDropped, freezes: s.freezeCount,
      discarded: s.packetsDiscarded});
  });
  return out;
}"""


VIDEO_CAPS = """() => window.samkonsultPeer.pc.getSenders().filter(s => s.track && s.track.kind === 'video')
  .map(s => (s.getParameters().encodings[0] || {}).maxBitrate)"""
VIDEO_CAPS_ARE = f"""(bps) => {{ const caps = ({VIDEO_CAPS})();
  return caps.length > 0 && caps.every(c => c === bps); }}"""


# Frames Chromium decoded of one participant's track (by its m-line), from the receiver's statistics: a
# picture that stays does not prove that the stream goes on. (The video element's own frame count is not
# used: Chromium pauses a muted autoplaying video while the layout has it out of view, which the speaker
# tile does now and then, and the count stops while the frames are still decoded.)
FRAMES_DECODED_FROM = """async ([pid, label]) => {
  const mids = [...window.samkonsultPeer.mediaMap.values()]
    .filter(m => m.participant_id === pid && m.label === label && m.live).map(m => m.mid);
  let decoded = 0;
  (await window.samkonsultPeer.pc.getStats()).forEach(s => {
    if (s.type === 'inbound-rtp' && s.kind === 'video' && mids.includes(s.mid)) decoded += s.framesDecoded;
  });
  return decoded;
}"""


async def _frames_keep_coming(page: Page, pid: str, label: str) -> None:
    before = int(await page.evaluate(FRAMES_DECODED_FROM, [pid, label]))
    for _ in range(300):  # 30 fps: a second or so; this only bounds a broken test
        if int(await page.evaluate(FRAMES_DECODED_FROM, [pid, label])) >= before + 10:
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"no frames decoded of {pid}'s {label} beyond {before}")


async def _decodes(page: Page, others: list[str], label: str = "room_camera") -> None:
    """Each of ``others`` shows a picture on ``page`` and its frames keep being decoded (not one frozen frame)."""
    for pid in others:
        try:
            await page.wait_for_function(DECODED_FROM, arg=[pid, label], timeout=60_000)
            await _frames_keep_coming(page, pid, label)
        except Exception:
            pytest.fail(f"no {label} video from {pid}: {await page.evaluate(DIAGNOSE)}; "
                        f"received video: {await page.evaluate(VIDEO_RECEIVED)}")


SENDER_REPORTED_KINDS = """async () => {
  const kinds = new Set();
  (await window.samkonsultPeer.pc.getStats()).forEach(s => {
    if (s.type === 'remote-outbound-rtp' && s.packetsSent > 0) kinds.add(s.kind);
  });
  return [...kinds].sort().join(',');
}"""


async def _gets_sender_reports(page: Page) -> None:
    """The server's RTCP sender reports reach the page for audio and video (Chromium syncs the two by them)."""
    kinds = ""
    for _ in range(100):  # a report comes every 0.5-1.5 s per stream; this only bounds a broken test
        kinds = str(await page.evaluate(SENDER_REPORTED_KINDS))
        if kinds == "audio,video":
            return
        await asyncio.sleep(0.2)
    pytest.fail(f"sender reports seen only for {kinds!r}: {await page.evaluate(DIAGNOSE)}")


async def _pid(page: Page) -> str:
    await page.wait_for_function("() => window.samkonsult && window.samkonsult.me")
    return str(await page.evaluate("() => window.samkonsult.me"))


@pytest.mark.asyncio(loop_scope="session")
async def test_three_people_hold_a_consultation(three: list[Page], server: Server,
                                                totp_secrets: TotpSecrets) -> None:
    specialist, nurse, relative = three
    booking = _book_now(server)
    for page, user in ((specialist, "lege"), (nurse, "sykepleier.rodoy")):
        await log_in(page, user, totp_secrets)
        await page.goto("/consultations")
        await page.locator(f'a[href="/consultations/{booking}"]').click()
        await expect(page.get_by_role("heading", name="Sjekk kamera og mikrofon")).to_be_visible()
        await assert_accessible(page)
        await page.get_by_role("button", name="Bli med i konsultasjonen").click()
        await expect(page.locator("#incall")).to_be_visible()

    await specialist.get_by_label("Navn").fill("Kari Nordmann")
    await specialist.get_by_role("button", name="Lag tilgangskode").click()
    await expect(specialist.locator("#invite-result")).to_contain_text("Tilgangskode")
    code = re.search(r"[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}",
                     await specialist.locator("#invite-result").inner_text())
    assert code is not None

    await relative.goto(f"/join?room={booking}")
    await assert_accessible(relative)
    await relative.get_by_label("Tilgangskode").fill(code.group(0))
    await relative.get_by_role("button", name="Fortsett").click()
    await relative.get_by_role("button", name="Bli med i konsultasjonen").click()
    await expect(relative.locator("#waiting-room")).to_be_visible()
    await specialist.get_by_role("button", name="Slipp inn Kari Nordmann").click()
    await expect(relative.locator("#incall")).to_be_visible()

    pids = [await _pid(p) for p in three]
    for page, me in zip(three, pids, strict=True):
        await _decodes(page, [p for p in pids if p != me])
        await expect(page.locator("#roster li")).to_have_count(3)
    for page in three:
        await _gets_sender_reports(page)
    await assert_accessible(specialist)
    # three in the room: every page caps its camera at the server's bitrate for that size (1,000 kbit/s)
    for page in three:
        try:
            await page.wait_for_function(VIDEO_CAPS_ARE, arg=1_000_000, timeout=20_000)
        except Exception:
            pytest.fail(f"video not capped: {await page.evaluate(VIDEO_CAPS)}")

    # chat and a reading reach everyone
    # the in-call reading field (the notes panel has a "Verdi" field of its own)
    await nurse.get_by_label("Verdi").and_(nurse.locator("#reading-value")).fill("120/80")
    await nurse.get_by_role("button", name="Del måling").click()
    await specialist.get_by_label("Melding", exact=True).fill("Hei alle")
    await specialist.get_by_role("button", name="Send", exact=True).click()
    for page in three:
        await expect(page.locator("#readings")).to_contain_text("120/80")
        await expect(page.locator("#chat-log")).to_contain_text("Hei alle")

    # the nurse adds the examination camera, the specialist shares the screen: both reach the others
    nurse_pid, specialist_pid = pids[1], pids[0]
    await nurse.get_by_role("button", name="Legg til undersøkelseskamera").click()
    await _decodes(specialist, [nurse_pid], "exam_camera")
    await _decodes(relative, [nurse_pid], "exam_camera")
    await specialist.get_by_role("button", name="Del skjerm").click()
    await _decodes(nurse, [specialist_pid], "screen")
    await _decodes(relative, [specialist_pid], "screen")
    await specialist.get_by_role("button", name="Stopp deling").click()
    for page in (nurse, relative):
        try:
            await expect(page.locator('#tiles figure[data-label="screen"]')).to_have_count(0)
        except AssertionError:
            pytest.fail(f"the shared screen stayed: {await page.evaluate(DIAGNOSE)}"
                        f" sharer: {await specialist.evaluate(DIAGNOSE)}")

    # the nurse leaves and comes back (a new peer connection), the relative's socket is killed and resumes
    await nurse.get_by_role("button", name="Forlat").click()
    await expect(specialist.locator("#roster li")).to_have_count(2)
    await nurse.get_by_role("button", name="Bli med igjen").click()
    await expect(specialist.locator("#roster li")).to_have_count(3)
    await expect(specialist.locator("#roster")).to_contain_text("Kari Nilsen")
    pids = [await _pid(p) for p in three]
    await relative.evaluate("() => window.samkonsultSignal && window.samkonsultSignal.drop()")
    for page, me in zip(three, pids, strict=True):
        await _decodes(page, [p for p in pids if p != me])
    await asyncio.sleep(0)
