"""When a participant's peer connection is beyond saving: a pure decision, from its state and the time.

aiortc has no ICE restart, so a peer that failed, never connected, stays disconnected or has gone
silent is closed and the client asked for a new one. The rule reads only its arguments (no aiortc, no
clock), so it is tested with plain values.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

PEER_DEAD_AFTER = 5.0
"""Seconds a peer connection may stay disconnected before the client is asked for a new one."""
PEER_CONNECT_TIMEOUT = 20.0
"""Seconds a new peer connection may take to connect at all (a browser behind a blocked network)."""
PEER_SILENT_AFTER = 15.0
"""Seconds a connected peer whose browser publishes may receive nothing before it counts as dead.

aiortc never reports "disconnected", and aioice notices a lost path only when consent expires (six failed
checks 4–6 s apart: 25–39 s after the loss), so silence is what tells the server first that a browser is
gone. A publishing browser sends RTP and RTCP many times a second; 15 s leaves a network drop of 10 s
time to recover on the same connection (the browser itself replaces a connection it sees disconnected)."""


@dataclass(frozen=True)
class PeerHealth:
    """What the rule remembers about one peer connection (monotonic seconds)."""

    created: float
    bad_since: float | None = None
    """When it was first seen disconnected in the current spell; None while it is fine."""
    received: int | None = None
    """Packets it had received at the last check; None when they are not counted."""
    received_at: float | None = None
    """When that count was last seen to grow."""


@dataclass(frozen=True)
class HealthCheck:
    """The rule's answer: the health to remember, and whether the peer must be replaced."""

    health: PeerHealth
    dead: bool


def check_peer(
    health: PeerHealth,
    connection_state: str,
    now: float,
    *,
    received: int | None = None,
    dead_after: float = PEER_DEAD_AFTER,
    connect_timeout: float = PEER_CONNECT_TIMEOUT,
    silent_after: float = PEER_SILENT_AFTER,
) -> HealthCheck:
    """Judge a peer by its ``RTCPeerConnection.connectionState`` at monotonic time ``now``.

    Connected resets the disconnected spell, and is dead only when ``received`` (the packets it has
    received so far, or None when its silence says nothing) has not grown for ``silent_after``; failed or
    closed is dead at once; new or connecting is dead once ``connect_timeout`` has passed since it was
    created; disconnected is dead once it has lasted ``dead_after`` (a short network blip recovers on
    its own).
    """
    if connection_state == "connected":
        if received is None or received != health.received or health.received_at is None:
            fine = replace(health, bad_since=None, received=received, received_at=None if received is None else now)
            return HealthCheck(fine, dead=False)
        return HealthCheck(replace(health, bad_since=None), dead=now - health.received_at >= silent_after)
    if connection_state in ("failed", "closed"):
        return HealthCheck(health, dead=True)
    if connection_state in ("new", "connecting"):
        return HealthCheck(health, dead=now - health.created >= connect_timeout)
    bad_since = now if health.bad_since is None else health.bad_since  # "disconnected"
    return HealthCheck(replace(health, bad_since=bad_since), dead=now - bad_since >= dead_after)
