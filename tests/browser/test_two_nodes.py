"""Two nodes, one consultation: the specialist reaches node A, the nurse node B, and they meet on A.

Both nodes are real server processes sharing one PostgreSQL database and one Redis on loopback. The
room is held by the node that opened it first; the nurse's page, joined on the other node, is sent to
that node and joins there, and the two decode each other's video.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import Browser, expect

from tests.browser.call_steps import DESKTOP, person, staff_joins
from tests.browser.node_cluster import Cluster, decodes_others, demo_consultation_now, port_of, running_cluster
from tests.browser.support import TotpSecrets

pytestmark = pytest.mark.browser


@pytest_asyncio.fixture(loop_scope="session")
async def cluster(tmp_path: Path) -> AsyncIterator[Cluster]:
    async with running_cluster(tmp_path, front=False) as running:  # each node's public address its own
        yield running


@pytest.mark.asyncio(loop_scope="session")
async def test_participants_who_reach_different_nodes_meet_on_the_room_s_node(
        browser: Browser, cluster: Cluster) -> None:
    secrets = TotpSecrets()  # these nodes' database is new: everyone enrols again
    booking = await demo_consultation_now(cluster.database_url)
    async with person(browser, cluster.node_a.url, DESKTOP) as specialist, \
            person(browser, cluster.node_b.url, DESKTOP) as nurse:
        await staff_joins(specialist, "lege", booking, secrets)  # node A opens the room and holds it

        await staff_joins(nurse, "sykepleier.rodoy", booking, secrets)  # asked on B, joined on A
        assert port_of(nurse.url) == port_of(cluster.node_a.url), f"the nurse's page stayed on {nurse.url}"
        assert "#join" not in nurse.url

        for page in (specialist, nurse):
            await expect(page.locator("#roster li")).to_have_count(2)
            await decodes_others(page)
