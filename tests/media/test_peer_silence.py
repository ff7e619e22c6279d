"""What the server counts to tell a silent peer: real aiortc peers over loopback.

The silence rule (:mod:`rooms.peer_health`) is only as good as the count it is given: a publishing
peer's count must grow while its media flow, and a peer that only receives must not be counted at all
(its silence says nothing). An aiortc upgrade that moved the transport's counters fails here.
"""

from __future__ import annotations

import asyncio

from aiortc import RTCPeerConnection

from rooms.live_media import packets_received

from .loopback_peers import SyntheticVideo, loopback_pc, wait_until


async def _connect(client: RTCPeerConnection, server: RTCPeerConnection) -> None:
    await client.setLocalDescription(await client.createOffer())
    await server.setRemoteDescription(client.localDescription)
    await server.setLocalDescription(await server.createAnswer())
    await client.setRemoteDescription(server.localDescription)
    await wait_until(lambda: server.connectionState == "connected", "the peers connected")


async def test_a_publishing_peer_is_counted_and_its_count_grows() -> None:
    client, server = loopback_pc(), loopback_pc()
    try:
        client.addTransceiver(SyntheticVideo(), direction="sendonly")
        await _connect(client, server)
        first = await packets_received(server)
        assert first is not None
        await asyncio.sleep(0.5)
        later = await packets_received(server)
        assert later is not None and later > first
    finally:
        await client.close()
        await server.close()


async def test_a_peer_that_only_receives_is_not_counted() -> None:
    client, server = loopback_pc(), loopback_pc()
    try:
        client.addTransceiver("video", direction="recvonly")
        await _connect(client, server)
        assert await packets_received(server) is None
    finally:
        await client.close()
        await server.close()
