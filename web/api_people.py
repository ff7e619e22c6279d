"""The JSON API for setting up people: staff accounts, their CSV import, organisations and travel.

Administrators only; every change is audited by the services."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from server.people.appkeys import ACCOUNTS, ORGANISATION_SETUP, STAFF_ADMIN, STAFF_IMPORT
from server.people.models import MunicipalityTravel, Organisation, User
from server.people.organisation_setup import OrganisationDetails
from server.people.staff_admin import StaffChanges
from server.people.staff_import import MAX_BYTES, ImportResult
from server.people.travel import read_travel
from server.platform.appkeys import DATABASE
from server.platform.errors import ValidationFailed
from server.platform.roles import OrganisationKind, Role
from web.errors import problem_response
from web.forms import get_bool, get_int, get_str, json_object, parse_id, reject_unknown
from web.guards import require_actor
from web.messages import message_for
from web.openapi import ApiRoute
from web.reads import reading

USER_FIELDS = ("display_name", "email", "phone", "role", "organisation_id", "department_id", "profession")


def user_json(u: User) -> dict[str, Any]:
    return {"id": u.id, "username": u.username, "display_name": u.display_name, "email": u.email,
            "phone": u.phone, "role": u.role.value, "profession": u.profession,
            "organisation_id": u.organisation_id, "department_id": u.department_id, "active": u.is_active,
            "two_factor_set_up": u.totp_confirmed, "must_change_password": u.must_change_password}


def travel_json(t: MunicipalityTravel) -> dict[str, Any]:
    return {"municipality_id": t.municipality_id, "hospital_id": t.hospital_id, "hospital": t.hospital.name,
            "distance_km": t.distance_km, "travel_minutes": t.travel_minutes, "transport": t.transport,
            "ferry": t.ferry, "ferry_minutes": t.ferry_minutes}


def organisation_json(o: Organisation, travel: list[MunicipalityTravel] | None = None) -> dict[str, Any]:
    return {"id": o.id, "name": o.name, "kind": o.kind.value, "code": o.code, "address": o.address,
            "centre_name": o.centre_name, "centre_latitude": o.centre_latitude,
            "centre_longitude": o.centre_longitude,
            "departments": [{"id": d.id, "name": d.name} for d in o.departments],
            "travel": [travel_json(t) for t in travel or []]}


def import_json(result: ImportResult) -> dict[str, Any]:
    return {"rows": result.rows, "created": result.created, "problems": [
        {"row": p.row, "column": p.column, "code": p.code, "message": message_for(p.code)}
        for p in result.problems]}


def _path_id(request: web.Request, name: str) -> int:
    value = parse_id(request.match_info[name])
    if value is None:
        raise ValidationFailed("unknown id", {name: "invalid_choice"})
    return value


def _text(value: object) -> str:
    """A JSON number or string as the text a form would post (the services read both the same way)."""
    if isinstance(value, bool) or value is None:
        return ""
    return str(value)


async def users_list(request: web.Request) -> web.Response:
    require_actor(request, Role.ADMIN)
    async with reading(request) as session:
        users = await request.app[ACCOUNTS].list_users(session)
        body = [user_json(u) for u in users]
    return web.json_response(body)


async def user_create(request: web.Request) -> web.Response:
    actor = require_actor(request, Role.ADMIN)
    body = await json_object(request)
    errors: dict[str, str] = {}
    reject_unknown(body, {"username", "display_name", "password", "role", "organisation_id", "department_id",
                          "profession", "email", "phone"}, errors)
    username = get_str(body, "username", max_len=80, errors=errors)
    name = get_str(body, "display_name", errors=errors)
    password = get_str(body, "password", max_len=200, errors=errors)
    role_text = get_str(body, "role", max_len=32, errors=errors)
    org_id = get_int(body, "organisation_id", errors=errors)
    dep_id = get_int(body, "department_id", required=False, errors=errors)
    profession = get_str(body, "profession", required=False, max_len=80, errors=errors)
    email = get_str(body, "email", required=False, max_len=254, errors=errors)
    phone = get_str(body, "phone", required=False, max_len=40, errors=errors)
    try:
        role = Role(role_text)
    except ValueError:
        errors.setdefault("role", "invalid_choice")
    if errors:
        raise ValidationFailed("the user could not be created", errors)
    async with request.app[DATABASE].session() as session:
        user = await request.app[ACCOUNTS].create_user(
            session, username=username, display_name=name, password=password, role=role,
            organisation_id=org_id or 0, department_id=dep_id, email=email, phone=phone, profession=profession,
            actor=actor)
        answer = user_json(user)
    return web.json_response(answer, status=201, headers={"Location": f"/api/users/{answer['id']}"})


async def user_get(request: web.Request) -> web.Response:
    require_actor(request, Role.ADMIN)
    user_id = _path_id(request, "user_id")
    async with reading(request) as session:
        answer = user_json(await request.app[STAFF_ADMIN].get(session, user_id))
    return web.json_response(answer)


async def user_update(request: web.Request) -> web.Response:
    """Change some of a user's details; fields left out keep their value."""
    actor = require_actor(request, Role.ADMIN)
    user_id = _path_id(request, "user_id")
    body = await json_object(request)
    errors: dict[str, str] = {}
    reject_unknown(body, set(USER_FIELDS), errors)
    for key in ("display_name", "email", "phone", "role", "profession"):
        if key in body:
            get_str(body, key, required=key in {"display_name", "role"}, max_len=254, errors=errors)
    for key in ("organisation_id", "department_id"):
        if key in body:
            get_int(body, key, required=key == "organisation_id", errors=errors)
    if errors:
        raise ValidationFailed("the user could not be saved", errors)
    async with request.app[DATABASE].session() as session:
        admin = request.app[STAFF_ADMIN]
        current = user_json(await admin.get(session, user_id))
        merged = {**current, **body}
        user = await admin.update(session, actor, user_id, StaffChanges(
            display_name=merged["display_name"], email=merged["email"], phone=merged["phone"],
            role=merged["role"], organisation_id=merged["organisation_id"],
            department_id=merged["department_id"], profession=merged["profession"]))
        answer = user_json(user)
    return web.json_response(answer)


