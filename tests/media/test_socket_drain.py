"""The server reads every datagram waiting on a peer's ICE sockets per wake-up (rooms/media/socket_drain.py).

It reaches into aioice and asyncio's selector loop; if either moves, these tests say so before the
media path silently goes back to one datagram per loop turn.
"""

from __future__ import annotations

import asyncio
import socket

from rooms.media import socket_drain
from rooms.media.socket_drain import MAX_PER_WAKEUP, drain_ice_sockets

from .conftest import LoopbackRoom
from .loopback_peers import wait_until


async def test_every_ice_socket_of_a_negotiated_peer_is_drained_and_media_still_flows(room: LoopbackRoom) -> None:
    nurse = await room.join("nurse")
    specialist = await room.join("specialist")
    await room.sync_all()
    for client in (nurse, specialist):
        protocols = [p for t in client.server_pc.getTransceivers()
                     for p in t.receiver.transport.transport._connection._protocols]
        assert protocols, "aioice keeps its sockets' protocols where the drain looks for them"
        assert all(getattr(p, "samkonsult_drained", False) for p in protocols)
        assert drain_ice_sockets(client.server_pc) == 0, "a second call switches nothing again"
    await wait_until(lambda: nurse.frames_from("specialist", "video") > 10
                     and specialist.frames_from("nurse", "video") > 10, "media flows through drained sockets")


class _Collecting(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.received: list[bytes] = []

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.received.append(data)


async def test_a_burst_is_read_in_bounded_batches_without_losing_a_datagram() -> None:
    loop = asyncio.get_running_loop()
    transport, protocol = await loop.create_datagram_endpoint(_Collecting, local_addr=("127.0.0.1", 0))
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        socket_drain._read_until_empty(loop, transport.get_extra_info("socket")._sock, protocol)
        burst = MAX_PER_WAKEUP * 3 + 5
        for index in range(burst):
            sender.sendto(index.to_bytes(4, "big"), transport.get_extra_info("sockname"))
        async with asyncio.timeout(10):
            while len(protocol.received) < burst:  # noqa: ASYNC110
                await asyncio.sleep(0.01)
        assert [int.from_bytes(d, "big") for d in protocol.received] == list(range(burst))
    finally:
        sender.close()
        transport.close()
