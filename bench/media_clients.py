"""Cheap synthetic participants for bench/media_forwarding.py: one child process, many rooms.

The clients must cost much less than the server they load, or the bench measures itself.
aiortc sets up each peer connection (ICE, DTLS, SRTP keys, SDP), and then the per-packet
work that aiortc would do on the client side is replaced, in this process only:

* Publishing: the VP8 and Opus frames were encoded AND packetized once by the parent. A
  publisher's sender does not run aiortc's RTP loop (track read, packetizer, ``RtpPacket``
  objects, header extension maps, retransmission history); one timer per stream patches a
  prebuilt RTP header (sequence, timestamp, marker, abs-send-time), SRTP-protects it and
  hands it to the nominated ICE pair's socket. The header carries the same extensions
  (mid, abs-send-time) as aiortc's, so the server does the same work as for an aiortc peer.
  A keyframe request from the server (PLI/FIR, still handled by aiortc's RTCP) restarts the
  stream at its keyframe.
* Receiving: RTP never reaches aiortc (no SRTP unprotect, no parsing, no remote bitrate
  estimator, no jitter buffer, no NACK/RTCP reports). The ICE socket's datagram handler reads
  the clear RTP header (SRTP encrypts only the payload) and counts whole frames: a frame is
  delivered when its marker packet arrives and no sequence number was missing since the
  previous frame's marker. STUN, DTLS and SRTCP still go to aiortc.

The parent drives the process over stdin/stdout (JSON lines): it joins the rooms of each
step, meets the other processes at barriers around the measured window, and reports
delivered frames, latencies and its own CPU per step. Loopback only, bounded time.
"""

from __future__ import annotations

import asyncio
import json
import math
import pickle
import random
import struct
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiortc import RTCConfiguration, RTCPeerConnection, RTCRtpSender, RTCSessionDescription, sdp
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from aiortc.rtcdtlstransport import State
from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from aiortc.rtp import RtpPacket

from rooms.media.aiortc_hook import intercept_keyframe_requests
from rooms.media.codec_pinning import pinned_codec_preferences

FPS = 30
AUDIO_PTIME = 0.02
VIDEO_TICKS = 3000  # 90 kHz / 30 fps
AUDIO_TICKS = 960  # 48 kHz * 20 ms
RTP_HEADER = struct.Struct("!BBHII")  # first byte, marker|payload type, sequence, timestamp, ssrc
ABS_SEND_TIME_PROBE = b"\xab\xcd\xef"


def loopback_pc() -> RTCPeerConnection:
    return RTCPeerConnection(RTCConfiguration(iceServers=[]))


class PlaceholderTrack(MediaStreamTrack):
    """Gives a sender its kind; never read, because the sender's RTP loop is replaced."""

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind

    async def recv(self) -> Any:
        raise MediaStreamError


class FrameClock:
    """Sends the due frames of every publisher of this process from one 5 ms timer.

    One timer per stream would wake the event loop (and epoll) for every frame; one shared
    timer wakes it 200 times a second whatever the number of streams, and the streams' phases
    are still spread over the frame period. Records how late frames leave (the clients' own
    stalls, so they are not blamed on the server).
    """

    SLOT = 0.005

    def __init__(self) -> None:
        self._slots: dict[int, list[PrepacketizedPublisher]] = defaultdict(list)
        self._next_slot = -1
        self._timer: asyncio.TimerHandle | None = None
        self.lateness: list[float] = []

    def schedule(self, publisher: PrepacketizedPublisher) -> None:
        slot = math.ceil(publisher.due / self.SLOT)
        if slot < self._next_slot:
            slot = self._next_slot  # behind after a stall: send it on the next tick
        self._slots[slot].append(publisher)
        if self._timer is None:
            loop = asyncio.get_running_loop()
            self._next_slot = int(loop.time() / self.SLOT) + 1
            self._timer = loop.call_at(self._next_slot * self.SLOT, self._tick)

    def _tick(self) -> None:
        loop = asyncio.get_running_loop()
        now = loop.time()
        current = int(now / self.SLOT)
        due: list[PrepacketizedPublisher] = []
        for slot in range(self._next_slot, current + 1):
            due.extend(self._slots.pop(slot, ()))
        self._next_slot = current + 1
        self._timer = loop.call_at(self._next_slot * self.SLOT, self._tick)
        for publisher in due:
            if publisher.stopped:
                continue
            self.lateness.append(now - publisher.due)
            publisher.send_frame()
            publisher.due += publisher.period
            self.schedule(publisher)

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()


