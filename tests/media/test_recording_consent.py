"""Recording only with everyone's consent, in a live room: the consent matrix, joining mid-recording,
withdrawal, a failing recorder and the end of the consultation. Real room, real in-process media and the
recordings policy's real rules; the keeper and the recorder are stand-ins that keep what they are told."""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import cast

import pytest

from rooms.errors import Forbidden
from rooms.events import RosterChanged
from rooms.join_codes import JoinCodeService
from rooms.live import LiveRoom
from rooms.live_media import in_process_media
from rooms.media.frame_sink import RecordedTrack
from rooms.recording_consent import (
    RECORDER_NAME,
    NoRecordingProposed,
    RecordingRefused,
    RecordingStatus,
    RecordingUnavailable,
)
from rooms.recording_tap import RecordingFailed, RecordingOrder
from rooms.room import Room
from rooms.roster import Identity, ParticipantId
from server.recording_rules import PolicyRecordingRules
from tests.media.live_room_clients import ListLink, NoAudit
from tests.media.loopback_peers import loopback_pc, wait_until
from tests.unit.rooms.rooms_testkit import make_clock, make_people, make_spec


class Audit(NoAudit):
    def __init__(self) -> None:
        self.rows: list[tuple[str, str]] = []

    async def record(self, identity: Identity, action: str, *, reason: str = "") -> None:
        self.rows.append((identity.display_name, action))


@dataclass
class Keeper:
    begun: list[tuple[str, str, str]] = field(default_factory=list)
    finished: list[tuple[str, str]] = field(default_factory=list)

    async def begin(self, *, booking_id: str, purpose: str, proposed_by: Identity,
                    started_by: Identity) -> RecordingOrder:
        self.begun.append((booking_id, purpose, proposed_by.display_name))
        return RecordingOrder(f"rec-{len(self.begun)}", "unused", "unused", b"k" * 32)

    async def finish(self, recording_id: str, *, reason: str) -> None:
        self.finished.append((recording_id, reason))


class Sink:
    def __init__(self, on_failure: RecordingFailed) -> None:
        self.on_failure = on_failure
        self.closed = False

    def set_tracks(self, tracks: Sequence[RecordedTrack]) -> None:
        return None

    def frame(self, track: RecordedTrack, data: bytes, timestamp: int, is_keyframe: bool) -> None:
        return None

    def wants_keyframe(self, track: RecordedTrack) -> bool:
        return False

    async def close(self) -> None:
        self.closed = True


@dataclass
class Room3:
    live: LiveRoom
    keeper: Keeper
    audit: Audit
    sinks: list[Sink]
    links: dict[str, ListLink]
    ids: dict[str, ParticipantId]

    def statuses(self, who: str) -> list[RecordingStatus]:
        return [cast(RecordingStatus, e) for e in self.links[who].of_type(RecordingStatus)]

    def last(self, who: str) -> RecordingStatus:
        return self.statuses(who)[-1]


async def _room(*, recording: bool = True, who: Collection[str] = ("specialist", "nurse", "relative")) -> Room3:
    keeper, audit, sinks = Keeper(), Audit(), []

    def recorder(order: RecordingOrder, on_failure: RecordingFailed) -> Sink:
        sinks.append(Sink(on_failure))
        return sinks[-1]

    live = LiveRoom(Room(make_spec(), clock=make_clock()), audit=audit, join_codes=cast(JoinCodeService, None),
                    peer_factory=loopback_pc, media_factory=in_process_media(loopback_pc, recorder),
                    recording_rules=PolicyRecordingRules() if recording else None,
                    recording_keeper=keeper if recording else None)
    room = Room3(live, keeper, audit, sinks, {}, {})
    for name in who:
        await _enter(room, name)
    return room


async def _enter(room: Room3, name: str) -> None:
    people = make_people()
    link = ListLink()
    result = await room.live.join(getattr(people, name), link)
    room.links[name], room.ids[name] = link, result.participant.participant_id
    if not result.participant.is_admitted:
        await room.live.admit(room.ids["specialist"], room.ids[name])
    await _settle()


