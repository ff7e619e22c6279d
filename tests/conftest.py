"""Shared fixtures: a fresh migrated database per test on SQLite and PostgreSQL, the app, clients.

Every test that asks for ``database_url`` runs once per backend. PostgreSQL comes from the
throwaway cluster `make test` starts (SAMKONSULT_TEST_POSTGRES_URL); in CI its absence fails.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy.engine import make_url

from server.app import create_app
from server.migrate import upgrade
from server.platform.clock import FixedClock
from server.platform.db import Database, create_engine
from server.platform.settings import Settings
from tests.helpers import LoopbackSecureJar

PG_ENV = "SAMKONSULT_TEST_POSTGRES_URL"
BACKENDS = ["sqlite", "postgres"]
SECRET = "test-session-secret-0123456789abcdef"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    asyncio.run(upgrade(f"sqlite+aiosqlite:///{path}"))
    return path


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str | None]:
    base = os.environ.get(PG_ENV)
    if not base:
        yield None
        return
    import asyncpg

    url = make_url(base)
    admin_dsn = f"postgresql://{url.username}@{url.host}:{url.port}/postgres"
    name = f"samk_template_{uuid.uuid4().hex[:8]}"

    async def create() -> None:
        conn = await asyncpg.connect(admin_dsn)
        await conn.execute(f'CREATE DATABASE "{name}"')
        await conn.close()
        await upgrade(str(url.set(database=name)))

    asyncio.run(create())
    yield name


# Seeded copies of the templates, one per backend and clock time: seeding the demo for every test cost a
# third of the suite's time, and the demo depends only on the clock it is seeded at.
_SEEDED_TEMPLATES: dict[tuple[str, str], str] = {}


@pytest.fixture(params=BACKENDS)
async def database_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path,
                       postgres_template: str | None) -> AsyncIterator[str]:
    # A test that asks for the demo data (directly or through a fixture) starts from a seeded copy.
    now = request.getfixturevalue("clock").now().isoformat() if "seeded" in request.fixturenames else None
    if request.param == "sqlite":
        source = sqlite_template
        if now is not None:
            source = Path(await _seeded_template("sqlite", str(sqlite_template), now))
        target = tmp_path / "test.db"
        shutil.copyfile(source, target)
        yield f"sqlite+aiosqlite:///{target}"
        return
    if postgres_template is None:
        if os.environ.get("CI"):
            pytest.fail(f"{PG_ENV} is not set; run the suite through `make test`")
        pytest.skip(f"PostgreSQL not configured ({PG_ENV})")
    template = postgres_template
    if now is not None:
        template = await _seeded_template("postgres", postgres_template, now)
    name = f"samk_t_{uuid.uuid4().hex[:12]}"
    await _pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    yield _pg_url(name)
    await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _pg_url(name: str) -> str:
    return str(make_url(os.environ[PG_ENV]).set(database=name))


async def _pg_admin(statement: str) -> None:
    import asyncpg

    url = make_url(os.environ[PG_ENV])
    conn = await asyncpg.connect(f"postgresql://{url.username}@{url.host}:{url.port}/postgres")
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


async def _seeded_template(backend: str, plain: str, now: str) -> str:
    """A copy of the plain template with the demo seeded at ``now``, made once and reused."""
    key = (backend, now)
    if key in _SEEDED_TEMPLATES:
        return _SEEDED_TEMPLATES[key]
    if backend == "sqlite":
        made = str(Path(plain).with_name(f"seeded-{uuid.uuid4().hex[:8]}.db"))
        shutil.copyfile(plain, made)
        url = f"sqlite+aiosqlite:///{made}"
    else:
        made = f"samk_seeded_{uuid.uuid4().hex[:8]}"
        await _pg_admin(f'CREATE DATABASE "{made}" TEMPLATE "{plain}"')
        url = _pg_url(made)
    database = Database(create_engine(url))
    try:
        await _seed_demo(database, FixedClock(datetime.fromisoformat(now)))
    finally:
        # Closed before use: a PostgreSQL template may have no connections, a SQLite copy no open WAL.
        await database.close()
    _SEEDED_TEMPLATES[key] = made
    return made


@pytest.fixture
def backend(database_url: str) -> str:
    return "sqlite" if database_url.startswith("sqlite") else "postgres"


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        session_secret=SECRET,
        totp_encryption_key="test-totp-key-0123456789abcdef",
        public_url="http://127.0.0.1",
        background_jobs=False,  # tests run the jobs' steps themselves, against the fixed clock
    )


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(create_engine(database_url))
    yield database
    await database.close()


@pytest.fixture
async def client(aiohttp_client, settings: Settings, clock: FixedClock) -> TestClient:  # type: ignore[no-untyped-def]
    app = create_app(settings, clock=clock)
    return await aiohttp_client(app, cookie_jar=LoopbackSecureJar())


DEMO_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


@dataclass
class Seeded:
    users: dict[str, int]
    patients: dict[str, str]
    organisations: dict[str, int]


async def _seed_demo(db: Database, clock: FixedClock) -> None:
    """The demo data, with a known TOTP secret for every user."""
    from sqlalchemy import select

    from server.demo import seed_demo
    from server.people.accounts import AccountService
    from server.people.models import User
    from server.people.totp import TotpCipher
    from server.platform.audit import AuditLog

    accounts = AccountService(clock, AuditLog(clock), TotpCipher("test-totp-key-0123456789abcdef"))
    async with db.session() as session:
        # Without the six months of past consultations: most tests need only the people and today's
        # bookings, and the history cost every test a third of a second (tests/integration/test_demo_history.py
        # and the servers started as `make run` starts them have it).
        await seed_demo(session, accounts, clock, history=False)
        for user in (await session.execute(select(User))).scalars().all():
            await accounts.set_totp_secret(session, user, DEMO_TOTP_SECRET)


@pytest.fixture
async def seeded(db: Database, clock: FixedClock) -> Seeded:
    """The demo data, with a known TOTP secret for every user (seeded into the database's template)."""
    from sqlalchemy import select

    from server.people.models import Organisation, Patient, User

    async with db.session() as session:
        users = (await session.execute(select(User))).scalars().all()
        patients = (await session.execute(select(Patient))).scalars().all()
        orgs = (await session.execute(select(Organisation))).scalars().all()
        return Seeded(
            users={u.username: u.id for u in users},
            patients={p.given_name: p.public_id for p in patients},
            organisations={o.name: o.id for o in orgs},
        )
