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
from web.openapi import PUBLIC_ID_PARAM, ApiRoute

PLAYBACK_PATH = "/api/recordings/{public_id}/parts/{part}"

_ID_PARAM: dict[str, Any] = {"name": "public_id", "in": "path", "required": True,
                             "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,32}$"}}
_PART_PARAM: dict[str, Any] = {"name": "part", "in": "path", "required": True,
                               "schema": {"type": "string", "pattern": "^[0-9]{1,4}$"}}
_REASON_PARAM: dict[str, Any] = {"name": "reason", "in": "query", "required": True,
                                 "schema": {"type": "string", "minLength": 1, "maxLength": 500},
                                 "description": "Why the recording is played (audited, shown to the patient)"}


def _service(request: web.Request) -> RecordingAccess:
    service = request.app.get(RECORDING_ACCESS)
    if service is None:
        raise NotFound("no such recording")  # this server keeps none
    return service


async def booking_recordings_get(request: web.Request) -> web.Response:
    """The consultation's recordings (not deleted), for staff who may play them; the listing is audited."""
    actor = require_actor(request)
    listed = await _service(request).for_booking(request.match_info["public_id"], actor)
    return web.json_response([{
        "public_id": r.public_id, "purpose": r.purpose, "state": r.state, "started_at": r.started_at.isoformat(),
        "stopped_at": r.stopped_at.isoformat() if r.stopped_at else None, "stop_reason": r.stop_reason,
        "delete_after": r.delete_after.isoformat(), "parts": r.parts, "size_bytes": r.size_bytes,
        "part_paths": [PLAYBACK_PATH.format(public_id=r.public_id, part=n) for n in range(r.parts)],
    } for r in listed])


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
    ApiRoute("GET", "/api/bookings/{public_id}/recordings", booking_recordings_get,
             "A consultation's recordings (clinical staff of its organisations); play each part with "
             "GET /api/recordings/{public_id}/parts/{part}?reason=... (video/webm, audited)",
             {"type": "array", "items": {"$ref": "#/components/schemas/Recording"}},
             parameters=[PUBLIC_ID_PARAM], tag="recordings"),
    ApiRoute("GET", PLAYBACK_PATH, recording_part_get,
             "Play one part of a recording (clinical staff of the consultation's organisations, with a reason): "
             "WebM decrypted while it is streamed; every access is audited and shown in the patient's access log",
             {"type": "string", "format": "binary"}, parameters=[_ID_PARAM, _PART_PARAM, _REASON_PARAM],
             tag="recordings", extra_responses=(409,), response_media_type="video/webm"),
    ApiRoute("DELETE", "/api/recordings/{public_id}", recording_delete,
             "Delete a recording before its retention date (administrators, with a reason)",
             {"$ref": "#/components/schemas/RecordingDeleted"}, parameters=[_ID_PARAM],
             request_schema="RecordingDeletion", tag="recordings", extra_responses=(409,)),
]

SCHEMAS: dict[str, Any] = {
    "Recording": {"type": "object", "required": ["public_id", "purpose", "state", "started_at", "delete_after",
                                                 "parts", "size_bytes", "part_paths"], "properties": {
        "public_id": {"type": "string"},
        "purpose": {"type": "string", "enum": ["teaching", "documentation", "patient_request"]},
        "state": {"type": "string", "enum": ["recording", "complete", "failed"]},
        "started_at": {"type": "string", "format": "date-time"},
        "stopped_at": {"type": ["string", "null"], "format": "date-time"},
        "stop_reason": {"type": ["string", "null"]},
        "delete_after": {"type": "string", "format": "date-time"},
        "parts": {"type": "integer"}, "size_bytes": {"type": "integer"},
        "part_paths": {"type": "array", "items": {"type": "string"}}}},
    "RecordingDeletion": {"type": "object", "additionalProperties": False, "required": ["reason"], "properties": {
        "reason": {"type": "string", "minLength": 1, "maxLength": 500,
                   "description": "Why it is deleted early (audited)"}}},
    "RecordingDeleted": {"type": "object", "required": ["public_id", "state"], "properties": {
        "public_id": {"type": "string"}, "state": {"type": "string", "enum": ["deleted"]}}},
}
