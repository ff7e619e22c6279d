"""Server-to-client messages of signaling protocol v1, all on one base class.

Each message is a frozen dataclass of ``OutboundMessage``; its fields become the JSON body next to its
``type``. The room messages come first, then the ones the live media layer adds: which m-line of a
server offer carries whose track (``media_map``, sent right before the ``offer``), a request for a new
peer connection (``media_restart``) and the video bitrate cap for the room's size (``bitrate``).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, ClassVar, cast

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

from rooms.events import EndReason
from rooms.readings import ReadingName, ReadingValue
from rooms.roster import ParticipantRole, RecorderEntry, RosterEntry, SeatStatus, TrackKind

PROTOCOL_VERSION = 1


def _plain(value: object) -> object:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


class OutboundMessage:
    """Base of every server-to-client message: a frozen dataclass whose fields become the JSON body."""

    type: ClassVar[str]

    def to_json(self) -> str:
        body = {
            f.name: _plain(getattr(self, f.name)) for f in dataclasses.fields(cast("DataclassInstance", self))
        }
        # ensure_ascii keeps the frame pure ASCII, so no text can break the UTF-8 encoding on the way out;
        # allow_nan=False because the browser's JSON.parse cannot read NaN.
        return json.dumps({"type": self.type, **body}, separators=(",", ":"), allow_nan=False)


@dataclass(frozen=True)
class IceServer:
    """One STUN or TURN server for the browser's RTCPeerConnection (TURN with time-limited credentials)."""

    urls: tuple[str, ...]
    username: str | None = None
    credential: str | None = None


@dataclass(frozen=True)
class WaitingOut(OutboundMessage):
    """You are in the waiting room. ``resume_token`` only in the reply to your own join."""

    type: ClassVar[str] = "waiting"
    participant_id: str
    resume_token: str | None = None
    version: int = PROTOCOL_VERSION


@dataclass(frozen=True)
class AdmittedOut(OutboundMessage):
    """You are in the call; set up the peer connection with ``ice_servers``."""

    type: ClassVar[str] = "admitted"
    participant_id: str
    resume_token: str | None = None
    ice_servers: tuple[IceServer, ...] = ()
    version: int = PROTOCOL_VERSION


@dataclass(frozen=True)
class ResumedOut(OutboundMessage):
    """Your seat is back; the old resume token is void, use this one next time."""

    type: ClassVar[str] = "resumed"
    participant_id: str
    resume_token: str
    status: SeatStatus
    version: int = PROTOCOL_VERSION


@dataclass(frozen=True)
class DeniedOut(OutboundMessage):
    """Staff turned you away; the server closes the socket after this."""

    type: ClassVar[str] = "denied"


@dataclass(frozen=True)
class RosterOut(OutboundMessage):
    """Everyone admitted, the same list for every recipient; ``recorder`` while it records (listed like a
    participant: display name, purpose, who proposed it, since when)."""

    type: ClassVar[str] = "roster"
    participants: tuple[RosterEntry, ...]
    recorder: RecorderEntry | None = None


@dataclass(frozen=True)
class WaitingListOut(OutboundMessage):
    """Staff only: who is waiting to be admitted."""

    type: ClassVar[str] = "waiting_list"
    participants: tuple[RosterEntry, ...]


@dataclass(frozen=True)
class OfferOut(OutboundMessage):
    """An SDP offer from the server (tracks added or removed)."""

    type: ClassVar[str] = "offer"
    sdp: str


@dataclass(frozen=True)
class AnswerOut(OutboundMessage):
    """The server's SDP answer."""

    type: ClassVar[str] = "answer"
    sdp: str


@dataclass(frozen=True)
class TrackOut(OutboundMessage):
    """Metadata of a track another participant publishes."""

    type: ClassVar[str] = "track"
    participant_id: str
    track_id: str
    kind: TrackKind
    label: str
    muted: bool = False


@dataclass(frozen=True)
class MuteOut(OutboundMessage):
    """Another participant muted or unmuted a track kind."""

    type: ClassVar[str] = "mute"
    participant_id: str
    kind: TrackKind
    muted: bool


@dataclass(frozen=True)
class ChatOut(OutboundMessage):
    """A chat message; ``participant_id`` is set by the server from the sender's session."""

    type: ClassVar[str] = "chat"
    participant_id: str
    display_name: str
    text: str
    sent_at: datetime


