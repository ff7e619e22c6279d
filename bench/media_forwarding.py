"""Server CPU per forwarded stream: rooms.media forwarding against aiortc's MediaRelay transcoding.

Run: ``.venv/bin/python bench/media_forwarding.py [--consultations 4] [--seconds 10]``

The server side (a MediaRouter per consultation, or the MediaRelay baseline) runs in this
process and is the only thing measured (``time.process_time``). Synthetic participants run
in a child process: three per consultation, each replaying PRE-ENCODED VP8 640x480 at
30 fps (encoded once up front with aiortc's Vp8Encoder) and Opus, and counting received
frames without decoding them. Loopback only, no STUN, bounded time. Prints figures, asserts
nothing about timings.

Phases: forwarding video-only (cost per forwarded stream), MediaRelay video-only (the same
for transcoding), forwarding audio+video (delivery, latency, cost per audio+video pair).
Latency is client send -> client receive through the server on loopback, so it includes
both clients' RTP stacks; frames are matched by their RTP timestamps (random spacing makes
the alignment unique, and both servers preserve timestamp differences).
"""

import argparse
import asyncio
import fractions
import json
import math
import os
import pickle
import random
import resource
import statistics
import struct
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import av
from aiortc import (
    RTCConfiguration,
    RTCPeerConnection,
    RTCSessionDescription,
    sdp,
)
from aiortc.codecs.opus import OpusEncoder
from aiortc.codecs.vpx import Vp8Encoder, vp8_depayload
from aiortc.contrib.media import MediaRelay
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from rooms.media import MediaRouter
from rooms.media.aiortc_hook import (
    install_receiver_tap,
    intercept_keyframe_requests,
    set_outgoing_stream_id,
)
from rooms.media.codec_pinning import pinned_codec_preferences
from rooms.media.forwarded_track import EncodedPacket

CORES = os.cpu_count() or 1
VIDEO_FRAMES = 300
WIDTH, HEIGHT = 640, 480
FPS = 30
VIDEO_CLOCK = 90000
AUDIO_CLOCK = 48000
AUDIO_PTIME = 0.02


def loopback_pc() -> RTCPeerConnection:
    return RTCPeerConnection(RTCConfiguration(iceServers=[]))


# ---------------------------------------------------------------- pre-encoding (parent, once)


def pre_encode() -> dict[str, list[bytes]]:
    rng = random.Random(7)
    encoder = Vp8Encoder()
    video: list[bytes] = []
    gradient = bytes(range(256)) * 4
    for index in range(VIDEO_FRAMES):
        frame = av.VideoFrame(width=WIDTH, height=HEIGHT, format="yuv420p")
        y_rows = []
        for row in range(HEIGHT):
            shift = (index * 3 + row) % 256
            line = bytearray(gradient[shift : shift + WIDTH])
            if 200 <= row < 232:  # a small noisy moving patch: ~500 kbit/s like aiortc's default
                start = 160 + (index * 4) % 160
                line[start : start + 32] = rng.randbytes(32)
            y_rows.append(bytes(line))
        frame.planes[0].update(b"".join(y_rows))
        frame.planes[1].update(bytes([128]) * frame.planes[1].buffer_size)
        frame.planes[2].update(bytes([128]) * frame.planes[2].buffer_size)
        frame.pts = index * 3000
        frame.time_base = fractions.Fraction(1, VIDEO_CLOCK)
        payloads, _ = encoder.encode(frame)
        video.append(b"".join(vp8_depayload(p) for p in payloads))
    opus = OpusEncoder()
    audio: list[bytes] = []
    samples = int(AUDIO_CLOCK * AUDIO_PTIME)
    for index in range(50):
        sound = av.AudioFrame(format="s16", layout="stereo", samples=samples)
        pcm = b"".join(
            struct.pack("<hh", v, v)
            for v in (
                int(8000 * math.sin(2 * math.pi * 440 * (index * samples + n) / AUDIO_CLOCK))
                for n in range(samples)
            )
        )
        sound.planes[0].update(pcm)
        sound.sample_rate = AUDIO_CLOCK
        sound.pts = index * samples
        sound.time_base = fractions.Fraction(1, AUDIO_CLOCK)
        payloads, _ = opus.encode(sound)
        audio.extend(payloads)
    return {"video": video, "audio": audio}


