"""The recording tap: a room's forwarded frames of chosen participants reach a recorder, in this
process and in a media worker, with real aiortc peers; what is written decrypts and decodes."""

from __future__ import annotations

import io
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path
from typing import cast

import av
import pytest

from recordings_policy.sealed_file import UnfinishedFileError, new_data_key, open_sealed
from recordings_policy.webm_recorder import part_path
from rooms.join_codes import JoinCodeService
from rooms.live import LiveRoom
from rooms.live_media import RoomMediaFactory, in_process_media
from rooms.media_workers import MediaWorkerPool
from rooms.recording_tap import RecordingOrder
from rooms.room import Room
from server.media_worker import worker_command
from server.recorder import make_recorder
from tests.media.live_room_clients import (
    NoAudit,
    specialist_and_nurse_in_call,
)
from tests.media.loopback_peers import loopback_pc, wait_until
from tests.unit.rooms.rooms_testkit import make_clock, make_spec


@pytest.fixture
async def pool() -> AsyncIterator[MediaWorkerPool]:
    workers = MediaWorkerPool(1, worker_command())
    await workers.start()
    yield workers
    await workers.close()


def _live(media_factory: RoomMediaFactory) -> LiveRoom:
    return LiveRoom(Room(make_spec(), clock=make_clock()), audit=NoAudit(), join_codes=cast(JoinCodeService, None),
                    peer_factory=loopback_pc, media_factory=media_factory)


def _streams(directory: Path, name: str, key: bytes, part: int = 0) -> dict[str, int]:
    """Frames decoded per stream title in one part."""
    with open(part_path(directory, name, part), "rb") as fh:
        plain = b"".join(open_sealed(fh, key))
    counts: dict[str, int] = {}
    with av.open(io.BytesIO(plain)) as container:
        for stream in container.streams:
            counts[stream.metadata.get("title", "")] = 0
        for packet in container.demux():
            if packet.size:
                title = packet.stream.metadata.get("title", "")
                counts[title] += len(packet.decode())
    return counts


async def _record_specialist_only(live: LiveRoom, directory: Path) -> dict[str, int]:
    specialist, nurse = await specialist_and_nurse_in_call(live)
    key = new_data_key()
    try:
        frames = specialist.frames["video"]
        await live.media.start_recording(RecordingOrder("r1", str(directory), "rec-a", key), [specialist.pid])
        await wait_until(lambda: specialist.frames["video"] > frames + 40, "a second or so is recorded")
        await live.media.stop_recording()
        await live.media.stop_recording()  # idempotent
    finally:
        await specialist.close()
        await nurse.close()
        await live.close()
    assert b"\x1a\x45\xdf\xa3" not in part_path(directory, "rec-a", 0).read_bytes(), "no WebM in the clear"
    counts = _streams(directory, "rec-a", key)
    assert {title.split(" ")[0] for title in counts} == {str(specialist.pid)}, "only the consenting participant"
    assert counts[f"{specialist.pid} room_camera"] > 10 and counts[f"{specialist.pid} audio"] > 10
    return counts


async def test_in_process_media_hand_the_chosen_tracks_to_the_recorder(tmp_path: Path) -> None:
    await _record_specialist_only(_live(in_process_media(loopback_pc, make_recorder)), tmp_path)


async def test_packet_forwarding_still_hands_whole_frames_to_the_recorder(tmp_path: Path) -> None:
    """With ``forwarding="packets"`` frames are assembled for the recorded tracks only; the file decodes."""
    await _record_specialist_only(
        _live(in_process_media(loopback_pc, make_recorder, forwarding="packets")), tmp_path
    )


async def test_a_media_worker_records_where_the_media_runs(tmp_path: Path, pool: MediaWorkerPool) -> None:
    await _record_specialist_only(_live(pool.room_media), tmp_path)


