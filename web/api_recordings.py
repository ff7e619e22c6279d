"""Recordings in the JSON API: playback by the consultation's staff (streamed, decrypted on the fly)
and early deletion by an administrator. Thin handlers: the rules are the recording service's."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

from aiohttp import web

from server.platform.errors import NotFound, ValidationFailed
from web.appkeys import RECORDING_ACCESS, RecordingAccess
from web.forms import json_object, reject_unknown
from web.guards import require_actor
from web.openapi import ApiRoute

_ID_PARAM: dict[str, Any] = {"name": "public_id", "in": "path", "required": True,
                             "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,32}$"}}


def _service(request: web.Request) -> RecordingAccess:
    service = request.app.get(RECORDING_ACCESS)
    if service is None:
        raise NotFound("no such recording")  # this server keeps none
    return service


async def recording_delete(request: web.Request) -> web.Response:
    """An administrator deletes a recording before its retention date, with a reason."""
    actor = require_actor(request)
    body = await json_object(request)
    errors: dict[str, str] = {}
    reject_unknown(body, {"reason"}, errors)
    reason = body.get("reason")
    if not isinstance(reason, str):
        errors["reason"] = "required"
    if errors or not isinstance(reason, str):
        raise ValidationFailed("the recording could not be deleted", errors)
    await _service(request).delete(request.match_info["public_id"], actor, reason)
    return web.json_response({"public_id": request.match_info["public_id"], "state": "deleted"})


async def recording_part_get(request: web.Request) -> web.StreamResponse:
    """One part of a recording as WebM, decrypted chunk by chunk while it is sent (never whole)."""
    actor = require_actor(request)
    part_text = request.match_info["part"]
    if not part_text.isdigit() or len(part_text) > 4:
        raise ValidationFailed("no such part", {"part": "invalid"})
    playback = await _service(request).open_for_playback(request.match_info["public_id"], actor,
                                                         request.query.get("reason", ""))
    chunks = playback.chunks(int(part_text))
    loop = asyncio.get_running_loop()
    first = await loop.run_in_executor(None, _next, chunks)  # a missing part fails before the headers go
    response = web.StreamResponse(headers={"Content-Type": "video/webm", "Cache-Control": "no-store",
                                           "Content-Disposition": "inline"})
    await response.prepare(request)
    chunk = first
    while chunk is not None:
        await response.write(chunk)
        chunk = await loop.run_in_executor(None, _next, chunks)  # reading and decrypting off the loop
    await response.write_eof()
    return response


def _next(chunks: Iterator[bytes]) -> bytes | None:
    return next(chunks, None)


API_ROUTES: list[ApiRoute] = [
    ApiRoute("DELETE", "/api/recordings/{public_id}", recording_delete,
             "Delete a recording before its retention date (administrators, with a reason)",
             {"$ref": "#/components/schemas/RecordingDeleted"}, parameters=[_ID_PARAM],
             request_schema="RecordingDeletion", tag="recordings", extra_responses=(409,)),
]
"""Playback streams ``video/webm``, not JSON, so it is a route of its own (``PLAYBACK_PATH``)."""

PLAYBACK_PATH = "/api/recordings/{public_id}/parts/{part}"

SCHEMAS: dict[str, Any] = {
    "RecordingDeletion": {"type": "object", "additionalProperties": False, "required": ["reason"], "properties": {
        "reason": {"type": "string", "minLength": 1, "maxLength": 500,
                   "description": "Why it is deleted early (audited)"}}},
    "RecordingDeleted": {"type": "object", "required": ["public_id", "state"], "properties": {
        "public_id": {"type": "string"}, "state": {"type": "string", "enum": ["deleted"]}}},
}
