"""Client-to-server messages of signaling protocol v1, as typed values.

Every inbound message is an object with a ``type``, the fields of that type and an optional ``ref`` (a
client-chosen id echoed in error frames). No inbound message names its sender: identity comes from the
authenticated session. ``signaling.parser`` turns a frame into one of these.
"""

from __future__ import annotations

from dataclasses import dataclass

from rooms.readings import Reading
from rooms.roster import ParticipantId, ParticipantRole, TrackKind


@dataclass(frozen=True)
class JoinIn:
    """First message on a socket: take a seat (or take it back with ``resume_token``)."""

    version: int
    resume_token: str | None = None
    ref: str | None = None


@dataclass(frozen=True)
class ResumeIn:
    """First message on a new socket after a drop: take back the seat kept for the grace period."""

    version: int
    resume_token: str
    ref: str | None = None


@dataclass(frozen=True)
class OfferIn:
    """An SDP offer from the browser (renegotiation after adding a camera or screen)."""

    sdp: str
    ref: str | None = None


@dataclass(frozen=True)
class AnswerIn:
    """The browser's SDP answer to an offer from the server."""

    sdp: str
    ref: str | None = None


@dataclass(frozen=True)
class CandidateIn:
    """A trickled ICE candidate; an empty ``candidate`` marks the end of candidates."""

    candidate: str
    sdp_mid: str | None = None
    sdp_mline_index: int | None = None
    ref: str | None = None


@dataclass(frozen=True)
class TrackIn:
    """Metadata of a track the sender publishes, so recipients know a camera from a screen."""

    track_id: str
    kind: TrackKind
    label: str
    ref: str | None = None


@dataclass(frozen=True)
class MuteIn:
    """The sender muted or unmuted one of their track kinds."""

    kind: TrackKind
    muted: bool
    ref: str | None = None


@dataclass(frozen=True)
class ChatIn:
    """A chat message to everyone admitted."""

    text: str
    ref: str | None = None


@dataclass(frozen=True)
class WaitingMessageIn:
    """Staff: a short note to everyone in the waiting room."""

    text: str
    ref: str | None = None


@dataclass(frozen=True)
class ReadingIn:
    """A measurement (validated into the domain's ``Reading``); its unit was checked against the name."""

    reading: Reading
    ref: str | None = None


@dataclass(frozen=True)
class AdmitIn:
    """Staff: let ``target`` in from the waiting room."""

    target: ParticipantId
    ref: str | None = None


@dataclass(frozen=True)
class DenyIn:
    """Staff: turn ``target`` away from the waiting room."""

    target: ParticipantId
    ref: str | None = None


@dataclass(frozen=True)
class RemoveIn:
    """Staff: remove ``target`` from the consultation."""

    target: ParticipantId
    ref: str | None = None


@dataclass(frozen=True)
class InviteIn:
    """Staff: ask for a join code for someone not on the booking."""

    name: str
    role: ParticipantRole
    ref: str | None = None


@dataclass(frozen=True)
class LeaveIn:
    """The sender leaves."""

    ref: str | None = None


@dataclass(frozen=True)
class EndIn:
    """Staff: end the consultation for everyone."""

    ref: str | None = None


@dataclass(frozen=True)
class RecordingProposeIn:
    """Staff: propose recording the consultation for ``purpose`` (teaching, documentation,
    patient_request); the sender's proposal counts as their own agreement."""

    purpose: str
    ref: str | None = None


@dataclass(frozen=True)
class RecordingAnswerIn:
    """Agree (``agree`` true) to the proposed recording, or decline it (which ends the proposal)."""

    agree: bool
    ref: str | None = None


@dataclass(frozen=True)
class RecordingWithdrawIn:
    """Withdraw consent: the recording stops at once for everyone."""

    ref: str | None = None


@dataclass(frozen=True)
class PingIn:
    """Application-level heartbeat; answered with ``pong``."""

    ref: str | None = None


InboundMessage = (
    JoinIn
    | ResumeIn
    | OfferIn
    | AnswerIn
    | CandidateIn
    | TrackIn
    | MuteIn
    | ChatIn
    | WaitingMessageIn
    | ReadingIn
    | AdmitIn
    | DenyIn
    | RemoveIn
    | InviteIn
    | LeaveIn
    | EndIn
    | RecordingProposeIn
    | RecordingAnswerIn
    | RecordingWithdrawIn
    | PingIn
)
