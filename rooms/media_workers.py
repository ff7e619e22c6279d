"""Media in worker processes: one per core by default, each live room pinned to one of them.

The serving process keeps HTTP, signaling and every room's state; the peer connections and the
forwarding of a room run in one worker, reached over a local channel (:mod:`rooms.media_channel`). A
worker that dies (or whose loop stops answering the heartbeat) loses only its rooms' media: the pool
starts it again, moves its rooms to a live worker, and tells each of their participants who had media to
make a new peer connection (``PeerReset``; the call page shows "reconnecting" meanwhile), so the
consultation goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import socket
from collections.abc import Collection, Mapping, Sequence

from rooms.live_events import Link, LiveEvent, PeerReset
from rooms.live_media import Spawn
from rooms.media import MediaError
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
from rooms.recording_tap import RecordingListener, RecordingOrder
from rooms.roster import ParticipantId

log = logging.getLogger(__name__)

REQUEST_TIMEOUT = 15.0
"""Seconds a negotiation may take in a worker before the caller is told it failed."""
READY_TIMEOUT = 10.0
"""Seconds a request waits for its worker to be (re)started."""
HEARTBEAT_INTERVAL = 2.0
HEARTBEAT_TIMEOUT = 6.0
"""A worker that does not answer a ping within this is killed and replaced: its loop is stuck."""
STOP_TIMEOUT = 5.0
RESTART_BACKOFF = (0.2, 1.0, 2.0, 5.0)


class MediaWorkerLost(MediaError):
    """The worker holding this room's media went away during the request."""


class _WorkerProcess:
    """One run of a worker process: its channel, and the requests waiting for a reply."""

    def __init__(self, slot: _Slot, process: asyncio.subprocess.Process, channel_socket: socket.socket) -> None:
        self._slot = slot
        self.process = process
        self._socket = channel_socket
        self._channel: FramedChannel | None = None
        self._waiting: dict[int, asyncio.Future[str | None]] = {}
        self._ids = itertools.count(1)
        self._tasks: list[asyncio.Task[None]] = []
        self.alive = False

    async def start(self) -> None:
        reader, writer = await asyncio.open_connection(sock=self._socket)
        self._channel = FramedChannel(reader, writer, self._on_message)
        self.alive = True
        self._tasks = [asyncio.create_task(self._read(), name=f"media-worker-{self._slot.index}-channel"),
                       asyncio.create_task(self._heartbeat(), name=f"media-worker-{self._slot.index}-heartbeat")]

    async def request(self, op: WorkerOp, limit: float = REQUEST_TIMEOUT) -> str | None:
        if not self.alive or self._channel is None:
            raise MediaWorkerLost("the media worker is not running")
        request_id = next(self._ids)
        future: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
        self._waiting[request_id] = future
        self._channel.send(Request(request_id, op))
        try:
            return await asyncio.wait_for(future, limit)
        except TimeoutError:
            raise MediaError(f"the media worker did not answer {type(op).__name__} in time") from None
        finally:
            self._waiting.pop(request_id, None)

    def notify(self, op: WorkerOp) -> None:
        if self.alive and self._channel is not None:
            self._channel.send(Notice(op))

    def _on_message(self, message: Message) -> None:
        if isinstance(message, Reply):
            future = self._waiting.get(message.request_id)
            if future is None or future.done():
                return  # its caller gave up waiting
            if message.error is not None:
                future.set_exception(message.error)
            else:
                future.set_result(message.value)
        elif isinstance(message, MediaEvent):
            self._slot.deliver(message.room_id, message.participant_id, message.event)
        elif isinstance(message, RecordingEnded):
            room = self._slot.rooms.get(message.room_id)
            if room is not None:
                room.recording_ended(message.recording_id, message.reason)

    async def _read(self) -> None:
        assert self._channel is not None
        await self._channel.run()
        self.alive = False
        for future in self._waiting.values():
            if not future.done():
                future.set_exception(MediaWorkerLost("the media worker stopped"))
        await self._channel.close()
        with contextlib.suppress(ProcessLookupError):
            self.process.kill()  # closing the channel is how we stop a worker: if it is still there, it is stuck
        code = await self.process.wait()
        self._slot.worker_ended(self, code)

    async def _heartbeat(self) -> None:
        while self.alive:
            await asyncio.sleep(HEARTBEAT_INTERVAL)
            try:
                await self.request(Ping(), limit=HEARTBEAT_TIMEOUT)
            except MediaWorkerLost:
                return
            except MediaError:
                log.error("media worker %d (pid %d) does not answer; killing it", self._slot.index, self.process.pid)
                with contextlib.suppress(ProcessLookupError):
                    self.process.kill()
                return

    async def stop(self) -> None:
        """Close the channel (the worker closes its peer connections and exits); kill it if it does not."""
        self._tasks[1].cancel()
        if self._channel is not None:
            await self._channel.close()
        try:
            await asyncio.wait_for(asyncio.shield(self._tasks[0]), STOP_TIMEOUT)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()
        await asyncio.gather(*self._tasks, return_exceptions=True)


