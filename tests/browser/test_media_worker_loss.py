"""A media worker dies in the middle of a consultation: its pages reconnect and the call goes on.

The server runs its media in worker processes (one per core by default). The worker holding the room's
peer connections is killed with SIGKILL while the specialist and the nurse see each other: both pages
show that they are reconnecting, get a new peer connection on a live worker, and decode each other's
video again within seconds; chat, seats and the roster were never lost.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Browser, Page, expect

from tests.browser.call_steps import DESKTOP, person, staff_joins
from tests.browser.network_cut import listening_pid, udp_sockets
from tests.browser.support import TotpSecrets
from tests.browser.test_call_consultation import _book_now
from tests.serverproc import Server, ServerError, running_server

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server_with_workers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The demo server with its media in two worker processes (media stays in the server by default)."""
    try:
        with running_server(tmp_path_factory.mktemp("worker-server"), SAMKONSULT_MEDIA_WORKERS="2") as running:
            yield running
    except ServerError as exc:
        pytest.fail(str(exc))

MEDIA_BACK_WITHIN_MS = 15_000  # "within a few seconds" on a quiet machine; a safety net on a loaded one

DECODED_FRAMES_FROM_OTHERS = """() => {
  const videos = [...document.querySelectorAll('#tiles figure[data-participant]')]
    .filter(f => f.dataset.participant !== window.samkonsult.me).map(f => f.querySelector('video'));
  return videos.reduce((sum, v) => sum + v.getVideoPlaybackQuality().totalVideoFrames, 0);
}"""
PEER = "() => window.samkonsultPeer.pc"


def _media_worker_with_peers(server_pid: int) -> int:
    """The worker process holding the room's peer connections: the server's child with UDP sockets."""
    children = Path(f"/proc/{server_pid}/task/{server_pid}/children").read_text()
    workers = [int(child) for child in children.split()]
    assert workers, "the server runs no media workers"
    holding = [pid for pid in workers if udp_sockets(pid)]
    assert len(holding) == 1, f"expected one worker with peer connections, got {holding} of {workers}"
    return holding[0]


async def _frames(page: Page) -> int:
    return int(await page.evaluate(DECODED_FRAMES_FROM_OTHERS))


async def _frames_grow(page: Page, since: int, limit_ms: float) -> None:
    await page.wait_for_function(f"() => ({DECODED_FRAMES_FROM_OTHERS})() > {since + 30}", timeout=limit_ms)


@pytest.mark.asyncio(loop_scope="session")
async def test_a_killed_media_worker_costs_the_call_a_reconnect_only(
        browser: Browser, server_with_workers: Server) -> None:
    server = server_with_workers
    totp_secrets = TotpSecrets()  # this server's database is its own: the demo users enrol again
    booking = _book_now(server)
    port = urlsplit(server.base_url).port
    assert port is not None
    server_pid = listening_pid(port)
    async with person(browser, server.base_url, DESKTOP) as specialist, \
            person(browser, server.base_url, DESKTOP) as nurse:
        await staff_joins(specialist, "lege", booking, totp_secrets)
        await staff_joins(nurse, "sykepleier.rodoy", booking, totp_secrets)
        for page in (specialist, nurse):
            await _frames_grow(page, 0, 60_000)
        await specialist.locator("#chat-text").fill("Før brytet")
        await specialist.locator("#chat-form button[type=submit]").click()
        await expect(nurse.locator("#chat-log")).to_contain_text("Før brytet")

        victim = _media_worker_with_peers(server_pid)
        old_peers = [await page.evaluate_handle(PEER) for page in (specialist, nurse)]
        os.kill(victim, signal.SIGKILL)

        for page in (specialist, nurse):
            await expect(page.locator("#reconnecting")).to_be_visible()
        for page, old in zip((specialist, nurse), old_peers, strict=True):
            await page.wait_for_function("(old) => window.samkonsultPeer.pc && window.samkonsultPeer.pc !== old",
                                         arg=old, timeout=MEDIA_BACK_WITHIN_MS)
            await _frames_grow(page, await _frames(page), MEDIA_BACK_WITHIN_MS)
            await expect(page.locator("#reconnecting")).to_be_hidden()
            await expect(page.locator("#call")).to_have_attribute("data-state", "incall")

        await expect(nurse.locator("#roster li")).to_have_count(2)
        await nurse.locator("#chat-text").fill("Etter brytet")
        await nurse.locator("#chat-form button[type=submit]").click()
        await expect(specialist.locator("#chat-log")).to_contain_text("Etter brytet")
        assert _media_worker_with_peers(server_pid) != victim
