"""The one module that reaches into aiortc internals, and checks them before it does.

aiortc has no public API for "give me the encoded frames": its receiver reassembles each
frame in a jitter buffer and puts ``(codec, encoded_frame)`` on a ``queue.Queue`` read by
the module-level ``decoder_worker`` thread. We swap, per receiver and before it starts:

* the decoder queue for a :class:`ReceiverTap`, whose ``put()`` runs on the event loop and
  hands the frame straight to the router (no thread hop, no decoder ever created: the
  decoder thread still starts but only ever reads the end-of-stream ``None``);
* the jitter buffer for a low-latency frame assembler (see :mod:`.frame_assembler`).

On the sending side aiortc's sender already packs an ``av.Packet`` instead of encoding a
frame; we only divert its keyframe request (PLI/FIR from the recipient) to the publisher.

Packet forwarding (``forwarding="packets"``) skips the frames altogether: the receiver's
jitter buffer is replaced by a :class:`PacketTap` that hands every RTP packet (after SRTP,
RTX unwrapping and aiortc's NACKs to the publisher) to the router, and an :class:`RtpOutlet`
per recipient sender writes rewritten packets straight into the recipient's SRTP session and
ICE socket, keeping the sender's counters for its RTCP sender reports and answering NACKs
from a cache of what it sent. The sender's own RTP loop stays idle.

Everything here is pinned to one aiortc version and verified by :func:`verify_aiortc_hook`;
an upgrade that moved any of it raises :class:`AiortcHookError` instead of degrading quietly.
Code called from inside aiortc's RTP/RTCP handling never raises: an exception there tears
down the whole DTLS transport, so it is caught and logged.
"""

import inspect
import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

import aioice.ice
import aiortc
from aiortc import (
    RTCDtlsTransport,
    RTCIceTransport,
    RTCRtpReceiver,
    RTCRtpSender,
    RTCRtpTransceiver,
    rate,
    rtcdtlstransport,
    rtcpeerconnection,
    rtcrtpreceiver,
)
from aiortc.jitterbuffer import JitterBuffer, JitterFrame
from aiortc.rtcrtpparameters import RTCRtpCodecParameters, RTCRtpSendParameters
from aiortc.rtp import RtpPacket

from .codec_pinning import is_pinned_codec
from .errors import AiortcHookError, UnsupportedCodecError
from .frame_assembler import LowLatencyVideoAssembler, PassThroughAudioAssembler
from .rate_counter import WindowRateCounter
from .sdp import with_payload_types

logger = logging.getLogger(__name__)

PINNED_AIORTC_VERSION = "1.16.0"

FrameHandler = Callable[[RTCRtpCodecParameters, JitterFrame], None]
PacketHandler = Callable[[RtpPacket], None]

MAX_UNSENT_BYTES = 256 * 1024
"""Bytes a recipient's socket may hold unsent before forwarded packets to it are dropped (asyncio
buffers a datagram the kernel refused without bound): a recipient who falls behind loses packets
(video then resumes at a keyframe) instead of queueing ever more delay."""

_MID_URI = "urn:ietf:params:rtp-hdrext:sdes:mid"
_ABS_SEND_TIME_URI = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"

AIORTC_RATE_COUNTER = rate.RateCounter
"""aiortc's own counter, kept before :func:`use_cheaper_rate_counter` replaces it (the tests compare)."""

