"""ICE servers for the browser, from settings; TURN with time-limited HMAC credentials.

The credential scheme is the TURN REST API one coturn implements (``use-auth-secret``): the username is
``<expiry unix time>:<opaque id>`` and the password ``base64(HMAC-SHA1(secret, username))``, so the TURN
server checks it with the shared secret alone and it stops working at the expiry.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from signaling.outbound import IceServer

TURN_CREDENTIAL_SECONDS = 12 * 3600


def ice_servers_for(
    urls: tuple[str, ...], turn_secret: str, *, subject: str, now_unix: int, ttl: int = TURN_CREDENTIAL_SECONDS
) -> tuple[IceServer, ...]:
    """The ICE servers one participant's browser should use; none when none are configured."""
    stun = tuple(u for u in urls if u.startswith(("stun:", "stuns:")))
    turn = tuple(u for u in urls if u.startswith(("turn:", "turns:")))
    servers: list[IceServer] = []
    if stun:
        servers.append(IceServer(stun))
    if turn and turn_secret:
        # The opaque part is a hash of the subject: the TURN server's logs need not learn who called.
        opaque = hashlib.sha256(subject.encode()).hexdigest()[:16]
        username = f"{now_unix + ttl}:{opaque}"
        digest = hmac.new(turn_secret.encode(), username.encode(), hashlib.sha1).digest()
        servers.append(IceServer(turn, username, base64.b64encode(digest).decode("ascii")))
    return tuple(servers)
