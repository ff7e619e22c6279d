"""The outcome of a held consultation in the JSON API: ``PUT /api/bookings/{public_id}/outcome``.

Its route and schemas live here beside the handler (added to the document by ``web/routes.py``); the
booking's own JSON carries the outcome too (``web/scheduling_json.py``)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from scheduling.models import AdmissionAvoided, FollowUp
from scheduling.outcomes import read_outcome
from server.people.patients import CLINICAL_ROLES
from server.platform.appkeys import DATABASE
from server.platform.errors import ValidationFailed
from web.appkeys import SCHEDULING
from web.forms import json_object, reject_unknown
from web.guards import require_actor
from web.openapi import PUBLIC_ID_PARAM, ApiRoute
from web.scheduling_json import booking_json


async def booking_outcome_put(request: web.Request) -> web.Response:
    """Record or change what followed a completed consultation; answers with the booking."""
    actor = require_actor(request, *CLINICAL_ROLES)
    body = await json_object(request)
    errors: dict[str, str] = {}
    reject_unknown(body, {"admission_avoided", "follow_up"}, errors)
    if "follow_up" not in body:
        # an absent list is easily a client's mistake; "nobody follows up" is said with []
        errors["follow_up"] = "required"
    try:
        data = read_outcome(body.get("admission_avoided"), body.get("follow_up"))
    except ValidationFailed as exc:
        errors = {**exc.fields, **errors}
    if errors:
        raise ValidationFailed("the outcome could not be recorded", errors)
    async with request.app[DATABASE].session(write_lock=True) as session:
        booking = await request.app[SCHEDULING].outcomes.record(session, actor, request.match_info["public_id"],
                                                               data)
    return web.json_response(booking_json(booking))


API_ROUTES: list[ApiRoute] = [
    ApiRoute("PUT", "/api/bookings/{public_id}/outcome", booking_outcome_put,
             "Record or change what followed a completed consultation (staff who took part, or coordinators)",
             {"$ref": "#/components/schemas/Booking"}, parameters=[PUBLIC_ID_PARAM],
             request_schema="OutcomeInput", tag="bookings", extra_responses=(409,)),
]

_ADMISSION = [a.value for a in AdmissionAvoided]
_FOLLOW_UP = [f.value for f in FollowUp]

SCHEMAS: dict[str, Any] = {
    "OutcomeInput": {"type": "object", "additionalProperties": False,
                     "required": ["admission_avoided", "follow_up"], "properties": {
        "admission_avoided": {"type": "string", "enum": _ADMISSION,
                              "description": "Whether the consultation spared the patient an admission"},
        "follow_up": {"type": "array", "uniqueItems": True, "maxItems": len(_FOLLOW_UP),
                      "items": {"type": "string", "enum": _FOLLOW_UP},
                      "description": "Who follows the patient up; empty when nobody needs to. "
                                     "\"admission\" cannot go with admission_avoided \"yes\""}}},
    "Outcome": {"type": "object", "required": ["admission_avoided", "follow_up", "recorded_at"], "properties": {
        "admission_avoided": {"type": "string", "enum": _ADMISSION},
        "follow_up": {"type": "array", "items": {"type": "string", "enum": _FOLLOW_UP}},
        "recorded_by": {"type": "string"}, "recorded_at": {"type": "string", "format": "date-time"}}},
}
