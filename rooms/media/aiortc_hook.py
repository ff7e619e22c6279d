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

import aiortc
from aiortc import RTCRtpReceiver, RTCRtpSender, RTCRtpTransceiver, rate, rtcpeerconnection, rtcrtpreceiver
from aiortc.jitterbuffer import JitterBuffer, JitterFrame
from aiortc.rtcrtpparameters import RTCRtpCodecParameters

from .codec_pinning import is_pinned_codec
from .errors import AiortcHookError, UnsupportedCodecError
from .frame_assembler import LowLatencyVideoAssembler, PassThroughAudioAssembler
from .rate_counter import WindowRateCounter
from .sdp import with_payload_types

logger = logging.getLogger(__name__)

PINNED_AIORTC_VERSION = "1.16.0"

FrameHandler = Callable[[RTCRtpCodecParameters, JitterFrame], None]

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


class ReceiverTap:
    """Stands in for an :class:`RTCRtpReceiver`'s decoder queue and forwards encoded frames.

    aiortc calls :meth:`put` from the event loop with each complete frame, and the decoder
    thread blocks in :meth:`get` until the receiver stops. Set :attr:`on_frame` to route the
    frames; it is called on the event loop and must be quick.
    """

    def __init__(self, receiver: RTCRtpReceiver, kind: str) -> None:
        self.receiver = receiver
        self.kind = kind
        self.on_frame: FrameHandler | None = None
        self.assembler: LowLatencyVideoAssembler | PassThroughAudioAssembler = (
            LowLatencyVideoAssembler() if kind == "video" else PassThroughAudioAssembler()
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


def install_receiver_tap(receiver: RTCRtpReceiver) -> ReceiverTap:
    """Divert a receiver's complete encoded frames to a new :class:`ReceiverTap`.

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
    tap = ReceiverTap(receiver, track.kind)
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