# Source fragments the hook depends on, per function. Matching source text is deliberately
# strict: any rewrite of these lines in aiortc must be re-reviewed before we run on it.
_REQUIRED_SOURCE: tuple[tuple[Any, str, tuple[str, ...]], ...] = (
    (
        RTCRtpReceiver,
        "__init__",
        ("self.__decoder_queue: queue.Queue = queue.Queue()", "self.__jitter_buffer = JitterBuffer("),
    ),
    (
        RTCRtpReceiver,
        "receive",
        ("target=decoder_worker", "self.__decoder_queue,", "self.__decoder_thread.start()"),
    ),
    (
        RTCRtpReceiver,
        "_handle_rtp_packet",
        (
            "pli_flag, encoded_frame = self.__jitter_buffer.add(packet)",
            "if encoded_frame is not None and self.__decoder_thread:",
            "self.__decoder_queue.put((codec, encoded_frame))",
        ),
    ),
    (
        RTCRtpReceiver,
        "_RTCRtpReceiver__stop_decoder",
        ("self.__decoder_queue.put(None)", "self.__decoder_thread.join()"),
    ),
    (rtcrtpreceiver, "decoder_worker", ("task = input_q.get()", "if task is None:")),
    (RTCRtpSender, "_handle_rtcp_packet", ("self._send_keyframe()",)),
    (RTCRtpSender, "_next_encoded_frame", ("if isinstance(data, Frame):", "self.__encoder.pack(data)")),
    (
        rtcpeerconnection,
        "create_media_description_for_transceiver",
        (
            'media.msid = f"{transceiver.sender._stream_id} {transceiver.sender._track_id}"',
            "codecs=transceiver._codecs,",
        ),
    ),
    (rtcpeerconnection.RTCPeerConnection, "createAnswer", ("create_media_description_for_transceiver(",)),
    (
        rtcpeerconnection.RTCPeerConnection,
        "createOffer",
        (
            "transceiver._headerExtensions = HEADER_EXTENSIONS[transceiver.kind][:]",
            "transceiver._codecs = filter_preferred_codecs(",
        ),
    ),
    (rtcpeerconnection.RTCPeerConnection, "_RTCPeerConnection__localRtp", ("transceiver._headerExtensions",)),
    (rtcpeerconnection.RTCPeerConnection, "_RTCPeerConnection__remoteRtp", ("transceiver._headerExtensions",)),
    (rate.RemoteBitrateEstimator, "__init__", ("self.incoming_bitrate = RateCounter(1000, 8000)",)),
    # Packet forwarding: every packet reaches the jitter buffer (replaced by a PacketTap) after RTX
    # unwrapping and NACK generation, with its VP8 payload descriptor parsed into ``_data``.
    (
        RTCRtpReceiver,
        "_handle_rtp_packet",
        (
            "packet = unwrap_rtx(packet, payload_type=apt, ssrc=original_ssrc)",
            "if self.__nack_generator is not None and self.__nack_generator.add(packet):",
            "packet._data = depayload(codec, packet.payload)",
        ),
    ),
    # ... and leaves through the recipient's sender: its parameters, counters and RTX state.
    (
        RTCRtpSender,
        "send",
        (
            "if not self.__started:",
            "self.__mid = parameters.muxId",
            "self.__rtp_header_extensions_map.configure(parameters)",
            "self.__rtx_payload_type = codec.payloadType",
            "self._run_rtp(parameters.codecs[0])",
        ),
    ),
    (RTCRtpSender, "_handle_rtcp_packet", ("await self._retransmit(seq)",)),
    (
        RTCRtpSender,
        "_run_rtp",
        (
            "enc_frame = await self._next_encoded_frame(codec)",
            "packet.extensions.abs_send_time = (",
            "packet.extensions.mid = self.__mid",
            "self.__ntp_timestamp = clock.current_ntp_time()",
            "self.__rtp_timestamp = packet.timestamp",
            "self.__octet_count += len(payload)",
            "self.__packet_count += 1",
        ),
    ),
    (
        RTCRtpSender,
        "_run_rtcp",
        (
            "ntp_timestamp=self.__ntp_timestamp,",
            "rtp_timestamp=self.__rtp_timestamp,",
            "packet_count=self.__packet_count & 0xFFFFFFFF,",
            "octet_count=self.__octet_count & 0xFFFFFFFF,",
        ),
    ),
    (
        RTCRtpSender,
        "_retransmit",
        (
            "payload_type=self.__rtx_payload_type,",
            "sequence_number=self.__rtx_sequence_number,",
            "ssrc=self._rtx_ssrc,",
        ),
    ),
    (
        RTCDtlsTransport,
        "_send_rtp",
        (
            "if self._state != State.CONNECTED:",
            "data = self._tx_srtp.protect(data)",
            "await self.transport._send(data)",
        ),
    ),
    (RTCIceTransport, "__init__", ("self._send = self._connection.send",)),
    (aioice.ice.Connection, "send", ("await self.sendto(data, 1)",)),
    (
        aioice.ice.Connection,
        "sendto",
        (
            "active_pair = self._nominated.get(component)",
            "await active_pair.protocol.send_data(data, active_pair.remote_addr)",
        ),
    ),
    (aioice.ice.StunProtocol, "send_data", ("self.transport.sendto(data, addr)",)),
    (AIORTC_RATE_COUNTER, "_erase_old", ("while self._origin_ms < new_origin_ms:",)),
)