class _Slot:
    """A place for one worker: the rooms pinned to it survive the worker process being replaced."""

    def __init__(self, pool: MediaWorkerPool, index: int) -> None:
        self.pool = pool
        self.index = index
        self.rooms: dict[str, RemoteRoomMedia] = {}
        self.worker: _WorkerProcess | None = None
        self.ready = asyncio.Event()
        self.restarts = 0
        self._restarting: asyncio.Task[None] | None = None

    async def start(self) -> None:
        parent, child = socket.socketpair()
        try:
            # A session of its own: Ctrl-C or a signal to the server's process group must not kill the
            # workers before the server has closed their rooms; they stop when their channel closes.
            process = await asyncio.create_subprocess_exec(
                *self.pool.command, str(child.fileno()), pass_fds=(child.fileno(),), start_new_session=True)
        except BaseException:
            parent.close()
            raise
        finally:
            child.close()
        worker = _WorkerProcess(self, process, parent)
        await worker.start()
        self.worker = worker
        self.ready.set()
        log.info("media worker %d started (pid %d)", self.index, process.pid)

    async def request(self, op: WorkerOp) -> str | None:
        try:
            await asyncio.wait_for(self.ready.wait(), READY_TIMEOUT)
        except TimeoutError:
            raise MediaError("no media worker is running") from None
        assert self.worker is not None
        return await self.worker.request(op)

    def notify(self, op: WorkerOp) -> None:
        if self.worker is not None:
            self.worker.notify(op)

    def deliver(self, room_id: str, participant_id: str, event: LiveEvent) -> None:
        room = self.rooms.get(room_id)
        if room is not None:
            room.deliver(participant_id, event)

    def worker_ended(self, worker: _WorkerProcess, code: int) -> None:
        if worker is not self.worker:
            return
        self.ready.clear()
        self.worker = None
        if self.pool.closing:
            return
        log.error("media worker %d (pid %d) ended with %s; %d room(s) lose their media for a moment",
                  self.index, worker.process.pid, code, len(self.rooms))
        lost, self.rooms = list(self.rooms.values()), {}
        self._restarting = asyncio.create_task(self._restart(), name=f"media-worker-{self.index}-restart")
        for room in lost:
            room.worker_lost()

    async def _restart(self) -> None:
        for attempt in itertools.count():
            if self.pool.closing:
                return
            await asyncio.sleep(RESTART_BACKOFF[min(attempt, len(RESTART_BACKOFF) - 1)])
            try:
                await self.start()
            except Exception:
                log.exception("media worker %d could not be started again", self.index)
                continue
            self.restarts += 1
            return

    async def stop(self) -> None:
        if self._restarting is not None:
            self._restarting.cancel()
            await asyncio.gather(self._restarting, return_exceptions=True)
        if self.worker is not None:
            await self.worker.stop()


