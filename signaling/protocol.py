"""The signaling protocol, version 1: JSON text frames over one WebSocket per participant.

``parse_inbound`` turns one frame into a typed message or raises ``ProtocolError``; nothing else
escapes it, whatever the frame holds. Every inbound message is an object with a ``type``, the fields
of that type and an optional ``ref`` (a client-chosen id echoed in error frames). No inbound message
names its sender: identity comes from the authenticated session, so ``from``, ``participant_id`` and
the like are refused outright. Outbound messages are frozen dataclasses with ``to_json()``.

Also here: ``TokenBucket``, the per-connection message rate limit.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import Enum, StrEnum
from types import MappingProxyType
from typing import TYPE_CHECKING, ClassVar, NoReturn, cast

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

from rooms.errors import InvalidReading
from rooms.room import (
    MAX_CHAT_CHARS,
    READING_RULES,
    Admitted,
    ChatPosted,
    Denied,
    EndReason,
    JoinResult,
    MuteChanged,
    Reading,
    ReadingName,
    ReadingPosted,
    ReadingValue,
    RoomEnded,
    RoomEvent,
    RosterChanged,
    SeatReleased,
    TrackPublished,
    Waiting,
    WaitingListChanged,
    audience,
)
from rooms.roster import (
    CODE_ROLES,
    MAX_LABEL_CHARS,
    MAX_NAME_CHARS,
    ParticipantId,
    ParticipantRole,
    RosterEntry,
    SeatStatus,
    TrackKind,
    is_display_text,
)

PROTOCOL_VERSION = 1
MAX_FRAME_BYTES = 64 * 1024
"""Checked on the raw frame before any parsing; set the WebSocket's ``max_msg_size`` to match."""
MAX_SDP_CHARS = 60_000
MAX_CANDIDATE_CHARS = 1024

MESSAGE_RATE = 20.0
"""Inbound messages per second per connection, sustained."""
MESSAGE_BURST = 40.0
"""Inbound messages a connection may send at once (renegotiation sends a few in a row)."""

# Fields that would name the sender. Refused on every inbound type, with their own error code, so a
# client bug or an impersonation attempt is visible in the logs rather than a silent "unknown field".
IDENTITY_FIELDS = frozenset({"from", "sender", "participant_id", "user_id", "subject", "identity"})


class ErrorCode(StrEnum):
    """The stable codes of protocol errors, sent in error frames."""

    FRAME_TOO_LARGE = "frame_too_large"
    BAD_JSON = "bad_json"
    NOT_AN_OBJECT = "not_an_object"
    UNKNOWN_TYPE = "unknown_type"
    MISSING_FIELD = "missing_field"
    UNKNOWN_FIELD = "unknown_field"
    BAD_FIELD = "bad_field"
    IMPERSONATION = "impersonation"
    UNSUPPORTED_VERSION = "unsupported_version"
    RATE_LIMITED = "rate_limited"


class ProtocolError(Exception):
    """An inbound frame was refused. ``ref`` is the frame's own ``ref`` when it could be read."""

    def __init__(self, code: ErrorCode, message: str, *, ref: str | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.ref = ref

    def to_message(self) -> ErrorOut:
        return ErrorOut(str(self.code), self.message, self.ref)


# --- inbound messages ----------------------------------------------------------------------------


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
    | ReadingIn
    | AdmitIn
    | DenyIn
    | RemoveIn
    | InviteIn
    | LeaveIn
    | EndIn
    | PingIn
)


# --- field validators: each returns the typed value or raises _Bad -------------------------------


class _Bad(Exception):
    """A field's value is wrong; turned into a ``bad_field`` error naming the field."""


Validator = Callable[[object], object]


def _has_lone_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _string(
    max_chars: int, *, pattern: str | None = None, allow_empty: bool = False
) -> Callable[[object], str]:
    compiled = re.compile(pattern) if pattern else None

    def check(value: object) -> str:
        if not isinstance(value, str):
            raise _Bad("must be a string")
        if len(value) > max_chars:
            raise _Bad(f"must be at most {max_chars} characters")
        if not value and not allow_empty:
            raise _Bad("must not be empty")
        if compiled is not None and not compiled.fullmatch(value):
            raise _Bad("has an invalid format")
        if _has_lone_surrogate(value):  # cannot be sent on as UTF-8
            raise _Bad("is not valid Unicode")
        return value

    return check


def _display_text(max_chars: int) -> Validator:
    def check(value: object) -> str:
        if not isinstance(value, str) or not is_display_text(value, max_chars):
            raise _Bad(f"must be 1-{max_chars} printable characters")
        return value

    return check


_CHAT_STRING = _string(MAX_CHAT_CHARS)
_TIME_STRING = _string(40)
_CHAT_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # line breaks and tabs are fine


