"""Forwarding media core (SFU) of a live consultation, on aiortc.

Encoded VP8/Opus frames are taken from each participant's receiving side and handed to
every other participant's sender as ``av.Packet``, or (``forwarding="packets"``) each RTP
packet is rewritten for each recipient and sent on: nothing is decoded or encoded here.
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
from .forwarding_mode import DEFAULT_FORWARDING, FORWARDING_MODES, ForwardingMode, check_forwarding_mode
from .media_labels import MEDIA_LABELS, MediaLabel
from .participant import OutgoingTrackInfo, PublicationInfo
from .router import MediaRouter, RenegotiationListener

__all__ = [
    "DEFAULT_FORWARDING",
    "FORWARDING_MODES",
    "MEDIA_LABELS",
    "PINNED_AIORTC_VERSION",
    "AiortcHookError",
    "DuplicateParticipantError",
    "ForwardingMode",
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
    "check_forwarding_mode",
    "verify_aiortc_hook",
]