class MediaWorkerPool:
    """The media worker processes of this server, and which room is pinned to which.

    ``command`` starts one worker; the channel's file descriptor number is appended to it.
    """

    def __init__(self, workers: int, command: Sequence[str]) -> None:
        if workers < 1:
            raise ValueError("a media worker pool needs at least one worker")
        self.command = tuple(command)
        self.closing = False
        self._slots = [_Slot(self, index) for index in range(workers)]

    async def start(self) -> None:
        """Start every worker; a worker that cannot start stops the server's start-up."""
        try:
            for slot in self._slots:
                await slot.start()
        except BaseException:
            await self.close()
            raise

    def room_media(self, room_id: str, members: Mapping[ParticipantId, Member], spawn: Spawn) -> RemoteRoomMedia:
        """The media of a new live room, pinned to the worker with the fewest rooms (a ``RoomMediaFactory``)."""
        return RemoteRoomMedia(self, room_id, members)

    def place(self, room: RemoteRoomMedia) -> _Slot:
        if self.closing:
            raise MediaError("the server is shutting down")
        # A running worker first; with none running, the slot that will be back first keeps the room.
        slot = min(self._slots, key=lambda s: (not s.ready.is_set(), len(s.rooms), s.index))
        slot.rooms[room.room_id] = room
        return slot

    def placement(self) -> dict[str, int]:
        """Which worker (by index) holds each room's media."""
        return {room_id: slot.index for slot in self._slots for room_id in slot.rooms}

    def worker_pids(self) -> list[int | None]:
        return [slot.worker.process.pid if slot.worker is not None else None for slot in self._slots]

    def restarts(self) -> int:
        return sum(slot.restarts for slot in self._slots)

    async def wait_ready(self) -> None:
        """Until every worker runs (after a restart), for at most ``READY_TIMEOUT``."""
        async with asyncio.timeout(READY_TIMEOUT):
            for slot in self._slots:
                await slot.ready.wait()

    async def close(self) -> None:
        """Stop every worker: each closes its peer connections first. Idempotent."""
        self.closing = True
        await asyncio.gather(*(slot.stop() for slot in self._slots))


