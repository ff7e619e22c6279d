"""Media through the /ws endpoint: real aiortc client peers, the live room, the forwarding router.

Three participants (specialist, nurse, a relative admitted from the waiting room) each publish audio
and video; each decodes the other two, using the ``media_map`` to tell whose track is on which m-line.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient
from aiortc import AudioStreamTrack, RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from rooms.appkeys import BOOKING_DIRECTORY_FACTORY, JOIN_CODES, LIVE_REGISTRY
from rooms.registry import BookingRoom
from rooms.roster import ParticipantRole
from server.app import create_app
from server.people import totp
from server.platform.clock import FixedClock
from server.platform.settings import Settings
from tests.conftest import DEMO_TOTP_SECRET, Seeded
from tests.helpers import LoopbackSecureJar, csrf_token, login
from tests.media.loopback_peers import SyntheticVideo, wait_until

ROOM = "media-room-0123456789"
ORIGIN = {"Origin": "http://127.0.0.1"}
FRAMES = 5


class Directory:
    def __init__(self, booking: BookingRoom) -> None:
        self.booking = booking

    async def room_for(self, booking_id: str) -> BookingRoom | None:
        return self.booking if booking_id == self.booking.booking_id else None

    async def rooms_for_staff(self, user_id: int, start: Any, end: Any) -> list[BookingRoom]:
        return [self.booking]


class ClientPeer:
    """A browser stand-in: signals over /ws, publishes synthetic audio and video, decodes what arrives."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, participant_id: str) -> None:
        self.ws = ws
        self.participant_id = participant_id
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.mid_owner: dict[str, tuple[str, str]] = {}  # mid -> (publisher, kind)
        self.frames: Counter[tuple[str, str]] = Counter()
        self.messages: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        self.pc.on("track", self._on_track)

    def _on_track(self, track: MediaStreamTrack) -> None:
        mid = next(t.mid for t in self.pc.getTransceivers() if t.receiver.track is track)
        assert mid is not None
        self._tasks.append(asyncio.ensure_future(self._consume(mid, track)))

    async def _consume(self, mid: str, track: MediaStreamTrack) -> None:
        try:
            while True:
                await track.recv()  # decoded on the client: the server only forwarded
                owner = self.mid_owner.get(mid)
                if owner is not None:
                    self.frames[owner] += 1
        except MediaStreamError:
            pass

    async def publish(self) -> None:
        video, audio = SyntheticVideo(), AudioStreamTrack()
        for track, kind, label in ((video, "room_camera", "Romkamera"), (audio, "audio", "Mikrofon")):
            self.pc.addTransceiver(track, direction="sendonly")
            await self.send({"type": "track", "track_id": track.id, "kind": kind, "label": label})
        await self.pc.setLocalDescription(await self.pc.createOffer())
        await self.send({"type": "offer", "sdp": self.pc.localDescription.sdp})
        self._tasks.append(asyncio.ensure_future(self._read()))

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send_str(json.dumps(message))

    async def _read(self) -> None:
        async for frame in self.ws:
            message = json.loads(frame.data)
            if message["type"] == "answer":
                await self.pc.setRemoteDescription(RTCSessionDescription(message["sdp"], "answer"))
            elif message["type"] == "media_map":
                for track in message["tracks"]:
                    self.mid_owner[track["mid"]] = (track["participant_id"], track["kind"])
            elif message["type"] == "offer":
                await self.pc.setRemoteDescription(RTCSessionDescription(message["sdp"], "offer"))
                await self.pc.setLocalDescription(await self.pc.createAnswer())
                await self.send({"type": "answer", "sdp": self.pc.localDescription.sdp})
            else:
                self.messages.put_nowait(message)

    async def close(self) -> None:
        await self.ws.close()
        await self.pc.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


async def _join(client: TestClient) -> tuple[aiohttp.ClientWebSocketResponse, dict[str, Any]]:
    ws = await client.ws_connect(f"/ws?room={ROOM}", headers=ORIGIN)
    await ws.send_str(json.dumps({"type": "join", "version": 1}))
    while True:
        message = json.loads((await ws.receive()).data)
        if message["type"] in {"admitted", "waiting"}:
            return ws, message


@pytest.fixture
async def app_client(aiohttp_client: Any, settings: Settings, clock: FixedClock, seeded: Seeded
                     ) -> AsyncIterator[TestClient]:
    app = create_app(settings, clock=clock)
    start = clock.now() + timedelta(minutes=5)
    booking = BookingRoom(ROOM, start, start + timedelta(minutes=45), {
        f"user:{seeded.users['lege']}": ParticipantRole.SPECIALIST,
        f"user:{seeded.users['sykepleier.rodoy']}": ParticipantRole.NURSE,
    }, None, "Astrid Olsen")
    app[BOOKING_DIRECTORY_FACTORY] = lambda _db: Directory(booking)
    client: TestClient = await aiohttp_client(app, cookie_jar=LoopbackSecureJar())
    yield client


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_three_participants_exchange_audio_and_video_through_the_endpoint(
        aiohttp_client: Any, app_client: TestClient, clock: FixedClock) -> None:
    code = totp.current_code(DEMO_TOTP_SECRET, clock.now())
    specialist, nurse = app_client, await aiohttp_client(app_client.server, cookie_jar=LoopbackSecureJar())
    relative = await aiohttp_client(app_client.server, cookie_jar=LoopbackSecureJar())
    await login(specialist, "lege", code)
    await login(nurse, "sykepleier.rodoy", code)
    app = app_client.server.app
    assert app is not None
    booking = await app[LIVE_REGISTRY].booking(ROOM)
    issued = await app[JOIN_CODES].issue(room_id=ROOM, role=ParticipantRole.RELATIVE, display_name="Kari Nordmann",
                                         starts_at=booking.starts_at, ends_at=booking.ends_at, created_by="test")
    token = await csrf_token(relative, f"/join?room={ROOM}")
    assert (await relative.post("/join", data={"csrf_token": token, "room": ROOM, "code": issued.code},
                                allow_redirects=False)).status == 303

    peers: list[ClientPeer] = []
    try:
        for client in (specialist, nurse):
            ws, admitted = await _join(client)
            peers.append(ClientPeer(ws, admitted["participant_id"]))
        ws, waiting = await _join(relative)
        assert waiting["type"] == "waiting"
        await peers[0].send({"type": "admit", "target": waiting["participant_id"]})
        while json.loads((await ws.receive()).data)["type"] != "admitted":
            pass
        peers.append(ClientPeer(ws, waiting["participant_id"]))
        for peer in peers:
            await peer.publish()

        def everyone_decodes_everyone() -> bool:
            return all(
                peer.frames[(other.participant_id, kind)] >= FRAMES
                for peer in peers for other in peers if other is not peer for kind in ("audio", "video")
            )

        await wait_until(everyone_decodes_everyone, "each participant decodes the other two")
        live = app[LIVE_REGISTRY].get(ROOM)
        assert live is not None
        for peer in peers:
            publications = live.router.publications(peer.participant_id)
            assert sorted(p.label for p in publications) == ["audio", "room_camera"]
            # nobody is sent their own media
            assert peer.participant_id not in {o.publisher_id for o in live.router.outgoing_tracks(peer.participant_id)}
        server_pcs = list(live.peer_connections().values())
        assert len(server_pcs) == 3
    finally:
        for peer in peers:
            await peer.close()
    await app_client.close()  # shutting the app down closes every room and the server's peer connections
    assert all(pc.connectionState == "closed" for pc in server_pcs)
