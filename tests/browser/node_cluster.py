"""Several nodes of one service on loopback, for the browser tests that span nodes.

Each node is a real ``samkonsult serve`` process; they share one new PostgreSQL database (made for the
test and dropped after it), one Redis and one demo secrets file, so a session made on one node is valid
on the others.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import AsyncIterator
from contextlib import ExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest
from playwright.async_api import Page
from sqlalchemy.engine import make_url

from tests.nginx_front import running_front
from tests.redis_server import running_redis
from tests.serverproc import ServerError, free_port, run_cli, server_env, serving

PG_ENV = "SAMKONSULT_TEST_POSTGRES_URL"
DECODES_FROM_OTHERS = """() => [...document.querySelectorAll('#tiles figure[data-participant]')]
  .some(f => f.dataset.participant !== window.samkonsult.me && f.querySelector('video').videoWidth > 0)"""


@dataclass(frozen=True)
class Node:
    url: str
    pid: int


@dataclass(frozen=True)
class Cluster:
    """Two nodes; ``front`` is the address everyone is given (nginx before both), or None without one."""

    node_a: Node
    node_b: Node
    database_url: str
    front: str | None


def _postgres_admin_dsn() -> str:
    base = os.environ.get(PG_ENV)
    if not base:
        if os.environ.get("CI"):
            pytest.fail(f"{PG_ENV} is not set; run the suite through `make test`")
        pytest.skip(f"PostgreSQL not configured ({PG_ENV})")
    url = make_url(base)
    return f"postgresql://{url.username}@{url.host}:{url.port}/postgres"


@asynccontextmanager
async def new_database() -> AsyncIterator[str]:
    """A new, empty PostgreSQL database for the nodes; yields its SQLAlchemy URL and drops it afterwards."""
    admin = _postgres_admin_dsn()
    name = f"samk_nodes_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(admin)
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    try:
        yield str(make_url(os.environ[PG_ENV]).set(database=name))
    finally:
        conn = await asyncpg.connect(admin)
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()


def start_node(stack: ExitStack, tmp: Path, name: str, port: int, database_url: str, redis_url: str, *,
               first: bool, **extra_env: str) -> Node:
    """Serve one node on ``port`` until ``stack`` closes; the first migrates the database and seeds the demo."""
    env = server_env(tmp, port, SAMKONSULT_DATABASE_URL=database_url, SAMKONSULT_REDIS_URL=redis_url,
                     SAMKONSULT_AUDIT_CHECKPOINT_FILE=str(tmp / f"checkpoints-{name}.jsonl"), **extra_env)
    if first:
        run_cli(env, "migrate")
        run_cli(env, "seed-demo", "--if-empty")
    pid = stack.enter_context(serving(env, tmp / f"serve-{name}.log"))
    return Node(f"http://127.0.0.1:{port}", pid)


async def demo_consultation_now(database_url: str) -> str:
    """The public id of the demo's consultation that is on now."""
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


def port_of(url: str) -> str:
    match = re.search(r":(\d+)(/|$)", url.split("//", 1)[1])
    assert match is not None
    return match.group(1)


async def decodes_others(page: Page, timeout_ms: int = 60_000) -> None:
    await page.wait_for_function(DECODES_FROM_OTHERS, timeout=timeout_ms)


@asynccontextmanager
async def running_cluster(tmp: Path, *, front: bool) -> AsyncIterator[Cluster]:
    """Nodes A and B on a new database and a Redis. Without a front each node's public address is its own;
    with one, everyone is given nginx's address (A first, B its backup) and each node's own address is
    where participants who reached the other node are sent."""
    async with new_database() as database_url:
        try:
            with ExitStack() as stack:
                redis_url = stack.enter_context(running_redis(tmp))
                front_port, a_port, b_port = free_port(), free_port(), free_port()
                front_url = f"http://127.0.0.1:{front_port}" if front else None
                nodes = []
                for name, port in (("a", a_port), ("b", b_port)):
                    extra = {} if front_url is None else {"SAMKONSULT_PUBLIC_URL": front_url,
                                                         "SAMKONSULT_NODE_URL": f"http://127.0.0.1:{port}"}
                    nodes.append(start_node(stack, tmp, name, port, database_url, redis_url, first=name == "a",
                                            **extra))
                if front:
                    stack.enter_context(running_front(tmp / "front", front_port, [a_port, b_port]))
                yield Cluster(nodes[0], nodes[1], database_url, front_url)
        except ServerError as exc:
            pytest.fail(str(exc))