def use_cheaper_rate_counter() -> None:
    """Have aiortc's bitrate estimators count with :class:`WindowRateCounter` (same answers, constant
    work per packet; see :mod:`.rate_counter`). Applies to estimators made from now on; idempotent."""
    verify_aiortc_hook()
    rate.RateCounter = WindowRateCounter  # type: ignore[misc,assignment]


def verify_aiortc_hook() -> None:
    """Check that the installed aiortc is the one the hook was written against.

    :raises AiortcHookError: naming what moved, when the version or any patched internal
        differs from aiortc 1.16.0.
    """
    if aiortc.__version__ != PINNED_AIORTC_VERSION:
        raise AiortcHookError(
            f"rooms.media forwards encoded frames through aiortc internals verified for aiortc "
            f"{PINNED_AIORTC_VERSION}, but aiortc {aiortc.__version__} is installed: re-verify "
            f"rooms/media/aiortc_hook.py against the new source before changing the pin"
        )
    for owner, attribute, fragments in _REQUIRED_SOURCE:
        # Looked up on every check, so a patched or upgraded aiortc is what gets verified.
        function = getattr(owner, attribute, None)
        name = f"{getattr(owner, '__name__', owner)}.{attribute}"
        if function is None:
            raise AiortcHookError(
                f"aiortc internal {name} is gone; rooms/media/aiortc_hook.py needs review"
            )
        try:
            source = inspect.getsource(function)
        except (OSError, TypeError) as exc:
            raise AiortcHookError(f"cannot read the source of aiortc's {name}: {exc}") from exc
        for fragment in fragments:
            if fragment not in source:
                raise AiortcHookError(
                    f"aiortc's {name} no longer contains {fragment!r}; "
                    "rooms/media/aiortc_hook.py needs review"
                )
    pli = getattr(RTCRtpReceiver, "_send_rtcp_pli", None)
    if pli is None or list(inspect.signature(pli).parameters) != ["self", "media_ssrc"]:
        raise AiortcHookError("aiortc's RTCRtpReceiver._send_rtcp_pli(media_ssrc) moved")
    if not inspect.iscoroutinefunction(pli):
        raise AiortcHookError("aiortc's RTCRtpReceiver._send_rtcp_pli is no longer a coroutine")
    if not hasattr(RTCRtpSender, "_send_keyframe"):
        raise AiortcHookError("aiortc's RTCRtpSender._send_keyframe moved")
    probe = JitterBuffer(capacity=16)
    if not all(hasattr(probe, name) for name in ("_origin", "_packets", "_capacity", "remove")):
        raise AiortcHookError("aiortc's JitterBuffer internals changed")
    if list(inspect.signature(JitterFrame).parameters) != ["data", "timestamp"]:
        raise AiortcHookError("aiortc's JitterFrame(data, timestamp) changed")
    if not hasattr(RTCRtpTransceiver, "_get_mline_index"):
        raise AiortcHookError("aiortc's RTCRtpTransceiver._get_mline_index moved")
    if not hasattr(RTCRtpTransceiver, "setCodecPreferences"):
        raise AiortcHookError("aiortc's RTCRtpTransceiver.setCodecPreferences moved")


def _frame_assembler(kind: str) -> LowLatencyVideoAssembler | PassThroughAudioAssembler:
    return LowLatencyVideoAssembler() if kind == "video" else PassThroughAudioAssembler()


