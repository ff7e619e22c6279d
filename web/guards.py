"""Who may reach a handler: logged-in staff with the right role."""

from __future__ import annotations

from urllib.parse import quote

from aiohttp import web

from server.platform.actors import Actor
from server.platform.errors import AuthenticationFailed, PermissionDenied
from server.platform.roles import Role
from web.context import ctx
from web.errors import wants_problem_json


def require_actor(request: web.Request, *roles: Role) -> Actor:
    """The logged-in staff actor; pages redirect to the login, the API answers 401/403."""
    actor = ctx(request).actor
    if actor is None:
        if wants_problem_json(request):
            raise AuthenticationFailed("log in first", code="authentication_required")
        target = request.path_qs if request.method == "GET" else "/"
        raise web.HTTPSeeOther(f"/login?next={quote(target, safe='')}")
    if roles and not actor.has_role(*roles):
        raise PermissionDenied("your role does not give access to this")
    return actor
