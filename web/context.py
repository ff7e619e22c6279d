"""What a request carries once the middlewares have run: session, user, actor, language."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from rooms.access import Caller
from server.people.models import User, WebSession
from server.platform.actors import Actor

GUEST_COOKIE = "__Host-samkonsult-guest"
"""The guest session a join code was exchanged for (set by the join page)."""


@dataclass
class RequestContext:
    language: str
    session_token: str | None = None
    session: WebSession | None = None
    user: User | None = None
    actor: Actor | None = None
    csrf_token: str = ""
    set_csrf_cookie: str | None = None


REQUEST_CONTEXT = web.RequestKey("samkonsult_context", RequestContext)


def ctx(request: web.Request) -> RequestContext:
    """The request's context; the session middleware always sets it."""
    return request[REQUEST_CONTEXT]


def caller(request: web.Request) -> Caller:
    """Who is calling, for the live side: the staff actor of the session, else the guest cookie.

    The composition root hands this to the WebSocket endpoint too, so the call page and the socket
    read identity the same way without ``signaling`` importing ``web``.
    """
    return Caller(ctx(request).actor, request.cookies.get(GUEST_COOKIE))