async def user_deactivate(request: web.Request) -> web.Response:
    actor = require_actor(request, Role.ADMIN)
    user_id = _path_id(request, "user_id")
    async with request.app[DATABASE].session() as session:
        answer = user_json(await request.app[STAFF_ADMIN].deactivate(session, actor, user_id))
    return web.json_response(answer)


async def user_reactivate(request: web.Request) -> web.Response:
    actor = require_actor(request, Role.ADMIN)
    user_id = _path_id(request, "user_id")
    async with request.app[DATABASE].session() as session:
        answer = user_json(await request.app[STAFF_ADMIN].reactivate(session, actor, user_id))
    return web.json_response(answer)


async def user_reset_password(request: web.Request) -> web.Response:
    """A temporary password, in this answer only; the user must change it at the next login."""
    actor = require_actor(request, Role.ADMIN)
    user_id = _path_id(request, "user_id")
    async with request.app[DATABASE].session() as session:
        password = await request.app[STAFF_ADMIN].reset_password(session, actor, user_id)
    return web.json_response({"temporary_password": password, "must_change_password": True},
                             headers={"Cache-Control": "no-store"})


async def user_reset_two_factor(request: web.Request) -> web.Response:
    actor = require_actor(request, Role.ADMIN)
    user_id = _path_id(request, "user_id")
    async with request.app[DATABASE].session() as session:
        answer = user_json(await request.app[STAFF_ADMIN].reset_two_factor(session, actor, user_id))
    return web.json_response(answer)


