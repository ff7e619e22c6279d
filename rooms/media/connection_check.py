"""The device and connection check's media round trip: the server echoes a browser's media back.

Before a consultation, anyone (staff or a guest with nothing but a link) can check that media reaches
our server and comes back: the browser opens one peer connection to the server, sends its camera and
microphone, and gets the same encoded frames back on the same m-lines, through the same forwarding
path a call uses (receiver tap, :class:`PublishedTrack`, :class:`ForwardedTrack`; nothing is decoded or
encoded). A data channel answers pings, so the page can measure the round trip itself, and reports how
many frames the server received, so the page can tell "nothing arrived" from "nothing came back".

A check is bounded three ways, because it needs no login: at most ``max_running`` at once in the
process, at most ``per_client`` started per client in ``per_client_window``, and each one is closed by
the server ``time_limit`` seconds after it was started, whatever the browser does.

Use :class:`ConnectionCheckService`: :meth:`~ConnectionCheckService.start` reserves a place,
:meth:`~ConnectionCheckService.answer` applies the browser's offer (non-trickle: the answer carries
every server candidate), :meth:`~ConnectionCheckService.stop` ends it when the page is left.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from aiortc import RTCConfiguration, RTCDataChannel, RTCPeerConnection, RTCSessionDescription

from rooms.join_codes import AttemptLimiter
from server.platform.clock import Clock
from server.platform.errors import Conflict, NotFound, RateLimited, ValidationFailed

from .aiortc_hook import (
    install_receiver_tap,
    intercept_keyframe_requests,
    restrict_negotiated_codecs,
    verify_aiortc_hook,
)
from .codec_pinning import is_pinned_codec, pinned_codec_preferences
from .errors import MediaError
from .ice_consent_guard import install_ice_consent_guard
from .media_labels import MediaLabel
from .published_track import OutgoingTrack, PublishedTrack
from .sdp import ClientOffer

logger = logging.getLogger(__name__)

MAX_OFFER_CHARS = 20_000
"""A browser's offer with audio, video and a data channel is 4-7 kB; more is not a browser's offer."""
MAX_MESSAGE_CHARS = 200
"""Data channel messages longer than this are not ours and are ignored."""
_PUBLISHER = "check"
_RECIPIENT = "echo"


@dataclass(frozen=True)
class CheckLimits:
    """How much checking one process allows."""

    max_running: int = 4
    """Checks at once: each forwards a camera and a microphone, a call's worth of media."""
    per_client: int = 6
    """Checks one client may start in ``per_client_window`` (a page reload starts a new one)."""
    per_client_window: timedelta = timedelta(minutes=10)
    time_limit: float = 30.0
    """Seconds from start after which the server closes the check's connection."""


@dataclass(frozen=True)
class CheckTicket:
    """A started check: its id (unguessable, the only way to reach it) and its time limit."""

    check_id: str
    time_limit: float


class ConnectionCheckBusy(RateLimited):
    """As many checks as the server allows are running; try again shortly."""

    code = "check_busy"


class ConnectionCheckRateLimited(RateLimited):
    """This client started too many checks lately."""

    code = "rate_limited"


class UnknownConnectionCheck(NotFound):
    """No running check has this id (never started, stopped, or past its time limit)."""

    code = "check_not_found"


class ConnectionCheckAlreadyOffered(Conflict):
    """The check has its offer already; a new round trip needs a new check."""

    code = "check_already_offered"


class InvalidCheckOffer(ValidationFailed):
    """The offer is not one the check can answer; ``fields`` names ``sdp``."""


def _check_peer() -> RTCPeerConnection:
    # No ICE servers on our side, as in a call: aiortc would otherwise ask a public STUN server, and the
    # server's own candidates are what the browser needs (it brings STUN/TURN of its own).
    return RTCPeerConnection(RTCConfiguration(iceServers=[]))


