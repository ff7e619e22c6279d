"""A node dies in the middle of a consultation; the other node takes it over and everyone is back.

Two nodes behind nginx (as a trust runs them: one address for everyone), sharing PostgreSQL and Redis.
The specialist comes in through the front and is served by node A. The nurse had opened node B's own
address and was sent on to node A's own address, where the room is. Node A is then killed (SIGKILL:
nothing is released, its claim in Redis simply stops being renewed).

What must happen, with nobody touching anything:
- the specialist's socket comes back through the front, now to node B, which does not send anyone to
  a node that does not answer, and takes the room over once A's heartbeat has run out;
- the nurse's page, on a node that no longer answers, goes back to the service's address and joins there;
- both are in the consultation again, with new peer connections on node B, and see each other.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import Browser, Page, expect

from tests.browser.call_steps import DESKTOP, person, staff_joins
from tests.browser.node_cluster import Cluster, Node, decodes_others, demo_consultation_now, port_of, running_cluster
from tests.browser.support import TotpSecrets

pytestmark = pytest.mark.browser

ME = "() => window.samkonsult.me"
DECODES_NEW_SEAT = """(old) => [...document.querySelectorAll('#tiles figure[data-participant]')]
  .some(f => f.dataset.participant !== window.samkonsult.me && !old.includes(f.dataset.participant)
             && f.querySelector('video').videoWidth > 0)"""


@pytest_asyncio.fixture(loop_scope="session")
async def cluster(tmp_path: Path) -> AsyncIterator[Cluster]:
    async with running_cluster(tmp_path, front=True) as running:
        yield running


def _kill_node(node: Node) -> None:
    """As a machine that loses power: the server and its media workers, with no chance to clean up."""
    children = Path(f"/proc/{node.pid}/task/{node.pid}/children")
    workers = [int(pid) for pid in children.read_text().split()] if children.exists() else []
    for pid in (node.pid, *workers):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + 10
    while Path(f"/proc/{node.pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.05)


async def _seat(page: Page) -> str:
    return str(await page.evaluate(ME))


@pytest.mark.asyncio(loop_scope="session")
async def test_when_the_room_s_node_dies_the_other_node_takes_the_consultation_over(
        browser: Browser, cluster: Cluster) -> None:
    secrets = TotpSecrets()  # a new database: everyone enrols again
    booking = await demo_consultation_now(cluster.database_url)
    assert cluster.front is not None
    async with person(browser, cluster.front, DESKTOP) as specialist, \
            person(browser, cluster.node_b.url, DESKTOP) as nurse:
        await staff_joins(specialist, "lege", booking, secrets)  # through the front, to node A
        await staff_joins(nurse, "sykepleier.rodoy", booking, secrets)  # asked on B, sent to A's address
        assert port_of(nurse.url) == port_of(cluster.node_a.url), f"the nurse's page stayed on {nurse.url}"
        for page in (specialist, nurse):
            await expect(page.locator("#roster li")).to_have_count(2)
            await decodes_others(page)
        seats_before = {await _seat(specialist), await _seat(nurse)}

        _kill_node(cluster.node_a)

        # Both come back to the consultation on node B by themselves: new seats, new peer connections.
        for page in (specialist, nurse):
            await page.wait_for_function(
                f"() => window.samkonsult.me && !{sorted(seats_before)!r}.includes(window.samkonsult.me)",
                timeout=60_000)
            await expect(page.locator("#call")).to_have_attribute("data-state", "incall", timeout=30_000)
        assert port_of(nurse.url) == port_of(cluster.front), f"the nurse's page stayed on {nurse.url}"
        assert port_of(specialist.url) == port_of(cluster.front)
        for page in (specialist, nurse):
            await expect(page.locator("#roster li")).to_have_count(2, timeout=30_000)
            await expect(page.locator("#reconnecting")).to_be_hidden(timeout=30_000)
        # Only the new seats' tiles count: video from the dead node's connection proves nothing.
        for page in (specialist, nurse):
            await page.wait_for_function(DECODES_NEW_SEAT, arg=sorted(seats_before), timeout=60_000)
