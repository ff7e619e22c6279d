"""What the router hands to a recorder: encoded frames of the tracks chosen for recording.

The router knows nothing of files, codecs' containers or keys: it calls a ``FrameSink`` (built by the
composition root) with the tracks currently recorded and each of their frames as they are forwarded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class RecordedTrack:
    """One published track being recorded: whose, which (its label), audio or video."""

    publisher_id: str
    label: str
    kind: str


class FrameSink(Protocol):
    """Receives forwarded frames. Its methods run on the media loop's hot path and must never raise."""

    def set_tracks(self, tracks: Sequence[RecordedTrack]) -> None:
        """The tracks now recorded (after a start, a participant added or removed, a track published)."""

    def frame(self, track: RecordedTrack, data: bytes, timestamp: int, is_keyframe: bool) -> None:
        """One complete encoded frame (VP8 or Opus) and its RTP timestamp."""

    def wants_keyframe(self, track: RecordedTrack) -> bool:
        """Whether the sink waits for a keyframe of this video track (to begin it in a file)."""

    async def close(self) -> None:
        """Finish the recording cleanly. Idempotent."""
