"""Refused accesses written to the audit log: who tried to reach what they may not see.

A logged-in person who is refused (403: their role does not reach it; 404 from a service: not theirs,
answered like an unknown id) leaves an audit row with the action ``refused``, the route and the path
asked for. Someone probing ids could otherwise fill the chain with refusals, so each person gets at
most one row a minute: the refusals in between are counted and the count goes into their next row.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from aiohttp import web

from server.platform.actors import Actor
from server.platform.appkeys import AUDIT, CLOCK, DATABASE
from server.platform.errors import DomainError, NotFound, PermissionDenied

log = logging.getLogger(__name__)

REFUSED = "refused"
"""The audit action of a refused request."""
OBJECT_TYPE = "request"
"""What a refusal row is about: the route (``object_id``) and the path asked for (``reason``)."""
WINDOW = timedelta(minutes=1)
_MAX_TRACKED = 10_000
# Refusals that say nothing about data: a form or socket without its CSRF token, a temporary password.
_NOT_ACCESS = frozenset({"csrf_failed", "password_change_required"})


@dataclass
class _Window:
    started: datetime
    held_back: int = 0


class RefusalLog:
    """Decides which refusals get a row (one per person a minute) and writes it."""

    def __init__(self) -> None:
        self._windows: dict[str, _Window] = {}

    @staticmethod
    def is_refused_access(exc: DomainError) -> bool:
        """A refusal to reach data: no permission, or (from a service) not theirs / not there."""
        return isinstance(exc, PermissionDenied | NotFound) and exc.code not in _NOT_ACCESS

    def _take(self, actor: Actor, now: datetime) -> int | None:
        """The number of refusals held back since the last row, or None if this one is held back."""
        window = self._windows.get(actor.id)
        if window is not None and now - window.started < WINDOW:
            window.held_back += 1
            return None
        if len(self._windows) >= _MAX_TRACKED:
            self._windows = {k: w for k, w in self._windows.items() if now - w.started < WINDOW}
        self._windows[actor.id] = _Window(now)
        return window.held_back if window is not None else 0

    async def record(self, request: web.Request, actor: Actor) -> None:
        """Write the row for this refusal, unless this person already had one this minute.

        A failure to write is logged and the refusal answered all the same: it must never turn into
        an error page, nor into access.
        """
        held_back = self._take(actor, request.app[CLOCK].now())
        if held_back is None:
            return
        route = request.match_info.route.resource
        canonical = route.canonical if route is not None else request.path
        asked = f"{request.method} {request.path}"
        if held_back:
            asked += f" (+{held_back} refused since the previous row)"
        try:
            async with request.app[DATABASE].session() as session:
                await request.app[AUDIT].record(session, actor, action=REFUSED, object_type=OBJECT_TYPE,
                                                object_id=canonical[:64], reason=asked[:1000])
        except Exception:  # the person is refused either way; the log says why the row is missing
            log.exception("could not write the audit row of a refused request")


REFUSALS = web.AppKey("refusals", RefusalLog)
