"""The recorder: the encoded VP8 and Opus frames the server forwards, muxed into sealed WebM files.

Nothing is decoded or encoded: each frame becomes an ``av.Packet`` muxed into a stream of a WebM
container written live (no seeking back), through a :class:`SealedWriter`, so no byte reaches the
disk in the clear.

**Streams and parts.** A WebM file declares its tracks in its header, before the first frame; a track
cannot be added to a file already being written. So a recording is a sequence of parts (one sealed
WebM file each, numbered from 0) and a new part begins whenever a track is to be recorded that the
current part does not declare: a participant who joined and agreed, or a camera switched on. A track
that stops being recorded (its participant withdrew, or it was unpublished) just ends within its part;
that needs no new part. The alternatives were worse: declaring every possible track up front cannot
know who joins later, and remuxing into one file after the call would put the whole recording through
the server in the clear once more. Parts keep each file an ordinary WebM that any player reads, and
the time offsets of each part's tracks are kept: every track's first frame is placed at the time it
arrived since the part began, so the tracks of a part stay in sync.

**A crash** leaves the current part without its final chunk; everything sealed up to then (the muxer
emits whole clusters of at most a second, and the writer seals what it holds every second) is still
readable with ``allow_unfinished``, up to the last complete cluster.

**Faults.** Any error while writing (a full disk, an I/O error) ends the recording at once: the part is
closed as far as possible and ``on_failure`` is told why, once. The call itself never notices.
"""

from __future__ import annotations

import errno
import logging
import os
import struct
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, BinaryIO, Protocol

import av

from recordings_policy.sealed_file import SealedWriter

log = logging.getLogger(__name__)

_MS = Fraction(1, 1000)
_CLOCK_RATES = {"video": 90000, "audio": 48000}  # VP8 and Opus, as the router pins them
# An Opus identification header (RFC 7845 section 5.1): version 1, 2 channels as WebRTC signals them,
# a pre-skip of 312 samples, 48 kHz, no gain, mapping family 0. WebM players need it as CodecPrivate.
OPUS_HEAD = b"OpusHead" + struct.pack("<BBHIhB", 1, 2, 312, 48000, 0, 0)
FLUSH_INTERVAL = 1.0


class FailureReason:
    DISK_FULL = "disk_full"
    WRITE_ERROR = "write_error"


class TrackLike(Protocol):
    @property
    def publisher_id(self) -> str: ...

    @property
    def label(self) -> str: ...

    @property
    def kind(self) -> str: ...


def part_path(directory: Path, storage_name: str, part: int) -> Path:
    """Where part ``part`` of a recording is stored."""
    return directory / f"{storage_name}.{part}.webm.sealed"


def _open_new(path: Path) -> BinaryIO:
    # A new file only (never over another), readable by this service's user alone.
    return os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb")


@dataclass
class _TrackClock:
    """Maps one track's RTP timestamps (32-bit, wrapping) onto milliseconds since its part began."""

    origin_ms: int
    first: int  # the RTP timestamp the track began with in this part
    last: int
    extended: int = 0
    last_pts: int = -1

    def pts(self, timestamp: int, clock_rate: int) -> int | None:
        delta = (timestamp - self.last) & 0xFFFFFFFF
        if delta >= 0x80000000:
            return None  # older than what we muxed already (a late frame): a muxer needs rising times
        self.extended += delta
        self.last = timestamp
        pts = self.origin_ms + self.extended * 1000 // clock_rate
        if pts <= self.last_pts:
            return None
        self.last_pts = pts
        return pts


@dataclass
class _Part:
    number: int
    writer: SealedWriter
    container: Any  # av.container.OutputContainer
    streams: dict[tuple[str, str], Any] = field(default_factory=dict)
    clocks: dict[tuple[str, str], _TrackClock] = field(default_factory=dict)
    last_pts: dict[tuple[str, str], int] = field(default_factory=dict)  # of tracks that left the recording
    started: float = 0.0


