"""A real network drop: one participant's browser loses its UDP path to the server, then all of its network.

Three people hold a consultation; the relative's Chromium runs in a network namespace of its own
(:mod:`tests.browser.network_cut`). First its UDP (the whole media path) is dropped for 10 s while its
signaling socket stays up: its page says it is reconnecting, the other two keep seeing each other, and
within 5 s of the network coming back the relative sees moving video again and the others see the
relative's. Then its network goes for good: the server closes its silent peer connection, leaving no
more UDP sockets than before the relative joined, and within 35 s it has released the seat too (the
grace period of a dropped socket) and told the others.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Browser, Page, expect

from tests.browser.call_steps import DESKTOP, guest_waits, make_code, person, staff_joins
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.browser.network_cut import Forwarder, Namespace, forwarder, listening_pid, namespace, udp_sockets
from tests.browser.support import TotpSecrets
from tests.browser.test_call_consultation import _book_now
from tests.serverproc import Server

pytestmark = pytest.mark.browser

BLOCKED_FOR = 10.0
MEDIA_BACK_WITHIN = 5.0
REAPED_WITHIN = 35.0

# Frames decoded so far from ``pid``'s room camera on this page (0 when there is no such track now).
FRAMES_FROM = """async (pid) => {
  const peer = window.samkonsultPeer;
  if (!peer.pc) return 0;
  const mids = [...peer.mediaMap.entries()]
    .filter(([, t]) => t.participant_id === pid && t.label === 'room_camera' && t.live).map(([mid]) => mid);
  let frames = 0;
  for (const t of peer.pc.getTransceivers()) {
    if (!mids.includes(t.mid)) continue;
    (await t.receiver.getStats()).forEach((s) => {
      if (s.type === 'inbound-rtp') frames = Math.max(frames, s.framesDecoded || 0);
    });
  }
  return frames;
}"""

STATE = """() => ({pc: window.samkonsultPeer.pc && window.samkonsultPeer.pc.connectionState,
  reconnecting: !document.getElementById('reconnecting').hidden,
  status: document.getElementById('call-status').textContent,
  tiles: [...document.querySelectorAll('#tiles figure')].map(f => [f.dataset.participant, f.dataset.label])})"""


async def _pid(page: Page) -> str:
    await page.wait_for_function("() => window.samkonsult && window.samkonsult.me")
    return str(await page.evaluate("() => window.samkonsult.me"))


async def _video_moves(page: Page, pid: str, within: float) -> bool:
    """Whether ``page`` decodes new frames from ``pid`` on two polls in a row within ``within`` seconds."""
    deadline = time.monotonic() + within
    last, rising = await page.evaluate(FRAMES_FROM, pid), 0
    while time.monotonic() < deadline:
        await asyncio.sleep(0.2)
        now = await page.evaluate(FRAMES_FROM, pid)
        rising = rising + 1 if now > last else 0
        last = now
        if rising >= 2:
            return True
    return False


def _ms_left(since: float, limit: float) -> float:
    """Milliseconds left of ``limit`` seconds counted from the monotonic time ``since`` (at least 1)."""
    return max(1.0, (since + limit - time.monotonic()) * 1000)


async def _sockets_left(server_pid: int, before: set[str], *, until: float) -> set[str]:
    """The server's UDP sockets that were not open ``before``, once they are gone or at ``until``."""
    left = udp_sockets(server_pid) - before
    while left and time.monotonic() < until:
        await asyncio.sleep(0.5)
        left = udp_sockets(server_pid) - before
    return left


async def _all_see_each_other(pages: dict[str, Page], within: float) -> None:
    for me, page in pages.items():
        for other in pages:
            if other != me:
                assert await _video_moves(page, other, within), \
                    f"{me} sees no moving video from {other}: {await page.evaluate(STATE)}"