def _chat_text(value: object) -> str:
    text = _CHAT_STRING(value)
    if not text.strip() or _CHAT_CONTROL.search(text):
        raise _Bad("must be non-blank text without control characters")
    return text


def _integer(low: int, high: int) -> Validator:
    def check(value: object) -> int:
        if isinstance(value, bool) or not isinstance(value, int):  # JSON true is not 1
            raise _Bad("must be an integer")
        if not low <= value <= high:
            raise _Bad(f"must be between {low} and {high}")
        return value

    return check


def _boolean(value: object) -> bool:
    if not isinstance(value, bool):
        raise _Bad("must be true or false")
    return value


def _choice(enum: type[StrEnum], allowed: Iterable[StrEnum] | None = None) -> Validator:
    members = {m.value: m for m in (allowed if allowed is not None else enum)}
    names = ", ".join(sorted(members))

    def check(value: object) -> StrEnum:
        if not isinstance(value, str) or value not in members:
            raise _Bad(f"must be one of {names}")
        return members[value]

    return check


def _reading_value(value: object) -> ReadingValue:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise _Bad("must be a number, or a string for blood pressure")
    if isinstance(value, str) and len(value) > 16:
        raise _Bad("is too long")
    return value


def _aware_datetime(value: object) -> datetime:
    text = _TIME_STRING(value)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise _Bad("must be an ISO 8601 time") from None
    if parsed.tzinfo is None:
        raise _Bad("must include a time zone offset")
    return parsed


_PARTICIPANT_ID = _string(64, pattern=r"[A-Za-z0-9_-]+")
_RESUME_TOKEN = _string(128, pattern=r"[A-Za-z0-9_-]{16,128}")
_REF = _string(64, pattern=r"[A-Za-z0-9_.:-]+")
_SDP = _string(MAX_SDP_CHARS)


def _optional(validator: Validator) -> Validator:
    def check(value: object) -> object:
        return None if value is None else validator(value)

    return check


@dataclass(frozen=True)
class _Field:
    validate: Validator
    required: bool = True


def _build_reading(values: dict[str, object], ref: str | None) -> InboundMessage:
    # The table's validators produced these types; the casts only tell mypy.
    name = cast(ReadingName, values["name"])
    if values["unit"] != READING_RULES[name].unit:
        raise ProtocolError(ErrorCode.BAD_FIELD, f"'unit' must be {READING_RULES[name].unit!r}", ref=ref)
    value = cast(ReadingValue, values["value"])
    taken_at = cast(datetime, values["taken_at"])
    try:
        reading = Reading(name, value, taken_at)
    except InvalidReading as exc:
        raise ProtocolError(ErrorCode.BAD_FIELD, f"'value' {exc.message}", ref=ref) from None
    return ReadingIn(reading, ref=ref)


Builder = Callable[[dict[str, object], str | None], InboundMessage]


@dataclass(frozen=True)
class _Spec:
    fields: Mapping[str, _Field]
    build: Builder


def _plain_builder(cls: Callable[..., InboundMessage]) -> Builder:
    def build(values: dict[str, object], ref: str | None) -> InboundMessage:
        return cls(ref=ref, **values)

    return build


def _versioned_builder(cls: Callable[..., InboundMessage]) -> Builder:
    def build(values: dict[str, object], ref: str | None) -> InboundMessage:
        if values["version"] != PROTOCOL_VERSION:
            raise ProtocolError(
                ErrorCode.UNSUPPORTED_VERSION,
                f"this server speaks protocol version {PROTOCOL_VERSION}",
                ref=ref,
            )
        return cls(ref=ref, **values)

    return build


def _spec(cls: Callable[..., InboundMessage], **fields: _Field) -> _Spec:
    return _Spec(MappingProxyType(fields), _plain_builder(cls))


_TARGET = _Field(_PARTICIPANT_ID)

