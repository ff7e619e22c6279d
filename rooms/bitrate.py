"""How much video each publisher may send, by the size of the room."""

from __future__ import annotations

# Each recipient's downlink carries every other participant's video, so the cap falls as the room grows.
_BITRATE_STEPS = ((2, 1500), (3, 1000), (4, 800), (6, 600))
_BITRATE_FLOOR = 400


def video_bitrate_kbps(admitted: int) -> int:
    """The video bitrate cap (kbit/s) a publisher should set for a room of this size."""
    for size, kbps in _BITRATE_STEPS:
        if admitted <= size:
            return kbps
    return _BITRATE_FLOOR
