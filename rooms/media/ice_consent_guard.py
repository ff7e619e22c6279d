"""Work around an aioice race that leaves a consent-freshness task running after a close.

aioice 0.13.0 (also seen with 0.12.1): ``Connection.connect()`` waits for the check list to
complete, then starts ``query_consent()``. When the check list completes and ``close()`` runs
before ``connect()`` has resumed (a participant who leaves, or a room that closes, just as ICE
completes), ``close()`` finds no consent task to cancel and ``connect()`` then starts one on the
closed connection. ``close()`` has emptied the nominated pairs, so that task sends nothing, never
counts a failure and never ends: one task leaked for the life of the process per such close.

The narrowest fix is at the start of that task: a connection whose ``close()`` has begun does not
begin consent checks. Everything else in aioice is untouched. Installed once per process by the
media router; verified against the source, so an aioice that rewrote these lines fails loudly.
"""

import functools
import inspect
from collections.abc import Callable, Coroutine
from typing import Any

import aioice
from aioice import ice

from .errors import AiortcHookError

_MARK = "_samkonsult_consent_guard"

# The aioice lines the guard relies on: close() marks the connection before anything awaits,
# and connect() starts the consent task only after its last await.
_REQUIRED_SOURCE: tuple[tuple[str, str], ...] = (
    ("close", "self._closing = True"),
    ("connect", "self._query_consent_task = asyncio.create_task(self.query_consent())"),
)


def _verify_aioice() -> None:
    for attribute, fragment in _REQUIRED_SOURCE:
        function = getattr(ice.Connection, attribute, None)
        if function is None or fragment not in inspect.getsource(function):
            raise AiortcHookError(
                f"aioice {aioice.__version__}: Connection.{attribute} no longer contains {fragment!r}; "
                "rooms/media/ice_consent_guard.py needs review"
            )


def install_ice_consent_guard() -> None:
    """Make aioice skip consent checks on a connection that is already closing. Idempotent.

    :raises AiortcHookError: when the installed aioice no longer has the lines the guard relies on.
    """
    original: Callable[[ice.Connection], Coroutine[Any, Any, None]] = ice.Connection.query_consent
    if getattr(original, _MARK, False):
        return
    _verify_aioice()

    @functools.wraps(original)  # keeps __wrapped__, the unguarded method
    async def query_consent(self: ice.Connection) -> None:
        if self._closing:
            return  # closed while connect() was resuming: nothing to keep alive
        await original(self)

    setattr(query_consent, _MARK, True)
    ice.Connection.query_consent = query_consent  # type: ignore[method-assign]
