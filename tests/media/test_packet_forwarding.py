"""Real aiortc peers in-process, the router forwarding RTP packets (``forwarding="packets"``)."""

from collections import defaultdict
from typing import Any

import pytest
from aiortc import RTCPeerConnection
from aiortc.codecs.vpx import vp8_depayload
from aiortc.rtcrtpparameters import RTCRtcpParameters, RTCRtpHeaderExtensionParameters, RTCRtpSendParameters
from aiortc.rtcrtpreceiver import RemoteStreamTrack
from aiortc.rtp import RtpPacket

from rooms.media import aiortc_hook
from rooms.media.forwarded_stream import ForwardedStream
from rooms.media.rtp_rewrite import starts_vp8_keyframe

from .conftest import LoopbackRoom
from .loopback_peers import count_codec_usage, wait_until

FRAMES = 10
MID_URI = "urn:ietf:params:rtp-hdrext:sdes:mid"


def record_rtp(pc: RTCPeerConnection) -> dict[int, list[tuple[int, bytes]]]:
    """(sequence number, payload) of every RTP packet a client's transport receives, by SSRC: a spy on
    the real transport (the packets still go on to aiortc)."""
    arrived: dict[int, list[tuple[int, bytes]]] = defaultdict(list)
    transport: Any = pc.getTransceivers()[0].receiver.transport
    handle = transport._handle_rtp_data

    async def spy(data: bytes, arrival_time_ms: int) -> None:
        packet = RtpPacket.parse(data)
        arrived[packet.ssrc].append((packet.sequence_number, packet.payload))
        await handle(data, arrival_time_ms)

    transport._handle_rtp_data = spy
    return arrived


def _stream(room: LoopbackRoom, publisher_id: str, recipient_id: str, kind: str) -> ForwardedStream:
    publication = next(
        p for p in room.router._participant(publisher_id).publications.values() if p.kind == kind
    )
    stream = publication.recipients[recipient_id]
    assert isinstance(stream, ForwardedStream)
    return stream


async def test_three_way_call_decodes_audio_and_video_without_server_codecs(
    packet_room: LoopbackRoom, monkeypatch: pytest.MonkeyPatch
) -> None:
    room = packet_room
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
            for receiver in client.server_pc.getReceivers():
                if isinstance(receiver.track, RemoteStreamTrack):
                    assert usage.decoded_into(receiver.track) == 0
            for sender in client.server_pc.getSenders():
                assert usage.encodes_by(sender) == 0
    stream = _stream(room, "nurse", "specialist", "video")
    assert stream.packets_forwarded > 0 and stream.frames_forwarded >= FRAMES


async def test_each_recipient_gets_its_own_clean_stream(packet_room: LoopbackRoom) -> None:
    room = packet_room
    nurse = await room.join("nurse")
    specialist = await room.join("specialist", publish=False)
    relative = await room.join("relative", publish=False)
    await room.sync_all()
    for viewer in (specialist, relative):
        await wait_until(lambda v=viewer: v.frames_from("nurse", "video") >= FRAMES, "the viewers decode")  # type: ignore[misc]
    ssrcs = []
    for viewer in (specialist, relative):
        mid = next(o.mid for o in room.router.outgoing_tracks(viewer.participant_id) if o.kind == "video")
        transceiver = next(t for t in viewer.pc.getTransceivers() if t.mid == mid)
        sources = transceiver.receiver.getSynchronizationSources()
        assert len(sources) == 1
        ssrcs.append(sources[0].source)
        stats = await transceiver.receiver.getStats()
        inbound = next(s for s in stats.values() if s.type == "inbound-rtp")
        assert inbound.packetsLost == 0  # the sequence numbers are continuous, none missing
    publisher_ssrc = next(
        t.sender._ssrc for t in nurse.pc.getTransceivers() if t.kind == "video"
    )
    assert len(set(ssrcs)) == 2 and publisher_ssrc not in ssrcs


