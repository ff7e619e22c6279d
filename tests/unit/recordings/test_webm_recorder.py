"""The recorder: real encoded VP8 and Opus frames muxed by PyAV into sealed WebM parts, read back."""

from __future__ import annotations

import errno
import io
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import av
import pytest

from recordings_policy.sealed_file import new_data_key, open_sealed
from recordings_policy.webm_recorder import FailureReason, WebmRecorder, part_path
from rooms.media.published_track import is_vp8_keyframe
from tests.unit.recordings.encoded_media import opus_frames, vp8_frames

EBML_MAGIC = b"\x1a\x45\xdf\xa3"


@dataclass(frozen=True)
class Track:
    publisher_id: str
    label: str
    kind: str


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _feed(recorder: WebmRecorder, clock: Clock, tracks: list[Track], seconds: float,
          video: list[bytes], audio: list[bytes], start: int = 0) -> None:
    """Frames at their real pace: video at 30 fps, audio every 20 ms, for ``seconds``."""
    for tick in range(start, start + int(seconds * 150)):  # 150 ticks a second: lcm of both paces
        clock.now += 1 / 150
        for track in tracks:
            if track.kind == "video" and tick % 5 == 0:
                n = tick // 5
                data = video[n % len(video)]
                recorder.frame(track, data, n * 3000, is_vp8_keyframe(data))
            elif track.kind == "audio" and tick % 3 == 0:
                n = tick // 3
                recorder.frame(track, audio[n % len(audio)], n * 960, False)


def _decoded(raw: bytes) -> dict[str, int]:
    """Frames PyAV decodes per stream title."""
    counts: dict[str, int] = {}
    with av.open(io.BytesIO(raw)) as container:
        titles = {s.index: s.metadata.get("title", "") for s in container.streams}
        for packet in container.demux():
            if packet.size == 0:
                continue
            counts[titles[packet.stream.index]] = counts.get(titles[packet.stream.index], 0) + len(packet.decode())
    return counts


def _plain(path: Path, key: bytes, *, allow_unfinished: bool = False) -> bytes:
    with open(path, "rb") as fh:
        return b"".join(open_sealed(fh, key, allow_unfinished=allow_unfinished))


@pytest.fixture(scope="module")
def media() -> tuple[list[bytes], list[bytes]]:
    return vp8_frames(60), opus_frames(50)


async def test_tracks_are_muxed_without_transcoding_and_sealed(
        tmp_path: Path, media: tuple[list[bytes], list[bytes]]) -> None:
    video, audio = media
    key, clock, failures = new_data_key(), Clock(), []
    recorder = WebmRecorder(tmp_path, "rec1", key, on_failure=failures.append, monotonic=clock)
    tracks = [Track("p1", "room_camera", "video"), Track("p1", "audio", "audio"), Track("p2", "audio", "audio")]
    recorder.set_tracks(tracks)
    assert recorder.wants_keyframe(tracks[0]) and not recorder.wants_keyframe(tracks[1])
    _feed(recorder, clock, tracks, 2.0, video, audio)
    assert not recorder.wants_keyframe(tracks[0])
    await recorder.close()
    await recorder.close()
    assert failures == [] and recorder.parts == 1

    on_disk = part_path(tmp_path, "rec1", 0).read_bytes()
    assert recorder.bytes_written == len(on_disk)
    assert EBML_MAGIC not in on_disk
    for frame in (video[0], video[1], audio[0], audio[7]):
        assert frame[:64] not in on_disk
    plain = _plain(part_path(tmp_path, "rec1", 0), key)
    assert plain.startswith(EBML_MAGIC)
    assert video[0] in plain  # muxed as it came: the very bytes the publisher encoded
    counts = _decoded(plain)
    assert counts["p1 room_camera"] >= 55
    assert counts["p1 audio"] >= 95 and counts["p2 audio"] >= 95


