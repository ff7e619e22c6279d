"""Room placement between nodes in a real Redis: one holder per room, taken over when its node stops."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack
from pathlib import Path

import pytest
from aiohttp import web
from redis.asyncio import Redis

from rooms.placement import RoomMoving
from server.redis_placement import RedisPlacement
from tests.redis_server import running_redis

ALIVE_MS = 600  # the nodes' heartbeats here are short, so that a stopped node is dead in under a second


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    with running_redis(tmp_path) as url:
        yield url


async def _readyz(_request: web.Request) -> web.Response:
    return web.Response(text="ready")


async def _node_http() -> web.AppRunner:
    """A node's own HTTP side, as far as the others see it: ``/readyz`` on loopback."""
    app = web.Application()
    app.router.add_get("/readyz", _readyz)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner


def _url_of(runner: web.AppRunner) -> str:
    host, port = runner.addresses[0][:2]
    return f"http://{host}:{port}"


async def _node(url: str, stack: AsyncExitStack,
                heartbeat_seconds: float = 0.1) -> tuple[RedisPlacement, web.AppRunner]:
    http = await _node_http()
    stack.push_async_callback(http.cleanup)
    node = RedisPlacement(Redis.from_url(url), _url_of(http), alive_ms=ALIVE_MS, heartbeat_seconds=heartbeat_seconds)
    await node.start()
    stack.push_async_callback(node.close)
    return node, http


@pytest.fixture
async def nodes(redis_url: str) -> AsyncIterator[tuple[RedisPlacement, RedisPlacement]]:
    async with AsyncExitStack() as stack:
        (a, _), (b, _) = await _node(redis_url, stack), await _node(redis_url, stack)
        yield a, b


async def test_the_first_node_to_claim_a_room_holds_it_and_the_other_is_sent_there(
        nodes: tuple[RedisPlacement, RedisPlacement]) -> None:
    a, b = nodes
    assert await a.claim("room-1") is None
    assert await b.claim("room-1") == a.node_url
    assert await a.claim("room-1") is None, "asking again changes nothing"
    assert await b.claim("room-2") is None, "other rooms are free"


async def test_simultaneous_claims_have_exactly_one_winner(nodes: tuple[RedisPlacement, RedisPlacement]) -> None:
    a, b = nodes
    for round_ in range(20):
        room = f"race-{round_}"
        answers = await asyncio.gather(*(node.claim(room) for node in (a, b, a, b)))
        winners = {node.node_url for node, answer in zip((a, b, a, b), answers, strict=True) if answer is None}
        assert len(winners) == 1, answers
        (winner,) = winners
        assert all(answer in (None, winner) for answer in answers)


async def test_a_held_room_stays_held_while_its_node_beats(nodes: tuple[RedisPlacement, RedisPlacement]) -> None:
    a, b = nodes
    assert await a.claim("room-1") is None
    await asyncio.sleep(ALIVE_MS / 1000 * 3)  # three times the time to live: only the heartbeat keeps it
    assert await b.claim("room-1") == a.node_url


async def test_a_released_room_or_a_stopped_node_lets_another_node_take_over(redis_url: str) -> None:
    async with AsyncExitStack() as stack:
        (a, _), (b, _) = await _node(redis_url, stack), await _node(redis_url, stack)
        assert await a.claim("room-1") is None
        assert await a.claim("room-2") is None
        await a.release("room-1")
        assert await b.claim("room-1") is None, "a released room is free at once"

        await a.close()  # a node that stops gives up its rooms
        assert await b.claim("room-2") is None


async def test_the_rooms_of_a_node_that_died_are_taken_over_when_its_heartbeat_lapses(redis_url: str) -> None:
    async with AsyncExitStack() as stack:
        # Node a announces itself once and never again: as if its process were killed, nothing is released.
        (a, a_http), (b, _) = await _node(redis_url, stack, heartbeat_seconds=3600), await _node(redis_url, stack)
        assert await a.claim("room-1") is None
        assert await b.claim("room-1") == a.node_url, "still alive to the others for a moment"
        await a_http.cleanup()  # and now it stops answering too
        await asyncio.sleep(0.1)
        with pytest.raises(RoomMoving):
            await b.claim("room-1")  # held on a node that does not answer: nobody is sent there
        await asyncio.sleep(ALIVE_MS / 1000 * 1.5)
        assert await b.claim("room-1") is None


async def test_everyone_asking_for_a_room_on_a_node_that_does_not_answer_is_told_it_is_moving(redis_url: str) -> None:
    async with AsyncExitStack() as stack:
        (a, a_http), (b, _) = await _node(redis_url, stack, heartbeat_seconds=3600), await _node(redis_url, stack)
        assert await a.claim("room-1") is None
        await a_http.cleanup()
        answers = await asyncio.gather(*(b.claim("room-1") for _ in range(20)), return_exceptions=True)
        assert all(isinstance(answer, RoomMoving) for answer in answers), answers
