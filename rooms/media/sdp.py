"""Every edit the server makes to SDP, in one place, and a client's offer parsed once.

A client's offer is read by several parties: the room wants its ICE username fragment (a new one means a
new peer connection in the browser) and which m-line carries which announced track; the media layer
checks its codecs before aiortc applies it; the server's later offers must keep the browser's header
extension ids. :class:`ClientOffer` parses it once for all of them. The server's own offers are edited
here too: payload types renumbered to the negotiated ones, header extensions renumbered to the browser's.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import cast

from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from aiortc.sdp import SessionDescription

from .errors import MediaError
from .media_labels import MEDIA_LABELS, MediaLabel

_AUDIO_LEVEL = "urn:ietf:params:rtp-hdrext:ssrc-audio-level"
_EXTMAP = re.compile(r"^a=extmap:(\d+)(/\w+)? (\S+)(.*)$")


def without_audio_level(description: str) -> str:
    """The SDP without the audio-level RTP header extension.

    aiortc 1.16 keeps one extension-id map per bundled transport; Chromium's packets then carry ids that
    aiortc reads as audio level with an empty value, and the parse error tears the DTLS transport down.
    We forward and never mix audio, so the level is of no use to us: it is simply not negotiated.
    """
    return "".join(line for line in description.splitlines(keepends=True) if _AUDIO_LEVEL not in line)


def extension_ids(description: str) -> dict[str, int]:
    """The RTP header extension ids a peer uses, by URI (``a=extmap:<id> <uri>``)."""
    ids: dict[str, int] = {}
    for line in description.splitlines():
        match = _EXTMAP.match(line.strip())
        if match:
            ids.setdefault(match.group(3), int(match.group(1)))
    return ids


def with_extension_ids(description: str, ids: Mapping[str, int]) -> str:
    """The SDP with each header extension renumbered to the id the browser already uses for it.

    aiortc's createOffer numbers extensions its own way (mid = 1, ...). On a bundled transport the
    browser has registered its own numbers, and Chromium aborts the tab (``Check failed: registered``)
    when a later offer maps an id it already uses to another URI. Extensions the browser never offered
    are left out.
    """
    if not ids:
        return description
    out = []
    for line in description.splitlines(keepends=True):
        match = _EXTMAP.match(line.strip())
        if match is None:
            out.append(line)
            continue
        uri = match.group(3)
        if uri in ids:
            ending = "\r\n" if line.endswith("\r\n") else "\n"
            out.append(f"a=extmap:{ids[uri]}{match.group(2) or ''} {uri}{match.group(4)}{ending}")
    return "".join(out)


def server_offer_as_sent(offer_sdp: str, browser_extension_ids: Mapping[str, int]) -> str:
    """The server's offer as the browser gets it: no audio level, the browser's extension ids."""
    return with_extension_ids(without_audio_level(offer_sdp), browser_extension_ids)


def with_payload_types(offer_sdp: str, codecs_by_mline: Mapping[int, list[RTCRtpCodecParameters]]) -> str:
    """The server's offer with each audio/video m-line's codecs (and format list) replaced, by m-line index."""
    description = SessionDescription.parse(offer_sdp)
    for index, media in enumerate(description.media):
        codecs = codecs_by_mline.get(index)
        if media.kind in ("audio", "video") and codecs is not None:
            media.rtp.codecs = codecs
            media.fmt = [codec.payloadType for codec in codecs]
    return str(description)


@dataclass(frozen=True)
class ClientOffer:
    """A client's offer, parsed once; ``sdp`` is the text aiortc is given (audio level left out)."""

    sdp: str
    description: SessionDescription = field(repr=False)
    ufrag: str | None
    """The ICE username fragment: a new one means the browser made a new peer connection."""
    extension_ids: Mapping[str, int]
    """The header extension ids the browser uses, by URI, for the server's later offers."""
    track_ids: Mapping[str, str]
    """The announced track id (``a=msid:<stream> <track>``) of each m-line, by mid."""

    @classmethod
    def parse(cls, offer_sdp: str) -> ClientOffer:
        """Read an offer.

        :raises MediaError: when aiortc cannot read it.
        """
        text = without_audio_level(offer_sdp)
        try:
            description = SessionDescription.parse(text)
        except Exception as exc:  # aiortc raises assorted errors on malformed SDP
            raise MediaError(f"unreadable offer: {exc}") from exc
        ufrag: str | None = None
        track_ids: dict[str, str] = {}
        for media in description.media:
            if ufrag is None and media.ice is not None:
                ufrag = media.ice.usernameFragment
            if media.msid and media.rtp.muxId:
                track_ids[media.rtp.muxId] = media.msid.split(" ")[-1]
        return cls(text, description, ufrag, extension_ids(offer_sdp), track_ids)

    def labels(self, label_of_track: Mapping[str, str]) -> dict[str, MediaLabel]:
        """What each m-line carries (by mid), from the label the client gave each track id."""
        labels: dict[str, MediaLabel] = {}
        for mid, track_id in self.track_ids.items():
            label = label_of_track.get(track_id)
            if label is not None and str(label) in MEDIA_LABELS:
                labels[mid] = cast(MediaLabel, str(label))  # checked against MEDIA_LABELS just above
        return labels