async def _settle() -> None:
    for _ in range(5):  # the room re-evaluates recording after a roster change in a task of its own
        await asyncio.sleep(0)


async def test_one_decline_and_nothing_is_recorded() -> None:
    room = await _room()
    try:
        await room.live.propose_recording(room.ids["specialist"], "teaching")
        for who in ("specialist", "nurse", "relative"):
            status = room.last(who)
            assert status.state == "proposed" and status.purpose == "teaching" and status.retention_days == 90
            assert status.recorder_name is None
        assert set(room.last("relative").waiting_for) == {room.ids["nurse"], room.ids["relative"]}
        await room.live.answer_recording(room.ids["nurse"], True)
        await room.live.answer_recording(room.ids["relative"], False)
        assert room.keeper.begun == [] and room.sinks == []
        assert all(room.last(w) == RecordingStatus("none", ended_reason="declined") for w in room.links)
        assert ("Kari Nordmann", "recording_declined") in room.audit.rows
    finally:
        await room.live.close()


async def test_everyone_agrees_it_records_and_one_withdrawal_stops_it_for_all() -> None:
    room = await _room()
    try:
        await room.live.propose_recording(room.ids["specialist"], "teaching")
        await room.live.answer_recording(room.ids["relative"], True)
        assert room.keeper.begun == []  # the nurse has not agreed yet
        await room.live.answer_recording(room.ids["nurse"], True)
        assert room.keeper.begun == [(make_spec().booking_id, "teaching", "Lege Berg")]
        for who in room.links:
            status = room.last(who)
            assert status.state == "recording" and status.recorder_name == RECORDER_NAME  # never hidden
            assert set(status.recorded) == set(room.ids.values())
        assert len(room.sinks) == 1 and not room.sinks[0].closed
        for who in room.links:
            roster = cast(RosterChanged, room.links[who].of_type(RosterChanged)[-1]).roster
            assert roster.recorder is not None and roster.recorder.display_name == RECORDER_NAME
            assert (roster.recorder.purpose, roster.recorder.proposed_by_name) == ("teaching", "Lege Berg")

        await room.live.withdraw_recording(room.ids["nurse"])
        assert room.sinks[0].closed
        assert room.keeper.finished == [("rec-1", "withdrawn")]
        assert all(room.last(w) == RecordingStatus("none", ended_reason="withdrawn", kept_days=90) for w in room.links)
        assert all(cast(RosterChanged, room.links[w].of_type(RosterChanged)[-1]).roster.recorder is None
                   for w in room.links)
        assert [a for _, a in room.audit.rows if a.startswith("recording_")] == [
            "recording_proposed", "recording_agreed", "recording_agreed", "recording_withdrawn"]
        with pytest.raises(NoRecordingProposed):
            await room.live.withdraw_recording(room.ids["nurse"])
    finally:
        await room.live.close()


async def test_someone_who_joins_while_recording_is_asked_and_left_out_until_they_agree() -> None:
    room = await _room(who=("specialist", "nurse"))
    try:
        await room.live.propose_recording(room.ids["specialist"], "documentation")
        await room.live.answer_recording(room.ids["nurse"], True)
        assert room.last("nurse").state == "recording"

        await _enter(room, "relative")
        await wait_until(lambda: room.statuses("relative") != [], "the newcomer is asked")
        status = room.last("relative")
        assert status.state == "recording" and status.waiting_for == (room.ids["relative"],)
        assert room.ids["relative"] not in status.recorded
        assert room.live.recording.recorded == tuple(sorted((room.ids["specialist"], room.ids["nurse"])))

        await room.live.answer_recording(room.ids["relative"], True)
        assert set(room.last("specialist").recorded) == set(room.ids.values())
        assert len(room.keeper.begun) == 1  # the same recording goes on
    finally:
        await room.live.close()