class RemoteRoomMedia:
    """A live room's media in a worker process, as :class:`rooms.live.LiveRoom` uses it.

    The worker owns the peer connections; this side keeps which participants have one, so that after a
    worker is lost exactly those are asked for a new one.
    """

    def __init__(self, pool: MediaWorkerPool, room_id: str, members: Mapping[ParticipantId, Member]) -> None:
        self.room_id = room_id
        self._pool = pool
        self._members = members  # the live room's own dict, as LiveMedia has it
        self._with_media: set[str] = set()
        # Events for a participant whose offer is being answered wait until the answer has gone out: the
        # worker sends its next offer right after its answer, and both can arrive in one read, before the
        # caller of handle_offer has resumed and sent the answer. A browser that gets our offer before the
        # answer to its own sees crossed offers, rolls back and publishes its tracks again.
        self._answering: dict[str, int] = {}
        self._held: dict[str, list[LiveEvent]] = {}
        self._closed = False
        self._recording_id: str | None = None
        self.recording_listener: RecordingListener | None = None
        self._slot = pool.place(self)

    @property
    def worker_index(self) -> int:
        return self._slot.index

    async def handle_offer(self, member: Member, offer_sdp: str) -> str:
        pid = member.participant_id
        self._answering[pid] = self._answering.get(pid, 0) + 1
        try:
            answer = await self._slot.request(
                Offer(self.room_id, pid, member.identity, dict(member.track_kinds), offer_sdp))
        finally:
            self._answering[pid] -= 1
            if not self._answering[pid]:
                del self._answering[pid]
                # After the caller's current step, in which it sends the answer on the participant's socket.
                asyncio.get_running_loop().call_soon(self._release_held, pid)
        self._with_media.add(pid)
        if answer is None:
            raise MediaError("the media worker gave no answer")
        return answer

    async def handle_answer(self, member: Member | None, answer_sdp: str) -> None:
        if member is None:
            raise MediaError("no server offer is waiting for an answer")
        await self._slot.request(Answer(self.room_id, member.participant_id, answer_sdp))

    async def add_candidate(
        self, member: Member | None, candidate: str, sdp_mid: str | None, sdp_mline_index: int | None
    ) -> None:
        if member is None or not candidate:
            return
        await self._slot.request(Candidate(self.room_id, member.participant_id, candidate, sdp_mid, sdp_mline_index))

    def resumed(self, member: Member, link: Link) -> None:
        if member.reset_owed:
            member.reset_owed = False
            link.deliver(PeerReset())
        else:
            self._slot.notify(Resumed(self.room_id, member.participant_id))

    async def replace_dead_peers(self) -> None:
        self._slot.notify(Tick(self.room_id))

    def released(self, member: Member) -> None:
        self._with_media.discard(member.participant_id)
        self._slot.notify(Release(self.room_id, member.participant_id))

    async def start_recording(self, order: RecordingOrder, participant_ids: Collection[str]) -> None:
        await self.stop_recording()
        # Set before the request: the recorder may fail (and say so) before the reply is read here.
        self._recording_id = order.recording_id
        try:
            await self._slot.request(StartRecording(self.room_id, order, tuple(sorted(participant_ids))))
        except BaseException:
            self._recording_id = None
            raise

    async def set_recorded_participants(self, participant_ids: Collection[str]) -> None:
        if self._recording_id is not None:
            await self._slot.request(SetRecordedParticipants(self.room_id, tuple(sorted(participant_ids))))

    async def stop_recording(self) -> None:
        if self._recording_id is None:
            return
        self._recording_id = None
        await self._slot.request(StopRecording(self.room_id))

    def recording_ended(self, recording_id: str, reason: str) -> None:
        """The worker's recorder stopped by itself: tell the live room (staff are told from there)."""
        if recording_id != self._recording_id:
            return
        self._recording_id = None
        if self.recording_listener is not None:
            self.recording_listener(recording_id, reason)

    def _release_held(self, participant_id: str) -> None:
        if participant_id in self._answering:
            return  # another offer of theirs is being answered: its own end releases them
        for event in self._held.pop(participant_id, []):
            self.deliver(participant_id, event)

    def deliver(self, participant_id: str, event: LiveEvent) -> None:
        """An event from the worker: to the participant's socket, or owed until it is back."""
        if participant_id in self._answering:
            self._held.setdefault(participant_id, []).append(event)
            return
        member = self._members.get(ParticipantId(participant_id))
        if member is None or self._closed:
            return
        if isinstance(event, PeerReset):
            self._with_media.discard(participant_id)
        if member.link is not None:
            member.link.deliver(event)
        elif isinstance(event, PeerReset):
            member.reset_owed = True
        # A server offer with the socket down is kept by the worker and sent again on ``Resumed``.

    def worker_lost(self) -> None:
        """The worker died with this room's media: move to a live one, and ask for new peer connections."""
        if self._closed:
            return
        self._slot = self._pool.place(self)
        if self._recording_id is not None:  # its recorder died with it; what was sealed stays readable
            self.recording_ended(self._recording_id, "media_lost")
        lost, self._with_media = self._with_media, set()
        for pid in sorted(lost):
            member = self._members.get(ParticipantId(pid))
            if member is None:
                continue
            if member.link is not None:
                member.link.deliver(PeerReset())
            else:
                member.reset_owed = True

    async def close(self) -> None:
        """Close the room's peer connections in its worker. Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._slot.rooms.pop(self.room_id, None)
        self._recording_id = None  # closing the room in the worker closes its recording cleanly
        with contextlib.suppress(MediaError):
            if self._slot.ready.is_set():
                await self._slot.request(CloseRoom(self.room_id))
