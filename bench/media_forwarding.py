"""Server CPU per forwarded stream and per consultation: rooms.media forwarding against MediaRelay.

Run: ``.venv/bin/python bench/media_forwarding.py [--steps 4,8,12,...] [--budget 420] [--profile PATH]
[--forwarding frames|packets|both] [--compare N --rounds R] [--only-compare]``

The server side (a MediaRouter per consultation, or aiortc's MediaRelay baseline) runs in this
process, behind :func:`start_server`, and is the only thing measured (``getrusage`` of this
process between barriers). The synthetic participants run in child processes
(bench/media_clients.py): they replay VP8 640x480 at 30 fps and Opus that were encoded AND
packetized once here, and count received frames from the RTP headers without decoding them, so
that they cost far less than the server they load; their own CPU is printed beside the
server's. Loopback only, no STUN, bounded time. Prints figures, asserts nothing about timings;
every figure line carries the load average and, where Linux reports it, how much of the last
10 s runnable tasks waited for a CPU (the machine may be shared).

Phases:
1. forwarding, video only: CPU per extra forwarded stream (slope between two viewer counts);
2. MediaRelay (decode once, encode per recipient), the same slope: ``ratio:`` is 2 over 1;
3. capacity: three-way consultations (audio + video), added step by step to the running ones
   until delivery fails with a busy server or the time budget ends. ``capacity:`` is the largest
   count where every stream got >= 99 % of its frames; ``per consultation:`` the server's CPU
   per consultation over those steps. Latency is client send -> client receive through the
   server, frames matched by RTP timestamps (random spacing makes the alignment unique and the
   server keeps timestamp differences). Each window also prints the server's loop lag, how late
   the clients' frames left, lost peer connections and the frames the server's queues dropped,
   so a failed step says whether the server, the clients or the machine failed it.
4. frames vs packets (``--compare N``, or ``--only-compare``): N three-way consultations forwarded
   as frames, then as packets (rooms.media.forwarding_mode), windows back to back and in alternating
   order for ``--rounds``; prints per mode the CPU per consultation, forwarded streams per core and
   server CPU microseconds per frame the clients received, and the ratios. On a shared machine these
   same-load, interleaved ratios are the figures to quote, not the capacities of phase 3.

Phases 1 and 3 run once per mode named by ``--forwarding`` (both by default) and print the ratio.
"""

import argparse
import asyncio
import cProfile
import fractions
import io
import json
import math
import os
import pickle
import pstats
import random
import resource
import statistics
import struct
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import av
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription, sdp
from aiortc.codecs.opus import OpusEncoder
from aiortc.codecs.vpx import Vp8Encoder, vp8_depayload
from aiortc.contrib.media import MediaRelay
from aiortc.mediastreams import MediaStreamTrack

from rooms.live_events import ServerOffer
from rooms.media import FORWARDING_MODES, ForwardingMode, MediaRouter, check_forwarding_mode
from rooms.media.aiortc_hook import set_outgoing_stream_id
from rooms.media.codec_pinning import pinned_codec_preferences
from rooms.media_workers import MediaWorkerPool, RemoteRoomMedia
from rooms.members import Member
from rooms.roster import Identity, ParticipantId, ParticipantRole, TrackKind
from server.media_worker import worker_command

CORES = os.cpu_count() or 1
CLIENTS = Path(__file__).resolve().parent / "media_clients.py"
VIDEO_FRAMES = 300
WIDTH, HEIGHT = 640, 480
FPS = 30
VIDEO_CLOCK = 90000
AUDIO_CLOCK = 48000
AUDIO_PTIME = 0.02
DELIVERY_TARGET = 0.99


def loopback_pc() -> RTCPeerConnection:
    return RTCPeerConnection(RTCConfiguration(iceServers=[]))


def cpu_pressure() -> float | None:
    """Share of the last 10 s in which some runnable task waited for a CPU (Linux PSI), if known."""
    try:
        line = Path("/proc/pressure/cpu").read_text().splitlines()[0]
    except (OSError, IndexError):
        return None
    fields = dict(field.split("=") for field in line.split()[1:])
    return float(fields["avg10"])


