"""What the HTTP benchmarks share: the machine's load, timing requests, percentiles, and the real app
served on loopback over a temporary SQLite database.

Each benchmark seeds its own data; this module only times and serves.
"""

from __future__ import annotations

import os
import tempfile
import time as clock
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select

from server.app import create_app
from server.migrate import upgrade
from server.platform.audit_models import AuditEntry
from server.platform.clock import FixedClock
from server.platform.db import Database, create_engine
from server.platform.settings import Settings
from tests.conftest import SECRET
from tests.helpers import LoopbackSecureJar

TOTP_KEY = "bench-totp-key-0123456789abcdef"


def load_line(when: str) -> str:
    """The load average, printed beside every figure: figures from a loaded machine are not comparable."""
    return f"load average {when}: {' '.join(f'{x:.2f}' for x in os.getloadavg())} ({os.cpu_count()} cores)"


def percentile(values: Sequence[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered) + 0.5) - 1))  # nearest rank
    return ordered[index]


async def time_requests(rounds: int, request: Callable[[], Awaitable[int]]) -> list[float]:
    """``rounds`` timings in ms after one warm-up; a status other than 200 stops the benchmark."""
    await request()  # warm: templates compiled, caches filled
    timings = []
    for _ in range(rounds):
        started = clock.perf_counter()
        status = await request()
        timings.append((clock.perf_counter() - started) * 1000)
        if status != 200:
            raise SystemExit(f"a page answered {status}: a bug, not a benchmark result")
    return timings


def getter(client: TestClient, path: str) -> Callable[[], Awaitable[int]]:
    """A request for ``path`` that reads the whole answer and returns its status."""
    async def request() -> int:
        async with client.get(path) as resp:
            await resp.read()
            return resp.status
    return request


async def audit_rows(db: Database) -> int:
    async with db.session() as session:
        return int((await session.execute(select(func.count()).select_from(AuditEntry))).scalar_one())


@dataclass
class Served:
    db: Database
    client: TestClient


@asynccontextmanager
async def served_app(fixed: FixedClock, seed: Callable[[Database], Awaitable[None]]) -> AsyncIterator[Served]:
    """A migrated temporary SQLite database, ``seed`` run on it, and the real app on loopback (the same
    middlewares, sessions and audit log as production) with a client whose cookies work there."""
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        await upgrade(url)
        db = Database(create_engine(url))
        try:
            await seed(db)
            settings = Settings(database_url=url, session_secret=SECRET, totp_encryption_key=TOTP_KEY,
                                public_url="http://127.0.0.1", background_jobs=False)
            client = TestClient(TestServer(create_app(settings, clock=fixed), host="127.0.0.1"),
                                cookie_jar=LoopbackSecureJar())
            await client.start_server()
            try:
                yield Served(db, client)
            finally:
                await client.close()
        finally:
            await db.close()
