"""Staff sending on a code they hold: it must be one of their room's codes, unused and unexpired."""

from __future__ import annotations

from datetime import timedelta

import pytest

from rooms.join_codes import JoinCodeService
from rooms.roster import ParticipantRole
from server.platform.clock import FixedClock
from server.platform.errors import ValidationFailed
from tests.unit.rooms.rooms_testkit import END, START
from tests.unit.rooms.test_rooms_join_codes import MemoryRepository


async def _issue(service: JoinCodeService, room_id: str) -> str:
    issued = await service.issue(room_id=room_id, role=ParticipantRole.RELATIVE, display_name="Kari Nordmann",
                                 starts_at=START, ends_at=END, created_by="user:1")
    return issued.code


def _refusal(exc: pytest.ExceptionInfo[ValidationFailed]) -> dict[str, str]:
    return exc.value.fields


async def test_a_code_of_this_room_is_found_by_its_hash_however_it_is_typed() -> None:
    service = JoinCodeService(MemoryRepository(), clock=FixedClock(START - timedelta(days=2)))
    code = await _issue(service, "room-a")
    record = await service.sendable(code.lower().replace("-", " "), room_id="room-a")
    assert record.room_id == "room-a" and record.display_name == "Kari Nordmann"
    assert record.valid_until == END + timedelta(minutes=30)


async def test_another_rooms_code_and_an_unknown_code_get_the_same_answer() -> None:
    service = JoinCodeService(MemoryRepository(), clock=FixedClock(START - timedelta(days=2)))
    code = await _issue(service, "room-a")
    with pytest.raises(ValidationFailed) as other_room:
        await service.sendable(code, room_id="room-b")
    with pytest.raises(ValidationFailed) as unknown:
        await service.sendable("ABCD-EFGH-JKMN-PQRS", room_id="room-b")
    with pytest.raises(ValidationFailed) as garbage:
        await service.sendable("not a code at all", room_id="room-b")
    assert _refusal(other_room) == _refusal(unknown) == _refusal(garbage) == {"code": "join_code_not_for_booking"}


async def test_a_used_or_expired_code_is_not_sent_on() -> None:
    clock = FixedClock(START - timedelta(minutes=10))
    service = JoinCodeService(MemoryRepository(), clock=clock)
    used = await _issue(service, "room-a")
    await service.redeem(used, room_id="room-a", client_key="c")
    with pytest.raises(ValidationFailed) as refused:
        await service.sendable(used, room_id="room-a")
    assert _refusal(refused) == {"code": "code_used_make_new"}

    code = await _issue(service, "room-a")
    clock.advance(END - START + timedelta(minutes=40))
    with pytest.raises(ValidationFailed) as expired:
        await service.sendable(code, room_id="room-a")
    assert _refusal(expired) == {"code": "code_expired_make_new"}
