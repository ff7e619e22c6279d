"""Two nodes, one consultation: the specialist reaches node A, the nurse node B, and they meet on A.

Both nodes are real server processes sharing one PostgreSQL database and one Redis on loopback. The
room is held by the node that opened it first; the nurse's page, joined on the other node, is sent to
that node and joins there, and the two decode each other's video.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import AsyncIterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest
import pytest_asyncio
from playwright.async_api import Browser, Page, expect
from sqlalchemy.engine import make_url

from tests.browser.call_steps import DESKTOP, person, staff_joins
from tests.browser.support import TotpSecrets
from tests.redis_server import running_redis
from tests.serverproc import ServerError, free_port, run_cli, server_env, serving

pytestmark = pytest.mark.browser

PG_ENV = "SAMKONSULT_TEST_POSTGRES_URL"
DECODES_FROM_OTHERS = """() => [...document.querySelectorAll('#tiles figure[data-participant]')]
  .some(f => f.dataset.participant !== window.samkonsult.me && f.querySelector('video').videoWidth > 0)"""


@dataclass(frozen=True)
class Cluster:
    node_a: str
    node_b: str
    database_url: str


def _postgres_admin_dsn() -> str:
    base = os.environ.get(PG_ENV)
    if not base:
        if os.environ.get("CI"):
            pytest.fail(f"{PG_ENV} is not set; run the suite through `make test`")
        pytest.skip(f"PostgreSQL not configured ({PG_ENV})")
    url = make_url(base)
    return f"postgresql://{url.username}@{url.host}:{url.port}/postgres"


@pytest_asyncio.fixture(loop_scope="session")
async def cluster(tmp_path: Path) -> AsyncIterator[Cluster]:
    admin = _postgres_admin_dsn()
    name = f"samk_nodes_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(admin)
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    database_url = str(make_url(os.environ[PG_ENV]).set(database=name))
    try:
        with ExitStack() as stack:
            redis_url = stack.enter_context(running_redis(tmp_path))
            urls = []
            for node in ("a", "b"):
                port = free_port()
                # Shared secrets (one demo secrets file): a session made on one node is valid on the other.
                env = server_env(tmp_path, port, SAMKONSULT_DATABASE_URL=database_url,
                                 SAMKONSULT_REDIS_URL=redis_url,
                                 SAMKONSULT_AUDIT_CHECKPOINT_FILE=str(tmp_path / f"checkpoints-{node}.jsonl"))
                if node == "a":
                    run_cli(env, "migrate")
                    run_cli(env, "seed-demo", "--if-empty")
                stack.enter_context(serving(env, tmp_path / f"serve-{node}.log"))
                urls.append(env["SAMKONSULT_PUBLIC_URL"])
            yield Cluster(urls[0], urls[1], database_url)
    except ServerError as exc:
        pytest.fail(str(exc))
    finally:
        conn = await asyncpg.connect(admin)
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()


async def _demo_consultation_now(database_url: str) -> str:
    url = make_url(database_url)
    conn = await asyncpg.connect(f"postgresql://{url.username}@{url.host}:{url.port}/{url.database}")
    try:
        public_id = await conn.fetchval(
            "SELECT public_id FROM sched_bookings WHERE status IN ('booked', 'arrived', 'in_progress')"
            " AND start > now() AT TIME ZONE 'utc' - interval '1 hour' ORDER BY start LIMIT 1")
    finally:
        await conn.close()
    assert public_id, "the demo seeded no consultation starting now"
    return str(public_id)


def _port(url: str) -> str:
    match = re.search(r":(\d+)(/|$)", url.split("//", 1)[1])
    assert match is not None
    return match.group(1)


async def _decodes_others(page: Page) -> None:
    await page.wait_for_function(DECODES_FROM_OTHERS, timeout=60_000)


@pytest.mark.asyncio(loop_scope="session")
async def test_participants_who_reach_different_nodes_meet_on_the_room_s_node(
        browser: Browser, cluster: Cluster) -> None:
    secrets = TotpSecrets()  # these nodes' database is new: everyone enrols again
    booking = await _demo_consultation_now(cluster.database_url)
    async with person(browser, cluster.node_a, DESKTOP) as specialist, \
            person(browser, cluster.node_b, DESKTOP) as nurse:
        await staff_joins(specialist, "lege", booking, secrets)  # node A opens the room and holds it

        await staff_joins(nurse, "sykepleier.rodoy", booking, secrets)  # asked on B, joined on A
        assert _port(nurse.url) == _port(cluster.node_a), f"the nurse's page stayed on {nurse.url}"
        assert "#join" not in nurse.url

        for page in (specialist, nurse):
            await expect(page.locator("#roster li")).to_have_count(2)
            await _decodes_others(page)
