"""One-time join codes: entropy, hashing, the validity window, single use, refusals and rate limits."""

from __future__ import annotations

import asyncio
import dataclasses
import math
import secrets
from datetime import datetime, timedelta

import pytest

from rooms.errors import InvalidInvite, JoinCodeRateLimited, JoinCodeRefused, RefusalReason
from rooms.join_codes import (
    ALPHABET,
    CODE_BITS,
    CODE_LENGTH,
    AttemptLimiter,
    IssuedCode,
    JoinCodeRecord,
    JoinCodeService,
    hash_code,
    normalize_code,
)
from rooms.roster import ParticipantRole
from server.platform.clock import FixedClock
from tests.unit.rooms.rooms_testkit import END, START


class MemoryRepository:
    """The repository Protocol in a dict; ``find`` yields to the loop so redemptions can race."""

    def __init__(self) -> None:
        self.records: dict[str, JoinCodeRecord] = {}

    async def add(self, record: JoinCodeRecord) -> None:
        self.records[record.code_hash] = record

    async def find(self, code_hash: str) -> JoinCodeRecord | None:
        await asyncio.sleep(0)
        return self.records.get(code_hash)

    async def mark_used(self, code_hash: str, used_at: datetime) -> bool:
        record = self.records.get(code_hash)
        if record is None or record.used_at is not None:
            return False
        self.records[code_hash] = dataclasses.replace(record, used_at=used_at)
        return True


@pytest.fixture
def repo() -> MemoryRepository:
    return MemoryRepository()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START - timedelta(minutes=10))


@pytest.fixture
def service(repo: MemoryRepository, clock: FixedClock) -> JoinCodeService:
    return JoinCodeService(repo, clock=clock)


async def _issue(service: JoinCodeService, room_id: str = "room-a") -> IssuedCode:
    return await service.issue(
        room_id=room_id,
        role=ParticipantRole.RELATIVE,
        display_name="Kari Nordmann",
        starts_at=START,
        ends_at=END,
        created_by="user:1",
    )


def _random_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def test_codes_have_at_least_64_bits_and_no_look_alikes() -> None:
    assert CODE_BITS >= 64
    assert math.isclose(CODE_BITS, CODE_LENGTH * math.log2(len(ALPHABET)))
    assert not set("01OIL") & set(ALPHABET)
    assert len(set(ALPHABET)) == len(ALPHABET)


async def test_issue_stores_only_the_hash(service: JoinCodeService, repo: MemoryRepository) -> None:
    issued = await _issue(service)
    assert len(issued.code) == CODE_LENGTH + 3  # four groups of four, for reading out over the phone
    normalized = normalize_code(issued.code)
    assert normalized is not None
    (record,) = repo.records.values()
    assert record.code_hash == hash_code(normalized)
    assert all(normalized not in str(value) for value in dataclasses.astuple(record))
    assert record.valid_from < START and record.valid_until > END
    assert record.used_at is None


async def test_codes_are_unique(service: JoinCodeService) -> None:
    codes = {(await _issue(service)).code for _ in range(200)}
    assert len(codes) == 200


async def test_a_code_is_exchanged_once(service: JoinCodeService) -> None:
    issued = await _issue(service)
    grant = await service.redeem(issued.code, room_id="room-a", client_key="10.0.0.1")
    assert grant.room_id == "room-a"
    assert grant.role is ParticipantRole.RELATIVE
    assert grant.subject.startswith("code:")
    identity = grant.identity()
    assert identity.role is ParticipantRole.RELATIVE and identity.display_name == "Kari Nordmann"

    with pytest.raises(JoinCodeRefused) as again:
        await service.redeem(issued.code, room_id="room-a", client_key="10.0.0.1")
    assert again.value.reason is RefusalReason.USED
    assert again.value.code == "join_code_refused"


async def test_typing_is_forgiving_about_case_spaces_and_dashes(service: JoinCodeService) -> None:
    issued = await _issue(service)
    typed = " " + issued.code.lower().replace("-", " ") + " "
    assert (await service.redeem(typed, room_id="room-a", client_key="k")).room_id == "room-a"


async def test_two_concurrent_redemptions_get_one_seat(service: JoinCodeService) -> None:
    issued = await _issue(service)
    results = await asyncio.gather(
        service.redeem(issued.code, room_id="room-a", client_key="a"),
        service.redeem(issued.code, room_id="room-a", client_key="b"),
        return_exceptions=True,
    )
    assert sum(not isinstance(r, BaseException) for r in results) == 1
    (refused,) = [r for r in results if isinstance(r, JoinCodeRefused)]
    assert refused.reason is RefusalReason.USED