# ---------------------------------------------------------------------- servers (measured)


class ForwardingServer:
    """One rooms.media MediaRouter per consultation."""

    def __init__(self) -> None:
        self.routers: dict[str, MediaRouter] = {}
        self.room_of: dict[str, str] = {}

    async def offer(self, room: str, pid: str, offer: str, labels: dict[str, Any]) -> str:
        router = self.routers.get(room)
        if router is None:
            router = self.routers[room] = MediaRouter()
        router.add_participant(pid, loopback_pc())
        self.room_of[pid] = room
        return await router.handle_offer(pid, offer, labels)

    async def pending_offer(self, pid: str) -> str | None:
        router = self.routers[self.room_of[pid]]
        if not router.needs_renegotiation(pid):
            return None
        return await router.create_offer(pid)

    async def answer(self, pid: str, answer: str) -> None:
        await self.routers[self.room_of[pid]].handle_answer(pid, answer)

    async def close(self) -> None:
        for router in self.routers.values():
            await router.close()


@dataclass
class RelayParticipant:
    pc: RTCPeerConnection
    room: str
    tracks: list[MediaStreamTrack] = field(default_factory=list)
    pending: list[tuple[str, MediaStreamTrack]] = field(default_factory=list)


class TranscodingServer:
    """aiortc's MediaRelay: decode each published frame once, encode it per recipient."""

    def __init__(self) -> None:
        self.relay = MediaRelay()
        self.participants: dict[str, RelayParticipant] = {}

    async def offer(self, room: str, pid: str, offer: str, labels: dict[str, Any]) -> str:
        participant = RelayParticipant(loopback_pc(), room)
        self.participants[pid] = participant
        pc = participant.pc
        await pc.setRemoteDescription(RTCSessionDescription(sdp=offer, type="offer"))
        for transceiver in pc.getTransceivers():
            transceiver.setCodecPreferences(pinned_codec_preferences(transceiver.kind))
        await pc.setLocalDescription(await pc.createAnswer())
        participant.tracks = [r.track for r in pc.getReceivers() if r.track is not None]
        for other_id, other in self.participants.items():
            if other_id == pid or other.room != room:
                continue
            for track in participant.tracks:
                other.pending.append((pid, self.relay.subscribe(track, buffered=False)))
            for track in other.tracks:
                participant.pending.append((other_id, self.relay.subscribe(track, buffered=False)))
        return pc.localDescription.sdp

    async def pending_offer(self, pid: str) -> str | None:
        participant = self.participants[pid]
        if not participant.pending:
            return None
        for publisher, track in participant.pending:
            transceiver = participant.pc.addTransceiver(track, direction="sendonly")
            transceiver.setCodecPreferences(pinned_codec_preferences(track.kind))
            set_outgoing_stream_id(transceiver.sender, publisher)
        participant.pending.clear()
        await participant.pc.setLocalDescription(await participant.pc.createOffer())
        return participant.pc.localDescription.sdp

    async def answer(self, pid: str, answer: str) -> None:
        await self.participants[pid].pc.setRemoteDescription(
            RTCSessionDescription(sdp=answer, type="answer")
        )

    async def close(self) -> None:
        for participant in self.participants.values():
            await participant.pc.close()


