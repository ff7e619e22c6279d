"""Note changes across nodes through a real Redis: a save on one node reaches the editors on the other."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from notes.live import LiveEvent, NoteChanged, NoteHub, PresenceChanged
from notes.model import Person
from server.redis_note_relay import CHANNEL, RedisNoteRelay
from tests.redis_server import running_redis

LEGE = Person("user:1", "Ingrid Hansen", "doctor")
NURSE = Person("user:2", "Kari Nilsen", "nurse")


class Inbox:
    def __init__(self) -> None:
        self.events: list[LiveEvent] = []

    def deliver(self, event: LiveEvent) -> None:
        self.events.append(event)

    def changes(self) -> list[NoteChanged]:
        return [e for e in self.events if isinstance(e, NoteChanged)]


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    with running_redis(tmp_path) as url:
        yield url


@pytest.fixture
async def two_nodes(redis_url: str) -> AsyncIterator[tuple[NoteHub, NoteHub]]:
    hubs = (NoteHub(), NoteHub())
    relays = [RedisNoteRelay(Redis.from_url(redis_url), hub) for hub in hubs]
    for relay in relays:
        await relay.start()
    yield hubs
    for relay in relays:
        await relay.close()


async def _until(predicate: Callable[[], object], what: str) -> None:
    async with asyncio.timeout(10):
        while not predicate():  # noqa: ASYNC110
            await asyncio.sleep(0.02)
    assert predicate(), what


async def test_a_save_on_one_node_reaches_the_editor_on_the_other_once(two_nodes: tuple[NoteHub, NoteHub]) -> None:
    node_a, node_b = two_nodes
    on_a, on_b, other_note = Inbox(), Inbox(), Inbox()
    node_a.join("booking-1", LEGE, on_a, may_write=True)
    node_b.join("booking-1", NURSE, on_b, may_write=True)
    node_b.join("booking-2", NURSE, other_note, may_write=True)

    change = NoteChanged("saved", 3, ("assessment",), LEGE)
    assert node_a.publish("booking-1", change) == 1
    await _until(lambda: on_b.changes(), "the change reaches node B")
    assert on_b.changes() == [change]
    await asyncio.sleep(0.2)  # anything extra would have arrived by now
    assert on_a.changes() == [change], "node A's own editor is told once, not again through Redis"
    assert other_note.changes() == [], "only the note that changed"
    assert not any(isinstance(e, PresenceChanged) and len(e.editors) > 1 for e in on_b.events), \
        "presence stays per node"


async def test_an_unreadable_message_on_the_channel_is_ignored(redis_url: str,
                                                                two_nodes: tuple[NoteHub, NoteHub]) -> None:
    node_a, node_b = two_nodes
    on_b = Inbox()
    node_b.join("booking-1", NURSE, on_b, may_write=True)
    publisher = Redis.from_url(redis_url)
    try:
        await publisher.publish(CHANNEL, "not json")
        await publisher.publish(CHANNEL, '{"node": "x", "note": "booking-1"}')
    finally:
        await publisher.aclose()
    node_a.publish("booking-1", NoteChanged("signed", 4, (), LEGE))
    await _until(lambda: on_b.changes(), "the next good change still arrives")
    assert [c.version for c in on_b.changes()] == [4]
