"""The JSON API: thin handlers that parse, call one service and answer."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from server.people.appkeys import ACCOUNTS, PATIENTS
from server.people.models import Organisation, Patient
from server.people.patients import CLINICAL_ROLES, PatientInput
from server.platform.appkeys import AUDIT, DATABASE
from server.platform.audit import AccessRecord
from server.platform.errors import ValidationFailed
from server.platform.roles import Role
from web.forms import get_bool, get_int, get_str, json_object, reject_unknown
from web.guards import require_actor
from web.reads import reading


def _patient_json(p: Patient) -> dict[str, Any]:
    return {
        "id": p.public_id,
        "given_name": p.given_name,
        "family_name": p.family_name,
        "birth_date": p.birth_date.isoformat(),
        "national_id": p.national_id,
        "home_municipality": p.home_municipality.name,
        "address": p.address,
        "phone": p.phone,
        "email": p.email,
        "preferred_language": p.preferred_language,
        "interpreter_needed": p.interpreter_needed,
    }


def _org_json(o: Organisation) -> dict[str, Any]:
    return {"id": o.id, "name": o.name, "kind": o.kind.value, "code": o.code,
            "departments": [{"id": d.id, "name": d.name} for d in o.departments]}


def _access_json(r: AccessRecord) -> dict[str, Any]:
    return {"at": r.at.isoformat(), "actor": r.actor_name, "role": r.role, "organisation": r.organisation,
            "object_type": r.object_type, "object_id": r.object_id, "action": r.action, "reason": r.reason}


def _reason(request: web.Request) -> str:
    reason = request.query.get("reason", "").strip()
    if not reason:
        raise ValidationFailed("state why you need access", {"reason": "reason_required"})
    return reason[:300]


async def me(request: web.Request) -> web.Response:
    actor = require_actor(request)
    return web.json_response({"name": actor.name, "role": actor.role, "organisation": actor.organisation_name})


async def organisations(request: web.Request) -> web.Response:
    require_actor(request)
    async with reading(request) as session:
        orgs = await request.app[ACCOUNTS].list_organisations(session)
        body = [_org_json(o) for o in orgs]
    return web.json_response(body)


async def patients_list(request: web.Request) -> web.Response:
    actor = require_actor(request, *CLINICAL_ROLES)
    async with reading(request) as session:
        patients = await request.app[PATIENTS].list_for(session, actor)
    return web.json_response([
        {"id": p.public_id, "given_name": p.given_name, "family_name": p.family_name,
         "birth_date": p.birth_date.isoformat()} for p in patients
    ])


async def patients_create(request: web.Request) -> web.Response:
    actor = require_actor(request, *CLINICAL_ROLES)
    body = await json_object(request)
    errors: dict[str, str] = {}
    allowed = {"given_name", "family_name", "national_id", "home_municipality_id", "address", "phone",
               "email", "preferred_language", "interpreter_needed", "reason"}
    reject_unknown(body, allowed, errors)
    data = PatientInput(
        given_name=get_str(body, "given_name", errors=errors),
        family_name=get_str(body, "family_name", errors=errors),
        national_id=get_str(body, "national_id", max_len=20, errors=errors),
        home_municipality_id=get_int(body, "home_municipality_id", errors=errors) or 0,
        address=get_str(body, "address", required=False, max_len=300, errors=errors),
        phone=get_str(body, "phone", required=False, max_len=40, errors=errors),
        email=get_str(body, "email", required=False, max_len=254, errors=errors),
        preferred_language=get_str(body, "preferred_language", required=False, max_len=40, errors=errors) or "nb",
        interpreter_needed=get_bool(body, "interpreter_needed", errors=errors),
    )
    reason = get_str(body, "reason", max_len=300, errors=errors)
    if errors:
        raise ValidationFailed("the patient could not be registered", errors)
    async with request.app[DATABASE].session() as session:
        patient = await request.app[PATIENTS].register(session, actor, data, reason)
        answer = _patient_json(patient)
    return web.json_response(answer, status=201, headers={"Location": f"/api/patients/{patient.public_id}"})


async def patient_get(request: web.Request) -> web.Response:
    actor = require_actor(request, *CLINICAL_ROLES)
    reason = _reason(request)
    async with reading(request) as session:
        patient = await request.app[PATIENTS].get(session, actor, request.match_info["public_id"], reason)
        answer = _patient_json(patient)
    return web.json_response(answer)


async def patient_access_log(request: web.Request) -> web.Response:
    actor = require_actor(request, *CLINICAL_ROLES)
    reason = _reason(request)
    # Not a deferred read: the log it returns includes this very look at it.
    async with request.app[DATABASE].session() as session:
        _patient, records = await request.app[PATIENTS].access_log(
            session, actor, request.match_info["public_id"], reason)
    return web.json_response([_access_json(r) for r in records])


async def audit_verify(request: web.Request) -> web.Response:
    require_actor(request, Role.ADMIN)
    async with reading(request) as session:
        result = await request.app[AUDIT].verify(session)
    return web.json_response({"ok": result.ok, "checked": result.checked, "problem": result.problem,
                              "seq": result.seq})
