"""The JSON API for join codes made outside the call: make one, send one by SMS or e-mail, and ask where
a sent one stands. The call page's send panel uses the last two."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from server.platform.errors import NotFound, ValidationFailed
from web.forms import get_str, json_object, parse_id, reject_unknown
from web.send_code_flow import join_url, make_code, message_state, send_code


def _checked(body: dict[str, Any], allowed: dict[str, bool]) -> dict[str, str]:
    """The string fields of ``body`` (``allowed``: name -> required), or a 422 naming every bad one."""
    errors: dict[str, str] = {}
    reject_unknown(body, set(allowed), errors)
    values = {key: get_str(body, key, required=required, max_len=300, errors=errors)
              for key, required in allowed.items()}
    if errors:
        raise ValidationFailed("invalid input", errors)
    return values


async def code_create(request: web.Request) -> web.Response:
    """A new join code for a named person; the plain code is in this answer only."""
    public_id = request.match_info["public_id"]
    values = _checked(await json_object(request), {"name": True, "role": True})
    issued = await make_code(request, public_id, values["name"], values["role"])
    record = issued.record
    return web.json_response({
        "code": issued.code, "join_url": join_url(request), "name": record.display_name, "role": record.role.value,
        "valid_from": record.valid_from.isoformat(), "valid_until": record.valid_until.isoformat(),
    }, status=201)


async def code_send(request: web.Request) -> web.Response:
    """Queue a code of this booking to a Norwegian mobile number or an e-mail address."""
    public_id = request.match_info["public_id"]
    values = _checked(await json_object(request),
                      {"code": True, "channel": True, "to": True, "language": False})
    sent = await send_code(request, public_id, code=values["code"], channel=values["channel"], to=values["to"],
                           language=values["language"] or "nb")
    queued = sent.queued
    return web.json_response({"message_id": queued.message_id, "channel": queued.channel.value,
                              "to": queued.masked_recipient, "state": queued.state.value}, status=202)


async def code_message(request: web.Request) -> web.Response:
    """Where a sent code message stands: queued, sent, failed or no_gateway."""
    public_id = request.match_info["public_id"]
    message_id = parse_id(request.match_info["message_id"])
    if message_id is None:
        raise NotFound("no such message")
    state = await message_state(request, public_id, message_id)
    return web.json_response({"message_id": message_id, "state": state.value})