class PrepacketizedPublisher:
    """Sends one pre-packetized stream in real time on an aiortc sender's transport.

    RTP timestamps advance with random spacing (so every difference is unique and recipients'
    frames can be matched to the sent ones); ``log`` maps RTP timestamp -> send time.
    """

    def __init__(self, kind: str, frames: list[list[bytes]], log: dict[int, float], clock: FrameClock) -> None:
        self.kind = kind
        self._frames = frames
        self._log = log
        self._clock = clock
        self.period = 1 / FPS if kind == "video" else AUDIO_PTIME
        self.due = 0.0
        self.stopped = False
        self.send_errors = 0
        self._ticks = VIDEO_TICKS if kind == "video" else AUDIO_TICKS
        self._jitter = self._ticks // 20
        self._index = 0
        self._pts = random.getrandbits(20)
        self._sequence = random.getrandbits(16)
        self._sender: RTCRtpSender | None = None
        self._template = b""
        self._abs_send_time_at = -1
        self._payload_type = 0

    def restart_at_keyframe(self) -> None:
        """The server asked for a keyframe (PLI/FIR): the first pre-encoded frame is one."""
        if self.kind == "video":
            self._index = 0

    def attach(self, sender: RTCRtpSender) -> None:
        """Replace the sender's RTP loop by this publisher before the sender starts."""

        async def run_rtp(codec: RTCRtpCodecParameters) -> None:
            # RTCRtpSender.stop() waits for these two events of aiortc's own loop
            sender._RTCRtpSender__rtp_started.set()  # type: ignore[attr-defined]
            self._start_sending(sender, codec)
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                pass
            finally:
                self.stopped = True
                sender._RTCRtpSender__rtp_exited.set()  # type: ignore[attr-defined]

        sender._run_rtp = run_rtp  # type: ignore[method-assign]
        intercept_keyframe_requests(sender, self.restart_at_keyframe)

    def _start_sending(self, sender: RTCRtpSender, codec: RTCRtpCodecParameters) -> None:
        self._sender = sender
        self._payload_type = codec.payloadType or 0
        # The header extensions aiortc's own loop would write, serialized once with its map.
        probe = RtpPacket(payload_type=self._payload_type, ssrc=sender._ssrc)
        probe.extensions.mid = sender._RTCRtpSender__mid  # type: ignore[attr-defined]
        probe.extensions.abs_send_time = int.from_bytes(ABS_SEND_TIME_PROBE, "big")
        template = probe.serialize(sender._RTCRtpSender__rtp_header_extensions_map)  # type: ignore[attr-defined]
        self._abs_send_time_at = template.find(ABS_SEND_TIME_PROBE, RTP_HEADER.size)
        self._template = template
        # spread the streams of one process over the frame period instead of one burst
        self.due = asyncio.get_running_loop().time() + random.random() * self.period
        self._clock.schedule(self)

    def send_frame(self) -> None:
        """SRTP-protect and send the next frame's packets straight on the nominated ICE socket."""
        sender = self._sender
        if sender is None:
            return
        dtls = sender.transport
        pair = dtls.transport._connection._nominated.get(1)
        if pair is None or dtls._state != State.CONNECTED or dtls._tx_srtp is None:
            return
        self._pts += self._ticks + random.randint(-self._jitter, self._jitter)
        timestamp = self._pts & 0xFFFFFFFF
        payloads = self._frames[self._index % len(self._frames)]
        self._index += 1
        header = bytearray(self._template)
        abs_at = self._abs_send_time_at
        if abs_at >= 0:
            # 6.18 fixed-point seconds; the server's estimator only uses differences
            header[abs_at : abs_at + 3] = (int(time.time() * 262144) & 0xFFFFFF).to_bytes(3, "big")
        protect = dtls._tx_srtp.protect
        # the raw socket: asyncio's sendto only adds checks and a buffer for a full socket
        sock = pair.protocol.transport._sock  # type: ignore[attr-defined]
        remote = pair.remote_addr
        last = len(payloads) - 1
        for number, payload in enumerate(payloads):
            header[1] = self._payload_type | (0x80 if number == last else 0)
            struct.pack_into("!HI", header, 2, self._sequence, timestamp)
            try:
                sock.sendto(protect(bytes(header) + payload), remote)
            except OSError:  # a full socket buffer: the packet is lost, as on a real network
                self.send_errors += 1
            self._sequence = (self._sequence + 1) & 0xFFFF
        self._log[timestamp] = time.monotonic()


