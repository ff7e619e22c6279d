"""Real encoded VP8 and Opus frames made with PyAV's encoders, as a browser would send them."""

from __future__ import annotations

from fractions import Fraction

import av


def vp8_frames(count: int, width: int = 320, height: int = 240) -> list[bytes]:
    """``count`` encoded VP8 frames at 30 fps; the first is a keyframe, and so is every tenth."""
    encoder = av.CodecContext.create("libvpx", "w")
    encoder.width, encoder.height, encoder.pix_fmt = width, height, "yuv420p"
    encoder.time_base = Fraction(1, 90000)
    encoder.bit_rate = 300_000
    encoder.options = {"g": "10", "deadline": "realtime", "lag-in-frames": "0"}
    frames: list[bytes] = []
    for i in range(count):
        picture = av.VideoFrame(width, height, "yuv420p")
        for n, plane in enumerate(picture.planes):
            plane.update(bytes([(i * 7 + n * 50 + j) % 256 for j in range(256)]) * (plane.buffer_size // 256)
                         + bytes(plane.buffer_size % 256))
        picture.pts = i * 3000
        picture.time_base = Fraction(1, 90000)
        frames += [bytes(p) for p in encoder.encode(picture)]
    frames += [bytes(p) for p in encoder.encode(None)]
    return frames


def opus_frames(count: int) -> list[bytes]:
    """``count`` encoded 20 ms Opus frames of a tone."""
    encoder = av.CodecContext.create("libopus", "w")
    encoder.sample_rate, encoder.layout, encoder.format = 48000, "stereo", "s16"
    frames: list[bytes] = []
    for i in range(count):
        sound = av.AudioFrame(format="s16", layout="stereo", samples=960)
        sound.sample_rate = 48000
        sound.planes[0].update(bytes((k * 13 + i) % 256 for k in range(sound.planes[0].buffer_size)))
        sound.pts = i * 960
        frames += [bytes(p) for p in encoder.encode(sound)]
    return frames
