"""Forwarding media core (SFU) of a live consultation, on aiortc.

Encoded VP8/Opus frames are taken from each participant's receiving side and handed to
every other participant's sender as ``av.Packet``: nothing is decoded or encoded here.
Start at :class:`MediaRouter`.
"""

from .aiortc_hook import PINNED_AIORTC_VERSION, verify_aiortc_hook
from .errors import (
    AiortcHookError,
    DuplicateParticipantError,
    MediaError,
    NegotiationCollisionError,
    RouterClosedError,
    UnknownParticipantError,
    UnsupportedCodecError,
)
from .media_labels import MEDIA_LABELS, MediaLabel
from .participant import OutgoingTrackInfo, PublicationInfo
from .router import MediaRouter, RenegotiationListener

__all__ = [
    "MEDIA_LABELS",
    "PINNED_AIORTC_VERSION",
    "AiortcHookError",
    "DuplicateParticipantError",
    "MediaError",
    "MediaLabel",
    "MediaRouter",
    "NegotiationCollisionError",
    "OutgoingTrackInfo",
    "PublicationInfo",
    "RenegotiationListener",
    "RouterClosedError",
    "UnknownParticipantError",
    "UnsupportedCodecError",
    "verify_aiortc_hook",
]
