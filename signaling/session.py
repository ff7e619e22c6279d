"""What one signaling socket may do: rate limit, parse, and hand each message to the live room.

A ``SignalingSession`` lives as long as its socket. The identity was fixed from the HTTP session before
the upgrade; messages never name their sender. Every refusal becomes an error frame (domain errors keep
their stable code) and the connection goes on; only sustained flooding closes it.
"""

from __future__ import annotations

import collections
import logging
import time
from collections.abc import Callable

from rooms.errors import RoomError
from rooms.live import LiveRoom
from rooms.media import MediaError
from rooms.placement import RoomElsewhere
from rooms.registry import BookingRoom, LiveRegistry
from rooms.roster import Identity, ParticipantId
from server.platform.errors import DomainError
from signaling.connection import Connection
from signaling.errors import ErrorCode, ProtocolError, error_frame
from signaling.inbound import (
    AdmitIn,
    AnswerIn,
    CandidateIn,
    ChatIn,
    DenyIn,
    EndIn,
    InboundMessage,
    InviteIn,
    JoinIn,
    LeaveIn,
    MuteIn,
    OfferIn,
    PingIn,
    ReadingIn,
    RecordingAnswerIn,
    RecordingProposeIn,
    RecordingWithdrawIn,
    RemoveIn,
    ResumeIn,
    TrackIn,
    WaitingMessageIn,
)
from signaling.outbound import AnswerOut, ErrorOut, InvitedOut, PongOut, RoomElsewhereOut
from signaling.parser import parse_inbound
from signaling.ratelimit import TokenBucket

log = logging.getLogger(__name__)

ABUSE_WINDOW = 10.0
"""Seconds over which refused (rate-limited) messages are counted."""
ABUSE_LIMIT = 200
"""Refused messages inside the window after which the socket is closed: that is no longer a burst."""


class SignalingSession:
    """The protocol state of one socket: not joined yet, or seated as ``participant_id``."""

    def __init__(
        self,
        connection: Connection,
        registry: LiveRegistry,
        booking: BookingRoom,
        identity: Identity,
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._conn = connection
        self._registry = registry
        self._booking = booking
        self._identity = identity
        self._monotonic = monotonic
        self._bucket = TokenBucket(clock=monotonic)
        self._refusals: collections.deque[float] = collections.deque()
        self.live: LiveRoom | None = None
        self.participant_id: ParticipantId | None = None

    async def handle_frame(self, frame: str | bytes) -> None:
        """Handle one inbound frame; never raises."""
        if not self._bucket.try_take():
            self._refused()
            return
        ref: str | None = None
        try:
            message = parse_inbound(frame)
            ref = message.ref
            await self._dispatch(message)
        except (ProtocolError, DomainError, MediaError) as exc:
            self._conn.send(error_frame(exc, ref))
        except Exception:  # a bug must cost one message, never the room or the process
            log.exception("signaling message failed")
            self._conn.send(ErrorOut("internal_error", "the server could not handle this message", ref))

    def _refused(self) -> None:
        now = self._monotonic()
        self._refusals.append(now)
        while self._refusals and self._refusals[0] < now - ABUSE_WINDOW:
            self._refusals.popleft()
        if len(self._refusals) > ABUSE_LIMIT:
            log.warning("closing a signaling socket for flooding")
            self._conn.close("abuse")
            return
        self._conn.send(ErrorOut(ErrorCode.RATE_LIMITED.value, "too many messages; slow down"))

    def detach(self) -> None:
        """The socket is gone: keep the seat for the grace period."""
        if self.live is not None and self.participant_id is not None:
            self.live.detach(self.participant_id, self._conn)

    async def _dispatch(self, message: InboundMessage) -> None:
        if isinstance(message, PingIn):
            self._conn.send(PongOut(message.ref))
            return
        if isinstance(message, JoinIn | ResumeIn):
            await self._join(message)
            return
        live, me = self._seated()
        match message:
            case OfferIn(sdp=offer):
                self._conn.send(AnswerOut(await live.handle_offer(me, offer)))
            case AnswerIn(sdp=answer):
                await live.handle_answer(me, answer)
            case CandidateIn(candidate=candidate, sdp_mid=mid, sdp_mline_index=index):
                await live.add_candidate(me, candidate, mid, index)
            case TrackIn(track_id=track_id, kind=kind, label=label):
                live.publish_track(me, track_id, kind, label)
            case MuteIn(kind=kind, muted=muted):
                live.set_mute(me, kind, muted)
            case ChatIn(text=text):
                await live.chat(me, text)
            case WaitingMessageIn(text=text):
                await live.message_waiting(me, text)
            case ReadingIn(reading=reading):
                await live.post_reading(me, reading)
            case AdmitIn(target=target):
                await live.admit(me, target)
            case DenyIn(target=target):
                await live.deny(me, target)
            case RemoveIn(target=target):
                await live.remove(me, target)
            case InviteIn(name=name, role=role):
                issued = await live.invite(
                    me, name, role, starts_at=self._booking.starts_at, ends_at=self._booking.ends_at
                )
                self._conn.send(InvitedOut(name, role, issued.code))
            case LeaveIn():
                await live.leave(me)
                self.participant_id = None
                self._conn.close("released")
            case EndIn():
                await live.end(me)
            case RecordingProposeIn(purpose=purpose):
                await live.propose_recording(me, purpose)
            case RecordingAnswerIn(agree=agree):
                await live.answer_recording(me, agree)
            case RecordingWithdrawIn():
                await live.withdraw_recording(me)

    def _seated(self) -> tuple[LiveRoom, ParticipantId]:
        if self.live is None or self.participant_id is None:
            raise RoomError("join first", code="not_joined")
        return self.live, self.participant_id

    async def _join(self, message: JoinIn | ResumeIn) -> None:
        if self.participant_id is not None:
            raise RoomError("this socket already has a seat", code="already_joined")
        try:
            live = await self._registry.open(self._booking)
        except RoomElsewhere as moved:
            self._conn.send(RoomElsewhereOut(moved.node_url))
            return
        token = message.resume_token
        if token:
            result = await live.resume(token, self._identity, self._conn)
        else:
            result = await live.join(self._identity, self._conn)
        self.live = live
        self.participant_id = result.participant.participant_id
