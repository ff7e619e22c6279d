"""Everything a live room keeps about one participant, in one record.

One record per participant, so letting a seat go (``LiveRoom`` drops the record) and replacing a dead
peer connection (``Member.drop_peer``) cannot forget different things.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from aiortc import RTCPeerConnection

from rooms.live_events import Link, ServerOffer
from rooms.peer_health import PeerHealth
from rooms.roster import Identity, ParticipantId, TrackKind


@dataclass
class Peer:
    """The server side of one participant's media, and what belongs to that one peer connection."""

    pc: RTCPeerConnection
    ufrag: str | None
    """The ICE username fragment of the browser's offer: a new one means a new peer connection."""
    health: PeerHealth
    extension_ids: dict[str, int] = field(default_factory=dict)
    """The RTP header extension ids the browser uses, so that our offers keep them."""
    pending_offer: ServerOffer | None = None
    """The last offer sent, sent again if it was lost with a dropped socket."""


@dataclass
class Member:
    """One participant of a live room: who they are, their connection and their media."""

    participant_id: ParticipantId
    identity: Identity
    link: Link | None = None
    """None while the socket is down (the seat is kept for the grace period)."""
    track_kinds: dict[str, TrackKind] = field(default_factory=dict)
    """What each announced track id shows, to label the m-lines of the next offer."""
    peer: Peer | None = None
    offering: bool = False
    """A server offer is being made: one at a time."""
    reset_owed: bool = False
    """The peer died while the socket was down: the client is told to make a new one when it resumes."""

    def drop_peer(self) -> Peer | None:
        """Forget the peer connection and all that belonged to it; returns it (the caller closes it)."""
        peer, self.peer = self.peer, None
        return peer