async def test_a_write_error_in_the_worker_stops_the_recording_not_the_call(
        tmp_path: Path, pool: MediaWorkerPool) -> None:
    live = _live(pool.room_media)
    ended: list[tuple[str, str]] = []
    live.media.recording_listener = lambda recording_id, reason: ended.append((recording_id, reason))
    specialist, nurse = await specialist_and_nurse_in_call(live)
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("a file where the recordings directory should be")
    try:
        await live.media.start_recording(RecordingOrder("r2", str(blocked), "rec-b", new_data_key()),
                                         [specialist.pid, nurse.pid])
        await wait_until(lambda: ended == [("r2", "write_error")], "the serving process hears of the failure")
        frames = nurse.frames["video"]
        await wait_until(lambda: nurse.frames["video"] > frames + 20, "the call goes on")
    finally:
        await specialist.close()
        await nurse.close()
        await live.close()


async def test_closing_the_room_closes_its_recording_cleanly(tmp_path: Path) -> None:
    live = _live(in_process_media(loopback_pc, make_recorder))
    specialist, nurse = await specialist_and_nurse_in_call(live)
    key = new_data_key()
    await live.media.start_recording(RecordingOrder("r3", str(tmp_path), "rec-c", key), [nurse.pid])
    frames = nurse.frames["video"]
    await wait_until(lambda: nurse.frames["video"] > frames + 30, "something is recorded")
    await specialist.close()
    await nurse.close()
    await live.close()  # no stop_recording: the end of the consultation closes it
    counts = _streams(tmp_path, "rec-c", key)  # raises if the final chunk is missing
    assert counts[f"{nurse.pid} room_camera"] > 5


async def test_a_killed_worker_ends_its_recording_and_leaves_what_was_sealed_readable(
        tmp_path: Path, pool: MediaWorkerPool) -> None:
    live = _live(pool.room_media)
    ended: list[tuple[str, str]] = []
    live.media.recording_listener = lambda recording_id, reason: ended.append((recording_id, reason))
    specialist, nurse = await specialist_and_nurse_in_call(live)
    key = new_data_key()
    try:
        await live.media.start_recording(RecordingOrder("r4", str(tmp_path), "rec-d", key), [specialist.pid])
        frames = specialist.frames["video"]
        await wait_until(lambda: specialist.frames["video"] > frames + 90, "a few seconds are recorded")
        victim = pool.worker_pids()[0]
        assert victim is not None
        os.kill(victim, signal.SIGKILL)
        await wait_until(lambda: ended == [("r4", "media_lost")], "the room hears its recording is gone")
    finally:
        await specialist.close()
        await nurse.close()
        await live.close()
    with pytest.raises(UnfinishedFileError):
        _unsealed(part_path(tmp_path, "rec-d", 0), key)
    plain = _unsealed(part_path(tmp_path, "rec-d", 0), key, allow_unfinished=True)
    with av.open(io.BytesIO(plain)) as container:
        video = next(s for s in container.streams if s.type == "video")
        assert sum(len(p.decode()) for p in container.demux(video) if p.size) > 10


def _unsealed(path: Path, key: bytes, *, allow_unfinished: bool = False) -> bytes:
    with open(path, "rb") as fh:
        return b"".join(open_sealed(fh, key, allow_unfinished=allow_unfinished))


async def test_someone_added_to_the_recording_begins_a_part_where_everyone_recorded_has_video(
        tmp_path: Path, pool: MediaWorkerPool) -> None:
    live = _live(pool.room_media)
    specialist, nurse = await specialist_and_nurse_in_call(live)
    key = new_data_key()
    try:
        await live.media.start_recording(RecordingOrder("r5", str(tmp_path), "rec-e", key), [specialist.pid])
        frames = specialist.frames["video"]
        await wait_until(lambda: specialist.frames["video"] > frames + 30, "the specialist alone is recorded")
        await live.media.set_recorded_participants([specialist.pid, nurse.pid])  # the nurse agreed
        frames = specialist.frames["video"]
        await wait_until(lambda: specialist.frames["video"] > frames + 45, "both are recorded")
        await live.media.stop_recording()
    finally:
        await specialist.close()
        await nurse.close()
        await live.close()
    first, second = _streams(tmp_path, "rec-e", key, 0), _streams(tmp_path, "rec-e", key, 1)
    assert {title.split(" ")[0] for title in first} == {str(specialist.pid)}
    assert {title.split(" ")[0] for title in second} == {str(specialist.pid), str(nurse.pid)}
    # Each video starts the new part on a keyframe asked for when the recording changed.
    assert second[f"{specialist.pid} room_camera"] > 10 and second[f"{nurse.pid} room_camera"] > 10
