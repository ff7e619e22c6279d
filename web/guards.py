"""Who may reach a handler: logged-in staff with the right role."""

from __future__ import annotations

from urllib.parse import quote

from aiohttp import web

from server.platform.actors import Actor
from server.platform.errors import AuthenticationFailed, PermissionDenied
from server.platform.roles import Role
from web.context import ctx
from web.errors import wants_problem_json

PASSWORD_CHANGE_PATHS = frozenset({"/account", "/account/password"})


def require_actor(request: web.Request, *roles: Role) -> Actor:
    """The logged-in staff actor; pages redirect to the login, the API answers 401/403."""
    actor = ctx(request).actor
    if actor is None:
        if wants_problem_json(request):
            raise AuthenticationFailed("log in first", code="authentication_required")
        target = request.path_qs if request.method == "GET" else "/"
        raise web.HTTPSeeOther(f"/login?next={quote(target, safe='')}")
    user = ctx(request).user
    if user is not None and user.must_change_password and request.path not in PASSWORD_CHANGE_PATHS:
        # A temporary password from an administrator opens nothing but the page to choose one's own.
        if wants_problem_json(request):
            raise PermissionDenied("choose your own password first", code="password_change_required")
        raise web.HTTPSeeOther("/account?must_change=1")
    if roles and not actor.has_role(*roles):
        raise PermissionDenied("your role does not give access to this")
    return actor
