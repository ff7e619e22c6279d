"""A live consultation: the room's state (``Room``), its media (``MediaRouter``) and who is connected.

``LiveRoom`` is what the signaling layer talks to. Every action goes through the pure ``Room`` first (it
decides who may do what and who hears about it), health data is audited before it is shared, and the
resulting events are delivered to each participant's ``Link`` (a WebSocket in production, a list in
tests). Nothing here knows about aiohttp or JSON: the transport turns ``LiveEvent`` into frames.

Media: one aiortc peer connection per participant, created when their first offer arrives. A peer whose
ICE fails, or stays disconnected for ``PEER_DEAD_AFTER``, is closed and the client is asked for a new
one (aiortc has no ICE restart); an offer with new ICE credentials means the browser made a new peer
connection, so the old one is replaced.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable, Coroutine, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from aiortc import RTCPeerConnection, sdp
from aiortc.sdp import candidate_from_sdp

from rooms.errors import RoomClosed
from rooms.join_codes import IssuedCode, JoinCodeService
from rooms.media import MediaError, MediaLabel, MediaRouter, OutgoingTrackInfo
from rooms.room import (
    Denied,
    EndReason,
    JoinResult,
    Outgoing,
    Reading,
    Room,
    RoomEnded,
    RoomEvent,
    RosterChanged,
    SeatReleased,
)
from rooms.roster import Identity, ParticipantId, ParticipantRole, TrackKind

log = logging.getLogger(__name__)

PEER_DEAD_AFTER = 5.0
"""Seconds a peer connection may stay disconnected before the client is asked for a new one."""
PEER_CONNECT_TIMEOUT = 20.0
"""Seconds a new peer connection may take to connect at all (a browser behind a blocked network)."""

# Video bitrate per publisher by the number of admitted participants: each recipient's downlink carries
# every other participant's video, so the cap falls as the room grows.
_BITRATE_STEPS = ((2, 1500), (3, 1000), (4, 800), (6, 600))
_BITRATE_FLOOR = 400


def video_bitrate_kbps(admitted: int) -> int:
    """The video bitrate cap (kbit/s) a publisher should set for a room of this size."""
    for size, kbps in _BITRATE_STEPS:
        if admitted <= size:
            return kbps
    return _BITRATE_FLOOR


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


LiveEvent = RoomEvent | ServerOffer | PeerReset | BitrateCap


class Link(Protocol):
    """One participant's connection. Both methods return at once: the transport queues and sends."""

    def joined(self, result: JoinResult, *, resumed: bool) -> None:
        """The joiner's own reply (seat, resume token, roster), before any later event."""

    def deliver(self, event: LiveEvent) -> None:
        """An event addressed to this participant."""

    def close(self, reason: str) -> None:
        """Close the connection once what was delivered before has been sent."""


class ConsultationAudit(Protocol):
    """Where a live room writes its audit rows (roster changes, chat, readings, invitations)."""

    async def record(self, identity: Identity, action: str, *, reason: str = "") -> None: ...


PeerFactory = Callable[[], RTCPeerConnection]


class ReadingSink(Protocol):
    """Where a reading shared in the call is kept beyond the call (the joint note)."""

    async def __call__(self, booking_id: str, identity: Identity, reading: Reading) -> None: ...


@dataclass
class _Peer:
    pc: RTCPeerConnection
    ufrag: str | None
    created: float
    bad_since: float | None = None


_AUDIO_LEVEL = "urn:ietf:params:rtp-hdrext:ssrc-audio-level"


def without_audio_level(description: str) -> str:
    """The SDP without the audio-level RTP header extension.

    aiortc 1.16 keeps one extension-id map per bundled transport; Chromium's packets then carry ids that
    aiortc reads as audio level with an empty value, and the parse error tears the DTLS transport down.
    We forward and never mix audio, so the level is of no use to us: it is simply not negotiated.
    """
    return "".join(line for line in description.splitlines(keepends=True) if _AUDIO_LEVEL not in line)


_EXTMAP = re.compile(r"^a=extmap:(\d+)(/\w+)? (\S+)(.*)$")


