"""What a live room says to a participant beyond the room's own events, and the ports it talks through.

``Link`` is one participant's connection (a WebSocket in production, a list in tests); the audit and the
reading sink are where health data goes. The transport turns ``LiveEvent`` into frames.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from rooms.events import RoomEvent
from rooms.media import OutgoingTrackInfo
from rooms.readings import Reading
from rooms.recording_consent import RecordingStatus
from rooms.roster import Identity
from rooms.seats import JoinResult


@dataclass(frozen=True)
class ServerOffer:
    """To one participant: the server's SDP offer, and whose track each m-line carries."""

    sdp: str
    tracks: tuple[OutgoingTrackInfo, ...]


@dataclass(frozen=True)
class PeerReset:
    """To one participant: your peer connection is gone; make a new one and offer again."""


@dataclass(frozen=True)
class BitrateCap:
    """To everyone admitted: cap your video at this bitrate (the room changed size)."""

    max_video_kbps: int


LiveEvent = RoomEvent | ServerOffer | PeerReset | BitrateCap | RecordingStatus


class Link(Protocol):
    """One participant's connection. Every method returns at once: the transport queues and sends."""

    def joined(self, result: JoinResult, *, resumed: bool) -> None:
        """The joiner's own reply (seat, resume token, roster), before any later event."""

    def deliver(self, event: LiveEvent) -> None:
        """An event addressed to this participant."""

    def close(self, reason: str) -> None:
        """Close the connection once what was delivered before has been sent."""


class ConsultationAudit(Protocol):
    """Where a live room writes its audit rows (roster changes, chat, readings, invitations)."""

    async def record(self, identity: Identity, action: str, *, reason: str = "") -> None: ...


class ReadingSink(Protocol):
    """Where a reading shared in the call is kept beyond the call (the joint note)."""

    async def __call__(self, booking_id: str, identity: Identity, reading: Reading) -> None: ...
