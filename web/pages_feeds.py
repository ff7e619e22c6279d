"""Calendar feed subscriptions (tokens, the .ics feed itself) and the notification outbox pages."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from scheduling.models import ResourceKind
from server.people.patients import CLINICAL_ROLES
from server.platform.appkeys import DATABASE, SETTINGS
from server.platform.errors import ValidationFailed
from server.platform.roles import Role
from web.appkeys import SCHEDULING
from web.forms import form_fields, parse_id
from web.guards import require_actor
from web.reads import reading
from web.render import render
from web.scheduling_labels import page_context

# ------------------------------------------------------------------------------------------- feeds


async def _feeds_context(request: web.Request) -> dict[str, Any]:
    actor = require_actor(request, *CLINICAL_ROLES)
    services = request.app[SCHEDULING]
    async with reading(request) as session:
        own = await services.resources.resource_for_user(session, actor.user_id) if actor.user_id else None
        # People manage their own feed; coordinators also the health rooms' feeds.
        rooms = (await services.resources.list_resources(session, kind=ResourceKind.HEALTH_ROOM)
                 if actor.has_role(Role.COORDINATOR, Role.ADMIN) else [])
        resources = ([own] if own else []) + rooms
        tokens = {r.id: await services.feeds.list_tokens(session, actor, r.id) for r in resources}
    return {"resources": resources, "tokens": tokens}


async def feeds_page(request: web.Request) -> web.StreamResponse:
    return render(request, "feeds.html", page_context({**(await _feeds_context(request)), "new_url": ""}))


async def feed_create(request: web.Request) -> web.StreamResponse:
    actor = require_actor(request, *CLINICAL_ROLES)
    fields = await form_fields(request)
    rid = parse_id(fields.get("resource_id"))
    if rid is None:
        raise ValidationFailed("choose a calendar", {"resource_id": "invalid_choice"})
    async with request.app[DATABASE].session() as session:
        new = await request.app[SCHEDULING].feeds.create_token(session, actor, rid, fields.get("label", ""))
    # The address is shown once, in this answer only: the token is never stored in clear nor redirected.
    url = f"{request.app[SETTINGS].public_url.rstrip('/')}/feeds/{new.token}.ics"
    return render(request, "feeds.html", page_context({**(await _feeds_context(request)), "new_url": url}))


async def feed_revoke(request: web.Request) -> web.StreamResponse:
    actor = require_actor(request, *CLINICAL_ROLES)
    fields = await form_fields(request)
    tid = parse_id(fields.get("token_id"))
    if tid is None:
        raise ValidationFailed("unknown feed", {"token_id": "invalid_choice"})
    async with request.app[DATABASE].session() as session:
        await request.app[SCHEDULING].feeds.revoke(session, actor, tid)
    raise web.HTTPSeeOther("/calendar/feeds")


async def feed_ics(request: web.Request) -> web.StreamResponse:
    """The subscribable feed: the unguessable token in the path is the only credential."""
    token = request.match_info["token"]
    async with reading(request) as session:
        body = await request.app[SCHEDULING].feeds.feed(session, token)
    return web.Response(body=body, content_type="text/calendar", charset="utf-8",
                        headers={"Cache-Control": "no-store"})


# ------------------------------------------------------------------------------------------ outbox


async def outbox_page(request: web.Request) -> web.StreamResponse:
    require_actor(request, Role.COORDINATOR, Role.ADMIN)
    async with reading(request) as session:
        messages = await request.app[SCHEDULING].outbox.list_messages(session)
    return render(request, "outbox.html", page_context({"messages": messages}))
