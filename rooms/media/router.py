"""The forwarding media router of one live room (a selective forwarding unit on aiortc)."""

import logging
import time
from collections.abc import Callable, Collection, Iterable, Mapping

from aiortc import RTCPeerConnection

from .aiortc_hook import use_cheaper_rate_counter
from .errors import DuplicateParticipantError, RouterClosedError, UnknownParticipantError
from .forwarded_track import DEFAULT_MAX_QUEUED_FRAMES
from .forwarding_mode import ForwardingMode, check_forwarding_mode
from .frame_sink import FrameSink
from .ice_consent_guard import install_ice_consent_guard
from .keyframe_requests import DEFAULT_MIN_INTERVAL
from .media_labels import MediaLabel
from .participant import MediaParticipant, NegotiationResult, OutgoingTrackInfo, PublicationInfo
from .published_track import PublishedTrack
from .sdp import ClientOffer

logger = logging.getLogger(__name__)

RenegotiationListener = Callable[[str], None]


class MediaRouter:
    """Forwards every participant's published tracks, encoded, to every other participant.

    One router per live room; each participant has one ``RTCPeerConnection`` to it. Nothing
    is decoded or encoded: complete VP8/Opus frames are taken from the receiving side and
    re-packetized by each recipient's sender, or (``forwarding="packets"``) each RTP packet is
    rewritten for each recipient and sent on as it arrives.

    Negotiation (the signaling layer carries the SDP):

    * the client offers what it publishes: :meth:`handle_offer` returns the answer;
    * when tracks were added for (or removed from) a recipient, ``on_renegotiation_needed``
      is called with the recipient's id; the signaling layer then sends the result of
      :meth:`create_offer` and passes the client's answer to :meth:`handle_answer`.
      The callback is called synchronously: schedule the offer, do not block in it.
    * the server is the impolite peer: a client offer that collides with an unanswered
      server offer raises :class:`~rooms.media.errors.NegotiationCollisionError`.
    """

    def __init__(
        self,
        *,
        on_renegotiation_needed: RenegotiationListener | None = None,
        keyframe_interval: float = DEFAULT_MIN_INTERVAL,
        max_queued_frames: int = DEFAULT_MAX_QUEUED_FRAMES,
        clock: Callable[[], float] = time.monotonic,
        forwarding: ForwardingMode = "frames",
    ) -> None:
        """:param forwarding: ``"frames"`` (complete encoded frames re-packetized by each recipient's
        sender) or ``"packets"`` (each RTP packet rewritten and sent on at once, see
        :mod:`.forwarded_stream`); see :mod:`.forwarding_mode`."""
        use_cheaper_rate_counter()  # verifies the hook first
        install_ice_consent_guard()
        self._listener = on_renegotiation_needed
        self._keyframe_interval = keyframe_interval
        self._max_queued = max_queued_frames
        self._clock = clock
        self._forwarding = check_forwarding_mode(forwarding)
        self._participants: dict[str, MediaParticipant] = {}
        self._sink: FrameSink | None = None
        self._recorded: frozenset[str] = frozenset()
        self._closed = False

    @property
    def participant_ids(self) -> list[str]:
        """Ids of the participants currently connected to the router."""
        return list(self._participants)

    def add_participant(self, participant_id: str, pc: RTCPeerConnection) -> None:
        """Register a participant's peer connection; the router owns and closes it.

        The participant is subscribed to everything already published; those tracks are sent
        from the first server offer after the participant's own first offer (or earlier, if
        the signaling layer calls :meth:`create_offer` for a participant who publishes nothing).
        """
        if self._closed:
            raise RouterClosedError("the media router is closed")
        if participant_id in self._participants:
            raise DuplicateParticipantError(
                f"participant {participant_id} is already in the media router"
            )
        participant = MediaParticipant(
            participant_id,
            pc,
            keyframe_interval=self._keyframe_interval,
            max_queued_frames=self._max_queued,
            clock=self._clock,
            forwarding=self._forwarding,
        )
        self._participants[participant_id] = participant
        for other in self._participants.values():
            if other is participant:
                continue
            for publication in other.publications.values():
                participant.queue_outgoing(publication.attach(participant_id))

    def record(self, sink: FrameSink | None, participant_ids: Collection[str] = ()) -> None:
        """Hand the frames of these participants' tracks (now and as they publish) to ``sink``.

        ``None`` stops handing frames to any sink. The sink is told the tracks first, then gets frames.
        """
        self._sink = sink
        self._recorded = frozenset(participant_ids) if sink is not None else frozenset()
        self._update_recording()

    def _update_recording(self) -> None:
        sink = self._sink
        chosen = [publication for participant in self._participants.values()
                  if participant.participant_id in self._recorded
                  for publication in participant.publications.values()]
        if sink is not None:
            try:
                sink.set_tracks([publication.recorded_as for publication in chosen])
            except Exception:
                logger.exception("the recorder failed to take its tracks")
        for participant in self._participants.values():
            for publication in participant.publications.values():
                publication.record_to(sink if publication in chosen else None)

    async def remove_participant(self, participant_id: str) -> None:
        """Stop forwarding to and from a participant and close their connection. Idempotent."""
        participant = self._participants.pop(participant_id, None)
        if participant is None:
            return
        if participant_id in self._recorded:
            self._update_recording()
        for other in self._participants.values():
            for publication in other.publications.values():
                publication.detach(participant_id)
        affected = self._retire(participant.publications.values())
        await participant.close()
        self._notify(affected)

    async def handle_offer(
        self, participant_id: str, offer: str | ClientOffer, labels: Mapping[str, MediaLabel] | None = None
    ) -> str:
        """Apply a participant's offer and return the answer SDP.

        :param offer: the offer's SDP, or the offer already parsed (so it is read once).
        :param labels: what each sending m-line (by ``mid``) carries; unlabeled audio is
            ``"audio"``, unlabeled video the first free of room_camera, exam_camera, screen.
        """
        participant = self._participant(participant_id)
        parsed = offer if isinstance(offer, ClientOffer) else ClientOffer.parse(offer)
        async with participant.lock:
            answer, result = await participant.accept_offer(parsed, labels or {})
            affected = await self._apply(participant, result)
        affected.add(participant_id)
        self._notify(affected)
        return answer

    async def create_offer(self, participant_id: str) -> str:
        """The server's offer to a participant, carrying every track pending for them."""
        participant = self._participant(participant_id)
        async with participant.lock:
            return await participant.create_offer()

    async def handle_answer(self, participant_id: str, answer_sdp: str) -> None:
        """Apply a participant's answer to :meth:`create_offer`."""
        participant = self._participant(participant_id)
        async with participant.lock:
            result = await participant.accept_answer(answer_sdp)
            affected = await self._apply(participant, result)
        affected.add(participant_id)
        self._notify(affected)

    def needs_renegotiation(self, participant_id: str) -> bool:
        """Whether a server offer is due for this participant."""
        return self._participant(participant_id).needs_renegotiation

    def outgoing_tracks(self, participant_id: str) -> list[OutgoingTrackInfo]:
        """Which negotiated m-line (mid) carries whose track, for this recipient."""
        return self._participant(participant_id).outgoing_tracks()

    def publications(self, participant_id: str) -> list[PublicationInfo]:
        """What this participant publishes, with forwarding counters."""
        return self._participant(participant_id).publication_infos()

    def request_keyframe(self, publisher_id: str, label: MediaLabel) -> None:
        """Ask a publisher for a keyframe of one track (rate-limited)."""
        for publication in self._participant(publisher_id).publications.values():
            if publication.label == label:
                publication.request_keyframe()

    async def close(self) -> None:
        """Close every participant's connection. Idempotent."""
        self._closed = True
        self.record(None)
        while self._participants:
            participant_id = next(iter(self._participants))
            await self.remove_participant(participant_id)

    def _participant(self, participant_id: str) -> MediaParticipant:
        try:
            return self._participants[participant_id]
        except KeyError:
            raise UnknownParticipantError(
                f"participant {participant_id} is not in the media router"
            ) from None

    async def _apply(self, publisher: MediaParticipant, result: NegotiationResult) -> set[str]:
        affected = self._retire(result.unpublished)
        for publication in result.unpublished:
            await publication.close()
        for publication in result.published:
            for other in self._participants.values():
                if other is not publisher:
                    other.queue_outgoing(publication.attach(other.participant_id))
                    affected.add(other.participant_id)
        if publisher.participant_id in self._recorded and (result.published or result.unpublished):
            self._update_recording()
        return affected

    def _retire(self, publications: Iterable[PublishedTrack]) -> set[str]:
        affected: set[str] = set()
        for publication in publications:
            for recipient_id, track in publication.recipients.items():
                recipient = self._participants.get(recipient_id)
                if recipient is not None:
                    recipient.retire_outgoing(track)
                    affected.add(recipient_id)
        return affected

    def _notify(self, participant_ids: Iterable[str]) -> None:
        if self._listener is None:
            return
        for participant_id in sorted(participant_ids):
            participant = self._participants.get(participant_id)
            if (
                participant is None
                or not participant.negotiated_once
                or not participant.needs_renegotiation
            ):
                continue
            try:
                self._listener(participant_id)
            except Exception:
                logger.exception("the renegotiation listener failed for %s", participant_id)