@dataclass
class FrameCounter:
    """Whole frames of one received RTP stream (one SSRC): (RTP timestamp, arrival) each."""

    frames: list[tuple[int, float]] = field(default_factory=list)
    next_sequence: int = -1
    broken: bool = False

    def packet(self, marker: int, sequence: int, timestamp: int) -> None:
        if sequence != self.next_sequence and self.next_sequence >= 0:
            self.broken = True
        self.next_sequence = (sequence + 1) & 0xFFFF
        if marker:
            if not self.broken:
                self.frames.append((timestamp, time.monotonic()))
            self.broken = False


def count_rtp_before_aiortc(pc: RTCPeerConnection, streams: dict[int, FrameCounter]) -> None:
    """Count RTP at the ICE sockets of ``pc``; everything else still goes to aiortc.

    asyncio reads one datagram per socket per event-loop iteration, so a socket that receives
    faster than the loop turns builds a queue (latency) and then overflows (loss). Each socket
    is drained instead, up to a bound that keeps the other sockets served.
    """
    connections = {
        id(t.receiver.transport.transport._connection): t.receiver.transport.transport._connection
        for t in pc.getTransceivers()
    }
    for connection in connections.values():
        for protocol in connection._protocols:
            if getattr(protocol, "counts_rtp", False):
                continue
            original = protocol.datagram_received

            def datagram_received(data: Any, addr: Any, original: Any = original) -> None:
                if len(data) >= 12 and 127 < data[0] < 192 and not 191 < data[1] < 224:
                    _, second, sequence, timestamp, ssrc = RTP_HEADER.unpack_from(data)
                    counter = streams.get(ssrc)
                    if counter is None:
                        counter = streams[ssrc] = FrameCounter()
                    counter.packet(second & 0x80, sequence, timestamp)
                    return
                original(data, addr)

            protocol.datagram_received = datagram_received  # type: ignore[method-assign]
            protocol.counts_rtp = True  # type: ignore[attr-defined]
            drain_socket(protocol, datagram_received)


def drain_socket(protocol: Any, handle: Callable[[Any, Any], None]) -> None:
    """Read every waiting datagram of an aioice protocol's socket per wake-up, not one per loop turn."""
    transport = protocol.transport
    if transport.is_closing():
        return
    sock = transport._sock
    loop = asyncio.get_running_loop()

    def drain() -> None:
        for _ in range(64):  # bounded, so the other sockets are served too
            try:
                data, addr = sock.recvfrom(65536)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                protocol.error_received(exc)
                return
            handle(data, addr)

    loop._remove_reader(sock.fileno())  # type: ignore[attr-defined]
    loop._add_reader(sock.fileno(), drain)  # type: ignore[attr-defined]


LOST_CONNECTIONS: dict[str, int] = defaultdict(int)


class Rpc:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer, self.lock = reader, writer, asyncio.Lock()

    async def call(self, **message: Any) -> dict[str, Any]:
        async with self.lock:
            self.writer.write((json.dumps(message) + "\n").encode())
            await self.writer.drain()
            reply: dict[str, Any] = json.loads(await self.reader.readline())
            return reply


