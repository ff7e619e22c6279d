"""A live room over time, with real aiortc peers: dead peers are reset or reaped, and nothing leaks.

The room is driven the way the signaling layer drives it (``Link`` objects that collect events), with a
fixed clock for the seats' grace period and a fake monotonic clock for the peers, so that the 30 s and
5 s periods pass at once. Media is real: each client is an aiortc peer on loopback.
"""

from __future__ import annotations

import asyncio
import gc
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import cast

import pytest
from aiortc import RTCPeerConnection, RTCSessionDescription

from rooms.join_codes import JoinCodeService
from rooms.live import LiveRoom, PeerReset
from rooms.room import GRACE, Room
from rooms.roster import Identity
from server.platform.clock import FixedClock
from tests.media.live_room_clients import Client, ListLink, NoAudit
from tests.media.loopback_peers import loopback_pc, wait_until
from tests.unit.rooms.rooms_testkit import make_clock, make_people, make_spec


class Monotonic:
    """The peers' clock: moves only when told to."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FixedClock:
    return make_clock()


@pytest.fixture
def monotonic() -> Monotonic:
    return Monotonic()


@pytest.fixture
async def live(clock: FixedClock, monotonic: Monotonic) -> AsyncIterator[LiveRoom]:
    room = LiveRoom(Room(make_spec(), clock=clock), audit=NoAudit(),
                    join_codes=cast(JoinCodeService, None), peer_factory=loopback_pc, monotonic=monotonic)
    yield room
    await room.close()


async def _join(live: LiveRoom, who: Identity) -> Client:
    link = ListLink()
    result = await live.join(who, link)
    return Client(live, result.participant.participant_id, link)


async def _connected(*clients: Client) -> None:
    await wait_until(lambda: all(c.pc.connectionState == "connected" for c in clients), "peers connect")


@pytest.fixture
async def in_call(live: LiveRoom) -> AsyncIterator[tuple[Client, Client]]:
    """The specialist and the nurse in the room, both publishing, both peers connected."""
    people = make_people()
    specialist, nurse = await _join(live, people.specialist), await _join(live, people.nurse)
    try:
        await specialist.publish()
        await nurse.publish()
        await _connected(specialist, nurse)
        yield specialist, nurse
    finally:
        await specialist.close()
        await nurse.close()


async def test_a_failed_peer_is_dropped_and_its_client_asked_for_a_new_one(
        live: LiveRoom, in_call: tuple[Client, Client]) -> None:
    specialist, nurse = in_call
    old = live.peer_connections()[nurse.pid]

    await nurse.pc.close()  # the browser's side is gone (tab crashed, network device reset)
    await wait_until(lambda: old.connectionState in ("failed", "closed"), "the server sees the peer die")
    await live.tick()
    assert nurse.link.of_type(PeerReset), "the nurse's page is asked for a new peer connection"
    assert nurse.pid not in live.peer_connections()
    assert nurse.pid not in live.router.participant_ids

    nurse.new_peer_connection()
    await nurse.publish()
    await specialist.answer_offers()
    await nurse.answer_offers()
    await _connected(nurse)
    assert live.peer_connections()[nurse.pid] is not old
    publishers = {o.publisher_id for o in live.router.outgoing_tracks(specialist.pid) if o.live}
    assert publishers == {nurse.pid}


async def test_a_peer_that_died_while_the_socket_was_down_is_reset_on_resume(
        live: LiveRoom, in_call: tuple[Client, Client]) -> None:
    _specialist, nurse = in_call
    assert nurse.link.result is not None
    token = nurse.link.result.resume_token
    old = live.peer_connections()[nurse.pid]

    live.detach(nurse.pid, nurse.link)  # the socket drops ...
    await nurse.pc.close()  # ... and so does the media
    await wait_until(lambda: old.connectionState in ("failed", "closed"), "the server sees the peer die")
    await live.tick()
    assert nurse.pid not in live.peer_connections()

    again = ListLink()
    await live.resume(token, make_people().nurse, again)
    assert again.of_type(PeerReset), "the resumed page is told its media must be made anew"


async def test_a_participant_who_vanishes_is_reaped_with_the_peer_after_the_grace_period(
        live: LiveRoom, clock: FixedClock, in_call: tuple[Client, Client]) -> None:
    _specialist, nurse = in_call
    server_pc = live.peer_connections()[nurse.pid]

    live.detach(nurse.pid, nurse.link)  # socket gone; media would stop too, but the server cannot know
    clock.advance(GRACE - timedelta(seconds=1))
    await live.tick()
    assert nurse.pid in live.peer_connections(), "the seat and its media are kept through the grace period"

    clock.advance(timedelta(seconds=2))
    await live.tick()
    assert nurse.pid not in live.room.roster().participant_ids
    await wait_until(lambda: nurse.pid not in live.peer_connections(), "the peer is reaped")
    await wait_until(lambda: server_pc.connectionState == "closed", "the server's peer is closed")
    assert nurse.pid not in live.router.participant_ids


def _open_peer_connections() -> int:
    gc.collect()
    return sum(1 for o in gc.get_objects()
               if isinstance(o, RTCPeerConnection) and o.connectionState != "closed")


async def _settled_tasks(baseline: int) -> int:
    """The number of running tasks, after giving closing peers a moment to finish their own tasks."""
    for _ in range(100):
        count = len(asyncio.all_tasks())
        if count <= baseline:
            return count
        await asyncio.sleep(0.05)
    return len(asyncio.all_tasks())


async def test_a_thousand_joins_and_leaves_leak_no_seats_links_peers_or_tasks(live: LiveRoom) -> None:
    people = make_people()
    specialist = await _join(live, people.specialist)
    await specialist.publish()
    await _connected(specialist)
    await asyncio.sleep(0.2)
    tasks_before = len(asyncio.all_tasks())
    peers_before = _open_peer_connections()

    # 1,000 cycles through the signaling side: staff straight in, guests through the waiting room
    for i in range(1000):
        who = people.nurse if i % 2 == 0 else people.relative
        link = ListLink()
        result = await live.join(who, link)
        await live.leave(result.participant.participant_id)
        assert link.closed_with == "released"
    # and cycles with media: join, publish, connect, leave
    for _ in range(20):
        nurse = await _join(live, people.nurse)
        await nurse.publish()
        await specialist.answer_offers()
        await _connected(nurse)
        await live.leave(nurse.pid)
        await nurse.close()
        await specialist.answer_offers()

    assert live.room.roster().participant_ids == {specialist.pid}
    assert list(live.peer_connections()) == [specialist.pid]
    assert live.router.participant_ids == [specialist.pid]
    await wait_until(lambda: _open_peer_connections() <= peers_before, "left peers are closed")
    leftover = await _settled_tasks(tasks_before)
    assert leftover <= tasks_before, Counter(
        str(t.get_coro()).split(" at ")[0].removeprefix("<coroutine object ") for t in asyncio.all_tasks())
    await specialist.close()


async def test_an_offer_sent_again_after_a_lost_answer_is_answered_and_changes_nothing(
        live: LiveRoom, in_call: tuple[Client, Client]) -> None:
    """The page sends its offer again when the socket that carried it (or the answer) died."""
    specialist, nurse = in_call
    await nurse.answer_offers()
    await specialist.answer_offers()
    before = sorted((p.label, p.mid) for p in live.router.publications(nurse.pid))
    server_pc = live.peer_connections()[nurse.pid]

    await nurse.pc.setLocalDescription(await nurse.pc.createOffer())
    offer = nurse.pc.localDescription.sdp
    await live.handle_offer(nurse.pid, offer)  # answered, but the answer is lost with the socket
    answer = await live.handle_offer(nurse.pid, offer)  # sent again on the resumed socket
    await nurse.pc.setRemoteDescription(RTCSessionDescription(answer, "answer"))

    assert live.peer_connections()[nurse.pid] is server_pc, "the same peer connection goes on"
    assert sorted((p.label, p.mid) for p in live.router.publications(nurse.pid)) == before
    assert nurse.pc.signalingState == "stable" and server_pc.connectionState == "connected"
