"""Renegotiation with a client that numbers its payload types as Chromium does (VP8 = 96, Opus = 111).

aiortc's createOffer resets every transceiver to aiortc's own payload types (VP8 = 97, Opus = 96).
The server's offers must keep the numbers the client negotiated: a browser switches its running sender
to whatever the last offer says, while aiortc's receiver keeps the payload types it started with (or
starts, when the transport connects after the offer, with aiortc's own) and drops everything else as
"unknown payload type": the publisher's video stops at the server, and whoever joins later never gets a
keyframe however often one is requested.
"""

import re

from aiortc import RTCSessionDescription, sdp

from .conftest import LoopbackRoom
from .loopback_peers import LoopbackClient, wait_until

# aiortc's numbers -> Chromium's, per kind (RTX of VP8: 98 -> 97).
CHROMIUM_PAYLOAD_TYPES = {"video": {97: 96, 98: 97}, "audio": {96: 111}}


def with_payload_types(description: str, numbers: dict[str, dict[int, int]]) -> str:
    """The SDP with each m-section's payload types renumbered (m= line, rtpmap, fmtp, rtcp-fb, apt)."""
    out: list[str] = []
    mapping: dict[int, int] = {}

    def renumber(match: re.Match[str]) -> str:
        return str(mapping.get(int(match.group(0)), int(match.group(0))))

    for line in description.splitlines(keepends=True):
        if line.startswith("m="):
            mapping = numbers.get(line[2:].split(" ")[0], {})
            head, _, formats = line.rstrip("\r\n").partition(" UDP/TLS/RTP/SAVPF ")
            line = f"{head} UDP/TLS/RTP/SAVPF {re.sub(r'[0-9]+', renumber, formats)}\r\n"
        elif mapping and line.startswith(("a=rtpmap:", "a=fmtp:", "a=rtcp-fb:")):
            prefix, _, rest = line.partition(":")
            number, _, rest = rest.partition(" ")
            rest = re.sub(r"(?<=apt=)[0-9]+", renumber, rest)
            line = f"{prefix}:{mapping.get(int(number), int(number))} {rest}"
        out.append(line)
    return "".join(out)


def payload_types(description: str) -> list[tuple[str, str, int]]:
    """(mid, codec name, payload type) of every pinned codec in an SDP."""
    parsed = sdp.SessionDescription.parse(description)
    return [
        (media.rtp.muxId or "", codec.mimeType.lower(), codec.payloadType or -1)
        for media in parsed.media
        for codec in media.rtp.codecs
        if codec.mimeType.lower() in ("video/vp8", "audio/opus")
    ]


async def _join_numbered_like_chromium(room: LoopbackRoom, participant_id: str) -> tuple[LoopbackClient, str]:
    """Join with Chromium's payload types; returns the client and the server's early offer to it."""
    return await room.join_like_a_browser(
        participant_id, as_sent=lambda offer: with_payload_types(offer, CHROMIUM_PAYLOAD_TYPES))


async def test_server_offers_keep_the_clients_payload_types(room: LoopbackRoom) -> None:
    await room.join("specialist")
    _, server_offer = await _join_numbered_like_chromium(room, "nurse")
    # Every m-line, the nurse's own and the forwarded ones, uses the nurse's numbers.
    numbers = payload_types(server_offer)
    assert len(numbers) == 4
    assert {(name, pt) for _, name, pt in numbers} == {("video/vp8", 96), ("audio/opus", 111)}

    # A later publisher makes the server offer to the nurse again: the numbers still hold.
    await room.join("relative")
    assert room.router.needs_renegotiation("nurse")
    re_offer = await room.router.create_offer("nurse")
    assert {(name, pt) for _, name, pt in payload_types(re_offer)} == {("video/vp8", 96), ("audio/opus", 111)}
    nurse = room.clients["nurse"]
    await nurse.pc.setRemoteDescription(RTCSessionDescription(sdp=re_offer, type="offer"))
    await nurse.pc.setLocalDescription(await nurse.pc.createAnswer())
    await room.router.handle_answer("nurse", nurse.pc.localDescription.sdp)


async def test_a_late_recipient_gets_video_from_a_client_numbered_like_chromium(room: LoopbackRoom) -> None:
    await room.join("specialist")
    await _join_numbered_like_chromium(room, "nurse")
    await room.sync_all()
    specialist = room.clients["specialist"]
    await wait_until(lambda: specialist.frames_from("nurse", "video") >= 10, "the specialist decodes the nurse")

    relative = await room.join("relative", publish=False)
    await room.sync_all()
    # The relative's copy starts on a keyframe the server asked the nurse for.
    await wait_until(lambda: relative.frames_from("nurse", "video") >= 10, "the relative decodes the nurse")
    await wait_until(lambda: relative.frames_from("nurse", "audio") >= 10, "the relative hears the nurse")
    nurse_video = next(p for p in room.router.publications("nurse") if p.kind == "video")
    assert nurse_video.keyframe_requests_sent >= 1