class BenchClient:
    """One participant: publishes video (and audio) unless a viewer, counts what it receives."""

    def __init__(
        self,
        pid: str,
        room: str,
        frames: dict[str, list[list[bytes]]],
        audio: bool,
        sent: Any,
        publish: bool,
        clock: FrameClock,
    ) -> None:
        self.pid, self.room, self.audio, self.publish = pid, room, audio, publish
        self.pc = loopback_pc()
        self.frames = frames
        self.sent = sent
        self.streams: dict[int, FrameCounter] = {}
        self.source_of: dict[int, tuple[str, str]] = {}  # server SSRC -> (publisher, kind)
        self.clock = clock
        self.leaving = False
        self.publishers: list[PrepacketizedPublisher] = []
        self.pc.on("connectionstatechange", self._count_state)

    def _count_state(self) -> None:
        if self.pc.connectionState in ("failed", "closed") and not self.leaving:
            LOST_CONNECTIONS[self.pc.connectionState] += 1

    async def join(self, rpc: Rpc) -> None:
        kinds = ["video", "audio"] if self.audio else ["video"]
        labels = {}
        for kind in kinds:
            if not self.publish:  # a viewer offers receive-only m-lines, as a browser does
                self.pc.addTransceiver(kind, direction="recvonly")
                continue
            publisher = PrepacketizedPublisher(kind, self.frames[kind], self.sent[(self.pid, kind)], self.clock)
            self.publishers.append(publisher)
            transceiver = self.pc.addTransceiver(PlaceholderTrack(kind), direction="sendonly")
            transceiver.setCodecPreferences(pinned_codec_preferences(kind))
            publisher.attach(transceiver.sender)
        await self.pc.setLocalDescription(await self.pc.createOffer())
        for transceiver in self.pc.getTransceivers():
            if self.publish:
                labels[transceiver.mid] = "room_camera" if transceiver.kind == "video" else "audio"
        reply = await rpc.call(
            op="offer", room=self.room, pid=self.pid, sdp=self.pc.localDescription.sdp, labels=labels
        )
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=reply["sdp"], type="answer"))
        count_rtp_before_aiortc(self.pc, self.streams)

    async def sync(self, rpc: Rpc) -> None:
        while True:
            reply = await rpc.call(op="pending", pid=self.pid)
            if reply["sdp"] is None:
                return
            offer = reply["sdp"]
            for media in sdp.SessionDescription.parse(offer).media:
                if media.direction not in ("sendonly", "sendrecv") or not media.ssrc:
                    continue
                groups = [g for g in media.ssrc_group if g.semantic == "FID"]
                ssrc = int(groups[0].items[0]) if groups else media.ssrc[0].ssrc
                self.source_of[ssrc] = ((media.msid or "?").split(" ")[0], media.kind)
            await self.pc.setRemoteDescription(RTCSessionDescription(sdp=offer, type="offer"))
            await self.pc.setLocalDescription(await self.pc.createAnswer())
            await rpc.call(op="answer", pid=self.pid, sdp=self.pc.localDescription.sdp)
            count_rtp_before_aiortc(self.pc, self.streams)

    def received(self) -> dict[tuple[str, str], list[tuple[int, float]]]:
        return {
            source: self.streams[ssrc].frames
            for ssrc, source in self.source_of.items()
            if ssrc in self.streams
        }

    def forget_frames(self) -> None:
        for counter in self.streams.values():
            counter.frames = []


def align(samples: list[tuple[int, float]], sent: dict[int, float], since: float) -> int | None:
    """Offset (modulo 2**32) turning received RTP timestamps into the publisher's (unique by random spacing).

    The server rewrites timestamps from its own random origin but keeps their differences. The
    probe is taken from frames that arrived after ``since`` (the window's start), all of them
    sent after the logs were last cleared.
    """
    probe = [sample for sample in samples if sample[1] >= since][:40]
    if not probe or not sent:
        return None
    first_ts, first_arrival = probe[0]
    candidates = [(pts - first_ts) & 0xFFFFFFFF for pts, at in sent.items() if first_arrival - 5 <= at <= first_arrival]
    best, best_hits = None, 0
    for offset in candidates:
        hits = sum(1 for ts, _ in probe if ((ts + offset) & 0xFFFFFFFF) in sent)
        if hits > best_hits:
            best, best_hits = offset, hits
            if hits == len(probe):
                break
    return best if best_hits >= min(len(probe), 5) else None


def expected_sources(client: BenchClient, clients: list[BenchClient]) -> list[tuple[str, str]]:
    """The (publisher, kind) streams ``client`` should receive: every other publisher of its room."""
    return [
        (other.pid, kind)
        for other in clients
        if other.room == client.room and other is not client and other.publish
        for kind in (["video", "audio"] if other.audio else ["video"])
    ]


async def wait_until_flowing(joining: list[BenchClient], patience: float) -> int:
    """Wait until every new participant receives every stream of its room; the count still missing.

    Signaling is done before DTLS has connected and before a recipient's first keyframe came, so
    a window that started right away would count the start-up as lost frames.
    """
    deadline = time.monotonic() + patience
    while True:
        missing = 0
        for client in joining:
            received = client.received()
            missing += sum(1 for source in expected_sources(client, joining) if not received.get(source))
        if not missing or time.monotonic() > deadline:
            return missing
        await asyncio.sleep(0.1)