@pytest.mark.parametrize("code", ["", "   ", "ABC", "0" * CODE_LENGTH, "x" * 10_000_000])
async def test_no_code_or_a_malformed_code_is_refused(service: JoinCodeService, code: str) -> None:
    with pytest.raises(JoinCodeRefused) as refused:
        await service.redeem(code, room_id="room-a", client_key="k")
    assert refused.value.reason is RefusalReason.MALFORMED
    assert refused.value.code == "join_code_refused"


async def test_a_guessed_code_is_refused(service: JoinCodeService) -> None:
    await _issue(service)
    with pytest.raises(JoinCodeRefused) as refused:
        await service.redeem(_random_code(), room_id="room-a", client_key="k")
    assert refused.value.reason is RefusalReason.UNKNOWN


async def test_a_code_for_another_room_is_refused(service: JoinCodeService) -> None:
    issued = await _issue(service, room_id="room-a")
    with pytest.raises(JoinCodeRefused) as refused:
        await service.redeem(issued.code, room_id="room-b", client_key="k")
    assert refused.value.reason is RefusalReason.OTHER_ROOM
    # Trying it elsewhere does not spend it.
    assert (await service.redeem(issued.code, room_id="room-a", client_key="k")).room_id == "room-a"


async def test_unknown_used_and_other_room_look_the_same_to_the_caller(service: JoinCodeService) -> None:
    used = await _issue(service)
    await service.redeem(used.code, room_id="room-a", client_key="k")
    other = await _issue(service, room_id="room-b")
    seen = set()
    for code in (used.code, other.code, _random_code(), "nonsense"):
        with pytest.raises(JoinCodeRefused) as refused:
            await service.redeem(code, room_id="room-a", client_key="k")
        seen.add((refused.value.code, refused.value.message, refused.value.valid_from))
    assert len(seen) == 1


async def test_an_expired_code_is_refused(service: JoinCodeService, clock: FixedClock) -> None:
    issued = await _issue(service)
    clock.current = issued.record.valid_until
    with pytest.raises(JoinCodeRefused) as refused:
        await service.redeem(issued.code, room_id="room-a", client_key="k")
    assert refused.value.reason is RefusalReason.EXPIRED
    assert refused.value.code == "join_code_expired"


async def test_a_code_is_not_valid_long_before_the_consultation(
    service: JoinCodeService, clock: FixedClock
) -> None:
    issued = await _issue(service)
    clock.current = issued.record.valid_from - timedelta(seconds=1)
    with pytest.raises(JoinCodeRefused) as refused:
        await service.redeem(issued.code, room_id="room-a", client_key="k")
    assert refused.value.reason is RefusalReason.NOT_YET_VALID
    assert refused.value.valid_from == issued.record.valid_from  # so the page can say when to come back
    clock.current = issued.record.valid_from
    assert (await service.redeem(issued.code, room_id="room-a", client_key="k")).room_id == "room-a"


async def test_staff_roles_get_no_join_code(service: JoinCodeService) -> None:
    with pytest.raises(InvalidInvite):
        await service.issue(
            room_id="room-a",
            role=ParticipantRole.SPECIALIST,
            display_name="Lege",
            starts_at=START,
            ends_at=END,
            created_by="user:1",
        )


async def test_wrong_codes_are_rate_limited_per_client(service: JoinCodeService, clock: FixedClock) -> None:
    issued = await _issue(service)
    for _ in range(10):
        with pytest.raises(JoinCodeRefused):
            await service.redeem(_random_code(), room_id="room-a", client_key="guesser")
    # Further wrong codes from that client are answered "wait"...
    with pytest.raises(JoinCodeRateLimited) as limited:
        await service.redeem(_random_code(), room_id="room-a", client_key="guesser")
    assert limited.value.code == "rate_limited"
    assert 0 < limited.value.retry_after_seconds <= 600
    # ...while another client is unaffected,
    with pytest.raises(JoinCodeRefused):
        await service.redeem(_random_code(), room_id="room-a", client_key="someone else")
    # and the limit lifts once the window has passed.
    clock.advance(timedelta(minutes=10))
    with pytest.raises(JoinCodeRefused):
        await service.redeem(_random_code(), room_id="room-a", client_key="guesser")
    assert (await service.redeem(issued.code, room_id="room-a", client_key="guesser")).room_id == "room-a"


