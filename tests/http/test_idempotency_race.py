"""Two requests with the same Idempotency-Key at the same moment: the second gets the first's answer."""

from __future__ import annotations

import asyncio

from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from scheduling.models import Booking
from scheduling.services.idempotency import IdempotencyKeys, request_hash
from server.people.models import User
from server.people.staff_actor import staff_actor
from server.platform.clock import FixedClock
from server.platform.db import Database
from server.platform.idempotency_models import IdempotencyRecord
from tests.conftest import Seeded
from tests.helpers import api_headers, login_as


async def _booking_body(client: TestClient, seeded: Seeded) -> dict[str, object]:
    queue = await (await client.get("/api/referrals")).json()
    johan = next(r for r in queue if r["patient_name"] == "Johan Pedersen")
    types = {t["code"]: t for t in await (await client.get("/api/consultation-types")).json()}
    joint = types["joint_consultation"]
    slots = await (await client.get("/api/slots", params={
        "consultation_type_id": str(joint["id"]), "from": "2026-11-24", "to": "2026-11-30",
        "municipality_id": str(seeded.organisations["Lurøy kommune"])})).json()
    return {"consultation_type_id": joint["id"], "start": slots[0]["start"], "referral_id": johan["id"],
            "chosen": {p["key"]: p["resource_id"] for p in slots[0]["participants"]}}


async def _count(db: Database, model: type) -> int:
    async with db.session() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


async def test_two_requests_at_once_with_one_key_both_get_the_first_answer(
        client: TestClient, db: Database, seeded: Seeded, clock: FixedClock) -> None:
    headers = {**api_headers(await login_as(client, "koordinator", clock)), "Idempotency-Key": "double-1"}
    body = await _booking_body(client, seeded)
    bookings_before = await _count(db, Booking)

    async def post() -> tuple[int, dict[str, object]]:
        async with client.post("/api/bookings", json=body, headers=headers) as resp:
            return resp.status, await resp.json()

    (status_a, a), (status_b, b) = await asyncio.gather(post(), post())
    assert (status_a, status_b) == (201, 201), (a, b)
    assert a["id"] == b["id"]
    assert await _count(db, Booking) == bookings_before + 1
    assert await _count(db, IdempotencyRecord) == 1


async def test_a_key_under_way_makes_the_second_request_wait_for_its_answer(
        db: Database, seeded: Seeded, clock: FixedClock) -> None:
    """The interleaving made certain: the first holds the key, uncommitted, while the second asks."""
    keys = IdempotencyKeys(clock)
    async with db.session() as session:
        actor = staff_actor((await session.execute(select(User).where(User.username == "koordinator"))).scalar_one())
    digest = request_hash({"start": "09:00"})
    first_holds = asyncio.Event()
    let_first_finish = asyncio.Event()

    async def first() -> None:
        async with db.session(write_lock=True) as session:
            assert await keys.claim(session, actor, "k", digest) is None
            first_holds.set()
            await let_first_finish.wait()
            await keys.store(session, actor, "k", digest, 201, '{"booking": "b-1"}')

    async def second() -> tuple[int, str] | None:
        await first_holds.wait()
        async with db.session(write_lock=True) as session:
            answer = await keys.claim(session, actor, "k", digest)
            return None if answer is None else (answer.status, answer.body)

    first_task = asyncio.create_task(first())
    second_task = asyncio.create_task(second())
    await first_holds.wait()
    await asyncio.sleep(0.2)
    assert not second_task.done(), "the second request waits while the first holds the key"
    let_first_finish.set()
    await first_task
    assert await second_task == (201, '{"booking": "b-1"}')


async def test_a_refused_first_request_leaves_the_key_free(db: Database, seeded: Seeded, clock: FixedClock) -> None:
    keys = IdempotencyKeys(clock)
    async with db.session() as session:
        actor = staff_actor((await session.execute(select(User).where(User.username == "koordinator"))).scalar_one())
    digest = request_hash({"start": "10:00"})

    class Refused(Exception):
        pass

    try:
        async with db.session(write_lock=True) as session:
            assert await keys.claim(session, actor, "k2", digest) is None
            raise Refused
    except Refused:
        pass
    async with db.session(write_lock=True) as session:
        assert await keys.claim(session, actor, "k2", digest) is None, "the key is free to do the work again"