class PacketTap(JitterBuffer):
    """Stands in for a receiver's jitter buffer when forwarding packets: each RTP packet goes to
    :attr:`on_packet`; frames are assembled (for :attr:`ReceiverTap.on_frame`, the recorder) only
    while :meth:`want_frames` says so.

    aiortc calls :meth:`add` from ``_handle_rtp_packet`` once it has counted the packet for its
    receiver reports, unwrapped an RTX retransmission, NACKed what is missing, and parsed the VP8
    payload descriptor: ``packet.payload`` is the RTP payload, ``packet._data`` the codec data.
    """

    def __init__(self, kind: str) -> None:
        super().__init__(capacity=2)  # never used: add() is replaced, the base only satisfies aiortc
        self.kind = kind
        self.on_packet: PacketHandler | None = None
        self.last_ssrc: int | None = None
        self._frames: LowLatencyVideoAssembler | PassThroughAudioAssembler | None = None
        self._gaps_before = 0

    @property
    def gaps_skipped(self) -> int:
        """Lost packets the frame assembler gave up (only counted while frames are wanted)."""
        return self._gaps_before + (self._frames.gaps_skipped if self._frames is not None else 0)

    def want_frames(self, wanted: bool) -> None:
        """Assemble frames too (for the recorder), or stop; a fresh assembler each time frames start."""
        if wanted and self._frames is None:
            self._frames = _frame_assembler(self.kind)
        elif not wanted and self._frames is not None:
            self._gaps_before += self._frames.gaps_skipped
            self._frames = None

    def add(self, packet: Any) -> tuple[bool, JitterFrame | None]:
        self.last_ssrc = packet.ssrc
        handler = self.on_packet
        if handler is not None:
            try:
                handler(packet)
            except Exception:
                # Runs inside aiortc's RTP handling: raising would close the DTLS transport.
                logger.exception("forwarding an RTP packet of %s failed", self.kind)
        frames = self._frames
        if frames is None:
            return False, None
        return frames.add(packet)


_verified = False


def _verify_once() -> None:
    """:func:`verify_aiortc_hook`, done once per process once it has passed (aiortc does not change under a
    running server); the router verifies again whenever one is made."""
    global _verified
    if not _verified:
        verify_aiortc_hook()
        _verified = True


class ReceiverTap:
    """Stands in for an :class:`RTCRtpReceiver`'s decoder queue and forwards encoded frames.

    aiortc calls :meth:`put` from the event loop with each complete frame, and the decoder
    thread blocks in :meth:`get` until the receiver stops. Set :attr:`on_frame` to route the
    frames; it is called on the event loop and must be quick. With ``packets`` the jitter buffer
    is a :class:`PacketTap` (:attr:`packets`): packets are forwarded, frames made only on demand.
    """

    def __init__(self, receiver: RTCRtpReceiver, kind: str, packets: bool = False) -> None:
        self.receiver = receiver
        self.kind = kind
        self.on_frame: FrameHandler | None = None
        self.packets: PacketTap | None = PacketTap(kind) if packets else None
        self.assembler: LowLatencyVideoAssembler | PassThroughAudioAssembler | PacketTap = (
            self.packets if self.packets is not None else _frame_assembler(kind)
        )
        self._stopped = threading.Event()

    @property
    def publisher_ssrc(self) -> int | None:
        """SSRC of the media the publisher sends on this m-line, once a packet has arrived."""
        return self.assembler.last_ssrc

    def put(self, item: tuple[RTCRtpCodecParameters, JitterFrame] | None) -> None:
        """Called by aiortc's receiver; ``None`` means the receiver is stopping."""
        if item is None:
            self._stopped.set()
            return
        handler = self.on_frame
        if handler is None:
            return
        try:
            handler(item[0], item[1])
        except Exception:
            # Runs inside aiortc's RTP handling: raising would close the DTLS transport.
            logger.exception("forwarding an encoded %s frame failed", self.kind)

    def get(self) -> None:
        """Called by aiortc's decoder thread: wait for the end of the stream, never decode."""
        self._stopped.wait()

    async def send_picture_loss(self) -> bool:
        """Ask the publisher for a keyframe (RTCP PLI); False when its SSRC is not known yet."""
        ssrc = self.publisher_ssrc
        if ssrc is None:
            return False
        try:
            await self.receiver._send_rtcp_pli(ssrc)
        except Exception:
            logger.exception("sending a PLI to the publisher failed")
            return False
        return True


