"""What a request carries once the middlewares have run: session, user, actor, language."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from server.people.models import User, WebSession
from server.platform.actors import Actor


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
