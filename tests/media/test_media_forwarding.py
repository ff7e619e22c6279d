"""Real aiortc peers in-process: the router forwards encoded frames and never transcodes."""

import pytest
from aiortc import RTCSessionDescription
from aiortc.rtcrtpreceiver import RemoteStreamTrack

from rooms.media import NegotiationCollisionError

from .conftest import LoopbackRoom
from .loopback_peers import count_codec_usage, wait_until

FRAMES = 10


async def test_three_way_call_forwards_without_server_codecs(
    room: LoopbackRoom, monkeypatch: pytest.MonkeyPatch
) -> None:
    with count_codec_usage(monkeypatch) as usage:
        for participant_id in ("nurse", "specialist", "relative"):
            await room.join(participant_id)
        await room.sync_all()
        clients = room.clients

        def everyone_decodes_everyone() -> bool:
            return all(
                client.frames_from(other, kind) >= FRAMES
                for client in clients.values()
                for other in clients
                if other != client.participant_id
                for kind in ("audio", "video")
            )

        await wait_until(everyone_decodes_everyone, "each participant decodes the other two")

        for client in clients.values():
            outgoing = room.router.outgoing_tracks(client.participant_id)
            # nobody receives their own tracks: 2 others x (audio + video)
            assert sorted((o.publisher_id, o.label) for o in outgoing) == sorted(
                (other, label) for other in clients if other != client.participant_id
                for label in ("audio", "room_camera")
            )
            server_pc = client.server_pc
            for receiver in server_pc.getReceivers():
                if isinstance(receiver.track, RemoteStreamTrack):
                    assert usage.decoded_into(receiver.track) == 0
            for sender in server_pc.getSenders():
                assert usage.encodes_by(sender) == 0
        # the counters do see the clients' own decoders and encoders
        assert usage.decoder_queues and usage.encoding_senders


async def test_late_joiner_gets_a_keyframe_and_decodes(room: LoopbackRoom) -> None:
    nurse = await room.join("nurse")
    specialist = await room.join("specialist")
    await room.sync_all()
    # long past the publishers' first keyframe (aiortc's encoder sends one per 3000 frames)
    await wait_until(lambda: nurse.frames_from("specialist", "video") >= 30, "nurse sees specialist")
    await wait_until(lambda: specialist.frames_from("nurse", "video") >= 30, "specialist sees nurse")
    keyframes_before = {
        pid: next(p.keyframes_received for p in room.router.publications(pid) if p.kind == "video")
        for pid in ("nurse", "specialist")
    }

    relative = await room.join("relative", publish=False)
    await room.sync_all()
    await wait_until(
        lambda: min(relative.frames_from(pid, "video") for pid in ("nurse", "specialist")) >= 5,
        "the late joiner decodes both publishers' video",
    )
    for pid in ("nurse", "specialist"):
        video = next(p for p in room.router.publications(pid) if p.kind == "video")
        assert video.keyframes_received > keyframes_before[pid]
        assert "relative" in video.recipients


async def test_recipient_picture_loss_is_relayed_to_the_publisher(room: LoopbackRoom) -> None:
    nurse = await room.join("nurse")
    specialist = await room.join("specialist")
    await room.sync_all()
    await wait_until(lambda: specialist.frames_from("nurse", "video") >= 5, "specialist sees nurse")

    def nurse_video() -> tuple[int, int]:
        video = next(p for p in room.router.publications("nurse") if p.kind == "video")
        return video.keyframe_requests_sent, video.keyframes_received

    requests_before, keyframes_before = nurse_video()
    mid = next(o.mid for o in room.router.outgoing_tracks("specialist") if o.kind == "video")
    transceiver = next(t for t in specialist.pc.getTransceivers() if t.mid == mid)
    server_ssrc = transceiver.receiver.getSynchronizationSources()[0].source
    await transceiver.receiver._send_rtcp_pli(server_ssrc)  # what a browser does on picture loss

    await wait_until(lambda: nurse_video()[1] > keyframes_before, "the nurse sends a new keyframe")
    assert nurse_video()[0] > requests_before
    assert nurse.pc.connectionState == "connected"


async def test_leaving_publisher_is_retired_for_recipients(room: LoopbackRoom) -> None:
    await room.join("nurse")
    specialist = await room.join("specialist")
    await room.join("relative")
    await room.sync_all()
    await wait_until(lambda: specialist.frames_from("relative", "video") >= 3, "specialist sees relative")

    room.notified.clear()
    await room.leave("relative")
    assert sorted(set(room.notified)) == ["nurse", "specialist"]
    await room.sync_all()
    assert room.router.participant_ids == ["nurse", "specialist"]
    for info in room.router.outgoing_tracks("specialist"):
        assert info.live == (info.publisher_id == "nurse")
    directions = {t.mid: t.currentDirection for t in specialist.pc.getTransceivers()}
    for info in room.router.outgoing_tracks("specialist"):
        if info.publisher_id == "relative":
            assert directions[info.mid] == "inactive"
    before = specialist.frames_from("nurse", "video")
    await wait_until(lambda: specialist.frames_from("nurse", "video") > before + 3, "nurse still flows")


async def test_client_offer_colliding_with_server_offer_is_refused(room: LoopbackRoom) -> None:
    nurse = await room.join("nurse")
    await room.join("specialist")
    assert room.router.needs_renegotiation("nurse")
    await room.router.create_offer("nurse")  # left unanswered
    await nurse.pc.setLocalDescription(await nurse.pc.createOffer())
    with pytest.raises(NegotiationCollisionError):
        await room.router.handle_offer("nurse", nurse.pc.localDescription.sdp)
    # aiortc may start ICE consent checks after close() if ICE is still connecting
    await wait_until(
        lambda: all(c.server_pc.connectionState == "connected" for c in room.clients.values()),
        "connections settle before the room closes",
    )


async def test_a_stopped_track_is_listed_as_gone_while_its_publisher_stays(room: LoopbackRoom) -> None:
    """Stopping a screen share (or the exam camera) renegotiates the m-line inactive: recipients must
    learn that this track is gone although its publisher is still in the room."""
    nurse = await room.join("nurse")
    specialist = await room.join("specialist")
    await room.sync_all()
    await wait_until(lambda: nurse.frames_from("specialist", "video") >= 3, "nurse sees specialist")

    video = next(t for t in specialist.pc.getTransceivers() if t.kind == "video")
    video.direction = "inactive"
    await specialist.pc.setLocalDescription(await specialist.pc.createOffer())
    answer = await room.router.handle_offer("specialist", specialist.pc.localDescription.sdp)
    await specialist.pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
    assert room.router.needs_renegotiation("nurse")
    await room.sync_all()

    seen = {(o.publisher_id, o.label): o for o in room.router.outgoing_tracks("nurse")}
    assert not seen[("specialist", "room_camera")].live
    assert seen[("specialist", "audio")].live
    directions = {t.mid: t.currentDirection for t in nurse.pc.getTransceivers()}
    assert directions[seen[("specialist", "room_camera")].mid] == "inactive"
    before = nurse.frames_from("specialist", "audio")
    await wait_until(lambda: nurse.frames_from("specialist", "audio") > before + 3, "audio still flows")