async def test_a_late_video_recipient_starts_at_a_keyframe(packet_room: LoopbackRoom) -> None:
    room = packet_room
    nurse = await room.join("nurse")
    specialist = await room.join("specialist")
    await room.sync_all()
    await wait_until(lambda: specialist.frames_from("nurse", "video") >= 30, "specialist sees nurse")
    keyframes_before = next(p.keyframes_received for p in room.router.publications("nurse") if p.kind == "video")

    relative = await room.join("relative", publish=False)
    arrived = record_rtp(relative.pc)
    await room.sync_all()
    await wait_until(lambda: relative.frames_from("nurse", "video") >= 5, "the late joiner decodes")
    mid = next(o.mid for o in room.router.outgoing_tracks("relative") if o.kind == "video")
    transceiver = next(t for t in relative.pc.getTransceivers() if t.mid == mid)
    video_ssrc = transceiver.receiver.getSynchronizationSources()[0].source
    first_seq, first_payload = arrived[video_ssrc][0]
    assert starts_vp8_keyframe(first_payload, vp8_depayload(first_payload))
    sequence = [seq for seq, _ in arrived[video_ssrc]]
    assert sequence == [(first_seq + n) & 0xFFFF for n in range(len(sequence))]  # clean from the start
    video = next(p for p in room.router.publications("nurse") if p.kind == "video")
    assert video.keyframes_received > keyframes_before  # asked for, and waited for
    stream = _stream(room, "nurse", "relative", "video")
    assert not stream.waiting_for_keyframe
    assert nurse.pc.connectionState == "connected"


async def test_a_nack_is_answered_from_the_recipients_cache(packet_room: LoopbackRoom) -> None:
    room = packet_room
    await room.join("nurse")
    specialist = await room.join("specialist", publish=False)
    await room.sync_all()
    await wait_until(lambda: specialist.frames_from("nurse", "video") >= FRAMES, "specialist sees nurse")
    mid = next(o.mid for o in room.router.outgoing_tracks("specialist") if o.kind == "video")
    transceiver = next(t for t in specialist.pc.getTransceivers() if t.mid == mid)
    receiver = transceiver.receiver
    media_ssrc = receiver.getSynchronizationSources()[0].source
    stream = _stream(room, "nurse", "specialist", "video")
    streams = receiver._RTCRtpReceiver__remote_streams
    received = streams[media_ssrc].max_seq
    rtx_ssrc = transceiver.receiver._RTCRtpReceiver__rtx_ssrc  # rtx ssrc -> media ssrc, from the SDP
    assert rtx_ssrc, "RTX is negotiated for video"

    await receiver._send_rtcp_nack(media_ssrc, [received])  # as a browser does for a lost packet

    await wait_until(lambda: stream.retransmissions >= 1, "the server retransmits from its cache")
    await wait_until(lambda: any(ssrc in streams for ssrc in rtx_ssrc), "the retransmission arrives on RTX")
    # A packet never sent (far ahead) is not in the cache: nothing is made up.
    before = stream.retransmissions
    await receiver._send_rtcp_nack(media_ssrc, [(received + 20000) & 0xFFFF])
    await receiver._send_rtcp_nack(media_ssrc, [received])  # RTCP is handled in order: this one is last
    await wait_until(lambda: stream.retransmissions > before, "the known packet is sent again")
    assert stream.retransmissions == before + 1


async def test_recipient_picture_loss_reaches_the_publisher(packet_room: LoopbackRoom) -> None:
    room = packet_room
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


async def test_sender_reports_carry_the_forwarded_counts(packet_room: LoopbackRoom) -> None:
    room = packet_room
    await room.join("nurse")
    specialist = await room.join("specialist", publish=False)
    await room.sync_all()
    await wait_until(lambda: specialist.frames_from("nurse", "audio") >= FRAMES, "specialist hears nurse")
    for kind in ("audio", "video"):
        mid = next(o.mid for o in room.router.outgoing_tracks("specialist") if o.kind == kind)
        transceiver = next(t for t in specialist.pc.getTransceivers() if t.mid == mid)
        ssrc = transceiver.receiver.getSynchronizationSources()[0].source
        # aiortc's receiver notes the last sender report of each SSRC (for its own RTCP RR).
        await wait_until(lambda s=ssrc, t=transceiver: s in t.receiver._RTCRtpReceiver__lsr,  # type: ignore[misc]
                         f"a {kind} sender report arrives")
        server_sender = next(s for s in room.clients["specialist"].server_pc.getSenders() if s._ssrc == ssrc)
        stats = await server_sender.getStats()
        outbound = next(s for s in stats.values() if s.type == "outbound-rtp")
        assert outbound.packetsSent > 0 and outbound.bytesSent > 0


