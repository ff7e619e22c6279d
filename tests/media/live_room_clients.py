"""Stand-ins for what drives a live room: a socket that keeps what it was sent, a browser's aiortc peer."""

from __future__ import annotations

import asyncio
from collections import Counter

from aiortc import AudioStreamTrack, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from rooms.live import LiveEvent, LiveRoom, ServerOffer
from rooms.roster import Identity, ParticipantId, TrackKind
from rooms.seats import JoinResult
from tests.media.loopback_peers import SyntheticVideo, loopback_pc, wait_until
from tests.unit.rooms.rooms_testkit import make_people


class NoAudit:
    async def record(self, identity: Identity, action: str, *, reason: str = "") -> None:
        return None


class ListLink:
    """A participant's socket stand-in: keeps what it was sent."""

    def __init__(self) -> None:
        self.events: list[LiveEvent] = []
        self.result: JoinResult | None = None
        self.closed_with: str | None = None

    def joined(self, result: JoinResult, *, resumed: bool) -> None:
        self.result = result

    def deliver(self, event: LiveEvent) -> None:
        self.events.append(event)

    def close(self, reason: str) -> None:
        self.closed_with = reason

    def of_type(self, kind: type) -> list[LiveEvent]:
        return [e for e in self.events if isinstance(e, kind)]


class Client:
    """A browser stand-in: one aiortc peer, answering the server's offers from its link."""

    def __init__(self, live: LiveRoom, pid: ParticipantId, link: ListLink) -> None:
        self.live, self.pid, self.link = live, pid, link
        self.frames: Counter[str] = Counter()
        """Frames received (and decoded) per kind, across every peer connection this client made."""
        self._consumers: list[asyncio.Task[None]] = []
        self.pc = self._new_pc()
        self._answered = 0

    def _new_pc(self) -> RTCPeerConnection:
        pc = loopback_pc()
        pc.on("track", lambda track: self._consumers.append(asyncio.ensure_future(self._consume(track))))
        return pc

    async def _consume(self, track: MediaStreamTrack) -> None:
        try:
            while True:
                await track.recv()
                self.frames[track.kind] += 1
        except MediaStreamError:
            pass

    async def publish(self) -> None:
        for track, kind, label in ((SyntheticVideo(), TrackKind.ROOM_CAMERA, "Romkamera"),
                                   (AudioStreamTrack(), TrackKind.AUDIO, "Mikrofon")):
            self.pc.addTransceiver(track, direction="sendonly")
            self.live.publish_track(self.pid, track.id, kind, label)
        await self.pc.setLocalDescription(await self.pc.createOffer())
        answer = await self.live.handle_offer(self.pid, self.pc.localDescription.sdp)
        await self.pc.setRemoteDescription(RTCSessionDescription(answer, "answer"))

    def new_peer_connection(self) -> None:
        """What the page does on ``media_restart``: a new peer; offers made for the old one are stale."""
        self.pc = self._new_pc()
        self._answered = len(self.link.of_type(ServerOffer))

    async def answer_offers(self) -> None:
        """Answer every server offer that arrived since the last call."""
        await asyncio.sleep(0.05)  # the room makes its offers in tasks of its own
        offers = self.link.of_type(ServerOffer)
        for offer in offers[self._answered:]:
            assert isinstance(offer, ServerOffer)
            await self.pc.setRemoteDescription(RTCSessionDescription(offer.sdp, "offer"))
            await self.pc.setLocalDescription(await self.pc.createAnswer())
            await self.live.handle_answer(self.pid, self.pc.localDescription.sdp)
        self._answered = len(offers)
        for transceiver in self.pc.getTransceivers():
            if transceiver.currentDirection == "inactive":
                await transceiver.receiver.stop()  # as a browser does with a track whose sender left

    async def close(self) -> None:
        await self.pc.close()
        for task in self._consumers:
            task.cancel()
        await asyncio.gather(*self._consumers, return_exceptions=True)


async def join_client(live: LiveRoom, who: Identity) -> Client:
    """``who`` takes a seat in ``live`` through a socket stand-in."""
    link = ListLink()
    result = await live.join(who, link)
    return Client(live, result.participant.participant_id, link)


async def exchange_offers(*clients: Client) -> None:
    """Answer the server's offers until none are left: answering one can make the other's next one."""
    for _ in range(3):
        for client in clients:
            await client.answer_offers()


async def specialist_and_nurse_in_call(live: LiveRoom, *, frames: int = 5) -> tuple[Client, Client]:
    """The specialist and the nurse, both publishing, each receiving more than ``frames`` of the other's
    video and audio."""
    people = make_people()
    specialist, nurse = await join_client(live, people.specialist), await join_client(live, people.nurse)
    await specialist.publish()
    await nurse.publish()
    await exchange_offers(specialist, nurse)
    await wait_until(lambda: all(c.frames["video"] > frames and c.frames["audio"] > frames
                                 for c in (specialist, nurse)), "media flows")
    return specialist, nurse
