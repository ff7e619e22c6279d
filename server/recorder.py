"""The recorder the rooms' media use: ``recordings_policy``'s WebM recorder as a ``rooms`` frame sink.

Glue of the composition root, since ``rooms`` and ``recordings_policy`` never import each other. Used
in the serving process (media in-process) and in every media worker (``server.media_worker``).
"""

from __future__ import annotations

from pathlib import Path

from recordings_policy.webm_recorder import WebmRecorder
from rooms.media.frame_sink import FrameSink
from rooms.recording_tap import RecordingFailed, RecordingOrder


def make_recorder(order: RecordingOrder, on_failure: RecordingFailed) -> FrameSink:
    """A ``RecorderFactory``: a sealed WebM recorder for the order."""
    return WebmRecorder(Path(order.directory), order.storage_name, order.data_key, on_failure=on_failure)