def load(average: float | None = None, pressure: float | None = None) -> str:
    """The 1-minute load average (and CPU pressure): figures from a loaded machine are not comparable."""
    average = os.getloadavg()[0] if average is None else average
    pressure = cpu_pressure() if pressure is None else pressure
    waited = "" if pressure is None else f", tasks waited for a CPU {pressure:.0f} % of the last 10 s"
    return f"load {average:.2f}{waited}"


# ---------------------------------------------------------------- pre-encoding (parent, once)


def pre_encode() -> dict[str, list[list[bytes]]]:
    """VP8 and Opus frames, each already split into RTP payloads, so the clients never packetize."""
    rng = random.Random(7)
    encoder = Vp8Encoder()
    video: list[list[bytes]] = []
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
        encoded = b"".join(vp8_depayload(p) for p in payloads)
        # the packetizer aiortc's sender would run per frame and per stream, run once here
        video.append(Vp8Encoder._packetize(encoded, index))
    opus = OpusEncoder()
    audio: list[list[bytes]] = []
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
        audio.extend([payload] for payload in payloads)
    return {"video": video, "audio": audio}


# ---------------------------------------------------------------------- servers (measured)


class MediaServer(Protocol):
    """What the bench needs from a media server: the signaling of each participant."""

    async def offer(self, room: str, pid: str, offer: str, labels: dict[str, Any]) -> str: ...

    async def pending_offer(self, pid: str) -> str | None: ...

    async def answer(self, pid: str, answer: str) -> None: ...

    async def close(self) -> None: ...


class ForwardingServer:
    """One rooms.media MediaRouter per consultation, on this process's event loop."""

    def __init__(self, forwarding: ForwardingMode = "frames") -> None:
        self.forwarding: ForwardingMode = forwarding
        self.routers: dict[str, MediaRouter] = {}
        self.room_of: dict[str, str] = {}

    async def offer(self, room: str, pid: str, offer: str, labels: dict[str, Any]) -> str:
        router = self.routers.get(room)
        if router is None:
            router = self.routers[room] = MediaRouter(forwarding=self.forwarding)
        pc = loopback_pc()
        router.add_participant(pid, pc)
        self.room_of[pid] = room
        answer = await router.handle_offer(pid, offer, labels)
        return answer

    async def pending_offer(self, pid: str) -> str | None:
        router = self.routers[self.room_of[pid]]
        if not router.needs_renegotiation(pid):
            return None
        return await router.create_offer(pid)

    async def answer(self, pid: str, answer: str) -> None:
        await self.routers[self.room_of[pid]].handle_answer(pid, answer)

    def frame_counters(self) -> dict[str, int]:
        """Frames the forwarded tracks passed on and dropped (queue full, waiting for a keyframe)."""
        counters = {"forwarded": 0, "dropped": 0, "gaps": 0}
        for router in self.routers.values():
            for participant in router._participants.values():
                for track in participant._sending:
                    counters["forwarded"] += track.frames_forwarded
                    counters["dropped"] += track.frames_dropped
                for tap in participant._taps.values():
                    counters["gaps"] += getattr(tap.assembler, "gaps_skipped", 0)
        return counters

    async def close(self) -> None:
        for router in self.routers.values():
            await router.close()


class _OfferInbox:
    """A bench participant's link: keeps the server offers its room's worker sends."""

    def __init__(self) -> None:
        self.offers: list[str] = []
        self.arrived = asyncio.Event()

    def joined(self, result: Any, *, resumed: bool) -> None:
        return None

    def deliver(self, event: Any) -> None:
        if isinstance(event, ServerOffer):
            self.offers.append(event.sdp)
            self.arrived.set()

    def close(self, reason: str) -> None:
        return None


