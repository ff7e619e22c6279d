"""A client's offer is read once: ICE fragment, extension ids and the track of each m-line."""

from __future__ import annotations

import pytest

from rooms.media import MediaError
from rooms.media.sdp import ClientOffer, server_offer_as_sent

OFFER = "\r\n".join([
    "v=0",
    "o=- 1 2 IN IP4 127.0.0.1",
    "s=-",
    "t=0 0",
    "a=group:BUNDLE 0 1",
    "m=audio 9 UDP/TLS/RTP/SAVPF 111",
    "c=IN IP4 0.0.0.0",
    "a=mid:0",
    "a=ice-ufrag:abcd",
    "a=ice-pwd:abcdefghijklmnopqrstuvwx",
    "a=fingerprint:sha-256 " + ":".join(["AA"] * 32),
    "a=setup:actpass",
    "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level",
    "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid",
    "a=sendrecv",
    "a=msid:stream mic-1",
    "a=rtcp-mux",
    "a=rtpmap:111 opus/48000/2",
    "m=video 9 UDP/TLS/RTP/SAVPF 96",
    "c=IN IP4 0.0.0.0",
    "a=mid:1",
    "a=ice-ufrag:abcd",
    "a=ice-pwd:abcdefghijklmnopqrstuvwx",
    "a=fingerprint:sha-256 " + ":".join(["AA"] * 32),
    "a=setup:actpass",
    "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid",
    "a=sendrecv",
    "a=msid:stream cam-1",
    "a=rtcp-mux",
    "a=rtpmap:96 VP8/90000",
    "",
])


def test_an_offer_is_parsed_once_for_everyone() -> None:
    offer = ClientOffer.parse(OFFER)
    assert offer.ufrag == "abcd"
    assert offer.extension_ids == {
        "urn:ietf:params:rtp-hdrext:ssrc-audio-level": 1,
        "urn:ietf:params:rtp-hdrext:sdes:mid": 4,
    }
    assert offer.track_ids == {"0": "mic-1", "1": "cam-1"}
    assert "ssrc-audio-level" not in offer.sdp, "aiortc never sees the audio level"
    assert [m.kind for m in offer.description.media] == ["audio", "video"]


def test_labels_come_from_the_announced_tracks_only() -> None:
    offer = ClientOffer.parse(OFFER)
    assert offer.labels({"cam-1": "exam_camera", "other": "screen"}) == {"1": "exam_camera"}
    assert offer.labels({"cam-1": "not-a-label"}) == {}


def test_an_unreadable_offer_is_a_media_error() -> None:
    with pytest.raises(MediaError):
        ClientOffer.parse("m=video nonsense")


def test_the_server_offer_keeps_the_browsers_extension_ids() -> None:
    server = (
        "a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
        "a=extmap:2 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n"
    )
    ids = ClientOffer.parse(OFFER).extension_ids
    assert server_offer_as_sent(server, ids) == "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