class WebmRecorder:
    """Records the frames it is given into sealed WebM parts (a ``FrameSink`` for the router)."""

    def __init__(
        self,
        directory: Path,
        storage_name: str,
        data_key: bytes,
        *,
        on_failure: Callable[[str], None],
        monotonic: Callable[[], float] = time.monotonic,
        open_file: Callable[[Path], BinaryIO] = _open_new,
    ) -> None:
        self._directory = directory
        self._storage_name = storage_name
        self._data_key = data_key
        self._on_failure = on_failure
        self._monotonic = monotonic
        self._open_file = open_file
        self._recorded: dict[tuple[str, str], str] = {}  # (publisher, label) -> kind
        self._part: _Part | None = None
        self._next_part = 0
        self._last_flush = 0.0
        self._bytes_closed = 0
        self.failed: str | None = None
        self.closed = False

    @property
    def parts(self) -> int:
        """How many parts were begun."""
        return self._next_part

    @property
    def bytes_written(self) -> int:
        """Sealed bytes on disk so far, over every part."""
        return self._bytes_closed + (self._part.writer.bytes_written if self._part is not None else 0)

    # --- the FrameSink side ---

    def set_tracks(self, tracks: Sequence[TrackLike]) -> None:
        """The tracks to record from now on; one not in the current part begins a new part."""
        if self.closed or self.failed:
            return
        self._recorded = {(t.publisher_id, t.label): t.kind for t in tracks}
        part = self._part
        if part is not None and not set(self._recorded) <= set(part.streams):
            self._guarded(self._close_part)
        elif part is not None:
            # A track that leaves may come back from a new peer connection, whose RTP timestamps start
            # anywhere: it then starts afresh at the time it is back (after what it already has).
            for key in [k for k in part.clocks if k not in self._recorded]:
                part.last_pts[key] = part.clocks.pop(key).last_pts

    def frame(self, track: TrackLike, data: bytes, timestamp: int, is_keyframe: bool) -> None:
        """Mux one encoded frame if its track is recorded. Never raises."""
        if self.closed or self.failed:
            return
        key = (track.publisher_id, track.label)
        if key not in self._recorded:
            return
        self._guarded(lambda: self._write(key, track.kind, data, timestamp, is_keyframe))

    def wants_keyframe(self, track: TrackLike) -> bool:
        """A recorded video track that has no keyframe in the current part (or no part yet) needs one."""
        key = (track.publisher_id, track.label)
        if self.closed or self.failed or track.kind != "video" or key not in self._recorded:
            return False
        part = self._part
        return part is None or key not in part.clocks

    async def close(self) -> None:
        """End the current part cleanly (trailer, final chunk, fsync). Idempotent."""
        if self.closed:
            return
        self.closed = True
        if self.failed is None:
            self._guarded(self._close_part)

    # --- inside ---

    def _guarded(self, action: Callable[[], None]) -> None:
        try:
            action()
        except Exception as exc:
            self._fail(exc)

    def _fail(self, exc: Exception) -> None:
        disk_full = isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)
        reason = FailureReason.DISK_FULL if disk_full else FailureReason.WRITE_ERROR
        log.error("recording %s stopped: %s (%s)", self._storage_name, reason, exc)
        self.failed = reason
        part, self._part = self._part, None
        if part is not None:
            for close in (part.container.close, part.writer.close):
                try:
                    close()
                except Exception:  # noqa: S110 (the first error is the one reported; the file is cut anyway)
                    pass
        try:
            self._on_failure(reason)
        except Exception:
            log.exception("the recording failure listener failed")

    def _write(self, key: tuple[str, str], kind: str, data: bytes, timestamp: int, is_keyframe: bool) -> None:
        part = self._part
        if part is None or key not in part.streams:
            if kind == "video" and not is_keyframe:
                return  # a part's video starts on a keyframe; the tap asked for one
            if part is not None:
                self._close_part()
            part = self._part = self._open_part()
        stream = part.streams.get(key)
        if stream is None:
            return
        now = self._monotonic()
        clock = part.clocks.get(key)
        if clock is None:
            if kind == "video" and not is_keyframe:
                return
            origin = max(int((now - part.started) * 1000), part.last_pts.get(key, -1) + 1)
            clock = part.clocks[key] = _TrackClock(origin, timestamp, timestamp)
        pts = clock.pts(timestamp, _CLOCK_RATES[kind])
        if pts is None:
            return
        packet = av.Packet(data)
        packet.pts = packet.dts = pts
        packet.time_base = _MS
        packet.stream = stream
        if is_keyframe:
            packet.is_keyframe = True
        part.container.mux(packet)
        if now - self._last_flush >= FLUSH_INTERVAL:
            self._last_flush = now
            part.writer.flush()

    def _open_part(self) -> _Part:
        number = self._next_part
        self._next_part += 1
        self._directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        writer = SealedWriter(self._open_file(part_path(self._directory, self._storage_name, number)),
                              self._data_key, number)
        container = av.open(writer, "w", format="webm",
                            options={"live": "1", "cluster_time_limit": "1000", "flush_packets": "1"})
        part = _Part(number, writer, container, started=self._monotonic())
        for key, kind in sorted(self._recorded.items()):
            stream: Any
            if kind == "video":
                stream = container.add_stream("vp8")
            else:
                stream = container.add_stream("opus", rate=48000)
                stream.codec_context.layout = "stereo"
                stream.codec_context.extradata = OPUS_HEAD
            stream.time_base = _MS
            stream.metadata["title"] = f"{key[0]} {key[1]}"
            part.streams[key] = stream
        self._last_flush = part.started
        return part

    def _close_part(self) -> None:
        part, self._part = self._part, None
        if part is None:
            return
        part.container.close()
        part.writer.close()
        self._bytes_closed += part.writer.bytes_written