async def test_a_valid_code_is_accepted_from_a_limited_client(service: JoinCodeService) -> None:
    """The patient who mistyped ten times (or shares a proxy's address with a guesser) still gets in."""
    issued = await _issue(service)
    for _ in range(10):
        with pytest.raises(JoinCodeRefused):
            await service.redeem(_random_code(), room_id="room-a", client_key="shared proxy")
    with pytest.raises(JoinCodeRateLimited):
        await service.redeem(_random_code(), room_id="room-a", client_key="shared proxy")
    grant = await service.redeem(issued.code, room_id="room-a", client_key="shared proxy")
    assert grant.room_id == "room-a"
    with pytest.raises(JoinCodeRateLimited):  # and once used it is a wrong code like any other
        await service.redeem(issued.code, room_id="room-a", client_key="shared proxy")


async def test_wrong_codes_from_many_clients_never_lock_a_room(repo: MemoryRepository, clock: FixedClock) -> None:
    service = JoinCodeService(repo, clock=clock)
    issued = await _issue(service)
    for n in range(100):  # a distributed guess at one room: ten wrong codes from each of ten clients
        with pytest.raises(JoinCodeRefused):
            await service.redeem(_random_code(), room_id="room-a", client_key=f"bot-{n % 10}")
    assert (await service.redeem(issued.code, room_id="room-a", client_key="patient")).room_id == "room-a"


async def test_too_early_attempts_by_the_code_holder_do_not_count(
    service: JoinCodeService, clock: FixedClock
) -> None:
    issued = await _issue(service)
    clock.current = issued.record.valid_from - timedelta(minutes=5)
    for _ in range(20):
        with pytest.raises(JoinCodeRefused):
            await service.redeem(issued.code, room_id="room-a", client_key="eager")
    clock.current = issued.record.valid_from
    assert (await service.redeem(issued.code, room_id="room-a", client_key="eager")).room_id == "room-a"


def test_limiter_forgets_old_keys() -> None:
    limiter = AttemptLimiter(max_failures=2, window=timedelta(minutes=1), max_keys=3)
    now = START
    for key in ("a", "b", "c"):
        limiter.record_failure(key, now)
    limiter.record_failure("a", now)
    assert limiter.retry_after("a", now) == timedelta(minutes=1)
    later = now + timedelta(minutes=1)
    limiter.record_failure("d", later)  # over max_keys: stale keys are dropped first
    assert limiter.retry_after("a", later) is None
    assert limiter.tracked_keys() <= {"a", "d"}


# --- a code alone, without a room ---------------------------------------------------------------------


async def test_a_code_alone_finds_its_room(service: JoinCodeService) -> None:
    await _issue(service, room_id="room-a")
    issued = await _issue(service, room_id="room-b")
    grant = await service.redeem(issued.code.lower().replace("-", " "), room_id=None, client_key="k")
    assert grant.room_id == "room-b" and grant.code_id == issued.record.code_id
    with pytest.raises(JoinCodeRefused) as used:  # still exactly once
        await service.redeem(issued.code, room_id=None, client_key="k")
    assert used.value.reason is RefusalReason.USED


async def test_without_a_room_unknown_and_used_codes_look_the_same(service: JoinCodeService) -> None:
    used = await _issue(service)
    await service.redeem(used.code, room_id=None, client_key="k")
    seen = set()
    for code in (_random_code(), used.code, "not a code"):
        with pytest.raises(JoinCodeRefused) as refused:
            await service.redeem(code, room_id=None, client_key="k")
        seen.add((refused.value.code, str(refused.value)))
    assert len(seen) == 1


async def test_without_a_room_the_client_limit_still_applies(service: JoinCodeService) -> None:
    issued = await _issue(service)
    for _ in range(10):
        with pytest.raises(JoinCodeRefused):
            await service.redeem(_random_code(), room_id=None, client_key="guesser")
    with pytest.raises(JoinCodeRateLimited):
        await service.redeem(_random_code(), room_id=None, client_key="guesser")
    assert (await service.redeem(issued.code, room_id=None, client_key="guesser")).room_id == "room-a"


async def test_a_used_code_retried_by_many_clients_never_locks_its_room(service: JoinCodeService) -> None:
    used = await _issue(service)
    fresh = await _issue(service)
    await service.redeem(used.code, room_id=None, client_key="a")
    for n in range(40):
        with pytest.raises(JoinCodeRefused):
            await service.redeem(used.code, room_id=None, client_key=f"bot-{n}")
    assert (await service.redeem(fresh.code, room_id="room-a", client_key="patient")).room_id == "room-a"