def extension_ids(description: str) -> dict[str, int]:
    """The RTP header extension ids a peer uses, by URI (``a=extmap:<id> <uri>``)."""
    ids: dict[str, int] = {}
    for line in description.splitlines():
        match = _EXTMAP.match(line.strip())
        if match:
            ids.setdefault(match.group(3), int(match.group(1)))
    return ids


def with_extension_ids(description: str, ids: Mapping[str, int]) -> str:
    """The SDP with each header extension renumbered to the id the browser already uses for it.

    aiortc's createOffer numbers extensions its own way (mid = 1, ...). On a bundled transport the
    browser has registered its own numbers, and Chromium aborts the tab (``Check failed: registered``)
    when a later offer maps an id it already uses to another URI. Extensions the browser never offered
    are left out.
    """
    if not ids:
        return description
    out = []
    for line in description.splitlines(keepends=True):
        match = _EXTMAP.match(line.strip())
        if match is None:
            out.append(line)
            continue
        uri = match.group(3)
        if uri in ids:
            ending = "\r\n" if line.endswith("\r\n") else "\n"
            out.append(f"a=extmap:{ids[uri]}{match.group(2) or ''} {uri}{match.group(4)}{ending}")
    return "".join(out)


def _media_labels(offer_sdp: str, track_kinds: Mapping[str, TrackKind]) -> tuple[dict[str, MediaLabel], str | None]:
    """Labels by mid, from the track ids the client announced (``a=msid:<stream> <track>``), and the
    offer's ICE username fragment."""
    try:
        description = sdp.SessionDescription.parse(offer_sdp)
    except Exception as exc:  # aiortc raises assorted errors on malformed SDP
        raise MediaError(f"unreadable offer: {exc}") from exc
    labels: dict[str, MediaLabel] = {}
    ufrag: str | None = None
    for media in description.media:
        if ufrag is None and media.ice is not None:
            ufrag = media.ice.usernameFragment
        track_id = (media.msid or "").split(" ")[-1] if media.msid else ""
        kind = track_kinds.get(track_id)
        if kind is not None and media.rtp.muxId:
            labels[media.rtp.muxId] = kind.value  # type: ignore[assignment]  # TrackKind values are MediaLabels
    return labels, ufrag