# The whole inbound protocol in one table: type -> fields and how to build the message.
INBOUND: Mapping[str, _Spec] = MappingProxyType(
    {
        "join": _Spec(
            MappingProxyType(
                {
                    "version": _Field(_integer(0, 1_000_000)),
                    "resume_token": _Field(_optional(_RESUME_TOKEN), required=False),
                }
            ),
            _versioned_builder(JoinIn),
        ),
        "resume": _Spec(
            MappingProxyType(
                {"version": _Field(_integer(0, 1_000_000)), "resume_token": _Field(_RESUME_TOKEN)}
            ),
            _versioned_builder(ResumeIn),
        ),
        "offer": _spec(OfferIn, sdp=_Field(_SDP)),
        "answer": _spec(AnswerIn, sdp=_Field(_SDP)),
        "candidate": _spec(
            CandidateIn,
            candidate=_Field(_string(MAX_CANDIDATE_CHARS, allow_empty=True)),
            sdp_mid=_Field(_optional(_string(64)), required=False),
            sdp_mline_index=_Field(_optional(_integer(0, 1023)), required=False),
        ),
        "track": _spec(
            TrackIn,
            track_id=_Field(_string(100, pattern=r"[A-Za-z0-9{}_.:-]+")),
            kind=_Field(_choice(TrackKind)),
            label=_Field(_display_text(MAX_LABEL_CHARS)),
        ),
        "mute": _spec(MuteIn, kind=_Field(_choice(TrackKind)), muted=_Field(_boolean)),
        "chat": _spec(ChatIn, text=_Field(_chat_text)),
        "reading": _Spec(
            MappingProxyType(
                {
                    "name": _Field(_choice(ReadingName)),
                    "value": _Field(_reading_value),
                    "unit": _Field(_string(16)),
                    "taken_at": _Field(_aware_datetime),
                }
            ),
            _build_reading,
        ),
        "admit": _spec(AdmitIn, target=_TARGET),
        "deny": _spec(DenyIn, target=_TARGET),
        "remove": _spec(RemoveIn, target=_TARGET),
        "invite": _spec(
            InviteIn,
            name=_Field(_display_text(MAX_NAME_CHARS)),
            role=_Field(_choice(ParticipantRole, sorted(CODE_ROLES))),
        ),
        "leave": _spec(LeaveIn),
        "end": _spec(EndIn),
        "ping": _spec(PingIn),
    }
)


# --- parsing -------------------------------------------------------------------------------------


def _reject_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
    # json.loads keeps the last of duplicate keys; a proxy or a validator that reads the first one
    # would then see a different message than we do, so duplicates are refused anywhere in the frame.
    obj: dict[str, object] = {}
    for key, value in pairs:
        if key in obj:
            raise ProtocolError(ErrorCode.BAD_JSON, "duplicate key in object")
        obj[key] = value
    return obj