async def users_import(request: web.Request) -> web.Response:
    """Check (``?dry_run=true``, the default) or import a CSV file of staff; a file with problems
    imports nothing and lists each one."""
    actor = require_actor(request, Role.ADMIN)
    if request.content_type not in {"text/csv", "text/plain"}:
        raise ValidationFailed("send text/csv", {"body": "unsupported_media_type"})
    if request.content_length is not None and request.content_length > MAX_BYTES:
        raise ValidationFailed("too large", {"body": "csv_too_large"})
    dry_run = request.query.get("dry_run", "true")
    if dry_run not in {"true", "false"}:
        raise ValidationFailed("dry_run is true or false", {"dry_run": "invalid_choice"})
    data = await request.read()
    importer = request.app[STAFF_IMPORT]
    async with request.app[DATABASE].session() as session:
        result, _rows = await importer.check(session, data)
        if result.clean and dry_run == "false":
            result = await importer.run(session, actor, data)
    if not result.clean:
        return problem_response(422, "csv_has_problems", "the file has problems; nothing was imported",
                                extra=import_json(result))
    return web.json_response(import_json(result), status=201 if result.created else 200)


async def organisation_create(request: web.Request) -> web.Response:
    actor = require_actor(request, Role.ADMIN)
    body = await json_object(request)
    errors: dict[str, str] = {}
    reject_unknown(body, {"name", "kind", "code", "departments"}, errors)
    name = get_str(body, "name", errors=errors)
    kind_text = get_str(body, "kind", max_len=32, errors=errors)
    code = get_str(body, "code", required=False, max_len=20, errors=errors)
    departments = body.get("departments", [])
    if not isinstance(departments, list) or not all(isinstance(d, str) and d.strip() and len(d) <= 200
                                                    for d in departments) or len(departments) > 100:
        errors["departments"] = "invalid_choice"
        departments = []
    try:
        kind = OrganisationKind(kind_text)
    except ValueError:
        errors.setdefault("kind", "invalid_choice")
    if errors:
        raise ValidationFailed("the organisation could not be created", errors)
    async with request.app[DATABASE].session() as session:
        org = await request.app[ACCOUNTS].create_organisation(session, name, kind, code or None, departments,
                                                              actor=actor)
        await session.refresh(org)
        answer = organisation_json(org)
    return web.json_response(answer, status=201, headers={"Location": f"/api/organisations/{answer['id']}"})


async def organisation_get(request: web.Request) -> web.Response:
    require_actor(request, Role.ADMIN, Role.TEAM_LEADER)
    org_id = _path_id(request, "organisation_id")
    async with reading(request) as session:
        setup = request.app[ORGANISATION_SETUP]
        org = await setup.get(session, org_id)
        answer = organisation_json(org, await setup.travel_from(session, org_id))
    return web.json_response(answer)


async def organisation_update(request: web.Request) -> web.Response:
    """Change some of an organisation's details; fields left out keep their value."""
    actor = require_actor(request, Role.ADMIN)
    org_id = _path_id(request, "organisation_id")
    body = await json_object(request)
    errors: dict[str, str] = {}
    allowed = {"name", "code", "address", "centre_name", "centre_latitude", "centre_longitude"}
    reject_unknown(body, allowed, errors)
    for key in ("name", "code", "address", "centre_name"):
        if key in body and body[key] is not None:
            get_str(body, key, required=key == "name", max_len=300, errors=errors)
    for key in ("centre_latitude", "centre_longitude"):
        value = body.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            errors[key] = "latitude_invalid" if key == "centre_latitude" else "longitude_invalid"
    if errors:
        raise ValidationFailed("the organisation could not be saved", errors)
    async with request.app[DATABASE].session() as session:
        setup = request.app[ORGANISATION_SETUP]
        org = await setup.get(session, org_id)
        current: dict[str, Any] = {"name": org.name, "code": org.code or "", "address": org.address,
                                   "centre_name": org.centre_name, "centre_latitude": org.centre_latitude,
                                   "centre_longitude": org.centre_longitude}
        merged = {**current, **body}
        org = await setup.update_details(session, actor, org_id, OrganisationDetails(
            name=_text(merged["name"]), code=_text(merged["code"]), address=_text(merged["address"]),
            centre_name=_text(merged["centre_name"]), centre_latitude=_text(merged["centre_latitude"]),
            centre_longitude=_text(merged["centre_longitude"])))
        answer = organisation_json(org, await setup.travel_from(session, org_id))
    return web.json_response(answer)