async def test_only_staff_propose_and_only_for_a_purpose_of_the_policy() -> None:
    room = await _room()
    try:
        with pytest.raises(Forbidden):
            await room.live.propose_recording(room.ids["relative"], "teaching")
        with pytest.raises(RecordingRefused):
            await room.live.propose_recording(room.ids["specialist"], "marketing")
        with pytest.raises(NoRecordingProposed):
            await room.live.answer_recording(room.ids["relative"], True)
        await room.live.propose_recording(room.ids["nurse"], "patient_request")
        with pytest.raises(RecordingRefused):
            await room.live.propose_recording(room.ids["specialist"], "teaching")
    finally:
        await room.live.close()
    unavailable = await _room(recording=False)
    try:
        with pytest.raises(RecordingUnavailable):
            await unavailable.live.propose_recording(unavailable.ids["specialist"], "teaching")
    finally:
        await unavailable.live.close()


async def _recording(room: Room3) -> None:
    await room.live.propose_recording(room.ids["specialist"], "teaching")
    await room.live.answer_recording(room.ids["nurse"], True)
    await room.live.answer_recording(room.ids["relative"], True)
    assert room.last("nurse").state == "recording"


async def test_a_failing_recorder_stops_the_recording_and_everyone_is_told_not_the_call() -> None:
    room = await _room()
    try:
        await _recording(room)
        room.sinks[0].on_failure("disk_full")
        await wait_until(lambda: room.keeper.finished == [("rec-1", "disk_full")], "the keeper hears of it")
        assert all(room.last(w) == RecordingStatus("none", ended_reason="disk_full", kept_days=90) for w in room.links)
        assert not room.live.closed
    finally:
        await room.live.close()


async def test_leaving_stops_recording_that_person_and_the_end_of_the_consultation_closes_it() -> None:
    room = await _room()
    try:
        await _recording(room)
        await room.live.leave(room.ids["relative"])
        await wait_until(lambda: room.ids["relative"] not in room.last("nurse").recorded, "no longer recorded")
        await room.live.end(room.ids["specialist"])
        assert room.keeper.finished == [("rec-1", "ended")]
        assert room.sinks[0].closed
    finally:
        await room.live.close()


async def test_a_proposal_whose_proposer_left_before_everyone_agreed_ends() -> None:
    room = await _room()
    try:
        await room.live.propose_recording(room.ids["nurse"], "documentation")
        await room.live.leave(room.ids["nurse"])
        await wait_until(lambda: room.last("relative").state == "none", "the proposal ends")
        assert room.last("relative") == RecordingStatus("none", ended_reason="proposer_left")
        with pytest.raises(NoRecordingProposed):
            await room.live.answer_recording(room.ids["relative"], True)
        assert room.keeper.begun == []
    finally:
        await room.live.close()


async def test_a_recording_that_cannot_be_kept_does_not_start_and_everyone_is_told() -> None:
    room = await _room()

    async def broken(**_: object) -> RecordingOrder:
        raise OSError("the database is away")

    room.keeper.begin = broken  # type: ignore[method-assign,assignment]
    try:
        await room.live.propose_recording(room.ids["specialist"], "teaching")
        await room.live.answer_recording(room.ids["nurse"], True)
        await room.live.answer_recording(room.ids["relative"], True)
        assert room.sinks == []
        assert all(room.last(w) == RecordingStatus("none", ended_reason="store_error") for w in room.links)
    finally:
        await room.live.close()


async def test_a_new_tab_or_a_reconnect_is_told_where_recording_stands() -> None:
    room = await _room()
    try:
        await _recording(room)
        tab = ListLink()
        await room.live.join(make_people().relative, tab)  # the same person on a new tab
        statuses = tab.of_type(RecordingStatus)
        assert statuses and cast(RecordingStatus, statuses[-1]).state == "recording"
    finally:
        await room.live.close()
