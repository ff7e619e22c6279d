"""The browser's ICE servers for the device check, from the same settings and code the call uses.

The check page (``web``) may not import the signaling package, which owns the TURN credential scheme, so
the composition root hands it this function.
"""

from __future__ import annotations

from typing import Any

from server.platform.clock import Clock
from server.platform.settings import Settings
from signaling.ice import ice_servers_for
from web.appkeys import BrowserIceServers

CHECK_TURN_CREDENTIAL_SECONDS = 10 * 60
"""A check lasts seconds; its TURN credential need not outlive a slow allocation by much."""


def check_ice_servers(settings: Settings, clock: Clock) -> BrowserIceServers:
    """ICE servers as ``RTCIceServer`` objects for one check (the subject), with short-lived TURN credentials."""

    def for_subject(subject: str) -> list[dict[str, Any]]:
        servers = ice_servers_for(settings.ice_servers, settings.turn_secret, subject=subject,
                                  now_unix=int(clock.now().timestamp()), ttl=CHECK_TURN_CREDENTIAL_SECONDS)
        out: list[dict[str, Any]] = []
        for server in servers:
            entry: dict[str, Any] = {"urls": list(server.urls)}
            if server.username is not None and server.credential is not None:
                entry.update(username=server.username, credential=server.credential)
            out.append(entry)
        return out

    return for_subject