def client_stats(clients: list[BenchClient], sent: dict[Any, dict[int, float]], t0: float, t1: float) -> dict[str, Any]:
    """Raw delivery counts, the worst stream and latencies of this process, merged by the parent."""
    latencies: dict[str, list[float]] = defaultdict(list)
    delivered: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    streams: dict[str, int] = defaultdict(int)
    starved: dict[str, int] = defaultdict(int)
    worst: dict[str, float] = {}
    for client in clients:
        received = client.received()
        for source in expected_sources(client, clients):
            kind = source[1]
            log = sent[source]
            samples = received.get(source, [])
            expected = sum(1 for at in log.values() if t0 <= at <= t1)
            offset = align(samples, log, t0)
            got = 0
            if offset is not None:
                for ts, arrival in samples:
                    sent_at = log.get((ts + offset) & 0xFFFFFFFF)
                    if sent_at is not None and t0 <= sent_at <= t1:
                        got += 1
                        latencies[kind].append(round(arrival - sent_at, 6))
            delivered[kind][0] += got
            delivered[kind][1] += expected
            streams[kind] += 1
            ratio = got / expected if expected else 0.0
            worst[kind] = min(worst.get(kind, 1.0), ratio)
            if ratio < 0.9:
                starved[kind] += 1
    return {
        "delivered": delivered,
        "latencies": latencies,
        "streams": streams,
        "starved": starved,
        "worst": worst,
    }


async def client_main(config: dict[str, Any], frames: dict[str, list[list[bytes]]]) -> None:
    """One client process: the participants of its rooms, step after step, driven over stdin/stdout."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=2**24)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    transport, protocol = await loop.connect_write_pipe(asyncio.streams.FlowControlMixin, sys.stdout)
    rpc = Rpc(reader, asyncio.StreamWriter(transport, protocol, reader, loop))
    sent: dict[Any, dict[int, float]] = defaultdict(dict)
    clients: list[BenchClient] = []
    clock = FrameClock()
    publishers, viewers = config["publishers"], config["viewers"]
    try:
        for rooms in config["steps"]:
            joining = [
                BenchClient(f"r{r}p{p}", f"r{r}", frames, config["audio"], sent, p < publishers, clock)
                for r in rooms
                for p in range(publishers + viewers)
            ]
            clients.extend(joining)
            for client in joining:
                await client.join(rpc)
            for _ in range(2):  # tracks published after a participant's first sync come in the second
                for client in joining:
                    await client.sync(rpc)
            not_flowing = await wait_until_flowing(joining, 20.0)
            await rpc.call(op="ready")  # every process has joined: the media of all rooms is flowing
            await asyncio.sleep(config["warmup"])
            await rpc.call(op="measure_start")
            t0, cpu0 = time.monotonic(), time.process_time()
            clock.lateness.clear()
            errors0 = sum(p.send_errors for c in clients for p in c.publishers)
            await asyncio.sleep(config["seconds"])
            await rpc.call(op="measure_stop")
            t1, cpu1 = time.monotonic(), time.process_time()
            await asyncio.sleep(1.5)  # let frames sent just before t1 arrive
            stats = client_stats(clients, sent, t0, t1)
            stats["client_cpu"] = (cpu1 - cpu0) / (t1 - t0)
            stats["client_late"] = sorted(clock.lateness)[-max(1, len(clock.lateness) // 100) :] or [0.0]
            stats["not_flowing"] = not_flowing
            stats["lost_connections"] = sum(LOST_CONNECTIONS.values())
            stats["send_errors"] = sum(p.send_errors for c in clients for p in c.publishers) - errors0
            reply = await rpc.call(op="report", stats=stats)
            for log in sent.values():
                log.clear()
            for client in clients:
                client.forget_frames()
            if reply.get("stop"):
                break
    finally:
        clock.stop()
        for client in clients:
            client.leaving = True
            await client.pc.close()
    await rpc.call(op="done")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        # `make bench` runs every bench/*.py: this one is only a child of media_forwarding.py
        print("the synthetic clients of bench/media_forwarding.py: run that one")
        sys.exit(0)
    client_config = json.loads(sys.argv[1])
    asyncio.run(client_main(client_config, pickle.loads(Path(client_config["frames"]).read_bytes())))
