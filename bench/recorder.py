"""Recorder benchmark: what muxing and sealing forwarded frames costs the media process.

Run: ``.venv/bin/python bench/recorder.py [--seconds 20] [--participants 3]``

Encodes a few seconds of VP8 (640x480, 30 fps, about 1 Mbit/s) and Opus (20 ms frames) with PyAV once,
then feeds them to the sealed WebM recorder as the router would, for ``--participants`` participants
each publishing a camera and a microphone, ``--seconds`` of call time, as fast as it goes. Prints the
process CPU time per recorded frame and per second of call, as a share of one core, and the bytes
written per second of call. The load average is printed before and after: figures are comparable only
on a quiet machine (the CPU time is not inflated by a busy one).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import av

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from recordings_policy.sealed_file import new_data_key
from recordings_policy.webm_recorder import WebmRecorder


class Track:
    def __init__(self, publisher_id: str, label: str, kind: str) -> None:
        self.publisher_id, self.label, self.kind = publisher_id, label, kind


def encoded_video(count: int) -> list[bytes]:
    encoder = av.CodecContext.create("libvpx", "w")
    encoder.width, encoder.height, encoder.pix_fmt = 640, 480, "yuv420p"
    encoder.time_base, encoder.bit_rate = Fraction(1, 90000), 1_000_000
    encoder.options = {"g": "300", "deadline": "realtime", "lag-in-frames": "0"}
    frames: list[bytes] = []
    for i in range(count):
        picture = av.VideoFrame(640, 480, "yuv420p")
        for n, plane in enumerate(picture.planes):
            noise = os.urandom(64) * (plane.buffer_size // 64)  # alternating with flat frames: real bitrates
            plane.update(noise if i % 2 else bytes([(i + n) % 256]) * plane.buffer_size)
        picture.pts, picture.time_base = i * 3000, Fraction(1, 90000)
        frames += [bytes(p) for p in encoder.encode(picture)]
    return frames


def encoded_audio(count: int) -> list[bytes]:
    encoder = av.CodecContext.create("libopus", "w")
    encoder.sample_rate, encoder.layout, encoder.format = 48000, "stereo", "s16"
    frames: list[bytes] = []
    for i in range(count):
        sound = av.AudioFrame(format="s16", layout="stereo", samples=960)
        sound.sample_rate = 48000
        sound.planes[0].update(os.urandom(sound.planes[0].buffer_size))
        sound.pts = i * 960
        frames += [bytes(p) for p in encoder.encode(sound)]
    return frames


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--participants", type=int, default=3)
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()}")
    video, audio = encoded_video(90), encoded_audio(150)
    tracks = [Track(f"p{n}", label, kind) for n in range(args.participants)
              for label, kind in (("room_camera", "video"), ("audio", "audio"))]
    now = [0.0]
    with tempfile.TemporaryDirectory() as directory:
        recorder = WebmRecorder(Path(directory), "bench", new_data_key(), on_failure=print,
                                monotonic=lambda: now[0])
        recorder.set_tracks(tracks)
        frames = 0
        started = time.process_time()
        for tick in range(args.seconds * 150):  # 150 ticks a second: video every 5th, audio every 3rd
            now[0] = tick / 150
            for track in tracks:
                if track.kind == "video" and tick % 5 == 0:
                    n = tick // 5
                    recorder.frame(track, video[n % len(video)], n * 3000, n % len(video) == 0)
                    frames += 1
                elif track.kind == "audio" and tick % 3 == 0:
                    n = tick // 3
                    recorder.frame(track, audio[n % len(audio)], n * 960, False)
                    frames += 1
        await recorder.close()
        cpu = time.process_time() - started
        assert recorder.failed is None
        print(f"recorded {frames} frames of {args.participants} participants, {args.seconds} s of call, "
              f"{recorder.bytes_written / args.seconds / 1000:.0f} kB/s written")
        print(f"recorder: {cpu / frames * 1e6:.1f} us CPU per frame, "
              f"{cpu / args.seconds * 100:.2f} % of a core for the call")
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    asyncio.run(main())
