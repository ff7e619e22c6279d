"""The local channel between the serving process and a media worker, and what travels over it.

Frames are a 4-byte length and a pickle. Pickle is acceptable here only because both ends are this
program and nobody else can reach the channel: it is an inherited socket pair, not a path or a port.
A frame larger than ``MAX_FRAME`` ends the channel (an SDP is a few kilobytes).

Requests carry an id and get exactly one ``Reply``; notices get none. Messages from one end are handled
in the order they were sent, which keeps a participant's offer before its candidates.
"""

from __future__ import annotations

import asyncio
import logging
import pickle
import struct
from collections.abc import Callable
from dataclasses import dataclass

from rooms.live_events import LiveEvent
from rooms.recording_tap import RecordingOrder
from rooms.roster import Identity, TrackKind

log = logging.getLogger(__name__)

MAX_FRAME = 1024 * 1024
_HEADER = struct.Struct("!I")


# --- from the serving process to a worker ---


@dataclass(frozen=True)
class Offer:
    """A participant's SDP offer; the reply is the answer's SDP."""

    room_id: str
    participant_id: str
    identity: Identity
    track_kinds: dict[str, TrackKind]
    sdp: str


@dataclass(frozen=True)
class Answer:
    """A participant's answer to the worker's last offer."""

    room_id: str
    participant_id: str
    sdp: str


@dataclass(frozen=True)
class Candidate:
    """A trickled ICE candidate."""

    room_id: str
    participant_id: str
    candidate: str
    sdp_mid: str | None
    sdp_mline_index: int | None


@dataclass(frozen=True)
class Resumed:
    """The participant's socket is back: send what they are owed (a lost offer, a renegotiation)."""

    room_id: str
    participant_id: str


@dataclass(frozen=True)
class Release:
    """The participant's seat is gone: close their peer connection."""

    room_id: str
    participant_id: str


@dataclass(frozen=True)
class Tick:
    """Replace the room's dead peers (the reaper's pass)."""

    room_id: str


@dataclass(frozen=True)
class CloseRoom:
    """Close every peer connection of the room."""

    room_id: str


@dataclass(frozen=True)
class StartRecording:
    """Record the tracks of these participants (and only theirs) as ``order`` says."""

    room_id: str
    order: RecordingOrder
    participant_ids: tuple[str, ...]


@dataclass(frozen=True)
class SetRecordedParticipants:
    """The participants whose tracks are recorded from now on."""

    room_id: str
    participant_ids: tuple[str, ...]


@dataclass(frozen=True)
class StopRecording:
    """Close the room's recording cleanly; the reply comes once its files are complete."""

    room_id: str


@dataclass(frozen=True)
class Ping:
    """Are you alive? (the heartbeat; a worker whose loop is stuck does not answer)."""


WorkerOp = (Offer | Answer | Candidate | Resumed | Release | Tick | CloseRoom | StartRecording
            | SetRecordedParticipants | StopRecording | Ping)


@dataclass(frozen=True)
class Request:
    request_id: int
    op: WorkerOp


@dataclass(frozen=True)
class Notice:
    op: WorkerOp


# --- from a worker to the serving process ---


@dataclass(frozen=True)
class Reply:
    """The outcome of one request: ``error`` is the exception the worker raised, if any."""

    request_id: int
    value: str | None = None
    error: Exception | None = None


@dataclass(frozen=True)
class MediaEvent:
    """An event for one participant (a server offer, a peer reset), passed on by the serving process."""

    room_id: str
    participant_id: str
    event: LiveEvent


@dataclass(frozen=True)
class RecordingEnded:
    """The room's recorder stopped by itself (a full disk, a write error): the call goes on."""

    room_id: str
    recording_id: str
    reason: str


Message = Request | Notice | Reply | MediaEvent | RecordingEnded


class FramedChannel:
    """One end of the channel: ``send`` queues a frame, ``run`` hands each arriving one to ``on_message``."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 on_message: Callable[[Message], None]) -> None:
        self._reader = reader
        self._writer = writer
        self._on_message = on_message

    @property
    def closing(self) -> bool:
        return self._writer.is_closing()

    def send(self, message: Message) -> None:
        """Queue one frame (never blocks; the transport buffers). Sending on a closed channel is a no-op."""
        if self._writer.is_closing():
            return
        payload = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        self._writer.write(_HEADER.pack(len(payload)) + payload)

    async def run(self) -> None:
        """Read frames until the other end closes (or sends something that is not a frame)."""
        try:
            while True:
                header = await self._reader.readexactly(_HEADER.size)
                (size,) = _HEADER.unpack(header)
                if size > MAX_FRAME:
                    log.error("media channel: a frame of %d bytes; closing", size)
                    return
                message = pickle.loads(await self._reader.readexactly(size))  # noqa: S301 (see the module docstring)
                self._on_message(message)
        except (asyncio.IncompleteReadError, ConnectionError):
            return

    async def close(self) -> None:
        """Close our end; the other end's ``run`` returns. Idempotent."""
        if not self._writer.is_closing():
            self._writer.close()
        try:
            await self._writer.wait_closed()
        except (ConnectionError, OSError):
            pass