def validate_offer(offer_sdp: str) -> ClientOffer:
    """Read an offer the check can answer: one data channel, at most one audio and one video m-line.

    :raises InvalidCheckOffer: naming what is wrong, before anything is applied to a peer connection.
    """
    if not offer_sdp.strip():
        raise InvalidCheckOffer("the offer is empty", {"sdp": "required"})
    if len(offer_sdp) > MAX_OFFER_CHARS:
        raise InvalidCheckOffer(f"the offer is longer than {MAX_OFFER_CHARS} characters", {"sdp": "too_long"})
    try:
        offer = ClientOffer.parse(offer_sdp)
    except MediaError as exc:
        raise InvalidCheckOffer(str(exc), {"sdp": "sdp_unreadable"}) from exc
    kinds: dict[str, int] = {}
    for media in offer.description.media:
        if media.port == 0:
            continue
        kinds[media.kind] = kinds.get(media.kind, 0) + 1
        if media.kind in ("audio", "video") and not any(
            is_pinned_codec(media.kind, codec.mimeType) for codec in media.rtp.codecs
        ):
            raise InvalidCheckOffer(f"the {media.kind} m-line offers neither VP8 nor Opus",
                                    {"sdp": "sdp_codec"})
        if media.kind not in ("audio", "video", "application"):
            raise InvalidCheckOffer(f"unexpected {media.kind} m-line", {"sdp": "sdp_media"})
    if kinds.get("application") != 1:
        raise InvalidCheckOffer("the offer needs exactly one data channel", {"sdp": "sdp_media"})
    if kinds.get("audio", 0) > 1 or kinds.get("video", 0) > 1:
        raise InvalidCheckOffer("at most one audio and one video m-line", {"sdp": "sdp_media"})
    if offer.ufrag is None:
        raise InvalidCheckOffer("the offer has no ICE credentials", {"sdp": "sdp_unreadable"})
    return offer


def read_message(message: str | bytes) -> tuple[str, int] | None:
    """A data channel message from the page as (type, seq), or None for anything that is not ours.

    ``ping`` (with ``seq``) is answered by a ``pong`` with the same ``seq``: the page times the round
    trip. ``report`` asks for the frame counts, ``bye`` says the page is leaving.
    """
    if not isinstance(message, str) or len(message) > MAX_MESSAGE_CHARS:
        return None
    try:
        data = json.loads(message)
    except ValueError:
        return None
    if not isinstance(data, dict) or data.get("type") not in ("ping", "report", "bye"):
        return None
    seq = data.get("seq", 0)
    if not isinstance(seq, int) or isinstance(seq, bool) or not 0 <= seq < 2**31:
        return None
    return str(data["type"]), seq


class _EchoPeer:
    """One check's peer connection: every received track is forwarded back on its own m-line."""

    def __init__(self, check_id: str, pc: RTCPeerConnection, on_gone: Callable[[], None]) -> None:
        self.check_id = check_id
        self.pc = pc
        self.offered = False
        self._publications: list[PublishedTrack] = []
        self._echoes: list[OutgoingTrack] = []
        self._channels: list[RTCDataChannel] = []
        self._closed = False
        self._on_gone = on_gone
        pc.on("datachannel", self._on_datachannel)
        pc.on("connectionstatechange", self._on_state)

    def _on_state(self) -> None:
        if self.pc.connectionState in ("failed", "closed"):
            self._on_gone()

    def _on_datachannel(self, channel: RTCDataChannel) -> None:
        if self._channels:  # one is all the page opens; more would be work for nothing
            channel.close()
            return
        self._channels.append(channel)

        def on_message(message: str | bytes) -> None:
            read = read_message(message)
            if read is None:
                return
            kind, seq = read
            if kind == "bye":  # the page is leaving: free the place now
                self._on_gone()
                return
            reply = {"type": "pong", "seq": seq} if kind == "ping" else self.report()
            if channel.readyState == "open":
                channel.send(json.dumps(reply))

        channel.on("message", on_message)

    def report(self) -> dict[str, Any]:
        """What the server received and sent back, per kind, for the page's verdict."""
        received = {"audio": 0, "video": 0}
        for publication in self._publications:
            received[publication.kind] += publication.frames_received
        returned = {"audio": 0, "video": 0}
        for echo in self._echoes:
            returned[echo.kind] += echo.frames_forwarded
        return {"type": "report", "received": received, "returned": returned}

    async def answer(self, offer: ClientOffer) -> str:
        self.offered = True
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=offer.sdp, type="offer"))
        # No await until the taps are in: aiortc starts the receivers in a task it has just scheduled.
        for transceiver in self.pc.getTransceivers():
            track = transceiver.receiver.track
            if transceiver.mid is None or transceiver.stopped or track is None:
                continue
            transceiver.setCodecPreferences(pinned_codec_preferences(transceiver.kind))
            restrict_negotiated_codecs(transceiver)
            label: MediaLabel = "audio" if transceiver.kind == "audio" else "room_camera"
            publication = PublishedTrack(_PUBLISHER, label, transceiver.mid,
                                         install_receiver_tap(transceiver.receiver))
            echo = publication.attach(_RECIPIENT)
            self._publications.append(publication)
            self._echoes.append(echo)
            # The echo goes out on the m-line it came in on, so one offer/answer is the whole negotiation.
            sender = self.pc.addTrack(echo)
            intercept_keyframe_requests(sender, echo.request_keyframe)
        answer = await self.pc.createAnswer()
        # aiortc gathers every candidate in setLocalDescription: the answer is complete (non-trickle).
        await self.pc.setLocalDescription(answer)
        return self.pc.localDescription.sdp

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for channel in self._channels:
            channel.close()
        for publication in self._publications:
            await publication.close()
        await self.pc.close()