class WorkerServer:
    """The server's media as it runs in production: a MediaWorkerPool of worker processes, each room's
    media pinned to one worker and reached through RemoteRoomMedia (rooms/media_workers.py). The server
    CPU is the workers' (read from /proc) plus this process's (the control side)."""

    QUIET_AFTER = 1.0
    """A participant with no server offer this long after asking has none coming."""

    def __init__(self, workers: int, forwarding: ForwardingMode = "frames") -> None:
        self.pool = MediaWorkerPool(workers, worker_command(forwarding))
        self.rooms: dict[str, RemoteRoomMedia] = {}
        self.members: dict[str, dict[ParticipantId, Member]] = defaultdict(dict)
        self.member_of: dict[str, tuple[RemoteRoomMedia, Member, _OfferInbox]] = {}

    async def start(self) -> None:
        await self.pool.start()

    async def offer(self, room: str, pid: str, offer: str, labels: dict[str, Any]) -> str:
        media = self.rooms.get(room)
        if media is None:
            media = self.rooms[room] = self.pool.room_media(room, self.members[room], lambda coro: None)
        participant = ParticipantId(pid)
        member = Member(participant, Identity(f"user:{pid}", ParticipantRole.NURSE, pid))
        inbox = _OfferInbox()
        member.link = inbox
        member.track_kinds = _track_kinds(offer)
        self.members[room][participant] = member
        self.member_of[pid] = (media, member, inbox)
        return await media.handle_offer(member, offer)

    async def pending_offer(self, pid: str) -> str | None:
        _, _, inbox = self.member_of[pid]
        if not inbox.offers:
            inbox.arrived.clear()
            try:
                await asyncio.wait_for(inbox.arrived.wait(), self.QUIET_AFTER)
            except TimeoutError:
                return None
        return inbox.offers.pop(0)

    async def answer(self, pid: str, answer: str) -> None:
        media, member, _ = self.member_of[pid]
        await media.handle_answer(member, answer)

    def cpu_seconds(self) -> tuple[float, float]:
        user, system = _own_cpu()
        for pid in self.pool.worker_pids():
            if pid is not None:
                worker_user, worker_system = _process_cpu(pid)
                user, system = user + worker_user, system + worker_system
        return user, system

    async def close(self) -> None:
        for media in self.rooms.values():
            await media.close()
        await self.pool.close()


def _track_kinds(offer: str) -> dict[str, TrackKind]:
    """What each track of an offer shows, from its msid lines (as the call page announces its tracks)."""
    kinds: dict[str, TrackKind] = {}
    for media in sdp.SessionDescription.parse(offer).media:
        if media.msid and media.direction in ("sendonly", "sendrecv"):
            kinds[media.msid.split(" ")[-1]] = TrackKind.ROOM_CAMERA if media.kind == "video" else TrackKind.AUDIO
    return kinds


def _own_cpu() -> tuple[float, float]:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime, usage.ru_stime


def _process_cpu(pid: int) -> tuple[float, float]:
    """User and system CPU seconds of process ``pid`` (fields 14 and 15 of /proc/<pid>/stat)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0, 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / ticks, int(fields[12]) / ticks


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


async def start_server(mode: str, workers: int = 0, forwarding: ForwardingMode = "frames") -> MediaServer:
    """The measured server: forwarding (frames or packets) in this process, or in ``workers`` worker
    processes; or the transcoding baseline."""
    if mode == "relay":
        return TranscodingServer()
    if workers > 0:
        server = WorkerServer(workers, forwarding)
        await server.start()
        return server
    return ForwardingServer(forwarding)


def server_cpu(server: MediaServer) -> tuple[float, float]:
    """User and system CPU seconds of everything serving the media so far."""
    return server.cpu_seconds() if isinstance(server, WorkerServer) else _own_cpu()


# ------------------------------------------------------------------ driving the client processes


class LoopLag:
    """How late a 10 ms sleep wakes up on the server's event loop: its stalls, whoever causes them."""

    def __init__(self) -> None:
        self._samples: list[float] = []
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.ensure_future(self._run())

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()

    def reset(self) -> None:
        self._samples = []

    def window(self) -> tuple[float, float]:
        """p99 and max lateness since :meth:`reset`, in seconds."""
        ordered = sorted(self._samples) or [0.0]
        return ordered[int(0.99 * (len(ordered) - 1))], ordered[-1]

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            before = loop.time()
            await asyncio.sleep(0.01)
            self._samples.append(loop.time() - before - 0.01)


@dataclass
class Step:
    """One measured window: ``rooms`` rooms running (the earlier steps' rooms are still there)."""

    rooms: int
    report: dict[str, Any] = field(default_factory=dict)


