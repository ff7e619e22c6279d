"""Renegotiation with a client that numbers its RTP header extensions as Chromium does.

aiortc's createOffer resets every transceiver to aiortc's own extension ids; a receiver that starts
after that (DTLS connects later) must still read the ids the client negotiated, or the client's
abs-send-time is parsed as audio level and the whole transport is torn down. A re-offer of the same
tracks must not publish them again.
"""

from aiortc import RTCSessionDescription

from rooms.media.sdp import with_extension_ids

from .conftest import LoopbackRoom
from .loopback_peers import LoopbackClient, wait_until

# Chromium's numbering: abs-send-time = 2, mid = 4 (aiortc's own: mid = 1, abs-send-time = 3).
CHROMIUM_IDS = {
    "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time": 2,
    "urn:ietf:params:rtp-hdrext:sdes:mid": 4,
}


async def _join_with_chromium_ids(room: LoopbackRoom, participant_id: str) -> LoopbackClient:
    """Join with Chromium's extension ids; the live room keeps them in the offers it sends."""
    client, _ = await room.join_like_a_browser(
        participant_id,
        as_sent=lambda offer: with_extension_ids(offer, CHROMIUM_IDS),
        server_offer_as_sent=lambda offer: with_extension_ids(offer, CHROMIUM_IDS),
    )
    return client


async def test_an_early_server_offer_keeps_the_clients_extension_ids(room: LoopbackRoom) -> None:
    await room.join("specialist")
    nurse = await _join_with_chromium_ids(room, "nurse")
    await room.sync_all()
    specialist = room.clients["specialist"]

    await wait_until(lambda: specialist.frames_from("nurse", "video") >= 10, "the specialist decodes the nurse")
    await wait_until(lambda: nurse.frames_from("specialist", "video") >= 10, "the nurse decodes the specialist")
    assert nurse.server_pc.connectionState == "connected"
    assert sorted(p.label for p in room.router.publications("nurse")) == ["audio", "room_camera"]


async def test_a_re_offer_of_the_same_tracks_publishes_nothing_new(room: LoopbackRoom) -> None:
    nurse = await room.join("nurse")
    await room.join("specialist")
    await room.sync_all()
    before = room.router.publications("nurse")
    forwarded_before = room.router.outgoing_tracks("specialist")
    notified = len(room.notified)

    # The browser offers again on the same connection (negotiationneeded, or after answering).
    await nurse.pc.setLocalDescription(await nurse.pc.createOffer())
    answer = await room.router.handle_offer("nurse", nurse.pc.localDescription.sdp)
    await nurse.pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))

    assert [(p.mid, p.label) for p in room.router.publications("nurse")] == [(p.mid, p.label) for p in before]
    assert room.router.outgoing_tracks("specialist") == forwarded_before
    assert not room.router.needs_renegotiation("specialist")
    assert "specialist" not in room.notified[notified:]
