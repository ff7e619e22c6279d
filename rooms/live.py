"""A live consultation: the room's state (``Room``), its media (``MediaRouter``) and who is connected.

``LiveRoom`` is what the signaling layer talks to. Every action goes through the pure ``Room`` first (it
decides who may do what and who hears about it), health data is audited before it is shared, and the
resulting events are delivered to each participant's ``Link`` (a WebSocket in production, a list in
tests). Nothing here knows about aiohttp or JSON: the transport turns ``LiveEvent`` into frames.

Everything kept about one participant is one ``Member`` record; the media side (peer connections,
offers, dead peers) is :class:`rooms.live_media.LiveMedia`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine, Iterable
from datetime import datetime
from typing import Any

from aiortc import RTCPeerConnection

from rooms.bitrate import video_bitrate_kbps
from rooms.errors import RoomClosed
from rooms.events import Denied, EndReason, Outgoing, RoomEnded, RosterChanged, SeatReleased
from rooms.join_codes import IssuedCode, JoinCodeService
from rooms.live_events import BitrateCap, ConsultationAudit, Link, LiveEvent, PeerReset, ReadingSink, ServerOffer
from rooms.live_media import LiveMedia, PeerFactory, RoomMedia, RoomMediaFactory
from rooms.media import MediaError, MediaRouter
from rooms.members import Member
from rooms.peer_health import PEER_CONNECT_TIMEOUT, PEER_DEAD_AFTER
from rooms.readings import Reading
from rooms.recording_consent import (
    RECORDER_NAME,
    NoRecordingProposed,
    RecordingConsent,
    RecordingKeeper,
    RecordingRules,
    RecordingStatus,
    RecordingUnavailable,
)
from rooms.room import Room
from rooms.roster import Identity, ParticipantId, ParticipantRole, RecorderEntry, TrackKind
from rooms.seats import JoinResult

# Callers (the signaling layer, the registry) import these from here.
__all__ = [
    "PEER_CONNECT_TIMEOUT",
    "PEER_DEAD_AFTER",
    "BitrateCap",
    "ConsultationAudit",
    "Link",
    "LiveEvent",
    "LiveRoom",
    "PeerFactory",
    "PeerReset",
    "ReadingSink",
    "ServerOffer",
    "video_bitrate_kbps",
]

log = logging.getLogger(__name__)


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
        media_factory: RoomMediaFactory | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        reading_sink: ReadingSink | None = None,
        recording_rules: RecordingRules | None = None,
        recording_keeper: RecordingKeeper | None = None,
    ) -> None:
        self.room = room
        self._reading_sink = reading_sink
        self._audit = audit
        self._join_codes = join_codes
        self._members: dict[ParticipantId, Member] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._media: RoomMedia
        if media_factory is None:
            self._media = LiveMedia(room.room_id, self._members, peer_factory=peer_factory, monotonic=monotonic,
                                    spawn=self._spawn)
        else:
            self._media = media_factory(room.room_id, self._members, self._spawn)
        self._bitrate = 0
        self._closed = False
        # Recording needs both the policy's rules and a place to keep recordings (a recording key).
        self._recording_rules = recording_rules
        self._recording_keeper = recording_keeper
        self._consent = RecordingConsent()
        self._considered: frozenset[str] = frozenset()  # who was present when recording was last decided
        self._recording_lock = asyncio.Lock()
        self._media.recording_listener = self._recording_stopped_by_media

    @property
    def room_id(self) -> str:
        return self.room.room_id

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def router(self) -> MediaRouter:
        """The forwarding media of this room (for tests and diagnostics), when it runs in this process."""
        if not isinstance(self._media, LiveMedia):
            raise RuntimeError("this room's media runs in a media worker")
        return self._media.router

    @property
    def media(self) -> RoomMedia:
        """The room's media, in this process or a worker (for tests and diagnostics)."""
        return self._media

    def peer_connections(self) -> dict[ParticipantId, RTCPeerConnection]:
        """The server side of each participant's media (for tests and diagnostics)."""
        return {pid: m.peer.pc for pid, m in self._members.items() if m.peer is not None}

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
        member = self._members.get(pid)
        if member is None:
            member = self._members[pid] = Member(pid, identity)
        member.identity = identity
        old, member.link = member.link, link
        if old is not None and old is not link:
            old.close("replaced")  # the same person on a new tab or device: the old one goes
        link.joined(result, resumed=resumed)
        self._dispatch(result.outgoing, skip=pid)
        if result.participant.is_admitted:
            link.deliver(BitrateCap(video_bitrate_kbps(len(self.room.roster()))))
            if self._consent.proposal is not None:  # a new tab or a reconnect is asked (or told) again
                link.deliver(self._consent.status(self._present()))
        if resumed:
            self._media.resumed(member, link)

    def detach(self, participant_id: ParticipantId, link: Link) -> None:
        """The connection dropped: the seat is kept for the grace period (media keeps flowing)."""
        member = self._members.get(participant_id)
        if member is None or member.link is not link:
            return  # already replaced by a newer connection
        member.link = None
        self._dispatch(self.room.disconnect(participant_id))

    async def leave(self, participant_id: ParticipantId) -> None:
        """The participant left on purpose."""
        member = self._members.get(participant_id)
        out = self.room.leave(participant_id)
        if out and member is not None:
            await self._audit.record(member.identity, "left")
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

    async def message_waiting(self, actor: ParticipantId, text: str) -> None:
        """A staff note to the waiting room, audited before anyone can read it (as chat is)."""
        self.room.require_admitted(actor)
        out = self.room.message_waiting(actor, text)  # refusals first: nothing is audited that is not sent
        await self._record(actor, "waiting_room_message", None)
        self._dispatch(out)

    async def end(self, actor: ParticipantId) -> None:
        out = self.room.end(actor)
        await self._record(actor, "ended", None)
        self._dispatch(out)
        await self._shutdown_media()

    # --- in the call ---

    def publish_track(self, participant_id: ParticipantId, track_id: str, kind: TrackKind, label: str) -> None:
        out = self.room.publish_track(participant_id, track_id, kind, label)
        member = self._members.get(participant_id)
        if member is not None:
            member.track_kinds[track_id] = kind
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
        member = self._members.get(participant_id)
        if self._reading_sink is not None and member is not None:
            self._spawn(self._keep_reading(self._reading_sink, member.identity, reading))

    async def _keep_reading(self, sink: ReadingSink, identity: Identity, reading: Reading) -> None:
        # Into the joint note, outside the call's path: a failure there must not disturb the call.
        try:
            await sink(self.room.booking_id, identity, reading)
        except Exception:
            log.exception("room %s: reading not written to the note", self.room_id)

    # --- recording, only with everyone's consent ---

    @property
    def recording(self) -> RecordingStatus:
        """Where recording stands now, as every admitted participant is shown it."""
        return self._consent.status(self._present())

    async def propose_recording(self, participant_id: ParticipantId, purpose: str) -> None:
        """Staff propose a recording for ``purpose``; it starts once everyone present has agreed."""
        rules, _ = self._recording_services()
        self.room.require_admitted(participant_id)
        member = self._member(participant_id)
        self._consent.propose(rules, participant_id, member.identity, purpose, self.room.now())
        await self._record(participant_id, "recording_proposed", None, reason=purpose)
        await self._reconsider_recording()

    async def answer_recording(self, participant_id: ParticipantId, agree: bool) -> None:
        """A participant agrees to the proposed recording, or declines it (which ends the proposal)."""
        self._recording_services()
        self.room.require_admitted(participant_id)
        if self._consent.proposal is None:
            raise NoRecordingProposed("no recording is proposed")
        if agree:
            self._consent.agree(participant_id, self.room.now())
            await self._record(participant_id, "recording_agreed", None)
            await self._reconsider_recording()
        else:
            await self._end_recording("declined")  # first: nothing waits for the audit row to be written
            await self._record(participant_id, "recording_declined", None)

    async def withdraw_recording(self, participant_id: ParticipantId) -> None:
        """Anyone withdraws their consent: recording stops at once for everyone, and the proposal ends."""
        self._recording_services()
        self.room.require_admitted(participant_id)
        if self._consent.proposal is None:
            raise NoRecordingProposed("no recording is proposed")
        await self._end_recording("withdrawn")  # at once; the audit row follows
        await self._record(participant_id, "recording_withdrawn", None)

    def _recording_services(self) -> tuple[RecordingRules, RecordingKeeper]:
        if self._recording_rules is None or self._recording_keeper is None:
            raise RecordingUnavailable("this server does not record consultations")
        return self._recording_rules, self._recording_keeper

    def _present(self) -> frozenset[str]:
        return frozenset(str(pid) for pid in self.room.roster().participant_ids)

    async def _reconsider_recording(self) -> None:
        """After every roster or consent change: start, narrow, widen or stop the recording."""
        if self._recording_rules is None or self._recording_keeper is None:
            return
        rules, keeper = self._recording_rules, self._recording_keeper
        async with self._recording_lock:
            if self._closed:
                return
            present = self._considered = self._present()
            consent = self._consent
            if (consent.recording_id is None and consent.proposal is not None
                    and str(consent.proposal.proposed_by) not in present):
                consent.end()  # nobody is left to start what they proposed
                self._announce_recording("proposer_left")
                return
            consent.forget_absent(present)
            plan = consent.plan(rules, present, self.room.now())
            if plan.start and consent.proposal is not None:
                proposer = self._members.get(consent.proposal.proposed_by)
                if proposer is None:
                    return  # their seat is going: the roster change that follows ends the proposal
                try:
                    order = await keeper.begin(booking_id=self.room.booking_id, purpose=consent.proposal.purpose,
                                               proposed_by=proposer.identity, started_by=proposer.identity)
                except Exception:  # nothing was recorded; everyone is told it did not start
                    log.exception("room %s: the recording could not be kept", self.room_id)
                    consent.end()
                    self._announce_recording("store_error")
                    return
                consent.recording_id, consent.started_at, consent.recorded = (
                    order.recording_id, self.room.now(), plan.recorded)
                try:
                    await self._media.start_recording(order, plan.recorded)
                except MediaError:
                    log.exception("room %s: the recording could not start", self.room_id)
                    consent.end()
                    await keeper.finish(order.recording_id, reason="media_error")
                    self._announce_recording("media_error")
                    return
                # The recorder is in the roster from the first frame on: no hidden participant, ever.
                self._dispatch(self.room.set_recorder(RecorderEntry(
                    RECORDER_NAME, consent.proposal.purpose, consent.proposal.proposed_by_name,
                    consent.started_at)))
            elif plan.stop:
                recording_id, kept = consent.recording_id, self._kept_days()
                consent.end()
                if recording_id is not None:
                    await self._stop_media_recording()
                    await keeper.finish(recording_id, reason="nobody_recorded")
                self._announce_recording("nobody_recorded", kept)
                return
            elif consent.recording_id is not None and plan.recorded != consent.recorded:
                consent.recorded = plan.recorded
                try:
                    await self._media.set_recorded_participants(plan.recorded)
                except MediaError:  # the worker is gone: its RecordingEnded (media_lost) ends this
                    log.exception("room %s: the recorded participants could not be changed", self.room_id)
            self._announce_recording()

    async def _end_recording(self, reason: str) -> None:
        keeper = self._recording_keeper
        async with self._recording_lock:
            recording_id, kept = self._consent.recording_id, self._kept_days()
            self._consent.end()
            if recording_id is not None:
                await self._stop_media_recording()
                if keeper is not None:
                    await keeper.finish(recording_id, reason=reason)
            self._announce_recording(reason, kept)

    async def _stop_media_recording(self) -> None:
        # A withdrawal is kept (and told) even if the media cannot confirm the stop: a lost worker has
        # stopped recording anyway.
        try:
            await self._media.stop_recording()
        except MediaError:
            log.exception("room %s: the media did not confirm the end of the recording", self.room_id)

    def _recording_stopped_by_media(self, recording_id: str, reason: str) -> None:
        # A full disk, a write error, the media worker lost: the call goes on, staff are told.
        self._spawn(self._recording_failed(recording_id, reason))

    async def _recording_failed(self, recording_id: str, reason: str) -> None:
        keeper = self._recording_keeper
        async with self._recording_lock:
            if self._consent.recording_id != recording_id:
                return
            kept = self._kept_days()
            self._consent.end()
            if keeper is not None:
                await keeper.finish(recording_id, reason=reason)
            self._announce_recording(reason, kept)

    def _kept_days(self) -> int | None:
        """What was recorded stays for the retention of its purpose (the policy's rule), shown to all."""
        proposal = self._consent.proposal
        return proposal.retention_days if proposal is not None and self._consent.recording_id else None

    def _announce_recording(self, ended_reason: str | None = None, kept_days: int | None = None) -> None:
        if self._consent.recording_id is None and not self._closed:
            self._dispatch(self.room.set_recorder(None))
        present = self._present()
        status = self._consent.status(present, ended_reason, kept_days)
        for pid in sorted(present):
            member = self._members.get(ParticipantId(pid))
            if member is not None and member.link is not None:
                member.link.deliver(status)

    # --- media negotiation ---

    async def handle_offer(self, participant_id: ParticipantId, offer_sdp: str) -> str:
        """Apply the client's offer (creating or replacing its peer connection) and return the answer."""
        self.room.require_admitted(participant_id)
        return await self._media.handle_offer(self._member(participant_id), offer_sdp)

    async def handle_answer(self, participant_id: ParticipantId, answer_sdp: str) -> None:
        self.room.require_admitted(participant_id)
        await self._media.handle_answer(self._members.get(participant_id), answer_sdp)

    async def add_candidate(
        self, participant_id: ParticipantId, candidate: str, sdp_mid: str | None, sdp_mline_index: int | None
    ) -> None:
        """A trickled ICE candidate from the browser (its offers usually carry them already)."""
        self.room.require_admitted(participant_id)
        await self._media.add_candidate(self._members.get(participant_id), candidate, sdp_mid, sdp_mline_index)

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
        await self._media.replace_dead_peers()

    async def close(self, reason: EndReason = EndReason.SHUTDOWN) -> None:
        """Close the room for everyone and release all media. Idempotent."""
        if self._closed:
            return
        self._dispatch(await self.room.close(reason))
        await self._shutdown_media()

    async def _shutdown_media(self) -> None:
        self._closed = True
        recording_id = self._consent.recording_id
        self._consent.end()
        if recording_id is not None and self._recording_keeper is not None:
            try:
                await self._media.stop_recording()  # closed cleanly: its last part gets its final chunk
                await self._recording_keeper.finish(recording_id, reason="ended")
            except Exception:
                log.exception("room %s: the recording was not closed cleanly", self.room_id)
        for member in self._members.values():
            if member.link is not None:
                member.link.close("ended")
        self._members.clear()
        await self._media.close()
        tasks = [t for t in self._tasks if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # --- internals ---

    def _member(self, participant_id: ParticipantId) -> Member:
        member = self._members.get(participant_id)
        if member is None:
            raise RoomClosed("not connected to this room")
        return member

    async def _record(self, actor: ParticipantId, action: str, target: ParticipantId | None, reason: str = "") -> None:
        identity = self._member(actor).identity
        if target is not None:
            who = self._members.get(target)
            reason = f"{who.identity.role.value}: {who.identity.display_name}" if who is not None else reason
        await self._audit.record(identity, action, reason=reason)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _dispatch(self, outgoing: Iterable[Outgoing], *, skip: ParticipantId | None = None) -> None:
        roster_changed = False
        for item in outgoing:
            event = item.event
            for pid in sorted(item.to):
                member = self._members.get(pid)
                if pid != skip and member is not None and member.link is not None:
                    member.link.deliver(event)
            if isinstance(event, RosterChanged):
                roster_changed = True
            elif isinstance(event, Denied | SeatReleased):
                self._release(event.participant_id)
            elif isinstance(event, RoomEnded):
                # Every seat goes; the media go with the router, which the caller closes next.
                for pid in list(self._members):
                    self._release(pid, drop_media=False)
        if roster_changed and not self._closed:
            self._announce_bitrate()
            consent = self._consent
            if (consent.proposal is not None or consent.recording_id is not None) and (
                    self._present() != self._considered):  # who is here changed, not just a track or the recorder
                self._spawn(self._reconsider_recording())

    def _release(self, participant_id: ParticipantId, *, drop_media: bool = True) -> None:
        # The whole record goes at once: nothing of a released participant can outlive the seat.
        member = self._members.pop(participant_id, None)
        if member is None:
            return
        if member.link is not None:
            member.link.close("released")
        if drop_media:
            self._media.released(member)

    def _announce_bitrate(self) -> None:
        roster = self.room.roster()
        kbps = video_bitrate_kbps(len(roster))
        if kbps == self._bitrate:
            return
        self._bitrate = kbps
        for pid in roster.participant_ids:
            member = self._members.get(pid)
            if member is not None and member.link is not None:
                member.link.deliver(BitrateCap(kbps))