async def test_a_track_added_begins_a_new_part_and_one_removed_just_ends(
        tmp_path: Path, media: tuple[list[bytes], list[bytes]]) -> None:
    video, audio = media
    key, clock = new_data_key(), Clock()
    recorder = WebmRecorder(tmp_path, "rec2", key, on_failure=lambda reason: None, monotonic=clock)
    first = [Track("p1", "room_camera", "video"), Track("p1", "audio", "audio")]
    newcomer = Track("p3", "audio", "audio")
    recorder.set_tracks(first)
    _feed(recorder, clock, [*first, newcomer], 1.0, video, audio)  # p3 not recorded (not agreed)
    recorder.set_tracks([*first, newcomer])  # p3 agreed
    _feed(recorder, clock, [*first, newcomer], 1.0, video, audio, start=150)
    recorder.set_tracks([newcomer])  # p1 withdrew from being recorded: no new part for that
    _feed(recorder, clock, [*first, newcomer], 1.0, video, audio, start=300)
    await recorder.close()

    assert recorder.parts == 2
    part0 = _decoded(_plain(part_path(tmp_path, "rec2", 0), key))
    part1 = _decoded(_plain(part_path(tmp_path, "rec2", 1), key))
    assert set(part0) == {"p1 room_camera", "p1 audio"}
    assert set(part1) == {"p1 room_camera", "p1 audio", "p3 audio"}
    assert part1["p3 audio"] >= 95
    assert part1["p1 audio"] <= 55  # only the second before p1 was taken out


async def test_a_crash_leaves_a_part_readable_up_to_its_last_cluster(
        tmp_path: Path, media: tuple[list[bytes], list[bytes]]) -> None:
    video, audio = media
    key, clock, opened = new_data_key(), Clock(), []

    def open_file(path: Path) -> BinaryIO:
        opened.append(open(path, "xb"))
        return opened[-1]

    recorder = WebmRecorder(tmp_path, "rec3", key, on_failure=lambda reason: None, monotonic=clock,
                            open_file=open_file)
    tracks = [Track("p1", "room_camera", "video"), Track("p1", "audio", "audio")]
    recorder.set_tracks(tracks)
    _feed(recorder, clock, tracks, 3.0, video, audio)
    for fh in opened:  # the process died here: its files are closed by the kernel, not by the recorder
        fh.close()
    path = part_path(tmp_path, "rec3", 0)
    plain = _plain(path, key, allow_unfinished=True)
    counts = _decoded(plain)
    assert counts["p1 room_camera"] >= 30 and counts["p1 audio"] >= 50


async def test_a_full_disk_stops_the_recording_and_says_so(
        tmp_path: Path, media: tuple[list[bytes], list[bytes]]) -> None:
    video, audio = media

    class FullDisk(io.FileIO):
        written = 0

        def write(self, data: bytes) -> int:  # type: ignore[override]
            FullDisk.written += len(data)
            if FullDisk.written > 20_000:
                raise OSError(errno.ENOSPC, "No space left on device")
            return super().write(data)

    def open_full(path: Path) -> BinaryIO:
        return FullDisk(path, "xb")  # type: ignore[return-value]

    clock, failures = Clock(), []
    recorder = WebmRecorder(tmp_path, "rec4", new_data_key(), on_failure=failures.append, monotonic=clock,
                            open_file=open_full)
    tracks = [Track("p1", "room_camera", "video"), Track("p1", "audio", "audio")]
    recorder.set_tracks(tracks)
    _feed(recorder, clock, tracks, 3.0, video, audio)  # never raises into the caller
    await recorder.close()
    assert failures == [FailureReason.DISK_FULL]
    assert recorder.failed == FailureReason.DISK_FULL


async def test_a_track_that_comes_back_from_a_new_peer_connection_goes_on_in_the_same_part(
        tmp_path: Path, media: tuple[list[bytes], list[bytes]]) -> None:
    video, audio = media
    key, clock = new_data_key(), Clock()
    recorder = WebmRecorder(tmp_path, "rec5", key, on_failure=lambda reason: None, monotonic=clock)
    camera, microphone = Track("p1", "room_camera", "video"), Track("p1", "audio", "audio")
    recorder.set_tracks([camera, microphone])
    _feed(recorder, clock, [camera, microphone], 1.0, video, audio)
    recorder.set_tracks([microphone])  # the camera's peer connection dropped
    _feed(recorder, clock, [microphone], 0.5, video, audio, start=150)
    recorder.set_tracks([camera, microphone])  # back, with RTP timestamps from a new random origin
    for n in range(30):
        clock.now += 1 / 30
        data = video[n % len(video)]
        recorder.frame(camera, data, (3_000_000_000 + n * 3000) & 0xFFFFFFFF, is_vp8_keyframe(data))
    await recorder.close()
    assert recorder.parts == 1
    counts = _decoded(_plain(part_path(tmp_path, "rec5", 0), key))
    assert counts["p1 room_camera"] >= 55  # the first second and the second after it came back
