import asyncio
from collections.abc import AsyncIterator

import pytest

from rooms.media import MediaRouter

from .loopback_peers import LoopbackClient


class LoopbackRoom:
    """A MediaRouter with in-process clients; records renegotiation notifications."""

    def __init__(self) -> None:
        self.notified: list[str] = []
        self.router = MediaRouter(on_renegotiation_needed=self.notified.append)
        self.clients: dict[str, LoopbackClient] = {}

    async def join(self, participant_id: str, publish: bool = True) -> LoopbackClient:
        client = LoopbackClient(participant_id, self.router)
        self.clients[participant_id] = client
        await client.join(publish=publish)
        return client

    async def sync_all(self) -> None:
        for client in self.clients.values():
            await client.sync()

    async def leave(self, participant_id: str) -> None:
        client = self.clients.pop(participant_id)
        await self.router.remove_participant(participant_id)
        await client.close()

    async def close(self) -> None:
        await self.router.close()
        for client in self.clients.values():
            await client.close()


@pytest.fixture
async def room() -> AsyncIterator[LoopbackRoom]:
    loopback_room = LoopbackRoom()
    try:
        yield loopback_room
    finally:
        await loopback_room.close()
    # Nothing of the router or of aiortc may outlive the room.
    current = asyncio.current_task()
    leftover: list[asyncio.Task[object]] = []
    for _ in range(100):
        leftover = [t for t in asyncio.all_tasks() if t is not current and not t.done()]
        if not leftover:
            break
        await asyncio.sleep(0.05)
    assert not leftover, f"leaked tasks: {leftover}"
