"""A media worker's side of the channel: the rooms pinned to this worker, each a ``LiveMedia``.

The serving process keeps the rooms' state, seats and sockets; a worker keeps only their peer
connections and forwarding. Each room here is the same ``LiveMedia`` that runs in-process when there are
no workers, with a ``Member`` record per participant whose link passes every event back over the
channel: the serving process decides whether the participant's socket can take it now.

Nothing but media runs on a worker's event loop.
"""

from __future__ import annotations

import asyncio
import logging
import pickle
import time
from collections.abc import Callable, Coroutine
from typing import Any

from rooms.errors import RoomError
from rooms.live_events import LiveEvent
from rooms.live_media import LiveMedia, PeerFactory
from rooms.media import DEFAULT_FORWARDING, ForwardingMode, MediaError
from rooms.media_channel import (
    Answer,
    Candidate,
    CloseRoom,
    FramedChannel,
    MediaEvent,
    Message,
    Notice,
    Offer,
    Ping,
    RecordingEnded,
    Release,
    Reply,
    Request,
    Resumed,
    SetRecordedParticipants,
    StartRecording,
    StopRecording,
    Tick,
    WorkerOp,
)
from rooms.members import Member
from rooms.recording_tap import RecorderFactory
from rooms.roster import ParticipantId
from rooms.seats import JoinResult

log = logging.getLogger(__name__)


class _ChannelLink:
    """A worker-side member's link: events go back to the serving process, which owns the socket."""

    def __init__(self, channel: FramedChannel, room_id: str, participant_id: str) -> None:
        self._channel = channel
        self._room_id = room_id
        self._participant_id = participant_id

    def joined(self, result: JoinResult, *, resumed: bool) -> None:
        return None  # joining is the serving process's business

    def deliver(self, event: LiveEvent) -> None:
        self._channel.send(MediaEvent(self._room_id, self._participant_id, event))

    def close(self, reason: str) -> None:
        return None


class _HostedRoom:
    def __init__(self, media: LiveMedia, members: dict[ParticipantId, Member]) -> None:
        self.media = media
        self.members = members
        self.locks: dict[str, asyncio.Lock] = {}
        self.recording_lock = asyncio.Lock()


