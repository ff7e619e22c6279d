"""Room placement between nodes in a real Redis: one holder per room, taken over when its node stops."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from server.redis_placement import RedisPlacement
from tests.redis_server import running_redis

ALIVE_MS = 600  # the nodes' heartbeats here are short, so that a stopped node is dead in under a second


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    with running_redis(tmp_path) as url:
        yield url


async def _node(url: str, name: str, heartbeat_seconds: float = 0.1) -> RedisPlacement:
    node = RedisPlacement(Redis.from_url(url), f"http://127.0.0.1/{name}", alive_ms=ALIVE_MS,
                          heartbeat_seconds=heartbeat_seconds)
    await node.start()
    return node


@pytest.fixture
async def nodes(redis_url: str) -> AsyncIterator[tuple[RedisPlacement, RedisPlacement]]:
    a, b = await _node(redis_url, "a"), await _node(redis_url, "b")
    yield a, b
    await a.close()
    await b.close()


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
    a, b = await _node(redis_url, "a"), await _node(redis_url, "b")
    try:
        assert await a.claim("room-1") is None
        assert await a.claim("room-2") is None
        await a.release("room-1")
        assert await b.claim("room-1") is None, "a released room is free at once"

        await a.close()  # a node that stops gives up its rooms
        assert await b.claim("room-2") is None
    finally:
        await b.close()


async def test_the_rooms_of_a_node_that_died_are_taken_over_when_its_heartbeat_lapses(redis_url: str) -> None:
    # Node a announces itself once and never again: as if its process were killed, nothing is released.
    a, b = await _node(redis_url, "a", heartbeat_seconds=3600), await _node(redis_url, "b")
    try:
        assert await a.claim("room-1") is None
        assert await b.claim("room-1") == a.node_url, "still alive to the others for a moment"
        await asyncio.sleep(ALIVE_MS / 1000 * 1.5)
        assert await b.claim("room-1") is None
    finally:
        await a.close()
        await b.close()