async def run_steps(
    mode: str,
    room_steps: list[int],
    publishers: int,
    viewers: int,
    audio: bool,
    args: argparse.Namespace,
    frames: str,
    keep_going: Callable[[list[Step]], bool] = lambda steps: True,
    on_step: Callable[[Step], None] = lambda step: None,
    profile: str | None = None,
    forwarding: ForwardingMode = "frames",
) -> list[Step]:
    """Measured windows with a growing number of rooms; the rooms of one step stay for the next.

    Each room has ``publishers`` (who also receive) and ``viewers``. The synthetic clients are
    spread over up to ``args.client_processes`` child processes (whole rooms each). The
    children meet at barriers before and after each measured window, so every process measures
    the same seconds; after a window ``keep_going`` decides whether more rooms are added.
    """
    server = await start_server(mode, args.workers if mode == "forward" else 0, forwarding)
    processes = max(1, min(args.client_processes, room_steps[0]))
    previous = 0
    plan: list[list[list[int]]] = [[] for _ in range(processes)]
    for total in room_steps:
        for index in range(processes):
            plan[index].append([room for room in range(previous, total) if room % processes == index])
        previous = total
    children: list[asyncio.subprocess.Process] = []
    for index in range(processes):
        config = {
            "steps": plan[index],
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
                str(CLIENTS),
                json.dumps(config),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                limit=2**24,
            )
        )
    steps: list[Step] = []
    lag = LoopLag()
    # CPU time, not wall time: on a shared machine wall time counts the waits for a CPU too
    profiler = cProfile.Profile(time.process_time) if profile else None
    barriers: dict[str, list[asyncio.Future[Any]]] = defaultdict(list)
    marks: dict[str, tuple[tuple[float, float], float]] = {}
    parts: list[dict[str, Any]] = []
    counters: dict[str, dict[str, int]] = {}

    def finish_window() -> dict[str, Any]:
        """The server's CPU between the barriers and the merged client figures of this step."""
        (usage_start, wall_start), (usage_stop, wall_stop) = marks["measure_start"], marks["measure_stop"]
        report: dict[str, Any] = {
            "wall": wall_stop - wall_start,
            "server_user": usage_stop[0] - usage_start[0],
            "server_sys": usage_stop[1] - usage_start[1],
            "client_cpu": [part["client_cpu"] for part in parts],
            # the slowest 1 % of frame departures over all client processes: p99 and max
            "client_late": sorted(late for part in parts for late in part["client_late"]),
            "send_errors": sum(part["send_errors"] for part in parts),
            "not_flowing": sum(part["not_flowing"] for part in parts),
            "lost_connections": sum(part["lost_connections"] for part in parts),
            "server_lag": lag.window(),
            "server_frames": {
                key: counters["measure_stop"][key] - counters["measure_start"][key]
                for key in counters.get("measure_stop", {})
            },
            "load": os.getloadavg()[0],
            "pressure": cpu_pressure(),
        }
        report["server_cpu"] = report["server_user"] + report["server_sys"]
        report.update(merge_client_stats(parts))
        step = Step(room_steps[len(steps)], report)
        steps.append(step)
        on_step(step)
        parts.clear()
        return {"stop": len(steps) == len(room_steps) or not keep_going(steps)}

    async def barrier(name: str, part: dict[str, Any] | None = None) -> dict[str, Any]:
        """Wait until every child reached ``name``; the server's CPU is read when the last does."""
        waiter: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        barriers[name].append(waiter)
        if part is not None:
            parts.append(part)
        if len(barriers[name]) == processes:
            marks[name] = server_cpu(server), time.monotonic()
            if name == "measure_start":
                lag.reset()
                if profiler is not None:
                    profiler.enable()
            if name == "measure_stop" and profiler is not None:
                profiler.disable()
            if name in ("measure_start", "measure_stop") and isinstance(server, ForwardingServer):
                counters[name] = server.frame_counters()
            reply = finish_window() if name == "report" else {}
            for other in barriers.pop(name):
                other.set_result(reply)
        result: dict[str, Any] = await waiter
        return result

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
                reply = await barrier(op, message["stats"])
            child.stdin.write((json.dumps(reply) + "\n").encode())
            await child.stdin.drain()
            if op == "done":
                return

    per_step = args.seconds + args.warmup + 30
    lag.start()
    try:
        async with asyncio.timeout(len(room_steps) * per_step + 3 * room_steps[-1] + 60):
            await asyncio.gather(*(serve(child) for child in children))
    finally:
        lag.stop()
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
    if profiler is not None and profile:
        print_profile(profiler, profile)
    return steps


