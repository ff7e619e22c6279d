"""The booking page's outcome forms: complete a consultation saying what followed, or change it later.

A refused answer comes back on the booking page exactly as it was ticked, with what is wrong; when
someone else completed the consultation meanwhile, the answers stay on the page to be saved as a change.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from scheduling.outcomes import OutcomeInput, read_outcome
from server.people.patients import CLINICAL_ROLES
from server.platform.appkeys import DATABASE
from server.platform.errors import Conflict, ValidationFailed
from web.appkeys import SCHEDULING
from web.guards import require_actor
from web.messages import message_for
from web.pages_scheduling import render_booking_page


async def _posted(request: web.Request) -> dict[str, Any]:
    data = await request.post()
    admission = data.get("admission_avoided")
    return {"admission_avoided": admission if isinstance(admission, str) else "",
            "follow_up": [v for v in data.getall("follow_up", []) if isinstance(v, str)]}


def _form_errors(exc: ValidationFailed) -> dict[str, str]:
    errors = {}
    for name, code in exc.fields.items():
        # a radio group left empty is asked for in words that name the question
        if name == "admission_avoided" and code == "required":
            code = "outcome_admission_required"
        errors[name] = message_for(code)
    return errors


async def _save(request: web.Request, *, complete: bool) -> web.StreamResponse:
    actor = require_actor(request, *CLINICAL_ROLES)
    public_id = request.match_info["public_id"]
    values = await _posted(request)
    outcomes = request.app[SCHEDULING].outcomes
    try:
        data: OutcomeInput = read_outcome(values["admission_avoided"] or None, values["follow_up"])
        async with request.app[DATABASE].session(write_lock=True) as session:
            if complete:
                await outcomes.complete(session, actor, public_id, data)
            else:
                await outcomes.record(session, actor, public_id, data)
    except ValidationFailed as exc:
        return await render_booking_page(request, public_id, status=422, outcome_form={
            "values": values, "errors": _form_errors(exc), "error": ""})
    except Conflict as exc:
        # Completed (or cancelled) by someone else meanwhile: show where it stands, keep the answers.
        return await render_booking_page(request, public_id, status=409, outcome_form={
            "values": values, "errors": {}, "error": message_for(exc.code)})
    raise web.HTTPSeeOther(f"/bookings/{public_id}?{'completed' if complete else 'outcome'}=1#outcome")


async def booking_complete(request: web.Request) -> web.StreamResponse:
    """Complete an ongoing consultation and record what followed, both at once."""
    return await _save(request, complete=True)


async def booking_outcome(request: web.Request) -> web.StreamResponse:
    """Record or change what followed a completed consultation."""
    return await _save(request, complete=False)


def setup_routes(router: web.UrlDispatcher) -> None:
    router.add_post("/bookings/{public_id}/complete", booking_complete)
    router.add_post("/bookings/{public_id}/outcome", booking_outcome)
