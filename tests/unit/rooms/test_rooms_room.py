"""The room state machine: opening window, admission, roster, grace and resume, reaping, closing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from rooms.errors import (
    InvalidReading,
    InvalidTransition,
    JoinRefused,
    ResumeRefused,
    RoomClosed,
    RoomFull,
    RoomNotOpen,
    UnknownParticipant,
)
from rooms.events import (
    Admitted,
    ChatPosted,
    Denied,
    EndReason,
    MuteChanged,
    Outgoing,
    ReadingPosted,
    RoomEnded,
    RosterChanged,
    SeatReleased,
    TrackPublished,
    Waiting,
    WaitingListChanged,
    audience,
)
from rooms.readings import Reading, ReadingName
from rooms.room import GRACE, Room, new_room_id
from rooms.roster import HealthRoomPresence, Identity, ParticipantId, ParticipantRole, SeatStatus, TrackKind
from rooms.seats import RoomSpec, RoomState
from server.platform.clock import FixedClock
from tests.unit.rooms.rooms_testkit import END, START, People


def _join(room: Room, who: Identity) -> ParticipantId:
    return room.join(who).participant.participant_id


def _admitted(room: Room, who: Identity, by: ParticipantId) -> ParticipantId:
    pid = _join(room, who)
    room.admit(by, pid)
    return pid


def _events(outgoing: list[Outgoing] | tuple[Outgoing, ...], kind: type) -> list[Outgoing]:
    return [o for o in outgoing if isinstance(o.event, kind)]


# --- opening window ---


def test_room_opens_fifteen_minutes_before_start(spec: RoomSpec, people: People) -> None:
    clock = FixedClock(START - timedelta(minutes=15, seconds=1))
    room = Room(spec, clock=clock)
    assert room.state() is RoomState.SCHEDULED
    with pytest.raises(RoomNotOpen) as refused:
        room.join(people.specialist)
    assert refused.value.opens_at == START - timedelta(minutes=15)
    assert refused.value.code == "room_not_open"

    clock.advance(timedelta(seconds=1))
    assert room.state() is RoomState.OPEN
    assert room.join(people.specialist).participant.is_admitted


def test_room_closes_when_the_slot_is_long_over(room: Room, clock: FixedClock, people: People) -> None:
    clock.current = END + timedelta(minutes=59)
    assert room.state() is RoomState.OPEN
    clock.current = END + timedelta(minutes=60)
    assert room.state() is RoomState.CLOSED
    with pytest.raises(RoomClosed):
        room.join(people.specialist)


def test_reap_after_closing_time_ends_the_room_for_everyone(
    room: Room, clock: FixedClock, people: People
) -> None:
    doctor = _join(room, people.specialist)
    waiting = _join(room, people.relative)
    out = room.reap(END + timedelta(hours=1))
    assert out == [Outgoing(frozenset({doctor, waiting}), RoomEnded(EndReason.TIME_OVER))]
    assert room.end_reason is EndReason.TIME_OVER
    assert room.reap(END + timedelta(hours=2)) == []


def test_room_ids_are_unguessable() -> None:
    ids = {new_room_id() for _ in range(100)}
    assert len(ids) == 100
    assert all(len(i) >= 22 for i in ids)  # 16 random bytes in URL-safe base64


# --- admission ---


def test_booking_staff_enter_directly(room: Room, people: People) -> None:
    result = room.join(people.specialist)
    me = result.participant.participant_id
    assert result.participant.status is SeatStatus.ADMITTED
    assert audience(result.outgoing, me)[0] == Admitted(me)
    rosters = _events(result.outgoing, RosterChanged)
    assert len(rosters) == 1 and rosters[0].to == {me}
    assert room.roster().participant_ids == {me}


def test_everyone_else_waits_and_staff_see_the_waiting_list(room: Room, people: People) -> None:
    doctor = _join(room, people.specialist)
    result = room.join(people.relative)
    relative = result.participant.participant_id
    assert result.participant.status is SeatStatus.WAITING
    assert Outgoing(frozenset({relative}), Waiting(relative)) in result.outgoing
    (waiting_list,) = _events(result.outgoing, WaitingListChanged)
    assert waiting_list.to == {doctor}  # not the waiting person, not non-staff
    assert isinstance(waiting_list.event, WaitingListChanged)
    assert [e.participant_id for e in waiting_list.event.entries] == [relative]
    assert relative not in room.roster().participant_ids
    assert not _events(result.outgoing, RosterChanged)


def test_staff_not_on_the_booking_wait_too(room: Room, people: People) -> None:
    result = room.join(people.outside_nurse)
    assert result.participant.status is SeatStatus.WAITING


def test_admit_puts_the_participant_on_everyones_roster(room: Room, people: People) -> None:
    doctor = _join(room, people.specialist)
    nurse = _join(room, people.nurse)
    patient = _join(room, people.patient)
    out = room.admit(doctor, patient)
    assert Outgoing(frozenset({patient}), Admitted(patient)) in out
    (roster,) = _events(out, RosterChanged)
    assert roster.to == {doctor, nurse, patient}
    assert isinstance(roster.event, RosterChanged)
    assert roster.event.roster.participant_ids == {doctor, nurse, patient}
    entry = roster.event.roster.entries[-1]
    assert entry.role is ParticipantRole.PATIENT
    assert entry.presence == HealthRoomPresence("Helserom Dokka", "Sykepleier Nilsen")
    (waiting,) = _events(out, WaitingListChanged)
    assert isinstance(waiting.event, WaitingListChanged) and waiting.event.entries == ()


def test_admitting_twice_is_an_invalid_transition(room: Room, people: People) -> None:
    doctor = _join(room, people.specialist)
    relative = _admitted(room, people.relative, doctor)
    with pytest.raises(InvalidTransition):
        room.admit(doctor, relative)
    with pytest.raises(UnknownParticipant):
        room.admit(doctor, ParticipantId("nobody"))


def test_deny_sends_the_person_away_for_good(room: Room, people: People) -> None:
    doctor = _join(room, people.specialist)
    relative = _join(room, people.relative)
    out = room.deny(doctor, relative)
    assert Outgoing(frozenset({relative}), Denied(relative)) in out
    assert Outgoing(frozenset(), SeatReleased(relative, EndReason.DENIED)) in out
    assert room.participant(relative) is None
    with pytest.raises(JoinRefused):
        room.join(people.relative)


def test_remove_takes_someone_off_the_roster(room: Room, people: People) -> None:
    doctor = _join(room, people.specialist)
    relative = _admitted(room, people.relative, doctor)
    out = room.remove(doctor, relative)
    assert Outgoing(frozenset({relative}), SeatReleased(relative, EndReason.REMOVED)) in out
    (roster,) = _events(out, RosterChanged)
    assert roster.to == {doctor}
    assert room.roster().participant_ids == {doctor}
    with pytest.raises(JoinRefused):
        room.join(people.relative)
    with pytest.raises(InvalidTransition):
        room.remove(doctor, doctor)


def test_leave_releases_the_seat_and_is_idempotent(room: Room, people: People) -> None:
    doctor = _join(room, people.specialist)
    nurse = _join(room, people.nurse)
    out = room.leave(nurse)
    assert Outgoing(frozenset(), SeatReleased(nurse, EndReason.LEFT)) in out
    assert room.roster().participant_ids == {doctor}
    assert room.leave(nurse) == []
    # Leaving is not being removed: the nurse may come back.
    assert room.join(people.nurse).participant.is_admitted


def test_rooms_have_a_capacity(spec: RoomSpec, clock: FixedClock, people: People) -> None:
    room = Room(spec, clock=clock, max_admitted=2, max_waiting=1)
    doctor = _join(room, people.specialist)
    relative = _join(room, people.relative)
    with pytest.raises(RoomFull):
        room.join(people.interpreter)
    room.admit(doctor, relative)
    with pytest.raises(RoomFull):
        room.join(people.nurse)


# --- roster equals the admitted set ---


def test_roster_is_the_admitted_set_and_the_same_for_everyone(room: Room, people: People) -> None:
    doctor = _join(room, people.specialist)
    nurse = _join(room, people.nurse)
    patient = _admitted(room, people.patient, doctor)
    relative = _join(room, people.relative)  # waiting: not on the roster
    roster = room.roster()
    assert roster.participant_ids == {doctor, nurse, patient}
    assert relative not in roster.participant_ids
    assert [e.participant_id for e in roster.entries] == [doctor, nurse, patient]  # admission order
    admitted = {p.participant_id for p in room.participants() if p.is_admitted}
    assert admitted == roster.participant_ids


# --- grace and resume ---


def test_a_dropped_connection_keeps_its_seat_and_resumes(
    room: Room, clock: FixedClock, people: People
) -> None:
    doctor = _join(room, people.specialist)
    joined = room.join(people.nurse)
    nurse = joined.participant.participant_id

    out = room.disconnect(nurse)
    (roster,) = _events(out, RosterChanged)
    assert isinstance(roster.event, RosterChanged)
    entry = {e.participant_id: e for e in roster.event.roster.entries}[nurse]
    assert entry.connected is False  # shown as reconnecting, still on the roster
    assert room.roster().participant_ids == {doctor, nurse}

    clock.advance(GRACE - timedelta(seconds=1))
    assert room.reap() == []
    resumed = room.resume(joined.resume_token, people.nurse)
    assert resumed.participant.participant_id == nurse
    assert resumed.participant.status is SeatStatus.ADMITTED
    assert resumed.participant.connected
    assert resumed.replaced is False
    assert resumed.resume_token != joined.resume_token
    assert Admitted(nurse) in audience(resumed.outgoing, nurse)
    # The token was rotated: the old one is void.
    with pytest.raises(ResumeRefused):
        room.resume(joined.resume_token, people.nurse)


def test_resume_after_the_grace_period_is_refused_and_reap_frees_the_seat(
    room: Room, clock: FixedClock, people: People
) -> None:
    doctor = _join(room, people.specialist)
    relative_join = room.join(people.relative)
    relative = relative_join.participant.participant_id
    room.admit(doctor, relative)
    room.disconnect(relative)
    clock.advance(GRACE)
    with pytest.raises(ResumeRefused):
        room.resume(relative_join.resume_token, people.relative)
    out = room.reap()
    assert Outgoing(frozenset(), SeatReleased(relative, EndReason.EXPIRED)) in out
    (roster,) = _events(out, RosterChanged)
    assert roster.to == {doctor}
    assert room.participant(relative) is None
    # An expired seat is not a ban: the relative can join again, and waits again.
    assert room.join(people.relative).participant.status is SeatStatus.WAITING


def test_reaping_a_waiting_seat_updates_the_staff_waiting_list(
    room: Room, clock: FixedClock, people: People
) -> None:
    doctor = _join(room, people.specialist)
    relative = _join(room, people.relative)
    room.disconnect(relative)
    out = room.reap(clock.now() + GRACE)
    (waiting,) = _events(out, WaitingListChanged)
    assert waiting.to == {doctor}
    assert isinstance(waiting.event, WaitingListChanged) and waiting.event.entries == ()


def test_resume_needs_the_same_person_and_a_real_token(room: Room, people: People) -> None:
    joined = room.join(people.relative)
    room.disconnect(joined.participant.participant_id)
    with pytest.raises(ResumeRefused):
        room.resume(joined.resume_token, people.interpreter)  # someone else's session
    with pytest.raises(ResumeRefused):
        room.resume("x" * 43, people.relative)
    assert room.resume(joined.resume_token, people.relative).participant.status is SeatStatus.WAITING


def test_resume_tokens_are_long_and_unique(room: Room, people: People) -> None:
    tokens = [room.join(p).resume_token for p in (people.specialist, people.nurse, people.relative)]
    assert len(set(tokens)) == 3
    assert all(len(t) >= 43 for t in tokens)  # 32 random bytes: well over 128 bits


def test_joining_again_takes_the_seat_back_and_replaces_the_old_connection(
    room: Room, people: People
) -> None:
    doctor = _join(room, people.specialist)
    relative = _admitted(room, people.relative, doctor)
    again = room.join(people.relative)
    assert again.participant.participant_id == relative
    assert again.participant.status is SeatStatus.ADMITTED
    assert again.replaced is True
    assert room.roster().participant_ids == {doctor, relative}


# --- closing ---


def test_staff_end_the_room_for_everyone_waiting_included(room: Room, people: People) -> None:
    doctor = _join(room, people.specialist)
    relative = _join(room, people.relative)
    out = room.end(doctor)
    assert out == [Outgoing(frozenset({doctor, relative}), RoomEnded(EndReason.ENDED_BY_STAFF))]
    assert room.state() is RoomState.CLOSED
    with pytest.raises(RoomClosed):
        room.join(people.nurse)
    with pytest.raises(RoomClosed):
        room.chat(doctor, "hei")
    assert room.roster().entries == ()


async def test_close_is_idempotent(room: Room, people: People) -> None:
    doctor = _join(room, people.specialist)
    first = await room.close()
    assert first == [Outgoing(frozenset({doctor}), RoomEnded(EndReason.SHUTDOWN))]
    assert await room.close() == []
    assert room.leave(doctor) == []
    assert room.disconnect(doctor) == []
    assert room.reap() == []


# --- in-call actions ---


def test_tracks_and_mute_go_to_the_others(room: Room, people: People) -> None:
    doctor = _join(room, people.specialist)
    nurse = _join(room, people.nurse)
    out = room.publish_track(nurse, "{abc-1}", TrackKind.EXAM_CAMERA, "Undersøkelseskamera")
    (published,) = out
    assert published.to == {doctor}
    assert isinstance(published.event, TrackPublished) and published.event.track.kind is TrackKind.EXAM_CAMERA

    out = room.set_mute(nurse, TrackKind.EXAM_CAMERA, True)
    assert out == [Outgoing(frozenset({doctor}), MuteChanged(nurse, TrackKind.EXAM_CAMERA, True))]
    assert room.set_mute(nurse, TrackKind.EXAM_CAMERA, True) == []  # no change, no event
    (entry,) = [e for e in room.roster().entries if e.participant_id == nurse]
    assert [(t.kind, t.muted) for t in entry.tracks] == [(TrackKind.EXAM_CAMERA, True)]

    # A second track of the same kind replaces the first (camera switch).
    room.publish_track(nurse, "{abc-2}", TrackKind.EXAM_CAMERA, "Otoskop")
    (entry,) = [e for e in room.roster().entries if e.participant_id == nurse]
    assert [t.track_id for t in entry.tracks] == ["{abc-2}"]

    out = room.unpublish_track(nurse, TrackKind.EXAM_CAMERA)
    (roster,) = _events(out, RosterChanged)
    assert isinstance(roster.event, RosterChanged)
    assert all(e.tracks == () for e in roster.event.roster.entries)
    assert room.unpublish_track(nurse, TrackKind.EXAM_CAMERA) == []


def test_chat_reaches_everyone_admitted_and_nobody_waiting(
    room: Room, clock: FixedClock, people: People
) -> None:
    doctor = _join(room, people.specialist)
    nurse = _join(room, people.nurse)
    _join(room, people.relative)  # waiting
    (out,) = room.chat(nurse, "Pasienten er klar")
    assert out.to == {doctor, nurse}
    assert out.event == ChatPosted(nurse, "Sykepleier Nilsen", "Pasienten er klar", clock.now())
    with pytest.raises(InvalidTransition):
        room.chat(nurse, "x" * 2001)
    with pytest.raises(InvalidTransition):
        room.chat(nurse, "   ")


def test_readings_reach_everyone_admitted(room: Room, clock: FixedClock, people: People) -> None:
    doctor = _join(room, people.specialist)
    nurse = _join(room, people.nurse)
    patient = _admitted(room, people.patient, doctor)
    reading = Reading(ReadingName.BLOOD_PRESSURE, "135/85", datetime(2026, 11, 23, 8, 55, tzinfo=UTC))
    (out,) = room.post_reading(nurse, reading)
    assert out.to == {doctor, nurse, patient}
    assert isinstance(out.event, ReadingPosted) and out.event.reading.unit == "mmHg"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        (ReadingName.BLOOD_PRESSURE, "120/80"),
        (ReadingName.SPO2, 97),
        (ReadingName.PULSE, 72),
        (ReadingName.TEMPERATURE, 37.2),
        (ReadingName.TEMPERATURE, 38),
        (ReadingName.WEIGHT, 81.5),
    ],
)
def test_plausible_readings_are_accepted(name: ReadingName, value: str | int | float) -> None:
    Reading(name, value, START)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        (ReadingName.BLOOD_PRESSURE, "80/120"),  # diastolic above systolic
        (ReadingName.BLOOD_PRESSURE, "120-80"),
        (ReadingName.BLOOD_PRESSURE, 120),
        (ReadingName.BLOOD_PRESSURE, "400/80"),
        (ReadingName.SPO2, 101),
        (ReadingName.SPO2, 97.5),
        (ReadingName.SPO2, True),
        (ReadingName.PULSE, "72"),
        (ReadingName.TEMPERATURE, float("nan")),
        (ReadingName.TEMPERATURE, 50.0),
        (ReadingName.WEIGHT, 7000),
    ],
)
def test_implausible_readings_are_refused(name: ReadingName, value: str | int | float) -> None:
    with pytest.raises(InvalidReading):
        Reading(name, value, START)


def test_reading_time_needs_a_zone() -> None:
    with pytest.raises(InvalidReading):
        Reading(ReadingName.PULSE, 70, datetime(2026, 11, 23, 9, 0))


def test_room_spec_needs_aware_times_in_order() -> None:
    with pytest.raises(ValueError, match="aware"):
        RoomSpec("r", "1", datetime(2026, 1, 1), END, frozenset())
    with pytest.raises(ValueError, match="after"):
        RoomSpec("r", "1", END, START, frozenset())
