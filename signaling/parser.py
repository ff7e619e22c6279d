"""Parsing one frame of signaling protocol v1 into a typed inbound message.

``parse_inbound`` turns one frame into a typed message or raises ``ProtocolError``; nothing else
escapes it, whatever the frame holds. The whole inbound protocol is one table (``INBOUND``): each type
with its fields, their validators and how the message is built. Fields that would name the sender
(``from``, ``participant_id`` and the like) are refused outright.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import cast

from rooms.errors import InvalidReading
from rooms.readings import READING_RULES, Reading, ReadingName, ReadingValue
from rooms.roster import CODE_ROLES, MAX_LABEL_CHARS, MAX_NAME_CHARS, ParticipantRole, TrackKind
from server.platform import strict_json
from signaling.errors import ErrorCode, ProtocolError
from signaling.fields import (
    Bad,
    Validator,
    aware_datetime,
    boolean,
    chat_text,
    choice,
    display_text,
    integer,
    optional,
    reading_value,
    string,
    waiting_message_text,
)
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
from signaling.outbound import PROTOCOL_VERSION

MAX_FRAME_BYTES = 64 * 1024
"""Checked on the raw frame before any parsing; set the WebSocket's ``max_msg_size`` to match."""
MAX_SDP_CHARS = 60_000
MAX_CANDIDATE_CHARS = 1024

# Fields that would name the sender. Refused on every inbound type, with their own error code, so a
# client bug or an impersonation attempt is visible in the logs rather than a silent "unknown field".
IDENTITY_FIELDS = frozenset({"from", "sender", "participant_id", "user_id", "subject", "identity"})

_PARTICIPANT_ID = string(64, pattern=r"[A-Za-z0-9_-]+")
_RESUME_TOKEN = string(128, pattern=r"[A-Za-z0-9_-]{16,128}")
_REF = string(64, pattern=r"[A-Za-z0-9_.:-]+")
_SDP = string(MAX_SDP_CHARS)


@dataclass(frozen=True)
class Field:
    """One field of a message type: its validator, and whether the type requires it."""

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
class Spec:
    fields: Mapping[str, Field]
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


def _spec(cls: Callable[..., InboundMessage], **fields: Field) -> Spec:
    return Spec(MappingProxyType(fields), _plain_builder(cls))


_TARGET = Field(_PARTICIPANT_ID)

# The whole inbound protocol in one table: type -> fields and how to build the message.
INBOUND: Mapping[str, Spec] = MappingProxyType(
    {
        "join": Spec(
            MappingProxyType(
                {
                    "version": Field(integer(0, 1_000_000)),
                    "resume_token": Field(optional(_RESUME_TOKEN), required=False),
                }
            ),
            _versioned_builder(JoinIn),
        ),
        "resume": Spec(
            MappingProxyType(
                {"version": Field(integer(0, 1_000_000)), "resume_token": Field(_RESUME_TOKEN)}
            ),
            _versioned_builder(ResumeIn),
        ),
        "offer": _spec(OfferIn, sdp=Field(_SDP)),
        "answer": _spec(AnswerIn, sdp=Field(_SDP)),
        "candidate": _spec(
            CandidateIn,
            candidate=Field(string(MAX_CANDIDATE_CHARS, allow_empty=True)),
            sdp_mid=Field(optional(string(64)), required=False),
            sdp_mline_index=Field(optional(integer(0, 1023)), required=False),
        ),
        "track": _spec(
            TrackIn,
            track_id=Field(string(100, pattern=r"[A-Za-z0-9{}_.:-]+")),
            kind=Field(choice(TrackKind)),
            label=Field(display_text(MAX_LABEL_CHARS)),
        ),
        "mute": _spec(MuteIn, kind=Field(choice(TrackKind)), muted=Field(boolean)),
        "chat": _spec(ChatIn, text=Field(chat_text)),
        "waiting_message": _spec(WaitingMessageIn, text=Field(waiting_message_text)),
        "reading": Spec(
            MappingProxyType(
                {
                    "name": Field(choice(ReadingName)),
                    "value": Field(reading_value),
                    "unit": Field(string(16)),
                    "taken_at": Field(aware_datetime),
                }
            ),
            _build_reading,
        ),
        "admit": _spec(AdmitIn, target=_TARGET),
        "deny": _spec(DenyIn, target=_TARGET),
        "remove": _spec(RemoveIn, target=_TARGET),
        "invite": _spec(
            InviteIn,
            name=Field(display_text(MAX_NAME_CHARS)),
            role=Field(choice(ParticipantRole, sorted(CODE_ROLES))),
        ),
        "leave": _spec(LeaveIn),
        "end": _spec(EndIn),
        "recording_propose": _spec(RecordingProposeIn, purpose=Field(string(32, pattern=r"[a-z_]+"))),
        "recording_answer": _spec(RecordingAnswerIn, agree=Field(boolean)),
        "recording_withdraw": _spec(RecordingWithdrawIn),
        "ping": _spec(PingIn),
    }
)


# --- parsing -------------------------------------------------------------------------------------


def _quote(name: str) -> str:
    # Field names come from the client: keep the echo short.
    return repr(name[:32])


def parse_inbound(frame: str | bytes) -> InboundMessage:
    """Validate one WebSocket frame into a typed inbound message.

    Raises ``ProtocolError`` for anything else, and nothing but ``ProtocolError``: an oversize frame
    (checked before parsing), invalid UTF-8 or JSON, duplicate keys, NaN or Infinity, nesting or
    integers beyond ``server.platform.strict_json``'s limits, a non-object, an unknown type, a sender identity
    field, missing, extra or ill-typed fields, or an unsupported version.
    """
    # Duplicate keys are refused anywhere in the frame: json.loads would keep the last, and a proxy or
    # a validator that reads the first would then see a different message than we do.
    try:
        obj = strict_json.loads(frame, max_bytes=MAX_FRAME_BYTES)
    except strict_json.JsonRejected as exc:
        if exc.reason == "too_large":
            raise ProtocolError(ErrorCode.FRAME_TOO_LARGE, f"frames are limited to {MAX_FRAME_BYTES} bytes") from None
        raise ProtocolError(ErrorCode.BAD_JSON, exc.message) from None
    if not isinstance(obj, dict):
        raise ProtocolError(ErrorCode.NOT_AN_OBJECT, "a message is a JSON object")
    return _parse_object(obj)


def _parse_object(obj: dict[str, object]) -> InboundMessage:
    ref: str | None = None
    if "ref" in obj:
        try:
            ref = optional(_REF)(obj["ref"])  # type: ignore[assignment]
        except Bad as bad:
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
        except Bad as bad:
            raise ProtocolError(ErrorCode.BAD_FIELD, f"'{name}' {bad}", ref=ref) from None
    return spec.build(values, ref)
