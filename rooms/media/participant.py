"""One participant's peer connection to the server: what they publish and what they receive."""

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from aiortc import RTCPeerConnection, RTCRtpTransceiver, RTCSessionDescription

from .aiortc_hook import (
    ReceiverTap,
    RtpOutlet,
    install_receiver_tap,
    intercept_keyframe_requests,
    keep_negotiated_header_extensions,
    keep_negotiated_payload_types,
    restrict_negotiated_codecs,
    set_outgoing_stream_id,
)
from .codec_pinning import is_pinned_codec, pinned_codec_preferences
from .errors import MediaError, NegotiationCollisionError, UnsupportedCodecError
from .forwarded_stream import ForwardedStream
from .forwarding_mode import ForwardingMode
from .media_labels import MediaLabel, default_label, kind_of
from .published_track import OutgoingTrack, PublishedTrack
from .sdp import ClientOffer
from .socket_drain import drain_ice_sockets

logger = logging.getLogger(__name__)

_RECEIVING = ("recvonly", "sendrecv")


@dataclass(frozen=True)
class OutgoingTrackInfo:
    """A forwarded track on a recipient's connection: which m-line carries whose media."""

    mid: str
    publisher_id: str
    label: MediaLabel
    kind: str
    live: bool


@dataclass(frozen=True)
class PublicationInfo:
    """A track a participant publishes, with forwarding counters."""

    mid: str
    label: MediaLabel
    kind: str
    frames_received: int
    keyframes_received: int
    keyframe_requests_sent: int
    recipients: tuple[str, ...]


@dataclass(frozen=True)
class NegotiationResult:
    """What one completed offer/answer changed in a participant's publications."""

    published: list[PublishedTrack]
    unpublished: list[PublishedTrack]