def install_receiver_tap(receiver: RTCRtpReceiver, packets: bool = False) -> ReceiverTap:
    """Divert a receiver's complete encoded frames (or, with ``packets``, its RTP packets) to a new
    :class:`ReceiverTap`.

    Must run after ``setRemoteDescription`` created the receiver and before aiortc starts
    it (``receive()`` runs in a task scheduled at the end of ``setRemoteDescription``, so
    call this before the next ``await``).

    :raises AiortcHookError: when the receiver lacks the patched internals or already started.
    """
    verify_aiortc_hook()
    track = receiver.track
    if track is None:
        raise AiortcHookError("the receiver has no track: call after setRemoteDescription")
    current_queue = getattr(receiver, "_RTCRtpReceiver__decoder_queue", None)
    if isinstance(current_queue, ReceiverTap):
        return current_queue
    if not isinstance(current_queue, queue.Queue):
        raise AiortcHookError("aiortc's RTCRtpReceiver has no decoder queue to divert")
    if getattr(receiver, "_RTCRtpReceiver__decoder_thread", "missing") is not None:
        raise AiortcHookError("the receiver has already started its decoder; tap it before it starts")
    if not isinstance(getattr(receiver, "_RTCRtpReceiver__jitter_buffer", None), JitterBuffer):
        raise AiortcHookError("aiortc's RTCRtpReceiver has no jitter buffer to replace")
    tap = ReceiverTap(receiver, track.kind, packets)
    receiver._RTCRtpReceiver__decoder_queue = tap  # type: ignore[attr-defined]
    receiver._RTCRtpReceiver__jitter_buffer = tap.assembler  # type: ignore[attr-defined]
    return tap


def keep_negotiated_header_extensions(pc: rtcpeerconnection.RTCPeerConnection) -> Callable[[], None]:
    """Remember each negotiated m-line's RTP header extension ids; the returned call puts them back.

    aiortc's ``createOffer`` resets every transceiver's header extensions to aiortc's own ids
    (mid = 1, audio level = 2, abs-send-time = 3), and a sender or receiver that starts later
    (``__connect`` runs in a task, after DTLS connects) registers whatever is set then in the one
    extension map of the bundled transport. With a browser that numbers its extensions another way
    (Chromium: abs-send-time = 2, transport-cc = 3, mid = 4) the map then reads the browser's
    abs-send-time as audio level, the parse fails and the DTLS transport is torn down. Call this
    before ``createOffer`` and the result right after it (``createOffer`` does not await, so no
    task sees the reset ids).
    """
    saved = [
        (transceiver, list(transceiver._headerExtensions))
        for transceiver in pc.getTransceivers()
        if transceiver.mid is not None and transceiver._headerExtensions
    ]

    def restore() -> None:
        for transceiver, extensions in saved:
            transceiver._headerExtensions = extensions

    return restore


def _codec_key(codec: RTCRtpCodecParameters, codecs: list[RTCRtpCodecParameters]) -> tuple[str, ...]:
    """What a codec is, independent of its payload type: its MIME type, and for RTX the base codec's."""
    mime = codec.mimeType.lower()
    if not mime.endswith("/rtx"):
        return (mime,)
    apt = codec.parameters.get("apt")
    base = next((c for c in codecs if c.payloadType == apt and c is not codec), None)
    return (mime, base.mimeType.lower() if base is not None else "")