@dataclass(frozen=True)
class WaitingStatusOut(OutboundMessage):
    """To those waiting: which kinds of staff are in the call and so know they wait (empty: none yet)."""

    type: ClassVar[str] = "waiting_status"
    staff_roles: tuple[ParticipantRole, ...]


@dataclass(frozen=True)
class WaitingMessageOut(OutboundMessage):
    """A staff note to the waiting room (staff in the call get it too, as a receipt)."""

    type: ClassVar[str] = "waiting_message"
    participant_id: str
    display_name: str
    text: str
    sent_at: datetime


@dataclass(frozen=True)
class ReadingOut(OutboundMessage):
    """A measurement shared by the nurse or the specialist."""

    type: ClassVar[str] = "reading"
    participant_id: str
    display_name: str
    name: ReadingName
    value: ReadingValue
    unit: str
    taken_at: datetime
    posted_at: datetime


@dataclass(frozen=True)
class InvitedOut(OutboundMessage):
    """To the inviting staff member: a join code was made (``code`` only if it may be read out)."""

    type: ClassVar[str] = "invited"
    name: str
    role: ParticipantRole
    code: str | None = None


@dataclass(frozen=True)
class ErrorOut(OutboundMessage):
    """A refused message or action; ``ref`` echoes the ``ref`` of the message it answers."""

    type: ClassVar[str] = "error"
    code: str
    message: str
    ref: str | None = None


@dataclass(frozen=True)
class RoomElsewhereOut(OutboundMessage):
    """The consultation is held on another node: the page opens itself again at ``url`` (that node)."""

    type: ClassVar[str] = "room_elsewhere"
    url: str


@dataclass(frozen=True)
class PongOut(OutboundMessage):
    """Answer to ``ping``."""

    type: ClassVar[str] = "pong"
    ref: str | None = None


@dataclass(frozen=True)
class EndedOut(OutboundMessage):
    """The consultation is over for you (ended, over time, or you were removed)."""

    type: ClassVar[str] = "ended"
    reason: EndReason


# --- media messages (the live media layer) -------------------------------------------------------


@dataclass(frozen=True)
class MediaTrack:
    """One forwarded track on the recipient's connection."""

    mid: str
    participant_id: str
    label: str
    kind: str
    live: bool


@dataclass(frozen=True)
class MediaMapOut(OutboundMessage):
    """Whose media each m-line of the following server offer carries."""

    type: ClassVar[str] = "media_map"
    tracks: tuple[MediaTrack, ...]


@dataclass(frozen=True)
class MediaRestartOut(OutboundMessage):
    """Your peer connection was lost: close it, make a new one and send a new offer."""

    type: ClassVar[str] = "media_restart"


@dataclass(frozen=True)
class BitrateOut(OutboundMessage):
    """Cap your video senders at this bitrate (``RTCRtpSender.setParameters``)."""

    type: ClassVar[str] = "bitrate"
    max_video_kbps: int


# --- recording (only with everyone's consent) -----------------------------------------------------


@dataclass(frozen=True)
class RecordingStatusOut(OutboundMessage):
    """To everyone admitted, on every change: where recording of this consultation stands.

    ``state``: ``none``, ``proposed`` (each in ``waiting_for`` is asked to agree) or ``recording`` (the
    page shows "Opptak pågår", who proposed it, why and for how long it is kept; ``recorder_name`` is
    listed among the participants). ``recorded``: whose tracks are being recorded (someone who joined
    and has not agreed is not). ``ended_reason`` says once why the last proposal or recording ended:
    ``declined``, ``withdrawn``, ``proposer_left``, ``nobody_recorded``, ``ended``, ``disk_full``, ``write_error``,
    ``media_lost``, ``media_error`` or ``store_error``; ``kept_days`` then says how long what was recorded is kept (the
    policy's retention for its purpose; absent when nothing had been recorded).
    """

    type: ClassVar[str] = "recording_status"
    state: str
    purpose: str | None = None
    retention_days: int | None = None
    proposed_by: str | None = None
    proposed_by_name: str | None = None
    agreed: tuple[str, ...] = ()
    waiting_for: tuple[str, ...] = ()
    recorded: tuple[str, ...] = ()
    recorder_name: str | None = None
    started_at: datetime | None = None
    ended_reason: str | None = None
    kept_days: int | None = None