class MediaParticipant:
    """Owns one ``RTCPeerConnection`` and the offer/answer state of one participant.

    Use through :class:`rooms.media.router.MediaRouter`, which holds :attr:`lock` around
    every negotiation and wires publications to the other participants.
    """

    def __init__(
        self,
        participant_id: str,
        pc: RTCPeerConnection,
        *,
        keyframe_interval: float,
        max_queued_frames: int,
        clock: Callable[[], float] = time.monotonic,
        forwarding: ForwardingMode = "frames",
    ) -> None:
        self.participant_id = participant_id
        self.forwarding: ForwardingMode = forwarding
        self.pc = pc
        self.lock = asyncio.Lock()
        self.negotiated_once = False
        self.publications: dict[str, PublishedTrack] = {}
        self._keyframe_interval = keyframe_interval
        self._max_queued = max_queued_frames
        self._clock = clock
        self._taps: dict[str, ReceiverTap] = {}
        self._labels: dict[str, MediaLabel] = {}
        self._pending: list[OutgoingTrack] = []
        self._sending: dict[OutgoingTrack, RTCRtpTransceiver] = {}
        # m-lines whose publisher stopped: still listed (not live) so the client removes their tiles.
        self._retired: list[OutgoingTrackInfo] = []
        self._stopping: set[asyncio.Task[None]] = set()
        self._directions_changed = False
        self._closed = False

    @property
    def needs_renegotiation(self) -> bool:
        """Tracks were added for (or removed from) this recipient since the last server offer."""
        return not self._closed and (bool(self._pending) or self._directions_changed)

    def queue_outgoing(self, track: OutgoingTrack) -> None:
        """Send this forwarded track from the next server offer on."""
        if self._closed:
            track.stop()
            return
        self._pending.append(track)

    def retire_outgoing(self, track: OutgoingTrack) -> None:
        """The publisher is gone: stop the track and set its m-line inactive at the next negotiation."""
        track.stop()
        if track in self._pending:
            self._pending.remove(track)
            return
        transceiver = self._sending.pop(track, None)
        if transceiver is not None:
            # Takes effect in the next offer or answer; the m-line is not reused (aiortc
            # cannot restart a sender whose track ended).
            transceiver.direction = "inactive"
            self._directions_changed = True
            # The m-line stays (inactive) but its sender's RTP and RTCP tasks go now: otherwise every
            # join and leave in a long consultation left two running tasks per recipient behind.
            task = asyncio.ensure_future(transceiver.sender.stop())
            self._stopping.add(task)
            task.add_done_callback(self._stopping.discard)
            if transceiver.mid is not None:
                self._retired.append(OutgoingTrackInfo(
                    mid=transceiver.mid, publisher_id=track.publisher_id, label=track.label,
                    kind=track.kind, live=False,
                ))

    def outgoing_tracks(self) -> list[OutgoingTrackInfo]:
        """Negotiated forwarded tracks, so a client can tell whose media each m-line carries.

        Retired m-lines stay in the list as not live: a publisher who stops sharing the screen stays in
        the room, so nothing else tells the recipients to take the tile down.
        """
        return [
            OutgoingTrackInfo(
                mid=transceiver.mid,
                publisher_id=track.publisher_id,
                label=track.label,
                kind=track.kind,
                live=track.readyState == "live",
            )
            for track, transceiver in self._sending.items()
            if transceiver.mid is not None
        ] + self._retired

    def publication_infos(self) -> list[PublicationInfo]:
        """The participant's current publications."""
        return [
            PublicationInfo(
                mid=mid,
                label=track.label,
                kind=track.kind,
                frames_received=track.frames_received,
                keyframes_received=track.keyframes_received,
                keyframe_requests_sent=track.keyframe_requests_sent,
                recipients=tuple(track.recipients),
            )
            for mid, track in self.publications.items()
        ]

    async def accept_offer(
        self, offer: ClientOffer, labels: Mapping[str, MediaLabel]
    ) -> tuple[str, NegotiationResult]:
        """Apply a client offer and return the answer SDP with the publication changes."""
        self._check_open()
        if self.pc.signalingState != "stable":
            raise NegotiationCollisionError(
                f"an offer from {self.participant_id} collided with the server's unanswered offer"
            )
        self._validate_offer(offer, labels)
        self._labels.update(labels)
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=offer.sdp, type="offer"))
        # No await until the taps are in: aiortc starts new receivers in a task it has just
        # scheduled, and a receiver that started has already spawned its decoder.
        for transceiver in self.pc.getTransceivers():
            if transceiver.mid is None or transceiver.stopped:
                continue
            if not transceiver._preferred_codecs:
                transceiver.setCodecPreferences(pinned_codec_preferences(transceiver.kind))
            restrict_negotiated_codecs(transceiver)
            if transceiver.receiver.track is not None and transceiver.mid not in self._taps:
                self._taps[transceiver.mid] = install_receiver_tap(
                    transceiver.receiver, packets=self.forwarding == "packets"
                )
        answer = await self.pc.createAnswer()
        await self.pc.setLocalDescription(answer)
        drain_ice_sockets(self.pc)  # the sockets exist now that the answer's candidates are gathered
        self.negotiated_once = True
        return self.pc.localDescription.sdp, self._sync_publications()

    async def create_offer(self) -> str:
        """Add the pending forwarded tracks as send-only m-lines and return the server's offer SDP."""
        self._check_open()
        if self.pc.signalingState != "stable":
            raise NegotiationCollisionError(
                f"a negotiation with {self.participant_id} is already in progress"
            )
        for track in self._pending:
            transceiver = self.pc.addTransceiver(track, direction="sendonly")
            transceiver.setCodecPreferences(pinned_codec_preferences(track.kind))
            set_outgoing_stream_id(transceiver.sender, track.publisher_id)
            intercept_keyframe_requests(transceiver.sender, track.request_keyframe)
            if isinstance(track, ForwardedStream):
                track.bind(RtpOutlet(transceiver.sender))
            self._sending[track] = transceiver
        self._pending.clear()
        self._directions_changed = False
        restore_header_extensions = keep_negotiated_header_extensions(self.pc)
        renumber_payload_types = keep_negotiated_payload_types(self.pc)
        offer = await self.pc.createOffer()
        restore_header_extensions()
        offer = RTCSessionDescription(sdp=renumber_payload_types(offer.sdp), type=offer.type)
        await self.pc.setLocalDescription(offer)
        return self.pc.localDescription.sdp

    async def accept_answer(self, answer_sdp: str) -> NegotiationResult:
        """Apply the client's answer to the server's offer."""
        self._check_open()
        if self.pc.signalingState != "have-local-offer":
            raise NegotiationCollisionError(
                f"no server offer to {self.participant_id} is waiting for an answer"
            )
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=answer_sdp, type="answer"))
        self.negotiated_once = True
        return self._sync_publications()

    def _validate_offer(self, offer: ClientOffer, labels: Mapping[str, MediaLabel]) -> None:
        # Checked before setRemoteDescription: aiortc cannot roll an applied offer back.
        for media in offer.description.media:
            if media.kind not in ("audio", "video") or media.port == 0:
                continue
            if not any(is_pinned_codec(media.kind, codec.mimeType) for codec in media.rtp.codecs):
                codec_name = "VP8" if media.kind == "video" else "Opus"
                raise UnsupportedCodecError(
                    f"the {media.kind} m-line {media.rtp.muxId} offers no {codec_name}"
                )
            label = labels.get(media.rtp.muxId or "")
            if label is not None and kind_of(label) != media.kind:
                raise MediaError(
                    f"label {label!r} does not fit the {media.kind} m-line {media.rtp.muxId}"
                )

    def _sync_publications(self) -> NegotiationResult:
        receiving = {
            transceiver.mid: transceiver
            for transceiver in self.pc.getTransceivers()
            if transceiver.mid in self._taps and transceiver.currentDirection in _RECEIVING
        }
        unpublished = [track for mid, track in self.publications.items() if mid not in receiving]
        for track in unpublished:
            del self.publications[track.mid]
        published = []
        for mid, transceiver in receiving.items():
            if mid is None or mid in self.publications:
                continue
            label = self._labels.get(mid)
            if label is None:
                in_use = {track.label for track in self.publications.values()}
                label = default_label(transceiver.kind, in_use)
            track = PublishedTrack(
                self.participant_id,
                label,
                mid,
                self._taps[mid],
                keyframe_interval=self._keyframe_interval,
                max_queued_frames=self._max_queued,
                clock=self._clock,
            )
            self.publications[mid] = track
            published.append(track)
        return NegotiationResult(published=published, unpublished=unpublished)

    def _check_open(self) -> None:
        if self._closed:
            raise MediaError(f"participant {self.participant_id} has left the media router")

    async def close(self) -> None:
        """Stop publishing and receiving and close the peer connection. Idempotent."""
        if self._closed:
            return
        self._closed = True
        for track in self._pending:
            track.stop()
        self._pending.clear()
        for track in self._sending:
            track.stop()
        for publication in list(self.publications.values()):
            await publication.close()
        self.publications.clear()
        await asyncio.gather(*self._stopping, return_exceptions=True)
        await self.pc.close()
