"""Outbound messages of protocol v1 for media and room size, and turning live events into frames.

``protocol.py`` holds the room messages; these are the ones the live media layer adds: which m-line of a
server offer carries whose track (``media_map``, sent right before the ``offer``), a request for a new
peer connection (``media_restart``) and the video bitrate cap for the room's size (``bitrate``).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import ClassVar, Protocol

from rooms.live import BitrateCap, LiveEvent, PeerReset, ServerOffer
from signaling.protocol import IceServer, OfferOut, event_to_message


class Frame(Protocol):
    """Anything that can be sent as one text frame: ``OutboundMessage`` and the messages below."""

    def to_json(self) -> str: ...


class LiveMessage:
    """Base of the messages defined here: a frozen dataclass whose fields become the JSON body.

    Not an ``OutboundMessage`` subclass, so the room protocol's own table of messages stays complete on
    its own; the wire format is the same.
    """

    type: ClassVar[str]

    def to_json(self) -> str:
        body = dataclasses.asdict(self)  # type: ignore[call-overload]
        return json.dumps({"type": self.type, **body}, separators=(",", ":"), allow_nan=False)


@dataclass(frozen=True)
class MediaTrack:
    """One forwarded track on the recipient's connection."""

    mid: str
    participant_id: str
    label: str
    kind: str
    live: bool


@dataclass(frozen=True)
class MediaMapOut(LiveMessage):
    """Whose media each m-line of the following server offer carries."""

    type: ClassVar[str] = "media_map"
    tracks: tuple[MediaTrack, ...]


@dataclass(frozen=True)
class MediaRestartOut(LiveMessage):
    """Your peer connection was lost: close it, make a new one and send a new offer."""

    type: ClassVar[str] = "media_restart"


@dataclass(frozen=True)
class BitrateOut(LiveMessage):
    """Cap your video senders at this bitrate (``RTCRtpSender.setParameters``)."""

    type: ClassVar[str] = "bitrate"
    max_video_kbps: int


def live_event_messages(event: LiveEvent, *, ice_servers: tuple[IceServer, ...] = ()) -> list[Frame]:
    """The frames for one live event, in order."""
    match event:
        case ServerOffer(sdp=offer, tracks=tracks):
            return [
                MediaMapOut(tuple(MediaTrack(t.mid, t.publisher_id, t.label, t.kind, t.live) for t in tracks)),
                OfferOut(offer),
            ]
        case PeerReset():
            return [MediaRestartOut()]
        case BitrateCap(max_video_kbps=kbps):
            return [BitrateOut(kbps)]
    message = event_to_message(event, ice_servers=ice_servers)
    return [] if message is None else [message]
