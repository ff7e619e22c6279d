"""The note changes that cross nodes: a save on one node reaches the open editors on every other node.

One Redis pub/sub channel carries "note changed" events (the booking id, the new version, the parts a save
touched, who made it: never the note's text, which each editor fetches through the API with its own access
check). Each node publishes its own changes and delivers the others' to its local hub. Presence (who is in
which part) stays per node: it changes at typing speed and matters most between people in the same call,
who are on the room's node anyway.

Redis being unreachable costs only the live update across nodes: editors still see other authors' saves
when they save themselves (the note merges part by part), as with no live channel at all.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets

from redis.asyncio import Redis
from redis.exceptions import RedisError

from notes.live import NoteChanged, NoteHub
from notes.model import Person

log = logging.getLogger(__name__)

CHANNEL = "samkonsult:note-changes"
RETRY_SECONDS = 2.0


class RedisNoteRelay:
    """Forwards this node's note changes to the other nodes and theirs to this node's hub."""

    def __init__(self, redis: Redis, hub: NoteHub, *, node_id: str | None = None) -> None:
        self._redis = redis
        self._hub = hub
        self.node_id = node_id or secrets.token_hex(8)
        self._listener: asyncio.Task[None] | None = None
        self._sends: set[asyncio.Task[None]] = set()
        self._subscribed = asyncio.Event()

    async def start(self) -> None:
        """Subscribe, then have the hub forward its changes; returns once the subscription is live."""
        self._listener = asyncio.create_task(self._listen_forever(), name="note-relay")
        self._hub.forward_changes(self._forward)
        await asyncio.wait_for(self._subscribed.wait(), 10)

    def _forward(self, note_id: str, change: NoteChanged) -> None:
        payload = json.dumps({"node": self.node_id, "note": note_id, "kind": change.kind, "version": change.version,
                              "parts": list(change.parts), "by": [change.by.id, change.by.name, change.by.profession]})
        task = asyncio.ensure_future(self._send(payload))
        self._sends.add(task)
        task.add_done_callback(self._sends.discard)

    async def _send(self, payload: str) -> None:
        try:
            await self._redis.publish(CHANNEL, payload)
        except RedisError:
            log.warning("a note change could not be forwarded to the other nodes")

    async def _listen_forever(self) -> None:
        while True:
            try:
                async with self._redis.pubsub(ignore_subscribe_messages=True) as pubsub:
                    await pubsub.subscribe(CHANNEL)
                    self._subscribed.set()
                    async for message in pubsub.listen():
                        self._deliver(message.get("data"))
            except RedisError:
                log.warning("note changes from other nodes: Redis unreachable; retrying")
                await asyncio.sleep(RETRY_SECONDS)

    def _deliver(self, data: object) -> None:
        try:
            body = json.loads(data if isinstance(data, str | bytes) else "")
            if body["node"] == self.node_id:
                return  # our own change: its editors here were told when it was made
            by_id, by_name, by_profession = body["by"]
            change = NoteChanged(str(body["kind"]), int(body["version"]), tuple(str(p) for p in body["parts"]),
                                 Person(str(by_id), str(by_name), str(by_profession)))
            self._hub.deliver_here(str(body["note"]), change)
        except (ValueError, KeyError, TypeError):
            log.warning("an unreadable note change on %s was ignored", CHANNEL)

    async def close(self) -> None:
        """Stop listening and finish sending. Idempotent."""
        if self._listener is not None:
            self._listener.cancel()
            await asyncio.gather(self._listener, return_exceptions=True)
            self._listener = None
        await asyncio.gather(*self._sends, return_exceptions=True)
        await self._redis.aclose()
