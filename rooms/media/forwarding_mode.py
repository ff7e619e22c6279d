"""How the router forwards media: as encoded frames (the default) or as RTP packets.

``frames``: aiortc depacketizes each publisher's RTP into frames, and each recipient's sender
re-packetizes them in its own loop (:mod:`.forwarded_track`). ``packets``: each RTP packet is
rewritten for each recipient (SSRC, sequence number, timestamp, payload type, header extensions)
and sent on at once (:mod:`.forwarded_stream`), as selective forwarding units commonly do.
"""

from typing import Literal, cast, get_args

from .errors import MediaError

ForwardingMode = Literal["frames", "packets"]
FORWARDING_MODES: tuple[str, ...] = get_args(ForwardingMode)
DEFAULT_FORWARDING: ForwardingMode = "frames"


def check_forwarding_mode(value: str) -> ForwardingMode:
    """The mode named ``value``.

    :raises MediaError: for any other name.
    """
    if value not in FORWARDING_MODES:
        raise MediaError(f"unknown media forwarding {value!r}: expected one of {', '.join(FORWARDING_MODES)}")
    return cast(ForwardingMode, value)