class MediaHost:
    """Serves one channel: applies each request to the room it names and replies."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *,
                 peer_factory: PeerFactory, monotonic: Callable[[], float] = time.monotonic,
                 recorder_factory: RecorderFactory | None = None,
                 forwarding: ForwardingMode = DEFAULT_FORWARDING) -> None:
        self._channel = FramedChannel(reader, writer, self._on_message)
        self._peer_factory = peer_factory
        self._forwarding: ForwardingMode = forwarding
        self._recorder_factory = recorder_factory
        self._monotonic = monotonic
        self._rooms: dict[str, _HostedRoom] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    async def serve(self) -> None:
        """Until the serving process closes the channel (or dies); then every peer connection is closed."""
        try:
            await self._channel.run()
        finally:
            await self.close()

    async def close(self) -> None:
        """Close every room and the channel. Idempotent."""
        rooms, self._rooms = list(self._rooms.values()), {}
        for room in rooms:
            await room.media.close()
        tasks = [t for t in self._tasks if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self._channel.close()

    def room_count(self) -> int:
        return len(self._rooms)

    # --- dispatch ---

    def _on_message(self, message: Message) -> None:
        # A task each, started in arrival order; a participant's lock keeps their requests in that order.
        if isinstance(message, Request):
            self._spawn(self._answer(message))
        elif isinstance(message, Notice):
            self._spawn(self._apply_notice(message.op))
        else:
            log.error("media worker: unexpected %s on the channel", type(message).__name__)

    async def _answer(self, request: Request) -> None:
        try:
            value = await self._apply(request.op)
        except Exception as exc:  # the caller gets the error; the worker goes on with its other rooms
            if not _is_expected(exc):
                log.exception("media worker: %s failed", type(request.op).__name__)
            self._channel.send(Reply(request.request_id, error=_portable(exc)))
        else:
            self._channel.send(Reply(request.request_id, value=value))

    async def _apply_notice(self, op: WorkerOp) -> None:
        try:
            await self._apply(op)
        except Exception:
            log.exception("media worker: %s failed", type(op).__name__)

    async def _apply(self, op: WorkerOp) -> str | None:
        if isinstance(op, Ping):
            return None
        if isinstance(op, CloseRoom):
            room = self._rooms.pop(op.room_id, None)
            if room is not None:
                await room.media.close()
            return None
        if isinstance(op, Tick):
            room = self._rooms.get(op.room_id)
            if room is not None:
                await room.media.replace_dead_peers()
            return None
        if isinstance(op, StartRecording | SetRecordedParticipants | StopRecording):
            await self._apply_to_recording(op)
            return None
        return await self._apply_to_participant(op)

    async def _apply_to_recording(self, op: StartRecording | SetRecordedParticipants | StopRecording) -> None:
        room = self._room(op.room_id) if isinstance(op, StartRecording) else self._rooms.get(op.room_id)
        if room is None:
            return
        async with room.recording_lock:
            if isinstance(op, StartRecording):
                await room.media.start_recording(op.order, op.participant_ids)
            elif isinstance(op, SetRecordedParticipants):
                await room.media.set_recorded_participants(op.participant_ids)
            else:
                await room.media.stop_recording()

    async def _apply_to_participant(self, op: Offer | Answer | Candidate | Resumed | Release) -> str | None:
        room = self._room(op.room_id) if isinstance(op, Offer) else self._rooms.get(op.room_id)
        if room is None:
            if isinstance(op, Answer):  # as LiveMedia answers it: nothing of this room was offered here
                raise MediaError("no server offer is waiting for an answer")
            return None
        lock = room.locks.setdefault(op.participant_id, asyncio.Lock())
        async with lock:
            pid = ParticipantId(op.participant_id)
            member = room.members.get(pid)
            if isinstance(op, Offer):
                if member is None:
                    member = room.members[pid] = Member(pid, op.identity)
                    member.link = _ChannelLink(self._channel, op.room_id, op.participant_id)
                member.track_kinds = dict(op.track_kinds)
                return await room.media.handle_offer(member, op.sdp)
            if isinstance(op, Answer):
                await room.media.handle_answer(member, op.sdp)
            elif isinstance(op, Candidate):
                await room.media.add_candidate(member, op.candidate, op.sdp_mid, op.sdp_mline_index)
            elif isinstance(op, Resumed):
                if member is not None and member.link is not None:
                    room.media.resumed(member, member.link)
            else:
                member = room.members.pop(pid, None)
                room.locks.pop(op.participant_id, None)
                if member is not None:
                    await room.media.drop_peer(member)
            return None

    def _room(self, room_id: str) -> _HostedRoom:
        room = self._rooms.get(room_id)
        if room is None:
            members: dict[ParticipantId, Member] = {}
            media = LiveMedia(room_id, members, peer_factory=self._peer_factory, monotonic=self._monotonic,
                              spawn=self._spawn, recorder_factory=self._recorder_factory,
                              forwarding=self._forwarding)
            media.recording_listener = lambda recording_id, reason: self._channel.send(
                RecordingEnded(room_id, recording_id, reason))
            room = self._rooms[room_id] = _HostedRoom(media, members)
        return room

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def _is_expected(exc: Exception) -> bool:
    return isinstance(exc, MediaError | RoomError)


def _portable(exc: Exception) -> Exception:
    """The exception as the serving process should see it: our own errors as they are, others as text."""
    if _is_expected(exc):
        try:
            pickle.loads(pickle.dumps(exc))  # noqa: S301 (our own bytes) an error with keyword-only arguments does not come back
        except Exception:
            return MediaError(str(exc))
        return exc
    return MediaError(f"the media worker failed: {type(exc).__name__}")
