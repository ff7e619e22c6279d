"""Patient pages: the list, registration, one patient (with a stated reason) and who accessed it."""

from __future__ import annotations

from aiohttp import web

from server.people.appkeys import ACCESS_REPORTS, ACCOUNTS, PATIENTS
from server.people.patients import CLINICAL_ROLES, PatientInput
from server.platform.appkeys import DATABASE
from server.platform.errors import ValidationFailed
from server.platform.roles import OrganisationKind
from web.forms import form_fields, parse_id
from web.guards import require_actor
from web.i18n import gettext as _
from web.labels import ACCESS_REASONS, language_options
from web.messages import message_for
from web.pages_access_report import chosen_period, period_choices, report_view
from web.reads import reading
from web.render import render


async def _municipalities(request: web.Request) -> list[tuple[int, str]]:
    async with reading(request) as session:
        orgs = await request.app[ACCOUNTS].list_organisations(session)
    return [(o.id, o.name) for o in orgs if o.kind == OrganisationKind.MUNICIPALITY]


async def patient_list(request: web.Request) -> web.StreamResponse:
    actor = require_actor(request, *CLINICAL_ROLES)
    async with reading(request) as session:
        patients = await request.app[PATIENTS].list_for(session, actor)
    return render(request, "patients.html", {"patients": patients})


async def patient_new_form(request: web.Request) -> web.StreamResponse:
    require_actor(request, *CLINICAL_ROLES)
    return render(request, "patient_new.html", {
        "values": {}, "errors": {}, "municipalities": await _municipalities(request),
        "languages": language_options(),
    })


async def patient_new_submit(request: web.Request) -> web.StreamResponse:
    actor = require_actor(request, *CLINICAL_ROLES)
    fields = await form_fields(request)
    # 0 is no organisation: the service refuses it with a message on the field.
    municipality_id = parse_id(fields.get("home_municipality_id", "")) or 0
    data = PatientInput(
        given_name=fields.get("given_name", ""), family_name=fields.get("family_name", ""),
        national_id=fields.get("national_id", ""), home_municipality_id=municipality_id,
        address=fields.get("address", ""), phone=fields.get("phone", ""), email=fields.get("email", ""),
        preferred_language=fields.get("preferred_language", "nb"),
        interpreter_needed=fields.get("interpreter_needed") == "on",
    )
    try:
        async with request.app[DATABASE].session() as session:
            patient = await request.app[PATIENTS].register(session, actor, data, _("Registration"))
    except ValidationFailed as exc:
        return render(request, "patient_new.html", {
            "values": fields, "errors": {k: message_for(v) for k, v in exc.fields.items()},
            "municipalities": await _municipalities(request),
            "languages": language_options(fields.get("preferred_language", "")),
        }, status=422)
    raise web.HTTPSeeOther(f"/patients/{patient.public_id}?reason={_('Registration')}")


def _reason(request: web.Request) -> str:
    reason = request.query.get("reason", "").strip()
    if reason == "other":
        reason = request.query.get("reason_text", "").strip()
    return reason[:300]


async def patient_detail(request: web.Request) -> web.StreamResponse:
    actor = require_actor(request, *CLINICAL_ROLES)
    public_id = request.match_info["public_id"]
    reason = _reason(request)
    if not reason:
        # Access needs a reason; ask for it before anything of the patient is shown.
        return render(request, "patient_reason.html", {
            "public_id": public_id, "reasons": [_(r) for r in ACCESS_REASONS],
            "target": f"/patients/{public_id}", "error": bool(request.query.get("reason")),
        })
    async with reading(request) as session:
        patient = await request.app[PATIENTS].get(session, actor, public_id, reason)
    return render(request, "patient.html", {"patient": patient, "reason": reason})


async def patient_access_log(request: web.Request) -> web.StreamResponse:
    """Who accessed the patient's information, for staff with access and a stated reason (audited)."""
    actor = require_actor(request, *CLINICAL_ROLES)
    public_id = request.match_info["public_id"]
    reason = _reason(request)
    if not reason:
        return render(request, "patient_reason.html", {
            "public_id": public_id, "reasons": [_(r) for r in ACCESS_REASONS],
            "target": f"/patients/{public_id}/access-log", "error": False,
        })
    service = request.app[ACCESS_REPORTS]
    period, error = chosen_period(request, service)
    async with request.app[DATABASE].session(write_lock=True) as session:
        report = await service.for_staff(session, actor, public_id, period, reason=reason)
    return render(request, "patient_access_log.html", {
        **report_view(report), "public_id": public_id, "reason": reason,
        "periods": period_choices(period.months), "form_error": error,
    }, status=422 if error else 200)