async def run_phase(
    mode: str, rooms: int, publishers: int, viewers: int, audio: bool, args: argparse.Namespace, frames: str
) -> dict[str, Any]:
    """One measured run: ``rooms`` rooms, each with publishers (who also receive) and viewers.

    The synthetic clients are spread over up to ``args.client_processes`` child processes (whole
    rooms each), so that one saturated client process does not pass for a slow server. The
    children meet at barriers before and after the measured window, so every process measures
    the same seconds.
    """
    server: ForwardingServer | TranscodingServer = (
        ForwardingServer() if mode == "forward" else TranscodingServer()
    )
    processes = max(1, min(args.client_processes, rooms))
    children: list[asyncio.subprocess.Process] = []
    for index in range(processes):
        config = {
            "rooms": [room for room in range(rooms) if room % processes == index],
            "publishers": publishers,
            "viewers": viewers,
            "audio": audio,
            "seconds": args.seconds,
            "warmup": args.warmup,
            "frames": frames,
        }
        children.append(
            await asyncio.create_subprocess_exec(
                sys.executable,
                __file__,
                "--client",
                json.dumps(config),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                limit=2**24,
            )
        )
    report: dict[str, Any] = {"client_processes": processes, "client_cpu": [], "raw": []}
    barriers: dict[str, list[asyncio.Future[None]]] = defaultdict(list)
    marks: dict[str, tuple[resource.struct_rusage, float]] = {}

    async def barrier(name: str) -> None:
        """Wait until every child reached ``name``; the server's CPU is read when the last does."""
        waiter = asyncio.get_running_loop().create_future()
        barriers[name].append(waiter)
        if len(barriers[name]) == processes:
            marks[name] = resource.getrusage(resource.RUSAGE_SELF), time.monotonic()
            for other in barriers[name]:
                other.set_result(None)
        await waiter

    async def serve(child: asyncio.subprocess.Process) -> None:
        assert child.stdin is not None and child.stdout is not None
        while True:
            line = await child.stdout.readline()
            if not line:
                return
            message = json.loads(line)
            op = message["op"]
            reply: dict[str, Any] = {}
            if op == "offer":
                reply["sdp"] = await server.offer(
                    message["room"], message["pid"], message["sdp"], message["labels"]
                )
            elif op == "pending":
                reply["sdp"] = await server.pending_offer(message["pid"])
            elif op == "answer":
                await server.answer(message["pid"], message["sdp"])
            elif op in ("ready", "measure_start", "measure_stop"):
                await barrier(op)
            elif op == "report":
                report["raw"].append(message["stats"])
                report["client_cpu"].append(message["stats"]["client_cpu"])
            child.stdin.write((json.dumps(reply) + "\n").encode())
            await child.stdin.drain()
            if op == "report":
                return

    try:
        async with asyncio.timeout(args.seconds + args.warmup + 120 + 10 * rooms):
            await asyncio.gather(*(serve(child) for child in children))
    finally:
        await server.close()
        for child in children:
            if child.returncode is None:
                assert child.stdin is not None
                child.stdin.close()
        for child in children:
            try:
                async with asyncio.timeout(30):
                    await child.wait()
            except TimeoutError:
                child.kill()
                await child.wait()
    (usage_start, wall_start), (usage_stop, wall_stop) = marks["measure_start"], marks["measure_stop"]
    report["wall"] = wall_stop - wall_start
    report["server_user"] = usage_stop.ru_utime - usage_start.ru_utime
    report["server_sys"] = usage_stop.ru_stime - usage_start.ru_stime
    report["server_cpu"] = report["server_user"] + report["server_sys"]
    report.update(merge_client_stats(report.pop("raw")))
    return report


# ---------------------------------------------------------------- synthetic clients (child)


