"""How a room's media is told to record: the order (where, under which key) and who makes the recorder.

``rooms`` never writes a recording itself: the composition root gives the media a ``RecorderFactory``
that turns an order into a :class:`rooms.media.frame_sink.FrameSink`. An order travels to a media worker
over the channel, so it holds plain values only; the data key in it is the recording's own, never the
master key, and the channel is the private socket pair between the server and its worker.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from rooms.media.frame_sink import FrameSink


@dataclass(frozen=True)
class RecordingOrder:
    """Record this room into ``directory`` as ``storage_name``'s parts, sealed under ``data_key``."""

    recording_id: str
    directory: str
    storage_name: str
    data_key: bytes = field(repr=False)


RecordingFailed = Callable[[str], None]
"""Called once with the reason (``disk_full``, ``write_error``) when a recorder has to stop."""

RecorderFactory = Callable[[RecordingOrder, RecordingFailed], FrameSink]

RecordingListener = Callable[[str, str], None]
"""The live room's ear for a recording that ended by itself: (recording id, reason)."""