async def department_create(request: web.Request) -> web.Response:
    actor = require_actor(request, Role.ADMIN)
    org_id = _path_id(request, "organisation_id")
    body = await json_object(request)
    errors: dict[str, str] = {}
    reject_unknown(body, {"name"}, errors)
    name = get_str(body, "name", errors=errors)
    if errors:
        raise ValidationFailed("the department could not be created", errors)
    async with request.app[DATABASE].session() as session:
        department = await request.app[ORGANISATION_SETUP].add_department(session, actor, org_id, name)
        answer = {"id": department.id, "name": department.name}
    return web.json_response(answer, status=201)


async def travel_put(request: web.Request) -> web.Response:
    """How people from the municipality usually travel to this hospital (replaces what was recorded)."""
    actor = require_actor(request, Role.ADMIN)
    org_id = _path_id(request, "organisation_id")
    hospital_id = _path_id(request, "hospital_id")
    body = await json_object(request)
    errors: dict[str, str] = {}
    reject_unknown(body, {"distance_km", "travel_minutes", "transport", "ferry", "ferry_minutes"}, errors)
    for key in ("distance_km", "travel_minutes", "ferry_minutes"):
        value = body.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            errors[key] = "distance_invalid" if key == "distance_km" else "minutes_invalid"
    transport = get_str(body, "transport", max_len=32, errors=errors)
    ferry = get_bool(body, "ferry", errors=errors)
    if errors:
        raise ValidationFailed("the travel could not be saved", errors)
    minutes = body.get("travel_minutes")
    ferry_minutes = body.get("ferry_minutes")
    travel = read_travel(
        distance_km=_text(body.get("distance_km")),
        travel_minutes=str(int(minutes)) if isinstance(minutes, int | float) and minutes == int(minutes) else
        _text(minutes), transport=transport, ferry=ferry,
        ferry_minutes=str(int(ferry_minutes)) if isinstance(ferry_minutes, int | float)
        and ferry_minutes == int(ferry_minutes) else _text(ferry_minutes))
    async with request.app[DATABASE].session() as session:
        row = await request.app[ORGANISATION_SETUP].set_travel(session, actor, org_id, hospital_id, travel)
        answer = travel_json(row)
    return web.json_response(answer)


_ID = {"type": "string", "pattern": "^[0-9]+$"}


