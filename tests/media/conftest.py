from collections.abc import AsyncIterator, Callable

import pytest
from aiortc import AudioStreamTrack, RTCSessionDescription

from rooms.media import MediaRouter
from rooms.media.codec_pinning import pinned_codec_preferences
from rooms.media.forwarding_mode import ForwardingMode

from .loopback_peers import LoopbackClient, SyntheticVideo, assert_no_task_left, wait_until


def _unchanged(description: str) -> str:
    return description


class LoopbackRoom:
    """A MediaRouter with in-process clients; records renegotiation notifications."""

    def __init__(self, forwarding: ForwardingMode = "frames") -> None:
        self.notified: list[str] = []
        self.router = MediaRouter(on_renegotiation_needed=self.notified.append, forwarding=forwarding)
        self.clients: dict[str, LoopbackClient] = {}

    async def join(self, participant_id: str, publish: bool = True) -> LoopbackClient:
        client = LoopbackClient(participant_id, self.router)
        self.clients[participant_id] = client
        await client.join(publish=publish)
        return client

    async def join_like_a_browser(
        self,
        participant_id: str,
        *,
        as_sent: Callable[[str], str] = _unchanged,
        server_offer_as_sent: Callable[[str], str] = _unchanged,
    ) -> tuple[LoopbackClient, str]:
        """Join publishing audio and video, the client's offer rewritten by ``as_sent`` (a browser's own
        numbering), and meet the server's offer of the others' tracks early, as a browser does.

        The server offers before the client has applied its answer, so no transport is up yet; that
        offer (rewritten by ``server_offer_as_sent``, as the live room does) is answered only once the
        transport is connected and the server receives. Returns the client and that offer.
        """
        client = LoopbackClient(participant_id, self.router)
        self.clients[participant_id] = client
        self.router.add_participant(participant_id, client.server_pc)
        for track in (SyntheticVideo(), AudioStreamTrack()):
            transceiver = client.pc.addTransceiver(track, direction="sendonly")
            transceiver.setCodecPreferences(pinned_codec_preferences(track.kind))
        await client.pc.setLocalDescription(await client.pc.createOffer())
        offer = as_sent(client.pc.localDescription.sdp)
        labels = {t.mid: ("room_camera" if t.kind == "video" else "audio")
                  for t in client.pc.getTransceivers() if t.mid}
        answer = await self.router.handle_offer(participant_id, offer, labels)
        assert self.router.needs_renegotiation(participant_id)
        server_offer = server_offer_as_sent(await self.router.create_offer(participant_id))
        await client.pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
        await wait_until(lambda: client.server_pc.connectionState == "connected", "the transport connects")
        await wait_until(lambda: all(r._RTCRtpReceiver__started for r in client.server_pc.getReceivers()
                                     if r.track is not None), "the server receives")
        await client.pc.setRemoteDescription(RTCSessionDescription(sdp=server_offer, type="offer"))
        await client.pc.setLocalDescription(await client.pc.createAnswer())
        await self.router.handle_answer(participant_id, client.pc.localDescription.sdp)
        return client, server_offer

    async def sync_all(self) -> None:
        for client in self.clients.values():
            await client.sync()

    async def leave(self, participant_id: str) -> None:
        client = self.clients.pop(participant_id)
        await self.router.remove_participant(participant_id)
        await client.close()

    async def close(self) -> None:
        await self.router.close()
        for client in self.clients.values():
            await client.close()


@pytest.fixture
async def room() -> AsyncIterator[LoopbackRoom]:
    async for loopback_room in _room("frames"):
        yield loopback_room


@pytest.fixture
async def packet_room() -> AsyncIterator[LoopbackRoom]:
    """A room whose router forwards RTP packets (``forwarding="packets"``)."""
    async for loopback_room in _room("packets"):
        yield loopback_room


async def _room(forwarding: ForwardingMode) -> AsyncIterator[LoopbackRoom]:
    loopback_room = LoopbackRoom(forwarding)
    try:
        yield loopback_room
    finally:
        await loopback_room.close()
    await assert_no_task_left("the room")  # nothing of the router or of aiortc may outlive the room