class ReplayTrack(MediaStreamTrack):
    """Replays pre-encoded frames in real time as av.Packet; restarts at the keyframe on PLI."""

    def __init__(self, kind: str, frames: list[bytes], log: dict[int, float]) -> None:
        super().__init__()
        self.kind = kind
        self._frames = frames
        self._log = log
        self._index = 0
        self._count = 0
        self._pts = 0
        self._start: float | None = None
        self._period = 1 / FPS if kind == "video" else AUDIO_PTIME
        self._time_base = fractions.Fraction(1, VIDEO_CLOCK if kind == "video" else AUDIO_CLOCK)

    def restart_at_keyframe(self) -> None:
        if self.kind == "video":
            self._index = 0

    async def recv(self) -> EncodedPacket:
        if self.readyState != "live":
            raise MediaStreamError
        now = time.monotonic()
        if self._start is None:
            self._start = now
        else:
            await asyncio.sleep(max(0.0, self._start + self._count * self._period - now))
        self._count += 1
        if self.kind == "video":
            # random spacing around 3000 ticks makes every timestamp difference unique
            self._pts += 3000 + random.randint(-150, 150)
        else:
            self._pts += int(AUDIO_CLOCK * AUDIO_PTIME) + random.randint(-48, 48)
        data = self._frames[self._index % len(self._frames)]
        self._index += 1
        packet = av.Packet(data)
        packet.pts = self._pts
        packet.time_base = self._time_base
        self._log[self._pts] = time.monotonic()
        return packet


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
    def __init__(
        self,
        pid: str,
        room: str,
        frames: dict[str, list[bytes]],
        audio: bool,
        sent: dict[Any, Any],
        publish: bool,
    ) -> None:
        self.pid, self.room, self.audio, self.publish = pid, room, audio, publish
        self.pc = loopback_pc()
        self.frames = frames
        self.sent = sent
        # (publisher, kind) -> [(rtp timestamp relative to the first received, arrival)]
        self.received: dict[tuple[str, str], list[tuple[int, float]]] = defaultdict(list)
        self._tapped: set[str] = set()

    async def join(self, rpc: Rpc) -> None:
        kinds = ["video", "audio"] if self.audio else ["video"]
        labels = {}
        for kind in kinds:
            if not self.publish:  # a viewer offers receive-only m-lines, as a browser does
                self.pc.addTransceiver(kind, direction="recvonly")
                continue
            track = ReplayTrack(kind, self.frames[kind], self.sent[(self.pid, kind)])
            transceiver = self.pc.addTransceiver(track, direction="sendonly")
            transceiver.setCodecPreferences(pinned_codec_preferences(kind))
            intercept_keyframe_requests(transceiver.sender, track.restart_at_keyframe)
        await self.pc.setLocalDescription(await self.pc.createOffer())
        for transceiver in self.pc.getTransceivers():
            if self.publish:
                labels[transceiver.mid] = "room_camera" if transceiver.kind == "video" else "audio"
        reply = await rpc.call(
            op="offer", room=self.room, pid=self.pid, sdp=self.pc.localDescription.sdp, labels=labels
        )
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=reply["sdp"], type="answer"))

    async def sync(self, rpc: Rpc) -> None:
        while True:
            reply = await rpc.call(op="pending", pid=self.pid)
            if reply["sdp"] is None:
                return
            offer = reply["sdp"]
            publisher_of = {
                m.rtp.muxId: (m.msid or "?").split(" ")[0]
                for m in sdp.SessionDescription.parse(offer).media
            }
            await self.pc.setRemoteDescription(RTCSessionDescription(sdp=offer, type="offer"))
            # no await before the taps: receivers start in a task aiortc just scheduled
            for transceiver in self.pc.getTransceivers():
                mid = transceiver.mid
                if mid is None or mid in self._tapped or transceiver.receiver.track is None:
                    continue
                tap = install_receiver_tap(transceiver.receiver)
                samples = self.received[(publisher_of[mid], transceiver.kind)]
                tap.on_frame = lambda codec, frame, samples=samples: samples.append(
                    (frame.timestamp, time.monotonic())
                )
                self._tapped.add(mid)
            await self.pc.setLocalDescription(await self.pc.createAnswer())
            await rpc.call(op="answer", pid=self.pid, sdp=self.pc.localDescription.sdp)


def align(samples: list[tuple[int, float]], sent: dict[int, float]) -> int | None:
    """Offset turning receiver-relative timestamps into the publisher's pts (unique by random spacing)."""
    if not samples or not sent:
        return None
    probe = samples[:40]
    first_arrival = probe[0][1]
    candidates = [pts - probe[0][0] for pts, at in sent.items() if first_arrival - 5 <= at <= first_arrival]
    best, best_hits = None, 0
    for offset in candidates:
        hits = sum(1 for ts, _ in probe if ts + offset in sent)
        if hits > best_hits:
            best, best_hits = offset, hits
    return best if best_hits >= min(len(probe), 5) else None


def client_stats(
    clients: list[BenchClient], sent: dict[Any, dict[int, float]], t0: float, t1: float
) -> dict[str, Any]:
    """Raw delivery counts and latencies of one client process, merged by the parent."""
    latencies: dict[str, list[float]] = defaultdict(list)
    delivered: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    streams: dict[str, int] = defaultdict(int)
    starved: dict[str, int] = defaultdict(int)
    for client in clients:
        for (publisher, kind), samples in client.received.items():
            log = sent[(publisher, kind)]
            expected = sum(1 for at in log.values() if t0 <= at <= t1)
            offset = align(samples, log)
            got = 0
            if offset is not None:
                for ts, arrival in samples:
                    sent_at = log.get(ts + offset)
                    if sent_at is not None and t0 <= sent_at <= t1:
                        got += 1
                        latencies[kind].append(round(arrival - sent_at, 6))
            delivered[kind][0] += got
            delivered[kind][1] += expected
            streams[kind] += 1
            if got < 0.9 * expected:
                starved[kind] += 1
    return {"delivered": delivered, "latencies": latencies, "streams": streams, "starved": starved}


