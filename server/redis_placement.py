"""Room placement between nodes in Redis: which node holds each live room, kept alive by heartbeats.

Keys (all with a time to live, so a node that stops leaves nothing behind for long):
``samkonsult:node:<node id>`` holds the node's base URL while the node is alive, and
``samkonsult:room:<room id>`` the id of the node that holds the room. A claim is one Lua script, so two
nodes claiming the same room at the same moment cannot both win: the room goes to the first, the second
is told where it is. A room whose node's key has expired is taken over by the next node that is asked.
Before a participant is sent to the node that holds a room, that node's ``/readyz`` is asked: a node
that has just died still holds its rooms until its key expires, and a page sent there would end on the
browser's error page; the participant is told the room is moving and asks again.

Redis holds no health data: room ids are unguessable booking ids, node ids are random.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time

import aiohttp
from redis.asyncio import Redis
from redis.exceptions import RedisError

from rooms.placement import RoomMoving

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 2.0
PROBE_TIMEOUT_SECONDS = 1.5
SILENT_REUSE_SECONDS = 1.0
"""Many pages of one room ask at once after their node stops: one failed probe of it answers them all."""
ALIVE_MS = 10_000
"""A node (and each room it holds) is dead to the others this long after its last heartbeat."""
_NODE = "samkonsult:node:"
_ROOM = "samkonsult:room:"

# KEYS[1] room key; ARGV[1] this node's id, ARGV[2] time to live (ms), ARGV[3] node key prefix, ARGV[4]
# this node's URL. Returns the holding node's URL, or nil when the room is (now) this node's. A room held
# under an earlier id of this same node (restarted within the time to live) is this node's again.
_CLAIM = """
local owner = redis.call('GET', KEYS[1])
if owner and owner ~= ARGV[1] then
  local url = redis.call('GET', ARGV[3] .. owner)
  if url and url ~= ARGV[4] then return url end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return false
"""
# KEYS[1] room key; ARGV[1] this node's id: deletes the room's placement only if it is still ours.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class RedisPlacement:
    """This node's claims on live rooms, and its heartbeat.

    If Redis cannot be reached, the room is served here and the failure is logged: a consultation that
    has started must go on, even at the risk of a second node hosting the same room until Redis is back.
    """

    def __init__(self, redis: Redis, node_url: str, *, node_id: str | None = None, alive_ms: int = ALIVE_MS,
                 heartbeat_seconds: float = HEARTBEAT_SECONDS) -> None:
        self._redis = redis
        self._alive_ms = alive_ms
        self._heartbeat_seconds = heartbeat_seconds
        self.node_url = node_url.rstrip("/")
        self.node_id = node_id or secrets.token_hex(8)
        self._held: set[str] = set()
        self._claim = redis.register_script(_CLAIM)
        self._release = redis.register_script(_RELEASE)
        self._heartbeat: asyncio.Task[None] | None = None
        self._http: aiohttp.ClientSession | None = None
        self._silent_since: dict[str, float] = {}

    async def start(self) -> None:
        """Announce this node (before any claim can name it) and keep announcing it."""
        await self._beat()
        self._heartbeat = asyncio.create_task(self._beat_forever(), name="placement-heartbeat")
        log.info("node %s (%s) announced in Redis", self.node_id, self.node_url)

    async def claim(self, room_id: str) -> str | None:
        try:
            elsewhere = await self._claim(keys=[_ROOM + room_id],
                                          args=[self.node_id, self._alive_ms, _NODE, self.node_url])
        except RedisError:
            log.exception("room placement unavailable; serving room %s on this node", room_id)
            return None
        if elsewhere is None:
            self._held.add(room_id)
            return None
        node_url = elsewhere.decode() if isinstance(elsewhere, bytes) else str(elsewhere)
        if not await self._answers(node_url):
            log.warning("room %s is held by %s, which does not answer; it moves when its heartbeat runs out",
                        room_id, node_url)
            raise RoomMoving("the node holding the consultation does not answer")
        return node_url

    async def _answers(self, node_url: str) -> bool:
        """Whether the node at ``node_url`` says it is ready (its own ``/readyz``); one that did not is
        not asked again for a second."""
        silent = self._silent_since.get(node_url)
        if silent is not None and time.monotonic() - silent < SILENT_REUSE_SECONDS:
            return False
        if self._http is None:
            self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=PROBE_TIMEOUT_SECONDS))
        try:
            async with self._http.get(f"{node_url}/readyz", allow_redirects=False) as response:
                ready = response.status == 200
        except (aiohttp.ClientError, TimeoutError):
            ready = False
        if ready:
            self._silent_since.pop(node_url, None)
        else:
            self._silent_since[node_url] = time.monotonic()
        return ready

    async def release(self, room_id: str) -> None:
        self._held.discard(room_id)
        try:
            await self._release(keys=[_ROOM + room_id], args=[self.node_id])
        except RedisError:
            log.warning("could not release room %s in Redis; it expires by itself", room_id)

    async def _beat(self) -> None:
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.set(_NODE + self.node_id, self.node_url, px=self._alive_ms)
            for room_id in self._held:
                pipe.pexpire(_ROOM + room_id, self._alive_ms)
            await pipe.execute()

    async def _beat_forever(self) -> None:
        while True:
            await asyncio.sleep(self._heartbeat_seconds)
            try:
                await self._beat()
            except RedisError:
                log.warning("heartbeat to Redis failed; retrying")

    async def close(self) -> None:
        """Stop the heartbeat and give up this node's rooms and announcement. Idempotent."""
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            await asyncio.gather(self._heartbeat, return_exceptions=True)
            self._heartbeat = None
        with contextlib.suppress(RedisError):
            for room_id in list(self._held):
                await self.release(room_id)
            await self._redis.delete(_NODE + self.node_id)
        await self._redis.aclose()
        if self._http is not None:
            await self._http.close()
            self._http = None