class ConnectionCheckService:
    """The running connection checks of this process, each bounded in number, rate and time.

    In memory and per process, as the live rooms are.
    """

    def __init__(
        self,
        *,
        clock: Clock,
        limits: CheckLimits | None = None,
        peer_factory: Callable[[], RTCPeerConnection] = _check_peer,
    ) -> None:
        verify_aiortc_hook()
        install_ice_consent_guard()
        self.limits = limits or CheckLimits()
        self._clock = clock
        self._peer_factory = peer_factory
        self._starts = AttemptLimiter(max_failures=self.limits.per_client, window=self.limits.per_client_window)
        self._peers: dict[str, _EchoPeer] = {}
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._closing: set[asyncio.Task[None]] = set()
        self._closed = False

    @property
    def running(self) -> int:
        """Checks holding a place now."""
        return len(self._peers)

    def start(self, client_key: str) -> CheckTicket:
        """Reserve a place for a new check; its time limit runs from now.

        :raises ConnectionCheckRateLimited: this client started ``per_client`` checks in the window.
        :raises ConnectionCheckBusy: ``max_running`` checks are running (the client's count is not raised).
        """
        now = self._clock.now()
        wait = self._starts.retry_after(client_key, now)
        if wait is not None:
            raise ConnectionCheckRateLimited("too many connection checks from this client",
                                             retry_after_seconds=max(1, int(wait.total_seconds()) + 1))
        if self._closed or len(self._peers) >= self.limits.max_running:
            raise ConnectionCheckBusy(f"{self.limits.max_running} connection checks are running",
                                      retry_after_seconds=int(self.limits.time_limit))
        self._starts.record_failure(client_key, now)  # every start counts, successful or not
        check_id = secrets.token_urlsafe(18)
        self._peers[check_id] = _EchoPeer(check_id, self._peer_factory(), lambda: self._stop_soon(check_id))
        self._timers[check_id] = asyncio.get_running_loop().call_later(
            self.limits.time_limit, self._stop_soon, check_id)
        return CheckTicket(check_id, self.limits.time_limit)

    async def answer(self, check_id: str, offer_sdp: str) -> str:
        """Apply the browser's offer and return the server's complete answer.

        :raises UnknownConnectionCheck: no running check has this id.
        :raises ConnectionCheckAlreadyOffered: this check was offered to before.
        :raises InvalidCheckOffer: the offer is unreadable or not what the check page sends.
        """
        peer = self._peer(check_id)
        if peer.offered:
            raise ConnectionCheckAlreadyOffered("this check has its offer already")
        offer = validate_offer(offer_sdp)
        try:
            return await peer.answer(offer)
        except Exception as exc:
            # aiortc refuses some well-formed offers (no DTLS fingerprint, ...) with assorted errors; a
            # half-applied offer cannot be rolled back, so the check ends either way.
            ended = check_id not in self._peers
            await self.stop(check_id)
            if ended:
                raise UnknownConnectionCheck("the check ended while its offer was applied") from exc
            code = "sdp_codec" if isinstance(exc, MediaError) else "sdp_unreadable"
            raise InvalidCheckOffer(f"the offer cannot be answered: {exc}", {"sdp": code}) from exc

    def report(self, check_id: str) -> dict[str, Any]:
        """Frames received and sent back so far, per kind."""
        return self._peer(check_id).report()

    async def stop(self, check_id: str) -> None:
        """End a check and free its place. Idempotent; an unknown id is a no-op."""
        peer = self._peers.pop(check_id, None)
        timer = self._timers.pop(check_id, None)
        if timer is not None:
            timer.cancel()
        if peer is not None:
            await peer.close()

    async def close(self) -> None:
        """Stop every check; nothing started here outlives this call."""
        self._closed = True
        while self._peers:
            await self.stop(next(iter(self._peers)))
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)

    def _stop_soon(self, check_id: str) -> None:
        # Called from timers and aiortc callbacks, which cannot await: the close runs in a tracked task.
        if check_id not in self._peers:
            return
        task = asyncio.ensure_future(self.stop(check_id))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    def _peer(self, check_id: str) -> _EchoPeer:
        peer = self._peers.get(check_id)
        if peer is None:
            raise UnknownConnectionCheck("no running connection check has this id")
        return peer