def merge_client_stats(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """Delivery ratio, median latency, stream counts over every client process."""
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    latencies: dict[str, list[float]] = defaultdict(list)
    streams: dict[str, int] = defaultdict(int)
    starved: dict[str, int] = defaultdict(int)
    for part in parts:
        for kind, (got, expected) in part["delivered"].items():
            counts[kind][0] += got
            counts[kind][1] += expected
        for kind, values in part["latencies"].items():
            latencies[kind].extend(values)
        for kind, number in part["streams"].items():
            streams[kind] += number
        for kind, number in part["starved"].items():
            starved[kind] += number
    return {
        "delivered": {kind: (got / expected if expected else 0.0) for kind, (got, expected) in counts.items()},
        "latency_ms": {kind: statistics.median(values) * 1000 for kind, values in latencies.items() if values},
        "streams": dict(streams),
        "starved": dict(starved),
    }


async def client_main(config: dict[str, Any], frames: dict[str, list[bytes]]) -> None:
    """One client process: the participants of ``config["rooms"]``, driven over stdin/stdout."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=2**24)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    transport, protocol = await loop.connect_write_pipe(asyncio.streams.FlowControlMixin, sys.stdout)
    rpc = Rpc(reader, asyncio.StreamWriter(transport, protocol, reader, loop))
    sent: dict[Any, dict[int, float]] = defaultdict(dict)
    clients = [
        BenchClient(f"r{r}p{p}", f"r{r}", frames, config["audio"], sent, publish=p < config["publishers"])
        for r in config["rooms"]
        for p in range(config["publishers"] + config["viewers"])
    ]
    for client in clients:
        await client.join(rpc)
    for _ in range(2):  # tracks published after a participant's first sync come in the second
        for client in clients:
            await client.sync(rpc)
    await rpc.call(op="ready")  # every process has joined: the media of all rooms is flowing
    await asyncio.sleep(config["warmup"])
    await rpc.call(op="measure_start")
    t0, cpu0 = time.monotonic(), time.process_time()
    await asyncio.sleep(config["seconds"])
    await rpc.call(op="measure_stop")
    t1 = time.monotonic()
    client_cpu = (time.process_time() - cpu0) / (t1 - t0)
    await asyncio.sleep(0.5)  # let frames sent just before t1 arrive
    stats = client_stats(clients, sent, t0, t1)
    stats["client_cpu"] = client_cpu
    await rpc.call(op="report", stats=stats)
    for client in clients:
        await client.pc.close()


# -------------------------------------------------------------------------------- report


def cpu_share(report: dict[str, Any]) -> float:
    return float(report["server_cpu"] / report["wall"])


def describe(name: str, report: dict[str, Any]) -> None:
    """Print one run's figures."""
    video_streams = report["streams"].get("video", 0)
    share = cpu_share(report)
    delivered = ", ".join(f"{k} {v * 100:.2f} %" for k, v in sorted(report["delivered"].items()))
    latency = ", ".join(f"{k} {v:.1f} ms" for k, v in sorted(report["latency_ms"].items()))
    starved = ", ".join(f"{k} {n}" for k, n in sorted(report["starved"].items()) if n) or "none"
    print(f"  {name}: {video_streams} forwarded video streams")
    print(
        f"    server CPU {share * 100:.1f} % of a core "
        f"(user {report['server_user'] / report['wall'] * 100:.1f} %, "
        f"kernel {report['server_sys'] / report['wall'] * 100:.1f} %); all-in per video stream "
        f"{share / max(video_streams, 1) * 100:.3f} %"
    )
    print(f"    frames delivered: {delivered}; streams below 90 %: {starved}")
    print(f"    median added latency (client send -> client receive via server, loopback): {latency}")
    client_cpu = report["client_cpu"]
    total = share + sum(client_cpu)
    print(
        f"    client CPU: {len(client_cpu)} process(es), busiest {max(client_cpu) * 100:.0f} % of a core, "
        f"all {sum(client_cpu) * 100:.0f} %; server + clients {total * 100:.0f} % of "
        f"{CORES} core(s), load average {os.getloadavg()[0]:.1f}"
    )
    if max(client_cpu) > 0.85 or total > 0.85 * CORES:
        print(
            "    WARNING: clients or the whole machine near saturation: delivery and latency "
            "describe the machine, not the server"
        )


async def marginal_cost(
    mode: str, rooms: int, low: int, high: int, args: argparse.Namespace, frames: str
) -> tuple[float, dict[str, Any]]:
    """CPU per extra recipient: the slope between ``low`` and ``high`` viewers per publisher."""
    few = await run_phase(mode, rooms, 1, low, False, args, frames)
    describe(f"{rooms} publisher(s) x {low} viewer(s)", few)
    many = await run_phase(mode, rooms, 1, high, False, args, frames)
    describe(f"{rooms} publisher(s) x {high} viewers", many)
    extra = many["streams"]["video"] - few["streams"]["video"]
    # Raw CPU slope, not scaled by the delivered ratio (which would flatter the forwarder
    # when the transcoder's rate control skips frames).
    slope = (cpu_share(many) - cpu_share(few)) / extra * 100
    return slope, many


async def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--consultations",
        default="3",
        help="three-way consultations in phase 3, comma-separated for several runs (e.g. 3,4,6)",
    )
    parser.add_argument(
        "--client-processes",
        type=int,
        default=CORES,
        help="child processes the synthetic clients are spread over (whole rooms each)",
    )
    parser.add_argument("--seconds", type=float, default=8.0, help="measured seconds per run")
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--only-forwarding", action="store_true", help="phase 1 only (profiling)")
    parser.add_argument("--only-consultations", action="store_true", help="phase 3 only")
    args = parser.parse_args()
    consultations = [int(value) for value in str(args.consultations).split(",") if value.strip()]

    print(f"pre-encoding {VIDEO_FRAMES} VP8 frames {WIDTH}x{HEIGHT} and 50 Opus frames ...", flush=True)
    frames = pre_encode()
    sizes = [len(f) for f in frames["video"]]
    print(
        f"  VP8 frames: mean {statistics.mean(sizes):.0f} B, keyframe {sizes[0]} B "
        f"(~{statistics.mean(sizes) * 8 * FPS / 1000:.0f} kbit/s)"
    )
    with tempfile.NamedTemporaryFile(suffix=".frames", delete=False) as handle:
        handle.write(pickle.dumps(frames))
        frames_path = handle.name
    forward_cost = relay_cost = 0.0
    try:
        for count in consultations if args.only_consultations else []:
            print(f"\nphase 3: forwarding, {count} three-way consultations, audio + video", flush=True)
            describe(f"{count} consultations", await run_phase("forward", count, 3, 0, True, args, frames_path))
        if args.only_consultations:
            return
        print("\nphase 1: forwarding (rooms.media), 2 publishers, 1 then 7 viewers each, video", flush=True)
        forward_cost, _ = await marginal_cost("forward", 2, 1, 7, args, frames_path)
        if args.only_forwarding:
            return
        print(
            "\nphase 2: transcoding (aiortc MediaRelay), 1 publisher, 1 then 3 viewers, video", flush=True
        )
        relay_cost, _ = await marginal_cost("relay", 1, 1, 3, args, frames_path)
        for count in consultations:
            print(f"\nphase 3: forwarding, {count} three-way consultations, audio + video", flush=True)
            describe(f"{count} consultations", await run_phase("forward", count, 3, 0, True, args, frames_path))
    finally:
        os.unlink(frames_path)
    print(
        f"\nforwarding: {forward_cost:.3f} % of a core per extra forwarded 640x480@30fps stream "
        "(target <= 0.5 %)"
    )
    print(f"transcoding (MediaRelay): {relay_cost:.3f} % of a core per extra stream")
    print(f"ratio: {relay_cost / forward_cost:.1f}")


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "--client":
        client_config = json.loads(sys.argv[2])
        asyncio.run(client_main(client_config, pickle.loads(Path(client_config["frames"]).read_bytes())))
    else:
        asyncio.run(main())