def _p(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": _ID}


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


USER_ID, ORG_ID = _p("user_id"), _p("organisation_id")

API_ROUTES: list[ApiRoute] = [
    ApiRoute("GET", "/api/users", users_list, "Staff accounts, active and deactivated (administrators)",
             {"type": "array", "items": _ref("StaffUser")}, tag="setup"),
    ApiRoute("POST", "/api/users", user_create, "Create a staff account (two-factor is set up at first login)",
             _ref("StaffUser"), status=201, request_schema="StaffUserInput", tag="setup"),
    ApiRoute("POST", "/api/users/import", users_import,
             "Check (dry_run=true, the default) or import staff from CSV; a file with problems imports nothing",
             _ref("StaffImport"), status=200,
             parameters=[{"name": "dry_run", "in": "query", "required": False,
                          "schema": {"type": "string", "enum": ["true", "false"]}}],
             request_schema="text", request_media_type="text/csv", tag="setup", extra_responses=(201,)),
    ApiRoute("GET", "/api/users/{user_id}", user_get, "One staff account", _ref("StaffUser"),
             parameters=[USER_ID], tag="setup"),
    ApiRoute("PATCH", "/api/users/{user_id}", user_update, "Change a staff member's details, role or profession",
             _ref("StaffUser"), parameters=[USER_ID], request_schema="StaffUserChanges", tag="setup"),
    ApiRoute("POST", "/api/users/{user_id}/deactivate", user_deactivate,
             "Deactivate: no login, out of the choosers; history keeps the name", _ref("StaffUser"),
             parameters=[USER_ID], tag="setup", extra_responses=(409,)),
    ApiRoute("POST", "/api/users/{user_id}/reactivate", user_reactivate, "Let a deactivated user in again",
             _ref("StaffUser"), parameters=[USER_ID], tag="setup"),
    ApiRoute("POST", "/api/users/{user_id}/reset-password", user_reset_password,
             "A one-time temporary password, shown in this answer only; must be changed at the next login",
             _ref("TemporaryPassword"), parameters=[USER_ID], tag="setup", extra_responses=(409,)),
    ApiRoute("POST", "/api/users/{user_id}/reset-two-factor", user_reset_two_factor,
             "Forget the authenticator app; a new one is set up at the next login", _ref("StaffUser"),
             parameters=[USER_ID], tag="setup", extra_responses=(409,)),
    ApiRoute("POST", "/api/organisations", organisation_create, "Create a hospital trust or a municipality",
             _ref("OrganisationDetails"), status=201, request_schema="OrganisationInput", tag="setup",
             extra_responses=(409,)),
    ApiRoute("GET", "/api/organisations/{organisation_id}", organisation_get,
             "An organisation with its address, centre, departments and travel to each hospital",
             _ref("OrganisationDetails"), parameters=[ORG_ID], tag="setup"),
    ApiRoute("PATCH", "/api/organisations/{organisation_id}", organisation_update,
             "Change an organisation's name, code, address or centre", _ref("OrganisationDetails"),
             parameters=[ORG_ID], request_schema="OrganisationChanges", tag="setup"),
    ApiRoute("POST", "/api/organisations/{organisation_id}/departments", department_create, "Add a department",
             {"type": "object", "required": ["id", "name"], "properties": {
                 "id": {"type": "integer"}, "name": {"type": "string"}}}, status=201, parameters=[ORG_ID],
             request_schema="DepartmentInput", tag="setup"),
    ApiRoute("PUT", "/api/organisations/{organisation_id}/travel/{hospital_id}", travel_put,
             "How people from a municipality usually travel to a hospital (for the benefits report)",
             _ref("Travel"), parameters=[ORG_ID, _p("hospital_id")], request_schema="TravelInput", tag="setup",
             extra_responses=(409,)),
]

_NULLABLE_INT = {"type": ["integer", "null"]}
_NULLABLE_NUMBER = {"type": ["number", "null"]}
_PROFESSIONS = ["", "doctor", "nurse", "physiotherapist", "occupational_therapist", "pharmacist",
                "patient_coordinator", "health_secretary"]
_ROLES = [r.value for r in Role]

SCHEMAS: dict[str, Any] = {
    "StaffUser": {"type": "object", "required": ["id", "username", "display_name", "role", "active"],
                  "properties": {
        "id": {"type": "integer"}, "username": {"type": "string"}, "display_name": {"type": "string"},
        "email": {"type": "string"}, "phone": {"type": "string"}, "role": {"type": "string", "enum": _ROLES},
        "profession": {"type": "string"}, "organisation_id": {"type": "integer"},
        "department_id": _NULLABLE_INT, "active": {"type": "boolean"}, "two_factor_set_up": {"type": "boolean"},
        "must_change_password": {"type": "boolean"}}},
    "StaffUserInput": {"type": "object", "additionalProperties": False,
                       "required": ["username", "display_name", "password", "role", "organisation_id"],
                       "properties": {
        "username": {"type": "string", "minLength": 1, "maxLength": 80},
        "display_name": {"type": "string", "minLength": 1, "maxLength": 200},
        "password": {"type": "string", "minLength": 10, "maxLength": 200},
        "role": {"type": "string", "enum": _ROLES}, "organisation_id": {"type": "integer", "minimum": 1},
        "department_id": {"type": "integer", "minimum": 1},
        "profession": {"type": "string", "enum": _PROFESSIONS},
        "email": {"type": "string", "maxLength": 254}, "phone": {"type": "string", "maxLength": 40}}},
    "StaffUserChanges": {"type": "object", "additionalProperties": False, "properties": {
        "display_name": {"type": "string", "minLength": 1, "maxLength": 200},
        "role": {"type": "string", "enum": _ROLES}, "organisation_id": {"type": "integer", "minimum": 1},
        "department_id": {"type": ["integer", "null"], "minimum": 1},
        "profession": {"type": "string", "enum": _PROFESSIONS},
        "email": {"type": "string", "maxLength": 254}, "phone": {"type": "string", "maxLength": 40}}},
    "TemporaryPassword": {"type": "object", "required": ["temporary_password"], "properties": {
        "temporary_password": {"type": "string"}, "must_change_password": {"type": "boolean"}}},
    "StaffImport": {"type": "object", "required": ["rows", "created", "problems"], "properties": {
        "rows": {"type": "integer"}, "created": {"type": "integer"},
        "problems": {"type": "array", "items": {"type": "object", "properties": {
            "row": {"type": "integer"}, "column": {"type": "string"}, "code": {"type": "string"},
            "message": {"type": "string"}}}}}},
    "Travel": {"type": "object", "required": ["municipality_id", "hospital_id", "distance_km", "travel_minutes",
                                              "transport", "ferry"], "properties": {
        "municipality_id": {"type": "integer"}, "hospital_id": {"type": "integer"}, "hospital": {"type": "string"},
        "distance_km": {"type": "number"}, "travel_minutes": {"type": "integer"},
        "transport": {"type": "string"}, "ferry": {"type": "boolean"}, "ferry_minutes": _NULLABLE_INT}},
    "TravelInput": {"type": "object", "additionalProperties": False,
                    "required": ["distance_km", "travel_minutes", "transport"], "properties": {
        "distance_km": {"type": "number", "exclusiveMinimum": 0, "maximum": 5000},
        "travel_minutes": {"type": "integer", "minimum": 1, "maximum": 2880},
        "transport": {"type": "string", "enum": ["car", "bus", "express_boat", "plane", "train",
                                                "patient_transport"]},
        "ferry": {"type": "boolean"}, "ferry_minutes": {"type": ["integer", "null"], "minimum": 1,
                                                        "maximum": 2880}}},
    "OrganisationDetails": {"type": "object", "required": ["id", "name", "kind", "departments"], "properties": {
        "id": {"type": "integer"}, "name": {"type": "string"},
        "kind": {"type": "string", "enum": ["hospital", "municipality"]}, "code": {"type": ["string", "null"]},
        "address": {"type": "string"}, "centre_name": {"type": "string"}, "centre_latitude": _NULLABLE_NUMBER,
        "centre_longitude": _NULLABLE_NUMBER,
        "departments": {"type": "array", "items": {"type": "object", "properties": {
            "id": {"type": "integer"}, "name": {"type": "string"}}}},
        "travel": {"type": "array", "items": _ref("Travel")}}},
    "OrganisationInput": {"type": "object", "additionalProperties": False, "required": ["name", "kind"],
                          "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 200},
        "kind": {"type": "string", "enum": ["hospital", "municipality"]},
        "code": {"type": "string", "maxLength": 20},
        "departments": {"type": "array", "maxItems": 100, "items": {"type": "string", "minLength": 1,
                                                                    "maxLength": 200}}}},
    "OrganisationChanges": {"type": "object", "additionalProperties": False, "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 200}, "code": {"type": "string", "maxLength": 20},
        "address": {"type": "string", "maxLength": 300}, "centre_name": {"type": "string", "maxLength": 200},
        "centre_latitude": {"type": ["number", "null"], "minimum": -90, "maximum": 90},
        "centre_longitude": {"type": ["number", "null"], "minimum": -180, "maximum": 180}}},
    "DepartmentInput": {"type": "object", "additionalProperties": False, "required": ["name"], "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 200}}},
}