@pytest.mark.asyncio(loop_scope="session")
async def test_a_dropped_network_recovers_and_a_lost_one_is_reaped(
    browser: Browser, server: Server, totp_secrets: TotpSecrets, tmp_path: Path
) -> None:
    booking = _book_now(server)
    port = urlsplit(server.base_url).port
    assert port is not None
    server_pid = listening_pid(port)
    with namespace() as ns:
        async with forwarder(ns, port) as relay:
            cut_off = await browser.browser_type.launch(
                executable_path=ns.chromium_wrapper(tmp_path, CHROMIUM), args=CHROMIUM_ARGS, headless=True)
            try:
                await _drop_and_loss(browser, cut_off, server, totp_secrets, booking, ns, relay, server_pid)
            finally:
                await cut_off.close()


async def _drop_and_loss(browser: Browser, cut_off: Browser, server: Server, secrets: TotpSecrets, booking: str,
                         ns: Namespace, relay: Forwarder, server_pid: int) -> None:
    async with person(browser, server.base_url, DESKTOP) as doctor, \
            person(browser, server.base_url, DESKTOP) as nurse, \
            person(cut_off, server.base_url, DESKTOP) as relative:
        await staff_joins(doctor, "lege", booking, secrets)
        await staff_joins(nurse, "sykepleier.rodoy", booking, secrets)
        staff = {await _pid(doctor): doctor, await _pid(nurse): nurse}
        await _all_see_each_other(staff, 30)
        sockets_of_two = udp_sockets(server_pid)

        await guest_waits(relative, await make_code(doctor, "Kari Nordmann"))
        await doctor.get_by_role("button", name="Slipp inn Kari Nordmann").click()
        await expect(relative.locator("#call")).to_have_attribute("data-state", "incall")
        relative_pid = await _pid(relative)
        everyone = {**staff, relative_pid: relative}
        await _all_see_each_other(everyone, 30)

        # The relative's media path is gone for 10 s; its signaling socket is not.
        ns.block_udp()
        blocked_at = time.monotonic()
        try:
            await expect(relative.locator("#reconnecting")).to_be_visible(timeout=BLOCKED_FOR * 1000)
            await expect(relative.locator("#reconnecting")).to_have_text("Kobler til igjen …")
            await _all_see_each_other(staff, 2)  # the other two are not disturbed
            assert not await _video_moves(relative, next(iter(staff)), 1), "media went through the block"
            await asyncio.sleep(max(0.0, blocked_at + BLOCKED_FOR - time.monotonic()))
        finally:
            ns.restore_udp()

        # Within 5 s of the network coming back: moving video both ways (watched at once, on every page).
        ways = [(relative, pid) for pid in staff] + [(page, relative_pid) for page in staff.values()]
        moving = await asyncio.gather(*(_video_moves(page, pid, MEDIA_BACK_WITHIN) for page, pid in ways))
        for (page, pid), moves in zip(ways, moving, strict=True):
            assert moves, f"{await _pid(page)} sees no moving video from {pid}: {await page.evaluate(STATE)}"
        await expect(relative.locator("#reconnecting")).to_be_hidden()

        # Now its network goes for good: no UDP, and every TCP connection reset and refused.
        ns.block_udp()
        await relay.cut()
        lost = time.monotonic()
        await expect(relative.locator("#reconnecting")).to_be_visible()  # its page, still open, says so
        # The server closes the peer connection that receives nothing: no UDP socket of the server is left
        # beyond the staff's two.
        left = await _sockets_left(server_pid, sockets_of_two, until=lost + REAPED_WITHIN)
        assert not left, f"UDP sockets left after the reap: {sorted(left)}\n{server.log()[-3000:]}"
        for page in staff.values():  # the seat goes after its grace period, and the others are told
            await expect(page.locator("#roster li")).to_have_count(2, timeout=_ms_left(lost, REAPED_WITHIN))
            await expect(page.locator(f'#tiles figure[data-participant="{relative_pid}"]')).to_have_count(
                0, timeout=_ms_left(lost, REAPED_WITHIN))
        await _all_see_each_other(staff, 5)

