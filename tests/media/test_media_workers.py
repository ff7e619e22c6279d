"""Media in worker processes: real worker processes, real aiortc peers on loopback, a worker killed.

Each live room is pinned to one worker; the serving side (this test process) keeps the rooms' state and
only talks to the workers over their channels. Killing a worker with SIGKILL must cost its rooms no more
than a new peer connection each, and leave the rooms on the other worker alone.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
from collections.abc import AsyncIterator
from typing import cast

import pytest

from rooms.join_codes import JoinCodeService
from rooms.live import LiveRoom, PeerReset, ServerOffer
from rooms.media import MediaError
from rooms.media_workers import MediaWorkerPool, RemoteRoomMedia
from rooms.members import Member
from rooms.room import Room
from rooms.roster import ParticipantId
from rooms.seats import RoomSpec
from server.media_worker import main as media_worker_main
from server.media_worker import worker_command
from server.platform.clock import FixedClock
from tests.media.live_room_clients import (
    Client,
    ListLink,
    NoAudit,
    exchange_offers,
    join_client,
    specialist_and_nurse_in_call,
)
from tests.media.loopback_peers import loopback_pc, wait_until
from tests.unit.rooms.rooms_testkit import make_clock, make_people, make_spec


@pytest.fixture
async def pool() -> AsyncIterator[MediaWorkerPool]:
    workers = MediaWorkerPool(2, worker_command())
    await workers.start()
    yield workers
    await workers.close()


def _live(pool: MediaWorkerPool, clock: FixedClock, spec: RoomSpec) -> LiveRoom:
    return LiveRoom(Room(spec, clock=clock), audit=NoAudit(), join_codes=cast(JoinCodeService, None),
                    peer_factory=loopback_pc, media_factory=pool.room_media)


def _second_spec() -> RoomSpec:
    return dataclasses.replace(make_spec(), room_id="room-2", booking_id="43")


async def _receiving(*clients: Client, more_than: int = 10) -> None:
    await wait_until(lambda: all(c.frames["video"] > more_than and c.frames["audio"] > more_than for c in clients),
                     "video and audio arrive through the worker")


async def _close(*clients: Client) -> None:
    for client in clients:
        await client.close()


async def test_rooms_are_spread_over_the_workers_and_media_flows_through_them(pool: MediaWorkerPool) -> None:
    clock = make_clock()
    first, second = _live(pool, clock, make_spec()), _live(pool, clock, _second_spec())
    clients: list[Client] = []
    try:
        assert sorted(pool.placement().values()) == [0, 1], "one room on each worker"
        for live in (first, second):
            clients.extend(await specialist_and_nurse_in_call(live))
        await _receiving(*clients)
        with pytest.raises(RuntimeError):
            _ = first.router  # the forwarding is not in this process
        assert first.peer_connections() == {}, "no peer connection of the room lives in the serving process"
    finally:
        await _close(*clients)
        await first.close()
        await second.close()
    assert pool.placement() == {}


async def test_a_killed_worker_costs_its_rooms_one_new_peer_connection_each(pool: MediaWorkerPool) -> None:
    clock = make_clock()
    hit, spared = _live(pool, clock, make_spec()), _live(pool, clock, _second_spec())
    hit_clients = spared_clients = ()
    try:
        hit_clients = await specialist_and_nurse_in_call(hit)
        spared_clients = await specialist_and_nurse_in_call(spared)
        await _receiving(*hit_clients, *spared_clients)
        victim = pool.worker_pids()[pool.placement()[hit.room_id]]
        assert victim is not None

        os.kill(victim, signal.SIGKILL)
        await wait_until(lambda: all(c.link.of_type(PeerReset) for c in hit_clients),
                         "everyone with media in the lost worker's room is asked for a new peer connection")
        assert not any(c.link.of_type(PeerReset) for c in spared_clients), "the other worker's room is untouched"
        await pool.wait_ready()
        assert pool.restarts() == 1
        assert victim not in pool.worker_pids()

        before = {id(c): dict(c.frames) for c in spared_clients}
        for client in hit_clients:
            await client.pc.close()  # as the page does with the peer connection it was told is gone
            client.new_peer_connection()
            await client.publish()
        await exchange_offers(*hit_clients)
        received = {id(c): c.frames["video"] for c in hit_clients}
        await wait_until(lambda: all(c.frames["video"] > received[id(c)] + 10 for c in hit_clients),
                         "media flows again in the room whose worker died")
        assert all(c.frames["video"] > before[id(c)]["video"] for c in spared_clients), "the other room kept going"
    finally:
        await _close(*hit_clients, *spared_clients)
        await hit.close()
        await spared.close()


async def test_a_media_error_in_the_worker_reaches_the_caller_as_a_media_error(pool: MediaWorkerPool) -> None:
    live = _live(pool, make_clock(), make_spec())
    try:
        client = await join_client(live, make_people().specialist)
        with pytest.raises(MediaError, match="no server offer"):
            await live.handle_answer(client.pid, "v=0\r\n")  # nothing was offered to this participant
    finally:
        await live.close()


async def test_closing_the_pool_stops_every_worker_process() -> None:
    workers = MediaWorkerPool(2, worker_command())
    await workers.start()
    pids = [pid for pid in workers.worker_pids() if pid is not None]
    assert len(pids) == 2
    await workers.close()
    await workers.close()  # idempotent
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    await asyncio.sleep(0)


class _SlotThatOffersBeforeAnswering:
    """A worker whose next offer for the participant arrives before the reply to their own offer."""

    def __init__(self) -> None:
        self.room: RemoteRoomMedia | None = None
        self.rooms: dict[str, RemoteRoomMedia] = {}

    async def request(self, op: object) -> str:
        assert self.room is not None
        self.room.deliver("p1", ServerOffer("v=0 server offer", ()))  # read in the same go as the reply
        return "v=0 answer"


class _PoolOfOne:
    def __init__(self, slot: _SlotThatOffersBeforeAnswering) -> None:
        self.slot = slot

    def place(self, room: RemoteRoomMedia) -> _SlotThatOffersBeforeAnswering:
        self.slot.room = room
        return self.slot


async def test_the_answer_to_a_participant_s_offer_goes_out_before_the_worker_s_next_offer() -> None:
    member = Member(ParticipantId("p1"), make_people().specialist)
    link = ListLink()
    member.link = link
    media = RemoteRoomMedia(cast(MediaWorkerPool, _PoolOfOne(_SlotThatOffersBeforeAnswering())), "room",
                            {member.participant_id: member})
    answer = await media.handle_offer(member, "v=0 client offer")
    sent_with_the_answer = list(link.events)  # what the socket had when the caller sends the answer
    await asyncio.sleep(0)
    assert answer == "v=0 answer"
    assert sent_with_the_answer == [], "the server's offer waited for the answer"
    assert link.of_type(ServerOffer), "and went out right after it"


async def test_a_worker_started_for_packet_forwarding_forwards_packets() -> None:
    """``SAMKONSULT_MEDIA_FORWARDING=packets`` reaches the workers through their command line."""
    command = worker_command("packets")
    assert command[-1] == "--forwarding=packets"
    workers = MediaWorkerPool(1, command)
    await workers.start()
    live = _live(workers, make_clock(), make_spec())
    clients: tuple[Client, ...] = ()
    try:
        clients = await specialist_and_nurse_in_call(live)
        await _receiving(*clients)
    finally:
        await _close(*clients)
        await live.close()
        await workers.close()


def test_a_worker_refuses_an_unknown_forwarding_mode() -> None:
    assert media_worker_main(["--forwarding=transcode", "3"]) == 2
