"""Renegotiation with a client that numbers its RTP header extensions as Chromium does.

aiortc's createOffer resets every transceiver to aiortc's own extension ids; a receiver that starts
after that (DTLS connects later) must still read the ids the client negotiated, or the client's
abs-send-time is parsed as audio level and the whole transport is torn down. A re-offer of the same
tracks must not publish them again.
"""

from aiortc import AudioStreamTrack, RTCSessionDescription

from rooms.live import with_extension_ids

from .conftest import LoopbackRoom
from .loopback_peers import LoopbackClient, SyntheticVideo, wait_until

# Chromium's numbering: abs-send-time = 2, mid = 4 (aiortc's own: mid = 1, abs-send-time = 3).
CHROMIUM_IDS = {
    "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time": 2,
    "urn:ietf:params:rtp-hdrext:sdes:mid": 4,
}


async def _join_with_chromium_ids(room: LoopbackRoom, participant_id: str) -> LoopbackClient:
    """Join like a browser, answer the server's first offer before the media transport is up."""
    client = LoopbackClient(participant_id, room.router)
    room.clients[participant_id] = client
    room.router.add_participant(participant_id, client.server_pc)
    client.pc.addTransceiver(SyntheticVideo(), direction="sendonly")
    client.pc.addTransceiver(AudioStreamTrack(), direction="sendonly")
    await client.pc.setLocalDescription(await client.pc.createOffer())
    offer = with_extension_ids(client.pc.localDescription.sdp, CHROMIUM_IDS)
    labels = {t.mid: ("room_camera" if t.kind == "video" else "audio") for t in client.pc.getTransceivers() if t.mid}
    answer = await room.router.handle_offer(participant_id, offer, labels)
    # The others' tracks are pending for the newcomer: the server offers before the client has even
    # applied the answer, so no transport is connected yet (the live room keeps the client's ids in
    # the offer it sends).
    assert room.router.needs_renegotiation(participant_id)
    server_offer = with_extension_ids(await room.router.create_offer(participant_id), CHROMIUM_IDS)
    await client.pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
    # The transport connects (and the server starts receiving) while that offer is unanswered.
    await wait_until(lambda: client.server_pc.connectionState == "connected", "the transport connects")
    await wait_until(lambda: all(r._RTCRtpReceiver__started for r in client.server_pc.getReceivers()
                                 if r.track is not None), "the server receives")
    await client.pc.setRemoteDescription(RTCSessionDescription(sdp=server_offer, type="offer"))
    await client.pc.setLocalDescription(await client.pc.createAnswer())
    await room.router.handle_answer(participant_id, client.pc.localDescription.sdp)
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