def keep_negotiated_payload_types(pc: rtcpeerconnection.RTCPeerConnection) -> Callable[[str], str]:
    """Remember the negotiated payload types; the returned call puts them back into a new offer.

    aiortc's ``createOffer`` resets every transceiver to aiortc's own payload types (VP8 = 97,
    Opus = 96), also on m-lines already negotiated with the browser's numbering (Chromium: VP8 = 96,
    Opus = 111). The browser then switches its running sender to aiortc's number, but aiortc's
    receiver keeps the payload types it started with and drops every packet as "unknown payload
    type": the publisher's video stops at the server, and a recipient who joins later never gets a
    keyframe however often one is requested. A receiver that starts after the offer would instead
    start with aiortc's numbers while the browser still sends its own.

    Call this before ``createOffer`` and the result on the offer's SDP right after it (no await
    between): every transceiver gets the negotiated payload type for each codec it has (new m-lines
    too, so that one payload type means one codec on the bundled transport, which Chromium
    requires), and the offer SDP is rewritten to match.
    """
    negotiated: dict[tuple[str, ...], int] = {}
    for transceiver in pc.getTransceivers():
        if transceiver.mid is None:
            continue
        codecs: list[RTCRtpCodecParameters] = transceiver._codecs
        for codec in codecs:
            if codec.payloadType is not None:
                negotiated.setdefault((transceiver.kind, *_codec_key(codec, codecs)), codec.payloadType)

    def rewrite(offer_sdp: str) -> str:
        if not negotiated:
            return offer_sdp
        by_index: dict[int, list[RTCRtpCodecParameters]] = {}
        for transceiver in pc.getTransceivers():
            codecs = transceiver._codecs
            mapping = {
                codec.payloadType: negotiated[key]
                for codec in codecs
                if (key := (transceiver.kind, *_codec_key(codec, codecs))) in negotiated
            }
            renumbered = []
            for codec in codecs:
                parameters = dict(codec.parameters)
                apt = parameters.get("apt")
                if isinstance(apt, int) and apt in mapping:
                    parameters["apt"] = mapping[apt]
                renumbered.append(
                    RTCRtpCodecParameters(
                        mimeType=codec.mimeType,
                        clockRate=codec.clockRate,
                        channels=codec.channels,
                        payloadType=mapping.get(codec.payloadType, codec.payloadType),
                        rtcpFeedback=list(codec.rtcpFeedback),
                        parameters=parameters,
                    )
                )
            if len({codec.payloadType for codec in renumbered}) != len(renumbered):
                raise AiortcHookError(f"renumbering the codecs of m-line {transceiver.mid} collides")
            transceiver._codecs = renumbered
            index = transceiver._get_mline_index()  # new m-lines get their mid only later
            if index is not None:
                by_index[index] = renumbered
        return with_payload_types(offer_sdp, by_index)

    return rewrite


def intercept_keyframe_requests(sender: RTCRtpSender, on_request: Callable[[], None]) -> None:
    """Route the PLI/FIR a recipient sends about this sender's stream to ``on_request``.

    aiortc's sender would only flag its (unused) encoder to make a keyframe; a forwarding
    sender must ask the publisher instead. ``on_request`` runs inside RTCP handling.
    """

    def relay_keyframe_request() -> None:
        try:
            on_request()
        except Exception:
            # Inside aiortc's RTCP handling: raising would close the DTLS transport.
            logger.exception("relaying a keyframe request failed")

    sender._send_keyframe = relay_keyframe_request  # type: ignore[method-assign]


def set_outgoing_stream_id(sender: RTCRtpSender, stream_id: str) -> None:
    """Name the MediaStream (SDP ``msid``) a forwarded track belongs to, e.g. the publisher's id."""
    sender._stream_id = stream_id


def restrict_negotiated_codecs(transceiver: RTCRtpTransceiver) -> None:
    """Keep only the pinned codec (and its RTX) among the codecs negotiated from a remote offer.

    aiortc applies codec preferences to a transceiver created by ``setRemoteDescription``
    only on the next negotiation; this filters its negotiated codecs before the answer.

    :raises UnsupportedCodecError: when the remote side did not offer the pinned codec.
    """
    codecs: list[RTCRtpCodecParameters] = transceiver._codecs
    kept = [codec for codec in codecs if is_pinned_codec(transceiver.kind, codec.mimeType)]
    kept_types = {codec.payloadType for codec in kept}
    kept += [
        codec
        for codec in codecs
        if codec.mimeType.lower().endswith("/rtx") and codec.parameters.get("apt") in kept_types
    ]
    if not kept_types:
        raise UnsupportedCodecError(
            f"the {transceiver.kind} m-line {transceiver.mid} lacks the pinned codec"
        )
    transceiver._codecs = kept


