"""The media side of a live room: each member's peer connection, offers both ways, dead peers replaced.

One aiortc peer connection per participant, created when their first offer arrives. A peer whose ICE
fails, stays disconnected or receives nothing too long (:mod:`rooms.peer_health`), is closed and the
client is asked for a new one (aiortc has no ICE restart); an offer with new ICE credentials means the
browser made a new peer connection, so the old one is replaced. ``LiveRoom`` checks permissions before calling in here.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection, Coroutine, Mapping
from typing import Any, Protocol

from aiortc import RTCConfiguration, RTCPeerConnection
from aiortc.sdp import candidate_from_sdp

from rooms.live_events import Link, PeerReset, ServerOffer
from rooms.media import DEFAULT_FORWARDING, ForwardingMode, MediaError, MediaRouter
from rooms.media.frame_sink import FrameSink
from rooms.media.sdp import ClientOffer, server_offer_as_sent, without_audio_level
from rooms.members import Member, Peer
from rooms.peer_health import PeerHealth, check_peer
from rooms.recording_tap import RecorderFactory, RecordingListener, RecordingOrder
from rooms.roster import ParticipantId

log = logging.getLogger(__name__)

PeerFactory = Callable[[], RTCPeerConnection]
Spawn = Callable[[Coroutine[Any, Any, None]], None]


def default_peer_factory() -> RTCPeerConnection:
    # Explicitly no ICE servers: aiortc would otherwise use a public STUN server, and the server's own
    # candidates are what the browser needs (it brings STUN/TURN of its own from the settings).
    return RTCPeerConnection(RTCConfiguration(iceServers=[]))


class RoomMedia(Protocol):
    """The media of one live room as ``LiveRoom`` uses it: in this process (:class:`LiveMedia`) or in a
    media worker (:class:`rooms.media_workers.RemoteRoomMedia`)."""

    async def handle_offer(self, member: Member, offer_sdp: str) -> str: ...

    async def handle_answer(self, member: Member | None, answer_sdp: str) -> None: ...

    async def add_candidate(
        self, member: Member | None, candidate: str, sdp_mid: str | None, sdp_mline_index: int | None
    ) -> None: ...

    def resumed(self, member: Member, link: Link) -> None: ...

    async def replace_dead_peers(self) -> None: ...

    def released(self, member: Member) -> None: ...

    recording_listener: RecordingListener | None
    """Told when a recording stops by itself (a write error, a full disk, the media lost)."""

    async def start_recording(self, order: RecordingOrder, participant_ids: Collection[str]) -> None: ...

    async def set_recorded_participants(self, participant_ids: Collection[str]) -> None: ...

    async def stop_recording(self) -> None: ...

    async def close(self) -> None: ...


RoomMediaFactory = Callable[[str, Mapping[ParticipantId, Member], Spawn], RoomMedia]
"""Makes a room's media from its id, the live room's member records and its task spawner."""


def in_process_media(peer_factory: PeerFactory, recorder_factory: RecorderFactory | None,
                     monotonic: Callable[[], float] = time.monotonic,
                     forwarding: ForwardingMode = DEFAULT_FORWARDING) -> RoomMediaFactory:
    """Rooms' media in this process (no media workers), able to record with ``recorder_factory``;
    ``forwarding`` is how the routers forward (see :mod:`rooms.media.forwarding_mode`)."""
    def make(room_id: str, members: Mapping[ParticipantId, Member], spawn: Spawn) -> RoomMedia:
        return LiveMedia(room_id, members, peer_factory=peer_factory, monotonic=monotonic, spawn=spawn,
                         recorder_factory=recorder_factory, forwarding=forwarding)
    return make


class LiveMedia:
    """Negotiates and watches the members' peer connections; the router forwards their media."""

    def __init__(
        self,
        room_id: str,
        members: Mapping[ParticipantId, Member],
        *,
        peer_factory: PeerFactory,
        monotonic: Callable[[], float],
        spawn: Spawn,
        recorder_factory: RecorderFactory | None = None,
        forwarding: ForwardingMode = DEFAULT_FORWARDING,
    ) -> None:
        self._room_id = room_id
        self._members = members  # the live room's own dict: whoever it holds is who we negotiate with
        self._peer_factory = peer_factory
        self._monotonic = monotonic
        self._spawn = spawn
        self._closed = False
        self._recorder_factory = recorder_factory
        self._recording: tuple[str, FrameSink] | None = None
        self.recording_listener: RecordingListener | None = None
        self.router = MediaRouter(on_renegotiation_needed=self.renegotiation_needed, forwarding=forwarding)

    async def handle_offer(self, member: Member, offer_sdp: str) -> str:
        """Apply the client's offer (creating or replacing its peer connection) and return the answer."""
        offer = ClientOffer.parse(offer_sdp)
        peer = member.peer
        if peer is not None and offer.ufrag is not None and peer.ufrag is not None and offer.ufrag != peer.ufrag:
            # A new RTCPeerConnection in the browser (after a reset or a reload): aiortc cannot restart
            # ICE on the old one, so it is replaced.
            await self.drop_peer(member)
            peer = None
        if peer is None:
            peer = member.peer = Peer(self._peer_factory(), offer.ufrag, PeerHealth(created=self._monotonic()))
            self.router.add_participant(member.participant_id, peer.pc)
        peer.extension_ids.update(offer.extension_ids)
        answer = await self.router.handle_offer(member.participant_id, offer, offer.labels(member.track_kinds))
        return without_audio_level(answer)

    async def handle_answer(self, member: Member | None, answer_sdp: str) -> None:
        """Apply the client's answer to our last offer."""
        if member is None or member.peer is None:
            raise MediaError("no server offer is waiting for an answer")
        await self.router.handle_answer(member.participant_id, without_audio_level(answer_sdp))

    async def add_candidate(
        self, member: Member | None, candidate: str, sdp_mid: str | None, sdp_mline_index: int | None
    ) -> None:
        """A trickled ICE candidate from the browser (its offers usually carry them already)."""
        if member is None or member.peer is None or not candidate:
            return
        try:
            parsed = candidate_from_sdp(candidate.removeprefix("candidate:"))
        except (ValueError, IndexError) as exc:
            raise MediaError("unreadable ICE candidate") from exc
        parsed.sdpMid = sdp_mid
        parsed.sdpMLineIndex = sdp_mline_index
        await member.peer.pc.addIceCandidate(parsed)

    def resumed(self, member: Member, link: Link) -> None:
        """The member's socket is back: owe them what they may have missed while it was down."""
        peer = member.peer
        if member.reset_owed:
            # Its media died while the socket was down too: the browser may still think it is recovering.
            member.reset_owed = False
            link.deliver(PeerReset())
        elif peer is not None and peer.pending_offer is not None and peer.pc.signalingState == "have-local-offer":
            # Our offer may have gone out on the socket that dropped; the browser answers it now.
            link.deliver(peer.pending_offer)
        elif peer is not None and self.router.needs_renegotiation(member.participant_id):
            # Tracks came or went while the socket was down (no offer could be sent): offer now.
            self.renegotiation_needed(member.participant_id)

    def renegotiation_needed(self, participant_id: str) -> None:
        """Schedule a server offer, one at a time per member (the router calls this synchronously)."""
        member = self._members.get(ParticipantId(participant_id))
        if member is None or member.offering or self._closed:
            return
        member.offering = True
        self._spawn(self._offer(member))

    async def _offer(self, member: Member) -> None:
        pid = member.participant_id
        try:
            peer, link = member.peer, member.link
            if peer is None or link is None or peer.pc.signalingState != "stable":
                return  # the answer (or the next offer) triggers renegotiation again
            if not self.router.needs_renegotiation(pid):
                return
            offer = server_offer_as_sent(await self.router.create_offer(pid), peer.extension_ids)
            message = ServerOffer(offer, tuple(self.router.outgoing_tracks(pid)))
            peer.pending_offer = message
            link.deliver(message)
        except MediaError as exc:
            log.info("room %s: no offer for %s now: %s", self._room_id, pid, exc)
        finally:
            member.offering = False

    async def replace_dead_peers(self) -> None:
        """Close every peer beyond saving and ask its client for a new one (now, or when it resumes)."""
        now = self._monotonic()
        for member in list(self._members.values()):
            peer = member.peer
            if peer is None:
                continue
            state = peer.pc.connectionState
            received = await packets_received(peer.pc) if state == "connected" else None
            if member.peer is not peer:
                continue  # replaced or dropped while its counters were read
            check = check_peer(peer.health, state, now, received=received)
            peer.health = check.health
            if not check.dead:
                continue
            log.info("room %s: peer of %s is %s; asking for a new one", self._room_id, member.participant_id, state)
            await self.drop_peer(member)
            if member.link is not None:
                member.link.deliver(PeerReset())
            else:
                member.reset_owed = True

    async def drop_peer(self, member: Member) -> None:
        """Close the member's peer connection and forget what belonged to it."""
        if member.drop_peer() is not None:
            await self.router.remove_participant(member.participant_id)

    def released(self, member: Member) -> None:
        """The member's seat is gone: their media go too, without waiting for it."""
        if member.drop_peer() is not None:
            self._spawn(self.router.remove_participant(member.participant_id))

    # --- recording ---

    async def start_recording(self, order: RecordingOrder, participant_ids: Collection[str]) -> None:
        """Hand the frames of these participants' tracks to a new recorder (one recording at a time)."""
        if self._recorder_factory is None:
            raise MediaError("this server has no recorder")
        if self._closed:
            raise MediaError("the room's media is closed")
        await self.stop_recording()
        recording_id = order.recording_id
        sink = self._recorder_factory(order, lambda reason: self._recorder_failed(recording_id, reason))
        self._recording = (recording_id, sink)
        self.router.record(sink, participant_ids)

    async def set_recorded_participants(self, participant_ids: Collection[str]) -> None:
        """Record these participants from now on (someone agreed, or someone's consent ended)."""
        if self._recording is not None:
            self.router.record(self._recording[1], participant_ids)

    async def stop_recording(self) -> None:
        """Stop handing frames over and close the recording cleanly. Idempotent."""
        recording, self._recording = self._recording, None
        if recording is None:
            return
        self.router.record(None)
        await recording[1].close()

    def _recorder_failed(self, recording_id: str, reason: str) -> None:
        # Called from inside the frame path: detach at once, close and report outside it.
        recording = self._recording
        if recording is None or recording[0] != recording_id:
            return
        self._recording = None
        self.router.record(None)
        self._spawn(recording[1].close())
        listener = self.recording_listener
        if listener is not None:
            try:
                listener(recording_id, reason)
            except Exception:
                log.exception("room %s: the recording listener failed", self._room_id)

    async def close(self) -> None:
        """Close the recording (cleanly) and every peer connection. Idempotent."""
        self._closed = True
        await self.stop_recording()
        await self.router.close()


async def packets_received(pc: RTCPeerConnection) -> int | None:
    """The datagrams ``pc``'s transport has received, when its browser publishes a track (and so sends RTP
    and RTCP all the time); None for a browser that only receives, whose silence says nothing."""
    publishing = [t for t in pc.getTransceivers() if t.currentDirection in ("recvonly", "sendrecv")]
    if not publishing:
        return None
    for stats in (await publishing[0].receiver.getStats()).values():
        if stats.type == "transport":
            return int(stats.packetsReceived)
    return None
