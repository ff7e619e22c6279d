"""Two nodes, one consultation: the specialist reaches node A, the nurse node B, and they meet on A.

Both nodes are real server processes sharing one PostgreSQL database and one Redis on loopback. The
room is held by the node that opened it first; the nurse's page, joined on the other node, is sent to
that node and joins there, and the two decode each other's video.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import Browser, expect

from tests.browser.call_steps import DESKTOP, person, staff_joins
from tests.browser.node_cluster import decodes_others, demo_consultation_now, new_database, port_of, start_node
from tests.browser.support import TotpSecrets
from tests.redis_server import running_redis
from tests.serverproc import ServerError, free_port

pytestmark = pytest.mark.browser


@dataclass(frozen=True)
class Cluster:
    node_a: str
    node_b: str
    database_url: str


@pytest_asyncio.fixture(loop_scope="session")
async def cluster(tmp_path: Path) -> AsyncIterator[Cluster]:
    async with new_database() as database_url:
        try:
            with ExitStack() as stack:
                redis_url = stack.enter_context(running_redis(tmp_path))
                # Each node's public address is its own: nothing in front of them.
                a = start_node(stack, tmp_path, "a", free_port(), database_url, redis_url, first=True)
                b = start_node(stack, tmp_path, "b", free_port(), database_url, redis_url, first=False)
                yield Cluster(a.url, b.url, database_url)
        except ServerError as exc:
            pytest.fail(str(exc))


@pytest.mark.asyncio(loop_scope="session")
async def test_participants_who_reach_different_nodes_meet_on_the_room_s_node(
        browser: Browser, cluster: Cluster) -> None:
    secrets = TotpSecrets()  # these nodes' database is new: everyone enrols again
    booking = await demo_consultation_now(cluster.database_url)
    async with person(browser, cluster.node_a, DESKTOP) as specialist, \
            person(browser, cluster.node_b, DESKTOP) as nurse:
        await staff_joins(specialist, "lege", booking, secrets)  # node A opens the room and holds it

        await staff_joins(nurse, "sykepleier.rodoy", booking, secrets)  # asked on B, joined on A
        assert port_of(nurse.url) == port_of(cluster.node_a), f"the nurse's page stayed on {nurse.url}"
        assert "#join" not in nurse.url

        for page in (specialist, nurse):
            await expect(page.locator("#roster li")).to_have_count(2)
            await decodes_others(page)
