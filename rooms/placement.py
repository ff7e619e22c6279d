"""Which node holds a live room, when several nodes serve the same consultations.

A room lives on one node, as LiveKit and Jitsi shards do: its state, sockets and media are there. A
participant who reaches another node is sent to the room's node. With one node (the default, ``make
run``) there is nothing to decide; with several, :class:`server.redis_placement.RedisPlacement` keeps
the placement in Redis with heartbeats, so the rooms of a node that stops are taken over.
"""

from __future__ import annotations

from typing import Protocol

from rooms.errors import RoomError


class RoomElsewhere(RoomError):
    """The consultation is held on another node: go to ``node_url``."""

    code = "room_elsewhere"

    def __init__(self, node_url: str) -> None:
        super().__init__("the consultation is held on another node")
        self.node_url = node_url


class RoomMoving(RoomError):
    """The node that held the consultation does not answer: it is being taken over; ask again shortly.

    A node that stopped keeps its rooms until its heartbeat runs out (``ALIVE_MS``); sending people to
    it meanwhile would leave them on a browser's error page, so they wait here and join again.
    """

    code = "room_moving"


class RoomPlacement(Protocol):
    """Claims rooms for this node."""

    async def claim(self, room_id: str) -> str | None:
        """``None`` when the room is (now) this node's; otherwise the base URL of the node that holds it.

        :raises RoomMoving: the node that holds it does not answer (it is likely dead and not yet expired).
        """

    async def release(self, room_id: str) -> None:
        """This node no longer holds the room."""
