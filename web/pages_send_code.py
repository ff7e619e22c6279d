"""The booking page's "invite someone": make a join code for a named person, then copy it or send it
by SMS or e-mail. Plain form posts, so it works without a script; the answer is the booking page
itself, with the code shown once (it is never put in an address a browser would keep)."""

from __future__ import annotations

from aiohttp import web

from server.platform.errors import ValidationFailed
from web.forms import form_fields
from web.pages_scheduling import render_booking_page
from web.send_code_flow import join_url, make_code, send_code
from web.send_code_view import invite_area


async def code_create(request: web.Request) -> web.StreamResponse:
    """Make a code; on a bad name or role the form comes back as typed, with what is wrong."""
    public_id = request.match_info["public_id"]
    fields = await form_fields(request)
    values = {"name": fields.get("name", ""), "role": fields.get("role", "")}
    link = join_url(request)
    try:
        issued = await make_code(request, public_id, values["name"], values["role"])
    except ValidationFailed as exc:
        return await render_booking_page(request, public_id, status=422, invite=invite_area(
            public_id, link, values=values, errors=exc.fields))
    return await render_booking_page(request, public_id, invite=invite_area(
        public_id, link, record=issued.record, code=issued.code))


async def code_send(request: web.Request) -> web.StreamResponse:
    """Send a code by SMS or e-mail; a wrong number or address comes back as typed, and the code stays."""
    public_id = request.match_info["public_id"]
    fields = await form_fields(request)
    channel = fields.get("channel", "")
    typed = {"phone": fields.get("phone", ""), "email": fields.get("email", ""),
             "language": fields.get("language", "nb"), "name": fields.get("name", "")[:200]}
    code = fields.get("code", "")[:64]
    link = join_url(request)
    try:
        sent = await send_code(request, public_id, code=code, channel=channel,
                               to=typed["email"] if channel == "email" else typed["phone"],
                               language=typed["language"])
    except ValidationFailed as exc:
        # "to" is the field of the channel asked for; the page has one field per channel
        errors = {("email" if channel == "email" else "phone") if k == "to" else k: v for k, v in exc.fields.items()}
        return await render_booking_page(request, public_id, status=422, invite=invite_area(
            public_id, link, code=code, send_values=typed, send_errors=errors))
    return await render_booking_page(request, public_id, invite=invite_area(
        public_id, link, record=sent.record, code=code, send_values=typed, queued=sent.queued))


def setup_routes(router: web.UrlDispatcher) -> None:
    router.add_post("/bookings/{public_id}/join-codes", code_create)
    router.add_post("/bookings/{public_id}/join-codes/send", code_send)
