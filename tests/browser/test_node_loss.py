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
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import Browser, Page, expect

from tests.browser.call_steps import DESKTOP, person, staff_joins
from tests.browser.node_cluster import (
    Node,
    decodes_others,
    demo_consultation_now,
    new_database,
    port_of,
    start_node,
)
from tests.browser.support import TotpSecrets
from tests.nginx_front import running_front
from tests.redis_server import running_redis
from tests.serverproc import ServerError, free_port

pytestmark = pytest.mark.browser

ME = "() => window.samkonsult.me"
DECODES_NEW_SEAT = """(old) => [...document.querySelectorAll('#tiles figure[data-participant]')]
  .some(f => f.dataset.participant !== window.samkonsult.me && !old.includes(f.dataset.participant)
             && f.querySelector('video').videoWidth > 0)"""


@dataclass(frozen=True)
class FrontedCluster:
    front: str
    node_a: Node
    node_b: Node
    database_url: str


@pytest_asyncio.fixture(loop_scope="session")
async def cluster(tmp_path: Path) -> AsyncIterator[FrontedCluster]:
    async with new_database() as database_url:
        try:
            with ExitStack() as stack:
                redis_url = stack.enter_context(running_redis(tmp_path))
                front_port, a_port, b_port = free_port(), free_port(), free_port()
                front_url = f"http://127.0.0.1:{front_port}"
                # Everyone is given the front's address; each node also has an address of its own, where
                # participants who reached the other node are sent.
                a = start_node(stack, tmp_path, "a", a_port, database_url, redis_url, first=True,
                               SAMKONSULT_PUBLIC_URL=front_url, SAMKONSULT_NODE_URL=f"http://127.0.0.1:{a_port}")
                b = start_node(stack, tmp_path, "b", b_port, database_url, redis_url, first=False,
                               SAMKONSULT_PUBLIC_URL=front_url, SAMKONSULT_NODE_URL=f"http://127.0.0.1:{b_port}")
                stack.enter_context(running_front(tmp_path / "front", front_port, [a_port, b_port]))
                yield FrontedCluster(front_url, a, b, database_url)
        except ServerError as exc:
            pytest.fail(str(exc))


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
        browser: Browser, cluster: FrontedCluster) -> None:
    secrets = TotpSecrets()  # a new database: everyone enrols again
    booking = await demo_consultation_now(cluster.database_url)
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
