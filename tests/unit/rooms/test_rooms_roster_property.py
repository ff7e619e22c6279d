"""Whatever happens in a room, the roster is the admitted set and nothing leaks to the waiting room."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from rooms.errors import RoomError
from rooms.events import (
    Admitted,
    Denied,
    Outgoing,
    RoomEnded,
    RosterChanged,
    SeatReleased,
    Waiting,
    WaitingListChanged,
    WaitingRoomMessage,
    WaitingRoomStatus,
)
from rooms.room import Room
from rooms.roster import Identity, ParticipantId, SeatStatus, TrackKind
from tests.unit.rooms.rooms_testkit import make_clock, make_people, make_spec

OPS = ("join", "admit", "deny", "remove", "leave", "disconnect", "resume", "reap", "chat", "track", "end")
# What someone in the waiting room may ever receive.
# What someone not (yet) admitted may hear: about their own seat, and staff's word to the waiting room.
WAITING_ROOM_EVENTS = (Waiting, Admitted, Denied, SeatReleased, RoomEnded, WaitingRoomStatus, WaitingRoomMessage)

step = st.tuples(st.sampled_from(OPS), st.integers(0, 6), st.integers(0, 6), st.integers(0, 40))


def _check(room: Room, before: dict[ParticipantId, SeatStatus], outgoing: list[Outgoing]) -> None:
    roster = room.roster()
    admitted = {p.participant_id for p in room.participants() if p.is_admitted}
    assert roster.participant_ids == admitted
    assert len(roster.entries) == len(admitted)  # no one twice
    rosters = [o for o in outgoing if isinstance(o.event, RosterChanged)]
    if rosters:
        last = rosters[-1]
        assert isinstance(last.event, RosterChanged)
        assert last.event.roster == roster
        assert last.to == admitted  # everyone admitted gets it, nobody else
    staff = {p.participant_id for p in room.participants() if p.is_admitted and p.is_staff}
    for o in outgoing:
        if isinstance(o.event, WaitingListChanged):
            assert o.to <= staff
        for pid in o.to:
            status = before.get(pid)
            now = room.participant(pid)
            was_or_is_admitted = status is SeatStatus.ADMITTED or (now is not None and now.is_admitted)
            if not was_or_is_admitted:
                assert isinstance(o.event, WAITING_ROOM_EVENTS), o.event


@settings(max_examples=200, deadline=None)
@given(st.lists(step, max_size=40))
def test_roster_equals_admitted_set(steps: list[tuple[str, int, int, int]]) -> None:
    people = make_people()
    everyone: list[Identity] = [
        people.specialist,
        people.nurse,
        people.coordinator,
        people.patient,
        people.relative,
        people.interpreter,
        people.outside_nurse,
    ]
    clock = make_clock()
    room = Room(make_spec(), clock=clock)
    ids: dict[int, ParticipantId] = {}
    tokens: dict[int, str] = {}
    for op, a, b, seconds in steps:
        before = {p.participant_id: p.status for p in room.participants()}
        actor = ids.get(a, ParticipantId("ghost"))
        target = ids.get(b, ParticipantId("ghost"))
        out: list[Outgoing] = []
        try:
            if op in ("join", "resume"):
                result = (
                    room.resume(tokens.get(a, "x" * 43), everyone[a])
                    if op == "resume"
                    else room.join(everyone[a])
                )
                ids[a] = result.participant.participant_id
                tokens[a] = result.resume_token
                out = list(result.outgoing)
            elif op == "admit":
                out = room.admit(actor, target)
            elif op == "deny":
                out = room.deny(actor, target)
            elif op == "remove":
                out = room.remove(actor, target)
            elif op == "leave":
                out = room.leave(actor)
            elif op == "disconnect":
                out = room.disconnect(actor)
            elif op == "reap":
                clock.advance(timedelta(seconds=seconds))
                out = room.reap()
            elif op == "chat":
                out = room.chat(actor, "hei")
            elif op == "track":
                out = room.publish_track(actor, f"t{b}", TrackKind.ROOM_CAMERA, "Kamera")
            elif op == "end":
                out = room.end(actor)
        except RoomError:
            out = []
        _check(room, before, out)