async def test_a_recipient_whose_socket_backs_up_loses_packets_and_resumes_at_a_keyframe(
    packet_room: LoopbackRoom, monkeypatch: pytest.MonkeyPatch
) -> None:
    room = packet_room
    await room.join("nurse")
    specialist = await room.join("specialist", publish=False)
    arrived = record_rtp(specialist.pc)
    await room.sync_all()
    await wait_until(lambda: specialist.frames_from("nurse", "video") >= FRAMES, "specialist sees nurse")
    stream = _stream(room, "nurse", "specialist", "video")

    def keyframe_requests() -> int:
        return next(p.keyframe_requests_sent for p in room.router.publications("nurse") if p.kind == "video")

    requests_before = keyframe_requests()

    # Every byte counts as "already waiting in the socket": the recipient is behind. Nothing queues up.
    monkeypatch.setattr(aiortc_hook, "MAX_UNSENT_BYTES", -1)
    dropped_before = stream.frames_dropped
    await wait_until(lambda: stream.frames_dropped >= dropped_before + 5, "packets for the recipient are dropped")
    assert stream.waiting_for_keyframe and stream.queued_frames == 0
    mid = next(o.mid for o in room.router.outgoing_tracks("specialist") if o.kind == "video")
    transceiver = next(t for t in specialist.pc.getTransceivers() if t.mid == mid)
    ssrc = transceiver.receiver.getSynchronizationSources()[0].source
    received_while_behind = len(arrived[ssrc])

    monkeypatch.setattr(aiortc_hook, "MAX_UNSENT_BYTES", 256 * 1024)
    decoded = specialist.frames_from("nurse", "video")
    await wait_until(lambda: specialist.frames_from("nurse", "video") >= decoded + FRAMES, "the video comes back")
    assert keyframe_requests() > requests_before  # the publisher was asked for a key frame
    resumed_seq, resumed_payload = arrived[ssrc][received_while_behind]
    assert starts_vp8_keyframe(resumed_payload, vp8_depayload(resumed_payload))  # resumed at a key frame
    last_before = arrived[ssrc][received_while_behind - 1][0]
    assert resumed_seq == (last_before + 1) & 0xFFFF  # no gap in the recipient's sequence numbers



async def test_parameters_given_again_on_a_renegotiation_change_nothing(packet_room: LoopbackRoom) -> None:
    """aiortc calls a running sender's send() again on every renegotiation, with parameters built afresh
    (with aiortc's own extension ids, where the browser negotiated others), and ignores them: so must the
    packet path, or the recipient would read our mid as another extension."""
    room = packet_room
    await room.join("nurse")
    specialist = await room.join("specialist", publish=False)
    await room.sync_all()
    await wait_until(lambda: specialist.frames_from("nurse", "video") >= FRAMES, "specialist sees nurse")
    stream = _stream(room, "nurse", "specialist", "video")
    outlet = stream._outlet
    assert outlet is not None and outlet.ready
    negotiated = (outlet.payload_type, outlet.mid, outlet.mid_id, outlet.abs_send_time_id)
    sender = outlet.sender
    transceiver = next(t for t in room.clients["specialist"].server_pc.getTransceivers() if t.sender is sender)
    fresh = RTCRtpSendParameters(
        codecs=transceiver._codecs,
        headerExtensions=[RTCRtpHeaderExtensionParameters(id=negotiated[2] + 5, uri=MID_URI)],
        muxId=transceiver.mid,
        rtcp=RTCRtcpParameters(cname="x", ssrc=sender._ssrc),
    )
    await sender.send(fresh)

    assert (outlet.payload_type, outlet.mid, outlet.mid_id, outlet.abs_send_time_id) == negotiated
    decoded = specialist.frames_from("nurse", "video")
    await wait_until(lambda: specialist.frames_from("nurse", "video") >= decoded + FRAMES, "the video keeps coming")