def _reject_constant(name: str) -> NoReturn:
    raise ProtocolError(ErrorCode.BAD_JSON, f"{name} is not JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e999 parses to inf without passing through parse_constant
        raise ProtocolError(ErrorCode.BAD_JSON, "number out of range")
    return value


def _quote(name: str) -> str:
    # Field names come from the client: keep the echo short.
    return repr(name[:32])


def parse_inbound(frame: str | bytes) -> InboundMessage:
    """Validate one WebSocket frame into a typed inbound message.

    Raises ``ProtocolError`` for anything else, and nothing but ``ProtocolError``: an oversize frame
    (checked before parsing), invalid UTF-8 or JSON, duplicate keys, NaN or Infinity, a non-object,
    an unknown type, a sender identity field, missing, extra or ill-typed fields, or an unsupported
    version.
    """
    if len(frame) > MAX_FRAME_BYTES:
        raise ProtocolError(ErrorCode.FRAME_TOO_LARGE, f"frames are limited to {MAX_FRAME_BYTES} bytes")
    if isinstance(frame, bytes):
        try:
            text = frame.decode("utf-8")
        except UnicodeDecodeError:
            raise ProtocolError(ErrorCode.BAD_JSON, "frame is not UTF-8") from None
    else:
        text = frame
        # A str can be under the limit in characters but over it in bytes.
        if len(text.encode("utf-8", "surrogatepass")) > MAX_FRAME_BYTES:
            raise ProtocolError(ErrorCode.FRAME_TOO_LARGE, f"frames are limited to {MAX_FRAME_BYTES} bytes")
    try:
        obj = json.loads(
            text,
            object_pairs_hook=_reject_duplicates,
            parse_constant=_reject_constant,
            parse_float=_finite_float,
        )
    except ProtocolError:
        raise
    except (ValueError, RecursionError):  # JSONDecodeError, too many int digits, deep nesting
        raise ProtocolError(ErrorCode.BAD_JSON, "frame is not valid JSON") from None
    if not isinstance(obj, dict):
        raise ProtocolError(ErrorCode.NOT_AN_OBJECT, "a message is a JSON object")
    return _parse_object(obj)


def _parse_object(obj: dict[str, object]) -> InboundMessage:
    ref: str | None = None
    if "ref" in obj:
        try:
            ref = _optional(_REF)(obj["ref"])  # type: ignore[assignment]
        except _Bad as bad:
            raise ProtocolError(ErrorCode.BAD_FIELD, f"'ref' {bad}") from None

    kind = obj.get("type")
    if kind is None:
        raise ProtocolError(ErrorCode.MISSING_FIELD, "'type' is required", ref=ref)
    spec = INBOUND.get(kind) if isinstance(kind, str) else None
    if spec is None:
        raise ProtocolError(ErrorCode.UNKNOWN_TYPE, "unknown message type", ref=ref)

    claimed = IDENTITY_FIELDS.intersection(obj)
    if claimed:
        raise ProtocolError(
            ErrorCode.IMPERSONATION,
            f"{_quote(min(claimed))}: the sender is known from the session and cannot be set",
            ref=ref,
        )
    extra = sorted(key for key in obj if key not in spec.fields and key not in ("type", "ref"))
    if extra:
        raise ProtocolError(ErrorCode.UNKNOWN_FIELD, f"{_quote(extra[0])} is not a field of {kind}", ref=ref)

    values: dict[str, object] = {}
    for name, field_spec in spec.fields.items():
        if name not in obj:
            if field_spec.required:
                raise ProtocolError(ErrorCode.MISSING_FIELD, f"'{name}' is required for {kind}", ref=ref)
            continue
        try:
            values[name] = field_spec.validate(obj[name])
        except _Bad as bad:
            raise ProtocolError(ErrorCode.BAD_FIELD, f"'{name}' {bad}", ref=ref) from None
    return spec.build(values, ref)


# --- outbound messages ---------------------------------------------------------------------------


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
    """Everyone admitted, the same list for every recipient."""

    type: ClassVar[str] = "roster"
    participants: tuple[RosterEntry, ...]


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
class PongOut(OutboundMessage):
    """Answer to ``ping``."""

    type: ClassVar[str] = "pong"
    ref: str | None = None


@dataclass(frozen=True)
class EndedOut(OutboundMessage):
    """The consultation is over for you (ended, over time, or you were removed)."""

    type: ClassVar[str] = "ended"
    reason: EndReason


def event_to_message(event: RoomEvent, *, ice_servers: tuple[IceServer, ...] = ()) -> OutboundMessage | None:
    """The wire message for a room event, or None for events meant for the server alone."""
    match event:
        case Waiting(participant_id=pid):
            return WaitingOut(pid)
        case Admitted(participant_id=pid):
            return AdmittedOut(pid, ice_servers=ice_servers)
        case Denied():
            return DeniedOut()
        case RosterChanged(roster=roster):
            return RosterOut(roster.entries)
        case WaitingListChanged(entries=entries):
            return WaitingListOut(entries)
        case TrackPublished(participant_id=pid, track=track):
            return TrackOut(pid, track.track_id, track.kind, track.label, track.muted)
        case MuteChanged(participant_id=pid, kind=kind, muted=muted):
            return MuteOut(pid, kind, muted)
        case ChatPosted(participant_id=pid, display_name=name, text=text, sent_at=sent_at):
            return ChatOut(pid, name, text, sent_at)
        case ReadingPosted(participant_id=pid, display_name=name, reading=r, posted_at=posted_at):
            return ReadingOut(pid, name, r.name, r.value, r.unit, r.taken_at, posted_at)
        case SeatReleased(reason=reason) | RoomEnded(reason=reason):
            return EndedOut(reason)
    return None


def join_reply(
    result: JoinResult, *, resumed: bool = False, ice_servers: tuple[IceServer, ...] = ()
) -> list[OutboundMessage]:
    """The joiner's own messages after ``Room.join`` or ``Room.resume``, the resume token included.

    Deliver ``result.outgoing`` to everyone else as usual, skipping the joiner: this covers them.
    """
    me = result.participant.participant_id
    messages: list[OutboundMessage] = []
    if resumed:
        messages.append(ResumedOut(me, result.resume_token, result.participant.status))
    for event in audience(result.outgoing, me):
        if isinstance(event, Waiting):
            messages.append(WaitingOut(me, None if resumed else result.resume_token))
        elif isinstance(event, Admitted):
            messages.append(AdmittedOut(me, None if resumed else result.resume_token, ice_servers))
        elif (message := event_to_message(event, ice_servers=ice_servers)) is not None:
            messages.append(message)
    return messages


# --- rate limit ------------------------------------------------------------------------------------


class TokenBucket:
    """Per-connection message rate limit: ``rate`` tokens per second, at most ``burst`` saved up.

    ``clock`` returns monotonic seconds (``time.monotonic`` in production, a fake in tests).
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float],
        rate: float = MESSAGE_RATE,
        burst: float = MESSAGE_BURST,
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be positive and burst at least 1")
        self._clock = clock
        self._rate = rate
        self._burst = burst
        self._tokens = burst
        self._last = clock()

    def try_take(self, cost: float = 1.0) -> bool:
        """Take ``cost`` tokens if there are enough; False means refuse (or drop) this message."""
        now = self._clock()
        # max(0, ...) so a clock that steps back never drains the bucket
        self._tokens = min(self._burst, self._tokens + max(0.0, now - self._last) * self._rate)
        self._last = now
        if self._tokens >= cost:
            self._tokens -= cost
            return True
        return False

    @property
    def tokens(self) -> float:
        return self._tokens
