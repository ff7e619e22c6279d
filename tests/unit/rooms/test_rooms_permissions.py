"""Who may do what in a room: every role, admitted or waiting, against every action."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import pytest

from rooms.errors import Forbidden, NotAdmitted, RoomError
from rooms.readings import Reading, ReadingName
from rooms.room import Room
from rooms.roster import STAFF_ROLES, Identity, ParticipantId, ParticipantRole, TrackKind
from tests.unit.rooms.rooms_testkit import START, People, make_clock, make_people, make_spec


@dataclass
class Scene:
    room: Room
    actor: ParticipantId
    waiting_target: ParticipantId
    admitted_target: ParticipantId


Action = Callable[[Scene], object]

ACTIONS: dict[str, Action] = {
    "admit": lambda s: s.room.admit(s.actor, s.waiting_target),
    "deny": lambda s: s.room.deny(s.actor, s.waiting_target),
    "remove": lambda s: s.room.remove(s.actor, s.admitted_target),
    "end": lambda s: s.room.end(s.actor),
    "invite": lambda s: s.room.invite(s.actor, "Nabo Per", ParticipantRole.RELATIVE),
    "reading": lambda s: s.room.post_reading(s.actor, Reading(ReadingName.PULSE, 70, START)),
    "chat": lambda s: s.room.chat(s.actor, "hei"),
    "track": lambda s: s.room.publish_track(s.actor, "t1", TrackKind.ROOM_CAMERA, "Kamera"),
    "mute": lambda s: s.room.set_mute(s.actor, TrackKind.AUDIO, True),
    "media": lambda s: s.room.require_admitted(s.actor),
}

STAFF_ONLY = {"admit", "deny", "remove", "end", "invite"}
READING_ROLES = {ParticipantRole.NURSE, ParticipantRole.SPECIALIST}


def _identity_for(role: ParticipantRole, people: People) -> Identity:
    return {
        ParticipantRole.SPECIALIST: people.specialist,
        ParticipantRole.NURSE: people.nurse,
        ParticipantRole.COORDINATOR: people.coordinator,
        ParticipantRole.PATIENT: people.patient,
        ParticipantRole.RELATIVE: people.relative,
        ParticipantRole.INTERPRETER: people.interpreter,
    }[role]


def _scene(role: ParticipantRole, *, admitted: bool) -> Scene:
    # The host is a booking specialist other than the actor, so the actor's own role is what is tested.
    spec = make_spec()
    spec = replace(spec, staff_subjects=spec.staff_subjects | {"user:host"})
    room = Room(spec, clock=make_clock())
    host = room.join(Identity("user:host", ParticipantRole.SPECIALIST, "Vert")).participant.participant_id
    if admitted:
        identity = _identity_for(role, make_people())
    else:
        # Booking staff would be admitted directly; a colleague not on the booking waits.
        identity = Identity(f"user:guest-{role}", role, "Venter")
    actor = room.join(identity).participant
    if admitted and not actor.is_admitted:
        room.admit(host, actor.participant_id)
    waiting_target = room.join(Identity("code:waiting", ParticipantRole.RELATIVE, "Venter To")).participant
    admitted_target = room.join(Identity("code:in", ParticipantRole.INTERPRETER, "Tolk Inne")).participant
    room.admit(host, admitted_target.participant_id)
    return Scene(room, actor.participant_id, waiting_target.participant_id, admitted_target.participant_id)


def _allowed(role: ParticipantRole, action: str) -> bool:
    if action in STAFF_ONLY:
        return role in STAFF_ROLES
    if action == "reading":
        return role in READING_ROLES
    return True


@pytest.mark.parametrize("action", sorted(ACTIONS))
@pytest.mark.parametrize("role", list(ParticipantRole))
def test_admitted_participants(role: ParticipantRole, action: str) -> None:
    scene = _scene(role, admitted=True)
    if _allowed(role, action):
        ACTIONS[action](scene)
    else:
        with pytest.raises(Forbidden):
            ACTIONS[action](scene)


@pytest.mark.parametrize("action", sorted(ACTIONS))
@pytest.mark.parametrize("role", list(ParticipantRole))
def test_waiting_participants_can_do_nothing_but_wait_or_leave(role: ParticipantRole, action: str) -> None:
    scene = _scene(role, admitted=False)
    with pytest.raises(NotAdmitted):
        ACTIONS[action](scene)
    assert scene.room.leave(scene.actor) != []


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_strangers_can_do_nothing(action: str) -> None:
    scene = _scene(ParticipantRole.SPECIALIST, admitted=True)
    scene.actor = ParticipantId("not-a-participant")
    with pytest.raises(RoomError):
        ACTIONS[action](scene)


def test_staff_cannot_invite_staff_by_join_code() -> None:
    scene = _scene(ParticipantRole.NURSE, admitted=True)
    with pytest.raises(RoomError, match="login"):
        scene.room.invite(scene.actor, "Lege Ny", ParticipantRole.SPECIALIST)
    invitation = scene.room.invite(scene.actor, "Nabo Per", ParticipantRole.RELATIVE)
    assert invitation.invited_by == "user:2"
    assert invitation.room_id == scene.room.room_id