class LiveRoom:
    """One booking's consultation while it is live: state, media and connections together.

    Created by the registry on the first join inside the opening window; closed when staff end it, the
    slot is long over, or the server shuts down. ``close()`` is idempotent.
    """

    def __init__(
        self,
        room: Room,
        *,
        audit: ConsultationAudit,
        join_codes: JoinCodeService,
        peer_factory: PeerFactory,
        monotonic: Callable[[], float] = time.monotonic,
        reading_sink: ReadingSink | None = None,
    ) -> None:
        self.room = room
        self._reading_sink = reading_sink
        self._audit = audit
        self._join_codes = join_codes
        self._peer_factory = peer_factory
        self._monotonic = monotonic
        self.router = MediaRouter(on_renegotiation_needed=self._renegotiation_needed)
        self._links: dict[ParticipantId, Link] = {}
        self._identities: dict[ParticipantId, Identity] = {}
        self._peers: dict[ParticipantId, _Peer] = {}
        # The RTP header extension ids each browser uses, so that our offers keep them (see with_extension_ids).
        self._extension_ids: dict[ParticipantId, dict[str, int]] = {}
        # The last offer sent to each participant, sent again if it was lost with a dropped socket.
        self._pending_offers: dict[ParticipantId, ServerOffer] = {}
        self._track_kinds: dict[ParticipantId, dict[str, TrackKind]] = {}
        self._offering: set[ParticipantId] = set()
        # Peers dropped while their socket was down: the client is told to make a new one when it resumes.
        self._reset_owed: set[ParticipantId] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._bitrate = 0
        self._closed = False

    @property
    def room_id(self) -> str:
        return self.room.room_id

    @property
    def closed(self) -> bool:
        return self._closed

    def peer_connections(self) -> dict[ParticipantId, RTCPeerConnection]:
        """The server side of each participant's media (for tests and diagnostics)."""
        return {pid: peer.pc for pid, peer in self._peers.items()}

    # --- joining and leaving ---

    async def join(self, identity: Identity, link: Link) -> JoinResult:
        """Take a seat for ``identity``; the joiner's reply goes to ``link`` before anything else."""
        result = self.room.join(identity)
        self._attach(result, identity, link, resumed=False)
        await self._audit.record(identity, "joined" if not result.replaced else "rejoined")
        return result

    async def resume(self, token: str, identity: Identity, link: Link) -> JoinResult:
        """Take back a seat kept through a dropped connection."""
        result = self.room.resume(token, identity)
        self._attach(result, identity, link, resumed=True)
        await self._audit.record(identity, "resumed")
        return result

    def _attach(self, result: JoinResult, identity: Identity, link: Link, *, resumed: bool) -> None:
        pid = result.participant.participant_id
        old = self._links.get(pid)
        self._links[pid] = link
        self._identities[pid] = identity
        if old is not None and old is not link:
            old.close("replaced")  # the same person on a new tab or device: the old one goes
        link.joined(result, resumed=resumed)
        self._dispatch(result.outgoing, skip=pid)
        if result.participant.is_admitted:
            link.deliver(BitrateCap(video_bitrate_kbps(len(self.room.roster()))))
        peer = self._peers.get(pid)
        pending = self._pending_offers.get(pid)
        if resumed and pid in self._reset_owed:
            # Its media died while the socket was down too: the browser may still think it is recovering.
            self._reset_owed.discard(pid)
            link.deliver(PeerReset())
        elif resumed and peer is not None and pending is not None and peer.pc.signalingState == "have-local-offer":
            # Our offer may have gone out on the socket that dropped; the browser answers it now.
            link.deliver(pending)
        elif resumed and peer is not None and self.router.needs_renegotiation(pid):
            # Tracks came or went while the socket was down (no offer could be sent): offer now.
            self._renegotiation_needed(pid)

    def detach(self, participant_id: ParticipantId, link: Link) -> None:
        """The connection dropped: the seat is kept for the grace period (media keeps flowing)."""
        if self._links.get(participant_id) is not link:
            return  # already replaced by a newer connection
        del self._links[participant_id]
        self._dispatch(self.room.disconnect(participant_id))

    async def leave(self, participant_id: ParticipantId) -> None:
        """The participant left on purpose."""
        identity = self._identities.get(participant_id)
        out = self.room.leave(participant_id)
        if out and identity is not None:
            await self._audit.record(identity, "left")
        self._dispatch(out)

    # --- staff actions ---

    async def admit(self, actor: ParticipantId, target: ParticipantId) -> None:
        out = self.room.admit(actor, target)
        await self._record(actor, "admitted", target)
        self._dispatch(out)

    async def deny(self, actor: ParticipantId, target: ParticipantId) -> None:
        out = self.room.deny(actor, target)
        await self._record(actor, "denied", target)
        self._dispatch(out)

    async def remove(self, actor: ParticipantId, target: ParticipantId) -> None:
        out = self.room.remove(actor, target)
        await self._record(actor, "removed", target)
        self._dispatch(out)

    async def invite(
        self, actor: ParticipantId, display_name: str, role: ParticipantRole, *, starts_at: datetime, ends_at: datetime
    ) -> IssuedCode:
        """A join code for someone not on the booking (the inviting staff member reads it out)."""
        invitation = self.room.invite(actor, display_name, role)
        issued = await self._join_codes.issue(
            room_id=invitation.room_id,
            role=invitation.role,
            display_name=invitation.display_name,
            starts_at=starts_at,
            ends_at=ends_at,
            created_by=invitation.invited_by,
        )
        await self._record(actor, "invited", None, reason=f"{role.value}: {display_name}")
        return issued

    async def end(self, actor: ParticipantId) -> None:
        out = self.room.end(actor)
        await self._record(actor, "ended", None)
        self._dispatch(out)
        await self._shutdown_media()

    # --- in the call ---

    def publish_track(self, participant_id: ParticipantId, track_id: str, kind: TrackKind, label: str) -> None:
        out = self.room.publish_track(participant_id, track_id, kind, label)
        self._track_kinds.setdefault(participant_id, {})[track_id] = kind
        self._dispatch(out)

    def set_mute(self, participant_id: ParticipantId, kind: TrackKind, muted: bool) -> None:
        self._dispatch(self.room.set_mute(participant_id, kind, muted))

    async def chat(self, participant_id: ParticipantId, text: str) -> None:
        self.room.require_admitted(participant_id)
        await self._record(participant_id, "chat_posted", None)  # audited before anyone can read it
        self._dispatch(self.room.chat(participant_id, text))

    async def post_reading(self, participant_id: ParticipantId, reading: Reading) -> None:
        participant = self.room.require_admitted(participant_id)
        if not participant.role.may_post_readings:
            self.room.post_reading(participant_id, reading)  # raises Forbidden with the room's words
        await self._record(participant_id, "reading_posted", None, reason=reading.name.value)
        self._dispatch(self.room.post_reading(participant_id, reading))
        identity = self._identities.get(participant_id)
        if self._reading_sink is not None and identity is not None:
            self._spawn(self._keep_reading(identity, reading))

    async def _keep_reading(self, identity: Identity, reading: Reading) -> None:
        # Into the joint note, outside the call's path: a failure there must not disturb the call.
        assert self._reading_sink is not None
        try:
            await self._reading_sink(self.room.booking_id, identity, reading)
        except Exception:
            log.exception("room %s: reading not written to the note", self.room_id)

    # --- media negotiation ---

    async def handle_offer(self, participant_id: ParticipantId, offer_sdp: str) -> str:
        """Apply the client's offer (creating or replacing its peer connection) and return the answer."""
        self.room.require_admitted(participant_id)
        labels, ufrag = _media_labels(offer_sdp, self._track_kinds.get(participant_id, {}))
        peer = self._peers.get(participant_id)
        if peer is not None and ufrag is not None and peer.ufrag is not None and ufrag != peer.ufrag:
            # A new RTCPeerConnection in the browser (after a reset or a reload): aiortc cannot restart
            # ICE on the old one, so it is replaced.
            await self._drop_peer(participant_id)
            peer = None
        if peer is None:
            pc = self._peer_factory()
            peer = _Peer(pc, ufrag, self._monotonic())
            self._peers[participant_id] = peer
            self.router.add_participant(participant_id, pc)
        self._extension_ids.setdefault(participant_id, {}).update(extension_ids(offer_sdp))
        answer = await self.router.handle_offer(participant_id, without_audio_level(offer_sdp), labels)
        return without_audio_level(answer)

    async def handle_answer(self, participant_id: ParticipantId, answer_sdp: str) -> None:
        self.room.require_admitted(participant_id)
        if participant_id not in self._peers:
            raise MediaError("no server offer is waiting for an answer")
        await self.router.handle_answer(participant_id, without_audio_level(answer_sdp))

    async def add_candidate(
        self, participant_id: ParticipantId, candidate: str, sdp_mid: str | None, sdp_mline_index: int | None
    ) -> None:
        """A trickled ICE candidate from the browser (its offers usually carry them already)."""
        self.room.require_admitted(participant_id)
        peer = self._peers.get(participant_id)
        if peer is None or not candidate:
            return
        try:
            parsed = candidate_from_sdp(candidate.removeprefix("candidate:"))
        except (ValueError, IndexError) as exc:
            raise MediaError("unreadable ICE candidate") from exc
        parsed.sdpMid = sdp_mid
        parsed.sdpMLineIndex = sdp_mline_index
        await peer.pc.addIceCandidate(parsed)

    def _renegotiation_needed(self, participant_id: str) -> None:
        # Called synchronously by the router: schedule the offer, one at a time per participant.
        pid = ParticipantId(participant_id)
        if pid in self._offering or self._closed:
            return
        self._offering.add(pid)
        self._spawn(self._offer(pid))

    async def _offer(self, participant_id: ParticipantId) -> None:
        try:
            peer = self._peers.get(participant_id)
            link = self._links.get(participant_id)
            if peer is None or link is None or peer.pc.signalingState != "stable":
                return  # the answer (or the next offer) triggers renegotiation again
            if not self.router.needs_renegotiation(participant_id):
                return
            offer = with_extension_ids(without_audio_level(await self.router.create_offer(participant_id)),
                                       self._extension_ids.get(participant_id, {}))
            message = ServerOffer(offer, tuple(self.router.outgoing_tracks(participant_id)))
            self._pending_offers[participant_id] = message
            link.deliver(message)
        except MediaError as exc:
            log.info("room %s: no offer for %s now: %s", self.room_id, participant_id, exc)
        finally:
            self._offering.discard(participant_id)

    # --- housekeeping ---

    async def tick(self) -> None:
        """Reap expired seats, close the room when it is long over, and reset dead peer connections."""
        if self._closed:
            return
        out = self.room.reap()
        self._dispatch(out)
        if any(isinstance(o.event, RoomEnded) for o in out):
            await self._shutdown_media()
            return
        now = self._monotonic()
        for pid, peer in list(self._peers.items()):
            state = peer.pc.connectionState
            if state == "connected":
                peer.bad_since = None
                continue
            if state in ("failed", "closed"):
                dead = True
            elif state in ("new", "connecting"):
                dead = now - peer.created >= PEER_CONNECT_TIMEOUT
            else:  # "disconnected"
                if peer.bad_since is None:
                    peer.bad_since = now
                dead = now - peer.bad_since >= PEER_DEAD_AFTER
            if dead:
                log.info("room %s: peer of %s is %s; asking for a new one", self.room_id, pid, state)
                await self._drop_peer(pid)
                link = self._links.get(pid)
                if link is not None:
                    link.deliver(PeerReset())
                else:
                    self._reset_owed.add(pid)

    async def close(self, reason: EndReason = EndReason.SHUTDOWN) -> None:
        """Close the room for everyone and release all media. Idempotent."""
        if self._closed:
            return
        self._dispatch(await self.room.close(reason))
        await self._shutdown_media()

    async def _shutdown_media(self) -> None:
        self._closed = True
        for link in list(self._links.values()):
            link.close("ended")
        self._links.clear()
        await self.router.close()
        self._peers.clear()
        tasks = [t for t in self._tasks if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # --- internals ---

    async def _record(self, actor: ParticipantId, action: str, target: ParticipantId | None, reason: str = "") -> None:
        identity = self._identities.get(actor)
        if identity is None:
            raise RoomClosed("not connected to this room")
        if target is not None:
            who = self._identities.get(target)
            reason = f"{who.role.value}: {who.display_name}" if who is not None else reason
        await self._audit.record(identity, action, reason=reason)

    async def _drop_peer(self, participant_id: ParticipantId) -> None:
        self._peers.pop(participant_id, None)
        self._extension_ids.pop(participant_id, None)
        self._pending_offers.pop(participant_id, None)
        await self.router.remove_participant(participant_id)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _dispatch(self, outgoing: Iterable[Outgoing], *, skip: ParticipantId | None = None) -> None:
        roster_changed = False
        for item in outgoing:
            event = item.event
            for pid in sorted(item.to):
                if pid == skip:
                    continue
                link = self._links.get(pid)
                if link is not None:
                    link.deliver(event)
            if isinstance(event, RosterChanged):
                roster_changed = True
            elif isinstance(event, Denied):
                self._release(event.participant_id)
            elif isinstance(event, SeatReleased):
                self._release(event.participant_id)
            elif isinstance(event, RoomEnded):
                for pid in list(self._links):
                    self._release(pid)
        if roster_changed and not self._closed:
            self._announce_bitrate()

    def _release(self, participant_id: ParticipantId) -> None:
        link = self._links.pop(participant_id, None)
        if link is not None:
            link.close("released")
        self._identities.pop(participant_id, None)
        self._track_kinds.pop(participant_id, None)
        self._reset_owed.discard(participant_id)
        if participant_id in self._peers:
            self._spawn(self._drop_peer(participant_id))

    def _announce_bitrate(self) -> None:
        roster = self.room.roster()
        kbps = video_bitrate_kbps(len(roster))
        if kbps == self._bitrate:
            return
        self._bitrate = kbps
        for pid in roster.participant_ids:
            link = self._links.get(pid)
            if link is not None:
                link.deliver(BitrateCap(kbps))
