"""Codec pinning: forwarded media is never transcoded, so publisher and recipients must agree.

Video is VP8 (every browser sends and decodes it, aiortc packetizes it), audio is Opus.
"""

from aiortc import RTCRtpSender
from aiortc.rtcrtpparameters import RTCRtpCodecCapability

PINNED_MIME_TYPES: dict[str, str] = {"video": "video/vp8", "audio": "audio/opus"}


def is_pinned_codec(kind: str, mime_type: str) -> bool:
    """Whether ``mime_type`` is the codec pinned for media of this kind."""
    return PINNED_MIME_TYPES.get(kind) == mime_type.lower()


def pinned_codec_preferences(kind: str) -> list[RTCRtpCodecCapability]:
    """Capabilities to pass to ``RTCRtpTransceiver.setCodecPreferences`` for this kind.

    Video keeps RTX, so a recipient's NACKs are still answered by retransmission.
    """
    wanted = PINNED_MIME_TYPES[kind]
    return [
        codec
        for codec in RTCRtpSender.getCapabilities(kind).codecs
        if codec.mimeType.lower() == wanted
        or (kind == "video" and codec.mimeType.lower() == "video/rtx")
    ]
