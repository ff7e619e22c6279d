"""Protocol v1: every valid inbound message, every way a frame is refused, and the outbound messages."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from rooms.events import (
    Admitted,
    ChatPosted,
    Denied,
    EndReason,
    MuteChanged,
    ReadingPosted,
    RoomEnded,
    RosterChanged,
    SeatReleased,
    TrackPublished,
    Waiting,
    WaitingListChanged,
)
from rooms.live import BitrateCap, PeerReset, ServerOffer
from rooms.media import OutgoingTrackInfo
from rooms.readings import Reading, ReadingName
from rooms.room import Room
from rooms.roster import (
    HealthRoomPresence,
    Identity,
    ParticipantId,
    ParticipantRole,
    Roster,
    RosterEntry,
    SeatStatus,
    TrackInfo,
    TrackKind,
)
from rooms.seats import RoomSpec
from server.platform.clock import FixedClock
from signaling.errors import ErrorCode, ProtocolError
from signaling.events import event_to_message, join_reply, live_event_messages
from signaling.inbound import (
    AdmitIn,
    AnswerIn,
    CandidateIn,
    ChatIn,
    DenyIn,
    EndIn,
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
from signaling.outbound import (
    PROTOCOL_VERSION,
    AdmittedOut,
    AnswerOut,
    BitrateOut,
    ChatOut,
    DeniedOut,
    EndedOut,
    ErrorOut,
    IceServer,
    InvitedOut,
    MediaMapOut,
    MediaRestartOut,
    MediaTrack,
    MuteOut,
    OfferOut,
    OutboundMessage,
    PongOut,
    ReadingOut,
    RecordingStatusOut,
    ResumedOut,
    RoomElsewhereOut,
    RosterOut,
    TrackOut,
    WaitingListOut,
    WaitingMessageOut,
    WaitingOut,
    WaitingStatusOut,
)
from signaling.parser import IDENTITY_FIELDS, INBOUND, MAX_FRAME_BYTES, parse_inbound

TOKEN = "A" * 43
SDP = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
TAKEN = "2026-11-23T09:55:00+01:00"
TAKEN_AT = datetime(2026, 11, 23, 9, 55, tzinfo=timezone(timedelta(hours=1)))

# One valid body per inbound type, and the message it must parse into.
VALID: dict[str, tuple[dict[str, Any], object]] = {
    "join": ({"version": 1}, JoinIn(version=1)),
    "resume": ({"version": 1, "resume_token": TOKEN}, ResumeIn(version=1, resume_token=TOKEN)),
    "offer": ({"sdp": SDP}, OfferIn(SDP)),
    "answer": ({"sdp": SDP}, AnswerIn(SDP)),
    "candidate": (
        {
            "candidate": "candidate:1 1 udp 2122260223 192.0.2.1 54400 typ host",
            "sdp_mid": "0",
            "sdp_mline_index": 0,
        },
        CandidateIn("candidate:1 1 udp 2122260223 192.0.2.1 54400 typ host", "0", 0),
    ),
    "track": (
        {"track_id": "{6f1c-22}", "kind": "exam_camera", "label": "Undersøkelseskamera"},
        TrackIn("{6f1c-22}", TrackKind.EXAM_CAMERA, "Undersøkelseskamera"),
    ),
    "mute": ({"kind": "audio", "muted": True}, MuteIn(TrackKind.AUDIO, True)),
    "chat": ({"text": "Hei!\nKan du høre meg?"}, ChatIn("Hei!\nKan du høre meg?")),
    "waiting_message": ({"text": "Legen er forsinket ca. 10 min"}, WaitingMessageIn("Legen er forsinket ca. 10 min")),
    "reading": (
        {"name": "blood_pressure", "value": "128/82", "unit": "mmHg", "taken_at": TAKEN},
        ReadingIn(Reading(ReadingName.BLOOD_PRESSURE, "128/82", TAKEN_AT)),
    ),
    "admit": ({"target": "p_1-x"}, AdmitIn(ParticipantId("p_1-x"))),
    "deny": ({"target": "p_1-x"}, DenyIn(ParticipantId("p_1-x"))),
    "remove": ({"target": "p_1-x"}, RemoveIn(ParticipantId("p_1-x"))),
    "invite": (
        {"name": "Tolk Ahmed", "role": "interpreter"},
        InviteIn("Tolk Ahmed", ParticipantRole.INTERPRETER),
    ),
    "leave": ({}, LeaveIn()),
    "end": ({}, EndIn()),
    "recording_propose": ({"purpose": "teaching"}, RecordingProposeIn("teaching")),
    "recording_answer": ({"agree": True}, RecordingAnswerIn(True)),
    "recording_withdraw": ({}, RecordingWithdrawIn()),
    "ping": ({}, PingIn()),
}


def frame(message_type: str, /, **body: Any) -> str:
    return json.dumps({"type": message_type, **body}, ensure_ascii=False)


def refused(raw: str | bytes) -> ProtocolError:
    with pytest.raises(ProtocolError) as error:
        parse_inbound(raw)
    return error.value


def test_every_inbound_type_has_a_valid_example() -> None:
    assert set(VALID) == set(INBOUND)


@pytest.mark.parametrize("kind", sorted(VALID))
def test_each_valid_message_parses_into_its_type(kind: str) -> None:
    body, expected = VALID[kind]
    assert parse_inbound(frame(kind, **body)) == expected
    assert parse_inbound(frame(kind, **body).encode()) == expected


@pytest.mark.parametrize("kind", sorted(VALID))
def test_ref_is_carried(kind: str) -> None:
    body, _ = VALID[kind]
    message = parse_inbound(frame(kind, ref="msg-7", **body))
    assert message.ref == "msg-7"


@pytest.mark.parametrize("kind", sorted(VALID))
@pytest.mark.parametrize("field", sorted(IDENTITY_FIELDS))
def test_no_message_may_name_its_sender(kind: str, field: str) -> None:
    body, _ = VALID[kind]
    error = refused(frame(kind, ref="r1", **{field: "someone-else"}, **body))
    assert error.code is ErrorCode.IMPERSONATION
    assert error.ref == "r1"


@pytest.mark.parametrize("kind", sorted(VALID))
def test_extra_fields_are_refused(kind: str) -> None:
    body, _ = VALID[kind]
    assert refused(frame(kind, admin=True, **body)).code is ErrorCode.UNKNOWN_FIELD


@pytest.mark.parametrize(
    ("kind", "field"),
    [(kind, field) for kind, spec in INBOUND.items() for field, f in spec.fields.items() if f.required],
)
def test_missing_required_fields_are_refused(kind: str, field: str) -> None:
    body = dict(VALID[kind][0])
    del body[field]
    error = refused(frame(kind, **body))
    assert error.code is ErrorCode.MISSING_FIELD
    assert field in error.message


@pytest.mark.parametrize(
    ("kind", "field"), [(kind, field) for kind, spec in INBOUND.items() for field in spec.fields]
)
def test_wrong_typed_fields_are_refused(kind: str, field: str) -> None:
    body = dict(VALID[kind][0])
    body[field] = {"nested": ["object"]}
    assert refused(frame(kind, **body)).code is ErrorCode.BAD_FIELD


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("", ErrorCode.BAD_JSON),
        ("{", ErrorCode.BAD_JSON),
        ("{'type': 'ping'}", ErrorCode.BAD_JSON),
        (b"\xff\xfe", ErrorCode.BAD_JSON),
        ('{"type": "ping", "type": "leave"}', ErrorCode.BAD_JSON),
        ('{"type": "chat", "text": "a", "text": "b"}', ErrorCode.BAD_JSON),
        ('{"type": "reading", "x": {"a": 1, "a": 2}}', ErrorCode.BAD_JSON),  # nested duplicates too
        ('{"type": "join", "version": NaN}', ErrorCode.BAD_JSON),
        ('{"type": "join", "version": Infinity}', ErrorCode.BAD_JSON),
        ('{"type": "join", "version": 1e999}', ErrorCode.BAD_JSON),
        ('{"type": "join", "version": ' + "9" * 5000 + "}", ErrorCode.BAD_JSON),
        ("[" * 50_000, ErrorCode.BAD_JSON),
        ("[]", ErrorCode.NOT_AN_OBJECT),
        ('"ping"', ErrorCode.NOT_AN_OBJECT),
        ("null", ErrorCode.NOT_AN_OBJECT),
        ("{}", ErrorCode.MISSING_FIELD),
        ('{"type": "hack"}', ErrorCode.UNKNOWN_TYPE),
        ('{"type": 7}', ErrorCode.UNKNOWN_TYPE),
        ('{"type": "__class__"}', ErrorCode.UNKNOWN_TYPE),
        ('{"type": "join", "version": 2}', ErrorCode.UNSUPPORTED_VERSION),
        ('{"type": "join", "version": true}', ErrorCode.BAD_FIELD),
        ('{"type": "join", "version": 1.0}', ErrorCode.BAD_FIELD),
        ('{"type": "join", "version": 1, "resume_token": "short"}', ErrorCode.BAD_FIELD),
        ('{"type": "ping", "ref": "has space"}', ErrorCode.BAD_FIELD),
        ('{"type": "mute", "kind": "audio", "muted": 1}', ErrorCode.BAD_FIELD),
        ('{"type": "track", "track_id": "t", "kind": "webcam", "label": "x"}', ErrorCode.BAD_FIELD),
        ('{"type": "track", "track_id": "t", "kind": "audio", "label": "a\\u202eb"}', ErrorCode.BAD_FIELD),
        ('{"type": "chat", "text": ""}', ErrorCode.BAD_FIELD),
        ('{"type": "chat", "text": "   "}', ErrorCode.BAD_FIELD),
        ('{"type": "chat", "text": "\\u0000"}', ErrorCode.BAD_FIELD),
        ('{"type": "chat", "text": "\\ud800"}', ErrorCode.BAD_FIELD),  # a lone surrogate
        ('{"type": "invite", "name": "Dr Who", "role": "specialist"}', ErrorCode.BAD_FIELD),
        ('{"type": "admit", "target": "../../etc"}', ErrorCode.BAD_FIELD),
    ],
)
def test_bad_frames_are_refused_with_a_code(raw: str | bytes, code: ErrorCode) -> None:
    assert refused(raw).code is code


def test_chat_is_limited_to_2000_characters() -> None:
    assert parse_inbound(frame("chat", text="x" * 2000)) == ChatIn("x" * 2000)
    assert refused(frame("chat", text="x" * 2001)).code is ErrorCode.BAD_FIELD


def test_a_note_to_the_waiting_room_is_refused_past_its_limit_never_cut() -> None:
    assert parse_inbound(frame("waiting_message", text="x" * 200)) == WaitingMessageIn("x" * 200)
    assert refused(frame("waiting_message", text="x" * 201)).code is ErrorCode.BAD_FIELD
    assert refused(frame("waiting_message", text="  ")).code is ErrorCode.BAD_FIELD


def test_a_10_mb_frame_is_refused_before_parsing() -> None:
    huge = frame("chat", text="x" * 10_000_000)
    assert refused(huge).code is ErrorCode.FRAME_TOO_LARGE
    assert refused(huge.encode()).code is ErrorCode.FRAME_TOO_LARGE
    # Also a frame that is small in characters but large in bytes.
    wide = frame("chat", text="ø" * (MAX_FRAME_BYTES // 2))
    assert len(wide) < MAX_FRAME_BYTES
    assert refused(wide).code is ErrorCode.FRAME_TOO_LARGE


def test_errors_echo_the_ref_when_it_can_be_read() -> None:
    error = refused(frame("chat", ref="c-1", text=""))
    assert error.ref == "c-1"
    out = json.loads(error.to_message().to_json())
    assert out == {"type": "error", "code": "bad_field", "message": error.message, "ref": "c-1"}
    assert refused("[1]").ref is None


@pytest.mark.parametrize(
    ("name", "value", "unit"),
    [
        ("blood_pressure", "120/80", "mmHg"),
        ("spo2", 97, "%"),
        ("pulse", 64, "/min"),
        ("temperature", 37.8, "°C"),
        ("weight", 72.4, "kg"),
        ("weight", 72, "kg"),
    ],
)
def test_readings_of_every_kind(name: str, value: object, unit: str) -> None:
    message = parse_inbound(
        frame("reading", name=name, value=value, unit=unit, taken_at="2026-11-23T08:55:00Z")
    )
    assert isinstance(message, ReadingIn)
    assert message.reading.value == value and message.reading.unit == unit
    assert message.reading.taken_at == datetime(2026, 11, 23, 8, 55, tzinfo=UTC)


@pytest.mark.parametrize(
    "body",
    [
        {"name": "spo2", "value": 97, "unit": "mmHg", "taken_at": TAKEN},  # wrong unit for the name
        {"name": "spo2", "value": 140, "unit": "%", "taken_at": TAKEN},
        {"name": "spo2", "value": True, "unit": "%", "taken_at": TAKEN},
        {"name": "pulse", "value": "64", "unit": "/min", "taken_at": TAKEN},
        {"name": "blood_pressure", "value": 120, "unit": "mmHg", "taken_at": TAKEN},
        {"name": "blood_pressure", "value": "80/120", "unit": "mmHg", "taken_at": TAKEN},
        {"name": "temperature", "value": 37.0, "unit": "°C", "taken_at": "2026-11-23T09:55:00"},  # no zone
        {"name": "temperature", "value": 37.0, "unit": "°C", "taken_at": "yesterday"},
        {"name": "glucose", "value": 5.4, "unit": "mmol/L", "taken_at": TAKEN},
    ],
)
def test_bad_readings_are_refused(body: dict[str, Any]) -> None:
    assert refused(frame("reading", **body)).code is ErrorCode.BAD_FIELD


# --- outbound ---

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
ENTRY = RosterEntry(
    participant_id=ParticipantId("p1"),
    display_name="Ola Nordmann",
    role=ParticipantRole.PATIENT,
    organisation="",
    is_staff=False,
    presence=HealthRoomPresence("Helserom Dokka", "Sykepleier Nilsen"),
    connected=True,
    tracks=(TrackInfo("t1", TrackKind.ROOM_CAMERA, "Rom", muted=False),),
)
OUTBOUND: list[tuple[OutboundMessage, dict[str, Any]]] = [
    (WaitingOut("p1", TOKEN), {"participant_id": "p1", "resume_token": TOKEN, "version": 1}),
    (
        AdmittedOut("p1", None, (IceServer(("stun:stun.example.org:3478",)),)),
        {
            "participant_id": "p1",
            "resume_token": None,
            "ice_servers": [{"urls": ["stun:stun.example.org:3478"], "username": None, "credential": None}],
            "version": 1,
        },
    ),
    (
        ResumedOut("p1", TOKEN, SeatStatus.ADMITTED),
        {"participant_id": "p1", "resume_token": TOKEN, "status": "admitted", "version": 1},
    ),
    (DeniedOut(), {}),
    (
        RosterOut((ENTRY,)),
        {
            "participants": [
                {
                    "participant_id": "p1",
                    "display_name": "Ola Nordmann",
                    "role": "patient",
                    "organisation": "",
                    "is_staff": False,
                    "presence": {"health_room": "Helserom Dokka", "nurse_name": "Sykepleier Nilsen"},
                    "connected": True,
                    "tracks": [{"track_id": "t1", "kind": "room_camera", "label": "Rom", "muted": False}],
                }
            ],
            "recorder": None,
        },
    ),
    (WaitingListOut(()), {"participants": []}),
    (OfferOut(SDP), {"sdp": SDP}),
    (AnswerOut(SDP), {"sdp": SDP}),
    (
        TrackOut("p1", "t1", TrackKind.SCREEN, "Skjerm"),
        {"participant_id": "p1", "track_id": "t1", "kind": "screen", "label": "Skjerm", "muted": False},
    ),
    (MuteOut("p1", TrackKind.AUDIO, True), {"participant_id": "p1", "kind": "audio", "muted": True}),
    (
        ChatOut("p1", "Ola", "Hei", NOW),
        {
            "participant_id": "p1",
            "display_name": "Ola",
            "text": "Hei",
            "sent_at": "2026-11-23T09:00:00+00:00",
        },
    ),
    (
        WaitingStatusOut((ParticipantRole.SPECIALIST, ParticipantRole.NURSE)),
        {"staff_roles": ["specialist", "nurse"]},
    ),
    (
        WaitingMessageOut("p1", "Ingrid Hansen", "Legen er forsinket ca. 10 min", NOW),
        {
            "participant_id": "p1",
            "display_name": "Ingrid Hansen",
            "text": "Legen er forsinket ca. 10 min",
            "sent_at": "2026-11-23T09:00:00+00:00",
        },
    ),
    (
        ReadingOut("p1", "Nilsen", ReadingName.SPO2, 97, "%", NOW, NOW),
        {
            "participant_id": "p1",
            "display_name": "Nilsen",
            "name": "spo2",
            "value": 97,
            "unit": "%",
            "taken_at": "2026-11-23T09:00:00+00:00",
            "posted_at": "2026-11-23T09:00:00+00:00",
        },
    ),
    (InvitedOut("Per", ParticipantRole.RELATIVE), {"name": "Per", "role": "relative", "code": None}),
    (ErrorOut("forbidden", "only staff", "r1"), {"code": "forbidden", "message": "only staff", "ref": "r1"}),
    (PongOut("r2"), {"ref": "r2"}),
    (RoomElsewhereOut("https://node-2.samkonsult.example"), {"url": "https://node-2.samkonsult.example"}),
    (EndedOut(EndReason.ENDED_BY_STAFF), {"reason": "ended_by_staff"}),
    (
        MediaMapOut((MediaTrack("1", "p1", "room_camera", "video", True),)),
        {"tracks": [{"mid": "1", "participant_id": "p1", "label": "room_camera", "kind": "video", "live": True}]},
    ),
    (MediaRestartOut(), {}),
    (BitrateOut(800), {"max_video_kbps": 800}),
    (
        RecordingStatusOut("recording", "teaching", 90, "p1", "Dr. Berg", ("p1", "p2"), ("p3",), ("p1", "p2"),
                           "Opptaker", NOW),
        {"state": "recording", "purpose": "teaching", "retention_days": 90, "proposed_by": "p1",
         "proposed_by_name": "Dr. Berg", "agreed": ["p1", "p2"], "waiting_for": ["p3"], "recorded": ["p1", "p2"],
         "recorder_name": "Opptaker", "started_at": "2026-11-23T09:00:00+00:00", "ended_reason": None,
         "kept_days": None},
    ),
]


@pytest.mark.parametrize(("message", "body"), OUTBOUND, ids=lambda v: getattr(v, "type", ""))
def test_outbound_messages_serialise(message: OutboundMessage, body: dict[str, Any]) -> None:
    text = message.to_json()
    assert text.isascii()
    assert json.loads(text) == {"type": message.type, **body}


def test_every_outbound_type_is_covered() -> None:
    covered = {type(m) for m, _ in OUTBOUND}
    assert covered == set(OutboundMessage.__subclasses__())


def test_outbound_text_survives_any_unicode() -> None:
    text = ChatOut("p1", "Åse Ødegård", "snø ❄ \u202e", NOW).to_json()
    assert json.loads(text)["display_name"] == "Åse Ødegård"


def test_events_map_to_wire_messages() -> None:
    pid = ParticipantId("p1")
    reading = Reading(ReadingName.PULSE, 70, NOW)
    track = TrackInfo("t1", TrackKind.AUDIO, "Mikrofon")
    ice = (IceServer(("turn:turn.example.org",), "u", "c"),)
    assert event_to_message(Waiting(pid)) == WaitingOut("p1")
    assert event_to_message(Admitted(pid), ice_servers=ice) == AdmittedOut("p1", ice_servers=ice)
    assert event_to_message(Denied(pid)) == DeniedOut()
    assert event_to_message(RosterChanged(Roster((ENTRY,)))) == RosterOut((ENTRY,))
    assert event_to_message(WaitingListChanged((ENTRY,))) == WaitingListOut((ENTRY,))
    assert event_to_message(TrackPublished(pid, track)) == TrackOut("p1", "t1", TrackKind.AUDIO, "Mikrofon")
    assert event_to_message(MuteChanged(pid, TrackKind.AUDIO, True)) == MuteOut("p1", TrackKind.AUDIO, True)
    assert event_to_message(ChatPosted(pid, "Ola", "Hei", NOW)) == ChatOut("p1", "Ola", "Hei", NOW)
    assert event_to_message(ReadingPosted(pid, "N", reading, NOW)) == ReadingOut(
        "p1", "N", ReadingName.PULSE, 70, "/min", NOW, NOW
    )
    assert event_to_message(SeatReleased(pid, EndReason.REMOVED)) == EndedOut(EndReason.REMOVED)
    assert event_to_message(RoomEnded(EndReason.TIME_OVER)) == EndedOut(EndReason.TIME_OVER)


def test_live_events_map_to_wire_messages() -> None:
    track = OutgoingTrackInfo("1", "p2", "room_camera", "video", True)
    assert live_event_messages(ServerOffer(SDP, (track,))) == [
        MediaMapOut((MediaTrack("1", "p2", "room_camera", "video", True),)),
        OfferOut(SDP),
    ]
    assert live_event_messages(PeerReset()) == [MediaRestartOut()]
    assert live_event_messages(BitrateCap(600)) == [BitrateOut(600)]
    assert live_event_messages(Denied(ParticipantId("p1"))) == [DeniedOut()]


def test_join_reply_hands_the_joiner_its_resume_token() -> None:
    clock = FixedClock(NOW)
    room = Room(
        RoomSpec("r", "1", NOW, NOW + timedelta(minutes=30), frozenset({"user:1"})),
        clock=clock,
    )
    doctor = Identity("user:1", ParticipantRole.SPECIALIST, "Lege Berg")
    result = room.join(doctor)
    messages = join_reply(result)
    first = messages[0]
    assert isinstance(first, AdmittedOut)
    assert first.resume_token == result.resume_token
    assert first.version == PROTOCOL_VERSION
    assert any(isinstance(m, RosterOut) for m in messages)

    room.disconnect(result.participant.participant_id)
    resumed = room.resume(result.resume_token, doctor)
    messages = join_reply(resumed, resumed=True)
    assert messages[0] == ResumedOut(
        result.participant.participant_id, resumed.resume_token, SeatStatus.ADMITTED
    )
    assert all(getattr(m, "resume_token", None) in (None, resumed.resume_token) for m in messages)