class RtpOutlet:
    """A recipient sender's way out for forwarded RTP packets, past its RTP loop.

    The sender is started by aiortc as usual (after DTLS connects, with the negotiated parameters,
    which :meth:`RTCRtpSender.send` is wrapped to note); its track never yields, so its own RTP
    loop idles. :meth:`send` protects a packet with the recipient's SRTP session and writes it to
    the nominated ICE socket synchronously (aiortc's ``_send_rtp`` path without the awaits), and
    updates the sender's counters so that its RTCP sender reports stay right (Chromium syncs audio
    and video by them). NACKs the recipient sends for this stream go to :attr:`on_nack`.
    """

    def __init__(self, sender: RTCRtpSender) -> None:
        _verify_once()  # one per recipient track: the full check (~10 ms) would stall every join
        self.sender = sender
        self.ssrc: int = sender._ssrc
        self.rtx_ssrc: int = sender._rtx_ssrc
        self.ready = False
        self.payload_type = 0
        self.rtx_payload_type: int | None = None
        self.clock_rate = 90000
        self.mid = ""
        self.mid_id = 0
        self.abs_send_time_id = 0
        self.on_ready: Callable[[], None] | None = None
        self.on_nack: Callable[[int], None] | None = None
        self._dtls: RTCDtlsTransport | None = None
        self._ice: Any = None
        original_send = sender.send

        async def send(parameters: RTCRtpSendParameters) -> None:
            # aiortc calls send() again on every renegotiation, with parameters built afresh (possibly with
            # aiortc's own extension ids), and ignores all but the first: so must the outlet.
            started = self.sender._RTCRtpSender__started  # type: ignore[attr-defined]
            await original_send(parameters)
            if not started:
                self._start(parameters)

        async def retransmit(sequence_number: int) -> None:
            handler = self.on_nack
            if handler is None:
                return
            try:
                handler(sequence_number)
            except Exception:
                # Inside aiortc's RTCP handling: raising would close the DTLS transport.
                logger.exception("answering a NACK failed")

        sender.send = send  # type: ignore[method-assign]
        sender._retransmit = retransmit  # type: ignore[method-assign]

    def _start(self, parameters: RTCRtpSendParameters) -> None:
        codec = parameters.codecs[0]
        self.payload_type = codec.payloadType or 0
        self.clock_rate = codec.clockRate
        self.rtx_payload_type = next(
            (c.payloadType for c in parameters.codecs
             if c.mimeType.lower().endswith("/rtx") and c.parameters.get("apt") == codec.payloadType),
            None,
        )
        self.mid = parameters.muxId or ""
        for extension in parameters.headerExtensions:
            if extension.uri == _MID_URI:
                self.mid_id = extension.id
            elif extension.uri == _ABS_SEND_TIME_URI:
                self.abs_send_time_id = extension.id
        self._dtls = self.sender.transport
        self._ice = self._dtls.transport._connection
        self.ready = True
        callback = self.on_ready
        if callback is not None:
            try:
                callback()
            except Exception:
                logger.exception("starting a forwarded stream failed")

    def send(self, data: bytes) -> bool:
        """Protect and send one RTP packet now; False (dropped) when the recipient's transport is not
        connected or its socket already holds :data:`MAX_UNSENT_BYTES` unsent. Never raises."""
        dtls = self._dtls
        if dtls is None or dtls._state is not rtcdtlstransport.State.CONNECTED:
            return False
        pair = self._ice._nominated.get(1)
        if pair is None:
            return False
        socket = pair.protocol.transport
        if socket is None or socket.is_closing() or socket.get_write_buffer_size() > MAX_UNSENT_BYTES:
            return False
        try:
            socket.sendto(dtls._tx_srtp.protect(data), pair.remote_addr)
        except Exception:
            logger.exception("sending a forwarded RTP packet failed")
            return False
        return True

    def count_sent(self, ntp_time: int, rtp_timestamp: int, payload_bytes: int) -> None:
        """What aiortc's RTP loop notes per packet, for the sender report its RTCP loop sends."""
        sender: Any = self.sender
        sender._RTCRtpSender__ntp_timestamp = ntp_time
        sender._RTCRtpSender__rtp_timestamp = rtp_timestamp
        sender._RTCRtpSender__octet_count += payload_bytes
        sender._RTCRtpSender__packet_count += 1

    def stop(self) -> None:
        """Send nothing more (the sender itself is stopped by its owner)."""
        self.ready = False
        self.on_ready = None
        self.on_nack = None
        self._dtls = None

