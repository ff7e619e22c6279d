"""The waiting room talks: those waiting learn when staff can see them, and staff can send them a note."""

from __future__ import annotations

import pytest

from rooms.errors import Forbidden, InvalidTransition, NotAdmitted
from rooms.events import Outgoing, WaitingRoomMessage, WaitingRoomStatus, audience
from rooms.room import GRACE, MAX_WAITING_MESSAGE_CHARS, Room
from rooms.roster import ParticipantId, ParticipantRole
from server.platform.clock import FixedClock
from tests.unit.rooms.rooms_testkit import People


def _statuses(outgoing: list[Outgoing] | tuple[Outgoing, ...], pid: ParticipantId) -> list[WaitingRoomStatus]:
    return [e for e in audience(outgoing, pid) if isinstance(e, WaitingRoomStatus)]


def test_a_guest_who_waits_alone_is_told_nobody_knows_yet(room: Room, people: People) -> None:
    result = room.join(people.relative)
    me = result.participant.participant_id
    assert _statuses(result.outgoing, me) == [WaitingRoomStatus(())]


def test_a_guest_learns_when_the_doctor_and_then_the_nurse_come_in(room: Room, people: People) -> None:
    me = room.join(people.relative).participant.participant_id
    doctor = room.join(people.specialist)
    assert _statuses(doctor.outgoing, me) == [WaitingRoomStatus((ParticipantRole.SPECIALIST,))]
    nurse = room.join(people.nurse)
    assert _statuses(nurse.outgoing, me) == [
        WaitingRoomStatus(tuple(sorted((ParticipantRole.SPECIALIST, ParticipantRole.NURSE))))]


def test_a_guest_who_joins_after_staff_hears_at_once_that_they_know(room: Room, people: People) -> None:
    room.join(people.nurse)
    result = room.join(people.relative)
    me = result.participant.participant_id
    assert _statuses(result.outgoing, me) == [WaitingRoomStatus((ParticipantRole.NURSE,))]


def test_when_the_only_staff_member_drops_or_leaves_the_guest_is_told(
    room: Room, clock: FixedClock, people: People
) -> None:
    doctor = room.join(people.specialist).participant.participant_id
    me = room.join(people.relative).participant.participant_id
    assert _statuses(room.disconnect(doctor), me) == [WaitingRoomStatus(())]
    clock.advance(GRACE)
    assert _statuses(room.reap(), me) == [WaitingRoomStatus(())]
    nurse = room.join(people.nurse).participant.participant_id
    assert _statuses(room.leave(nurse), me) == [WaitingRoomStatus(())]


def test_an_admitted_guest_coming_or_going_tells_the_waiting_room_nothing(room: Room, people: People) -> None:
    doctor = room.join(people.specialist).participant.participant_id
    patient = room.join(people.patient).participant.participant_id
    relative = room.join(people.relative).participant.participant_id
    assert _statuses(room.admit(doctor, patient), relative) == []
    assert _statuses(room.leave(patient), relative) == []


def test_staff_note_reaches_those_waiting_and_staff_but_not_admitted_guests(
    room: Room, clock: FixedClock, people: People
) -> None:
    doctor = room.join(people.specialist).participant.participant_id
    nurse = room.join(people.nurse).participant.participant_id
    patient = room.join(people.patient).participant.participant_id
    room.admit(nurse, patient)
    relative = room.join(people.relative).participant.participant_id
    interpreter = room.join(people.interpreter).participant.participant_id
    (out,) = room.message_waiting(doctor, "Legen er forsinket ca. 10 min")
    assert out.to == {relative, interpreter, doctor, nurse}
    assert out.event == WaitingRoomMessage(doctor, people.specialist.display_name,
                                           "Legen er forsinket ca. 10 min", clock.now())


def test_a_note_past_the_limit_or_blank_is_refused_never_cut(room: Room, people: People) -> None:
    doctor = room.join(people.specialist).participant.participant_id
    room.join(people.relative)
    assert room.message_waiting(doctor, "x" * MAX_WAITING_MESSAGE_CHARS)
    for text in ("x" * (MAX_WAITING_MESSAGE_CHARS + 1), "   "):
        with pytest.raises(InvalidTransition) as refused:
            room.message_waiting(doctor, text)
        assert refused.value.code == "waiting_message_length"


def test_only_admitted_staff_send_notes_and_only_when_someone_waits(room: Room, people: People) -> None:
    doctor = room.join(people.specialist).participant.participant_id
    with pytest.raises(InvalidTransition) as nobody:
        room.message_waiting(doctor, "Straks")
    assert nobody.value.code == "nobody_waiting"
    relative = room.join(people.relative).participant.participant_id
    with pytest.raises(NotAdmitted):
        room.message_waiting(relative, "Hallo?")
    patient = room.join(people.patient).participant.participant_id
    room.admit(doctor, patient)
    with pytest.raises(Forbidden):
        room.message_waiting(patient, "Kom inn")