def print_profile(profiler: cProfile.Profile, path: str) -> None:
    """The server's top CPU costs over the measured windows (cProfile inflates Python-heavy code)."""
    profiler.dump_stats(path)
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(25)
    stats.sort_stats("cumulative").print_stats(40)
    print(f"  server profile of the measured windows (saved to {path}):")
    print("\n".join("    " + line for line in out.getvalue().splitlines() if line.strip()))


def merge_client_stats(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """Delivery ratio, worst stream, median latency and stream counts over every client process."""
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    latencies: dict[str, list[float]] = defaultdict(list)
    streams: dict[str, int] = defaultdict(int)
    starved: dict[str, int] = defaultdict(int)
    worst: dict[str, float] = {}
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
        for kind, ratio in part["worst"].items():
            worst[kind] = min(worst.get(kind, 1.0), ratio)
    return {
        "delivered": {kind: (got / expected if expected else 0.0) for kind, (got, expected) in counts.items()},
        "received": {kind: got for kind, (got, _) in counts.items()},
        "worst": worst,
        "latency_ms": {kind: statistics.median(values) * 1000 for kind, values in latencies.items() if values},
        "latency_p95_ms": {
            kind: sorted(values)[int(0.95 * (len(values) - 1))] * 1000 for kind, values in latencies.items() if values
        },
        "streams": dict(streams),
        "starved": dict(starved),
    }


# -------------------------------------------------------------------------------- report


def cpu_share(report: dict[str, Any]) -> float:
    return float(report["server_cpu"] / report["wall"])


def all_delivered(report: dict[str, Any]) -> bool:
    """Every stream of every recipient got at least 99 % of the frames sent in the window."""
    return bool(report["worst"]) and min(report["worst"].values()) >= DELIVERY_TARGET


def client_bound(report: dict[str, Any]) -> bool:
    """A client process, or the whole machine, near saturation: the figures describe the machine."""
    client_cpu = report["client_cpu"]
    return bool(max(client_cpu) > 0.85 or cpu_share(report) + sum(client_cpu) > 0.9 * CORES)


def describe(name: str, report: dict[str, Any]) -> None:
    """Print one measured window's figures, each line with the 1-minute load average."""
    streams = report["streams"]
    video_streams = streams.get("video", 0)
    all_streams = sum(streams.values())
    share = cpu_share(report)
    at_load = f"({load(report['load'], report['pressure'])})"
    delivered = ", ".join(f"{k} {v * 100:.2f} %" for k, v in sorted(report["delivered"].items()))
    worst = ", ".join(f"{k} {v * 100:.1f} %" for k, v in sorted(report["worst"].items()))
    latency = ", ".join(
        f"{k} {v:.1f} ms (p95 {report['latency_p95_ms'][k]:.1f})" for k, v in sorted(report["latency_ms"].items())
    )
    starved = ", ".join(f"{k} {n}" for k, n in sorted(report["starved"].items()) if n) or "none"
    print(f"  {name}: {video_streams} forwarded video streams, {all_streams} in all")
    print(
        f"    server CPU {share * 100:.1f} % of a core "
        f"(user {report['server_user'] / report['wall'] * 100:.1f} %, "
        f"kernel {report['server_sys'] / report['wall'] * 100:.1f} %); per video stream "
        f"{share / max(video_streams, 1) * 100:.3f} %, per stream {share / max(all_streams, 1) * 100:.3f} % "
        f"{at_load}"
    )
    print(f"    frames delivered: {delivered}; worst stream: {worst}; streams below 90 %: {starved} {at_load}")
    print(f"    median added latency (client send -> client receive via server, loopback): {latency} {at_load}")
    client_late = report["client_late"]
    server_p99, server_max = report["server_lag"]
    print(
        f"    stalls: server loop lag p99 {server_p99 * 1000:.0f} ms, max {server_max * 1000:.0f} ms; "
        f"client frames left late by up to {client_late[-1] * 1000:.0f} ms; "
        f"client send errors {report['send_errors']}; "
        f"streams without a frame 20 s after joining: {report['not_flowing']}; "
        f"client peer connections failed or closed so far: {report['lost_connections']} {at_load}"
    )
    if report["server_frames"]:
        frames = report["server_frames"]
        print(
            f"    server: {frames['forwarded']} frames forwarded, {frames['dropped']} dropped by its queues, "
            f"{frames['gaps']} publisher packet gaps skipped {at_load}"
        )
    client_cpu = report["client_cpu"]
    total = share + sum(client_cpu)
    print(
        f"    client CPU: {len(client_cpu)} process(es), busiest {max(client_cpu) * 100:.0f} % of a core, "
        f"all {sum(client_cpu) * 100:.0f} %; server + clients {total * 100:.0f} % of "
        f"{CORES} core(s) {at_load}"
    )
    if client_bound(report):
        print(
            "    WARNING: clients or the whole machine near saturation: delivery and latency "
            "describe the machine, not the server"
        )


async def marginal_cost(
    mode: str, rooms: int, low: int, high: int, args: argparse.Namespace, frames: str,
    forwarding: ForwardingMode = "frames",
) -> float:
    """CPU per extra recipient: the slope between ``low`` and ``high`` viewers per publisher."""
    (few,) = await run_steps(mode, [rooms], 1, low, False, args, frames, forwarding=forwarding)
    describe(f"{rooms} publisher(s) x {low} viewer(s)", few.report)
    (many,) = await run_steps(mode, [rooms], 1, high, False, args, frames, forwarding=forwarding)
    describe(f"{rooms} publisher(s) x {high} viewers", many.report)
    extra = int(many.report["streams"]["video"] - few.report["streams"]["video"])
    # Raw CPU slope, not scaled by the delivered ratio (which would flatter the forwarder
    # when the transcoder's rate control skips frames).
    return (cpu_share(many.report) - cpu_share(few.report)) / extra * 100


async def capacity_search(args: argparse.Namespace, frames: str, forwarding: ForwardingMode) -> list[Step]:
    """Three-way consultations added step by step until two steps in a row fail or the budget ends."""
    started = time.monotonic()
    counts = [int(value) for value in str(args.steps).split(",") if value.strip()]

    def keep_going(steps: list[Step]) -> bool:
        failed = [not all_delivered(step.report) for step in steps]
        last = steps[-1].report
        # two failed steps in a row end the search once the server is busy or delivery collapsed;
        # on a shared machine a failed step at low load is more often the machine than the server
        saturated = cpu_share(last) >= 0.8 or min(last["delivered"].values(), default=0.0) < 0.9
        if len(failed) >= 2 and failed[-1] and failed[-2] and saturated:
            return False
        spent = time.monotonic() - started
        budget: float = args.budget
        # the next step costs about as much as the last one, plus the setup of its new rooms
        window: float = args.seconds + args.warmup
        return spent + window + 10 < budget

    def on_step(step: Step) -> None:
        verdict = "all streams >= 99 %" if all_delivered(step.report) else "some stream < 99 %"
        print(f"\n  step: {step.rooms} consultations running, {verdict}", flush=True)
        describe(f"{step.rooms} consultations", step.report)

    return await run_steps(
        "forward", counts, 3, 0, True, args, frames, keep_going, on_step, args.profile, forwarding
    )


def summarize_capacity(steps: list[Step]) -> tuple[float, float] | None:
    """The ``capacity:`` and ``per consultation:`` lines; returns (CPU share per consultation, forwarded
    streams per core), or None when nothing was measured."""
    passing = [step for step in steps if all_delivered(step.report)]
    capacity = max((step.rooms for step in passing), default=0)
    suspect = [step.rooms for step in steps if client_bound(step.report)]
    print(
        f"capacity: {capacity} consultations (largest count with >= 99 % of frames delivered on every stream; "
        f"measured {', '.join(str(step.rooms) for step in steps)}) ({load()})"
    )
    if suspect:
        print(f"  note: clients or machine near saturation at {', '.join(map(str, suspect))} consultations")
    measured = passing or steps
    if measured:
        # total over the points: a weighted mean, not skewed by the smallest count
        per = sum(cpu_share(step.report) for step in measured) / sum(step.rooms for step in measured)
        points = ", ".join(f"{step.rooms} -> {cpu_share(step.report) * 100:.0f} %" for step in measured)
        which = "" if passing else "; no step delivered >= 99 %, so over every step"
        print(f"per consultation: {per * 100:.2f} % of a core (server CPU at {points}{which}) ({load()})")
        largest = max(measured, key=lambda step: step.rooms).report
        streams = sum(largest["streams"].values())
        print(
            f"forwarded streams per core: {streams / cpu_share(largest):.0f} "
            f"({streams} audio + video streams at {cpu_share(largest) * 100:.0f} % of a core) ({load()})"
        )
        return per, streams / cpu_share(largest)
    return None


@dataclass
class ModeFigures:
    """Same-load windows of one forwarding mode, summed."""

    server_cpu: float = 0.0
    wall: float = 0.0
    rooms: int = 0
    streams: int = 0
    frames: int = 0
    windows: int = 0

    def add(self, step: Step) -> None:
        report = step.report
        self.server_cpu += report["server_cpu"]
        self.wall += report["wall"]
        self.rooms += step.rooms
        self.streams += sum(report["streams"].values())
        self.frames += sum(report["received"].values())
        self.windows += 1

    @property
    def per_consultation(self) -> float:
        """Share of a core per running consultation."""
        return self.server_cpu / self.wall * self.windows / max(self.rooms, 1)

    @property
    def streams_per_core(self) -> float:
        return self.streams / max(self.server_cpu / self.wall * self.windows, 1e-9)

    @property
    def cpu_per_frame_us(self) -> float:
        """Server CPU microseconds per frame the clients received (less load-sensitive than shares)."""
        return self.server_cpu / max(self.frames, 1) * 1e6


async def compare_modes(args: argparse.Namespace, frames: str) -> None:
    """The same consultations forwarded as frames and as packets, windows back to back, alternating."""
    figures = {mode: ModeFigures() for mode in FORWARDING_MODES}
    for round_number in range(args.rounds):
        order = FORWARDING_MODES if round_number % 2 == 0 else tuple(reversed(FORWARDING_MODES))
        for mode in order:
            (step,) = await run_steps(
                "forward", [args.compare], 3, 0, True, args, frames, forwarding=check_forwarding_mode(mode)
            )
            describe(f"round {round_number + 1}, {mode}: {step.rooms} consultations", step.report)
            if not all_delivered(step.report) or step.report["send_errors"]:
                # the clients failing to send (a starved machine) also lowers the server's CPU: not comparable
                print("    note: left out of the sums (some stream < 99 % of its frames, or client send errors)")
                continue
            figures[mode].add(step)
    print()
    for mode, figure in figures.items():
        print(
            f"{mode}: per consultation {figure.per_consultation * 100:.2f} % of a core, "
            f"{figure.streams_per_core:.0f} forwarded streams per core, "
            f"{figure.cpu_per_frame_us:.1f} us server CPU per delivered frame "
            f"({figure.windows} window(s) of {args.compare} consultations) ({load()})"
        )
    frames_mode, packets_mode = figures["frames"], figures["packets"]
    if not frames_mode.windows or not packets_mode.windows:
        print(f"no ratio: a mode has no window where every stream was delivered ({load()})")
        return
    print(
        "ratio frames/packets: CPU per consultation "
        f"{frames_mode.per_consultation / packets_mode.per_consultation:.2f}, "
        f"CPU per delivered frame {frames_mode.cpu_per_frame_us / packets_mode.cpu_per_frame_us:.2f}; "
        f"streams per core packets/frames {packets_mode.streams_per_core / frames_mode.streams_per_core:.2f} "
        f"({load()})"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--steps",
        default="4,8,12,16,20,25,30,35,40,45,50",
        help="consultations running at each capacity step, increasing (rooms are added to the running ones)",
    )
    parser.add_argument("--budget", type=float, default=420.0, help="seconds the capacity search may take")
    parser.add_argument(
        "--client-processes",
        type=int,
        default=CORES,
        help="child processes the synthetic clients are spread over (whole rooms each)",
    )
    parser.add_argument("--seconds", type=float, default=8.0, help="measured seconds per window")
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument(
        "--profile",
        metavar="PATH",
        help="cProfile the server during the capacity windows and save the stats there (inflates CPU figures)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=0,
        help="forward in this many media worker processes, as the server does by default (0: in this process)",
    )
    parser.add_argument(
        "--forwarding",
        choices=(*FORWARDING_MODES, "both"),
        default="both",
        help="how the router forwards in phases 1 and 3 (rooms.media.forwarding_mode); both: each in turn",
    )
    parser.add_argument(
        "--compare",
        type=int,
        default=6,
        metavar="N",
        help="phase 4: N consultations forwarded as frames and as packets, back to back (0: skip)",
    )
    parser.add_argument("--rounds", type=int, default=2, help="phase 4: windows per mode, alternating order")
    parser.add_argument("--only-forwarding", action="store_true", help="phase 1 only (profiling)")
    parser.add_argument("--only-capacity", action="store_true", help="phase 3 only")
    parser.add_argument("--only-compare", action="store_true", help="phase 4 only")
    args = parser.parse_args()
    modes = [check_forwarding_mode(m) for m in (FORWARDING_MODES if args.forwarding == "both" else (args.forwarding,))]

    print(f"pre-encoding {VIDEO_FRAMES} VP8 frames {WIDTH}x{HEIGHT} and 50 Opus frames ...", flush=True)
    frames = pre_encode()
    sizes = [sum(len(p) for p in f) for f in frames["video"]]
    packets = statistics.mean(len(f) for f in frames["video"])
    print(
        f"  VP8 frames: mean {statistics.mean(sizes):.0f} B in {packets:.1f} RTP packets, keyframe {sizes[0]} B "
        f"(~{statistics.mean(sizes) * 8 * FPS / 1000:.0f} kbit/s); {CORES} cores, {load()}"
    )
    with tempfile.NamedTemporaryFile(suffix=".frames", delete=False) as handle:
        handle.write(pickle.dumps(frames))
        frames_path = handle.name
    forward_cost = relay_cost = 0.0
    capacity: dict[str, list[Step]] = {}
    try:
        if args.only_compare:
            print(f"\nphase 4: {args.compare} three-way consultations, frames vs packets, back to back", flush=True)
            await compare_modes(args, frames_path)
            return
        if not args.only_capacity:
            for mode in modes:
                print(
                    f"\nphase 1: forwarding {mode} (rooms.media), 2 publishers, 1 then 15 viewers each, video",
                    flush=True,
                )
                forward_cost = await marginal_cost("forward", 2, 1, 15, args, frames_path, mode)
                print(
                    f"forwarding {mode}: {forward_cost:.3f} % of a core per extra forwarded 640x480@30fps stream "
                    f"(target <= 0.5 %) ({load()})",
                    flush=True,
                )
            if args.only_forwarding:
                return
            print(
                "\nphase 2: transcoding (aiortc MediaRelay), 1 publisher, 1 then 3 viewers, video", flush=True
            )
            relay_cost = await marginal_cost("relay", 1, 1, 3, args, frames_path)
            print(f"transcoding (MediaRelay): {relay_cost:.3f} % of a core per extra stream ({load()})")
        for mode in modes:
            print(
                f"\nphase 3: capacity forwarding {mode}, three-way consultations (audio + video), added step by step",
                flush=True,
            )
            capacity[mode] = await capacity_search(args, frames_path, mode)
        if args.compare and not args.only_capacity:
            print(f"\nphase 4: {args.compare} three-way consultations, frames vs packets, back to back", flush=True)
            await compare_modes(args, frames_path)
    finally:
        os.unlink(frames_path)
    summaries = {}
    for name, steps in capacity.items():
        print(f"\nforwarding {name}:")
        summaries[name] = summarize_capacity(steps)
    frames_summary, packets_summary = summaries.get("frames"), summaries.get("packets")
    if frames_summary and packets_summary:
        print(
            f"ratio frames/packets: CPU per consultation {frames_summary[0] / packets_summary[0]:.2f}; "
            f"forwarded streams per core packets/frames {packets_summary[1] / frames_summary[1]:.2f} "
            f"(capacity searches one after the other, not interleaved) ({load()})"
        )
    if forward_cost > 0:
        print(
            f"forwarding: {forward_cost:.3f} % of a core per extra forwarded stream, "
            f"{100 / forward_cost:.0f} streams per core at that slope ({load()})"
        )
        print(f"transcoding (MediaRelay): {relay_cost:.3f} % of a core per extra stream ({load()})")
        print(f"ratio: {relay_cost / forward_cost:.1f} ({load()})")


if __name__ == "__main__":
    asyncio.run(main())
