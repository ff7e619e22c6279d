"""The JSON API for setting a trust up: health rooms, equipment items, bookable staff, consultation
types, and the import of rooms from CSV (a dry run unless asked to import)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from scheduling.room_import import MAX_BYTES
from scheduling.services.setup import SETUP_ROLES, TYPE_ROLES
from scheduling.services.setup_views import EquipmentItemInput, ResourceChange, RoomInput
from scheduling.services.views import ConsultationTypeInput, HoursInput
from server.platform.appkeys import DATABASE
from server.platform.errors import ValidationFailed
from web.api_resources import _clock_time
from web.appkeys import SCHEDULING
from web.forms import get_bool, get_int, get_str, json_object, parse_id, reject_unknown
from web.guards import require_actor
from web.labels import equipment_names
from web.scheduling_json import resource_json, type_json
from web.setup_forms import requirements_from_json

ROOM_FIELDS = {"name", "municipality_id", "address", "email", "equipment", "hours"}
TYPE_FIELDS = {"code", "name", "name_en", "duration_minutes", "buffer_before_minutes", "buffer_after_minutes",
               "min_notice_minutes", "requirements"}


def _codes(body: dict[str, Any], key: str, errors: dict[str, str]) -> tuple[str, ...]:
    raw = body.get(key, [])
    if not isinstance(raw, list) or len(raw) > 50 or not all(isinstance(c, str) and len(c) <= 60 for c in raw):
        errors[key] = "invalid_choice"
        return ()
    return tuple(raw)


def _hours(body: dict[str, Any], errors: dict[str, str]) -> tuple[HoursInput, ...]:
    raw = body.get("hours", [])
    if not isinstance(raw, list) or len(raw) > 70:
        errors["hours"] = "invalid_choice"
        return ()
    hours: list[HoursInput] = []
    for i, item in enumerate(raw):
        weekday = item.get("weekday") if isinstance(item, dict) else None
        if isinstance(weekday, bool) or not isinstance(weekday, int) or not 0 <= weekday <= 6:
            errors[f"hours[{i}].weekday"] = "invalid_choice"
            continue
        start = _clock_time(item.get("start"), f"hours[{i}].start", errors)
        end = _clock_time(item.get("end"), f"hours[{i}].end", errors)
        if start is not None and end is not None:
            hours.append(HoursInput(weekday, start, end))
    return tuple(hours)


def _path_id(request: web.Request, name: str) -> int:
    value = parse_id(request.match_info[name])
    if value is None:
        raise ValidationFailed(f"unknown {name}", {name: "invalid_choice"})
    return value


async def room_create(request: web.Request) -> web.Response:
    """A health room with its municipality, address, equipment and weekly hours."""
    actor = require_actor(request, *SETUP_ROLES)
    body = await json_object(request)
    errors: dict[str, str] = {}
    reject_unknown(body, ROOM_FIELDS, errors)
    data = RoomInput(
        name=get_str(body, "name", errors=errors), municipality_id=get_int(body, "municipality_id", errors=errors),
        address=get_str(body, "address", required=False, max_len=300, errors=errors),
        email=get_str(body, "email", required=False, max_len=254, errors=errors),
        equipment_codes=_codes(body, "equipment", errors), hours=_hours(body, errors))
    if errors:
        raise ValidationFailed("the health room could not be created", errors)
    async with request.app[DATABASE].session() as session:
        view = await request.app[SCHEDULING].setup.create_health_room(session, actor, data)
    return web.json_response(resource_json(view), status=201)


async def equipment_create(request: web.Request) -> web.Response:
    """An equipment item of a known kind, owned by an organisation and maybe kept in a health room."""
    actor = require_actor(request, *SETUP_ROLES)
    body = await json_object(request)
    errors: dict[str, str] = {}
    reject_unknown(body, {"kind", "name", "organisation_id", "room_id"}, errors)
    data = EquipmentItemInput(
        code=get_str(body, "kind", max_len=60, errors=errors),
        name=get_str(body, "name", required=False, errors=errors),
        organisation_id=get_int(body, "organisation_id", required=False, errors=errors),
        room_id=get_int(body, "room_id", required=False, errors=errors))
    if errors:
        raise ValidationFailed("the equipment could not be created", errors)
    async with request.app[DATABASE].session() as session:
        view = await request.app[SCHEDULING].setup.create_equipment_item(session, actor, data)
    return web.json_response(resource_json(view), status=201)


async def bookable_create(request: web.Request) -> web.Response:
    """Make a specialist or nurse bookable with weekly hours: ``{"user_id": 7, "hours": [...]}``."""
    actor = require_actor(request, *SETUP_ROLES)
    body = await json_object(request)
    errors: dict[str, str] = {}
    reject_unknown(body, {"user_id", "hours"}, errors)
    user_id = get_int(body, "user_id", errors=errors)
    hours = _hours(body, errors)
    if errors:
        raise ValidationFailed("the staff member could not be made bookable", errors)
    async with request.app[DATABASE].session() as session:
        view = await request.app[SCHEDULING].setup.make_bookable(session, actor, user_id, hours)
    return web.json_response(resource_json(view), status=201)


async def resource_patch(request: web.Request) -> web.Response:
    """Change a resource's details, or take it out of use (``"active": false``) or back in."""
    actor = require_actor(request, *SETUP_ROLES)
    rid = _path_id(request, "resource_id")
    body = await json_object(request)
    errors: dict[str, str] = {}
    reject_unknown(body, {"name", "address", "email", "equipment", "room_id", "active"}, errors)
    active = get_bool(body, "active", errors=errors) if "active" in body else None
    setup = request.app[SCHEDULING].setup
    async with request.app[DATABASE].session() as session:
        current = await request.app[SCHEDULING].resources.get_resource(session, rid)
        change = ResourceChange(
            name=get_str(body, "name", errors=errors) if "name" in body else current.name,
            address=get_str(body, "address", required=False, max_len=300, errors=errors)
            if "address" in body else current.address,
            email=get_str(body, "email", required=False, max_len=254, errors=errors)
            if "email" in body else current.email,
            equipment_codes=_codes(body, "equipment", errors) if "equipment" in body else current.equipment_codes,
            located_in_id=get_int(body, "room_id", required=False, errors=errors)
            if "room_id" in body else current.located_in_id)
        if errors:
            raise ValidationFailed("the resource could not be changed", errors)
        view = await setup.update_resource(session, actor, rid, change)
        if active is not None:
            view = await setup.set_resource_active(session, actor, rid, active)
    return web.json_response(resource_json(view))


def _type_input(body: dict[str, Any], errors: dict[str, str]) -> ConsultationTypeInput:
    reject_unknown(body, TYPE_FIELDS, errors)
    numbers: dict[str, int] = {}
    for field in ("duration_minutes", "buffer_before_minutes", "buffer_after_minutes", "min_notice_minutes"):
        numbers[field] = get_int(body, field, required=field == "duration_minutes", errors=errors) or 0
    return ConsultationTypeInput(
        code=get_str(body, "code", required=False, max_len=60, errors=errors),
        name=get_str(body, "name", errors=errors), name_en=get_str(body, "name_en", errors=errors),
        requirements=requirements_from_json(body.get("requirements"), errors), **numbers)


async def type_create(request: web.Request) -> web.Response:
    actor = require_actor(request, *TYPE_ROLES)
    body = await json_object(request)
    errors: dict[str, str] = {}
    data = _type_input(body, errors)
    if errors:
        raise ValidationFailed("the consultation type could not be created", errors)
    async with request.app[DATABASE].session() as session:
        view = await request.app[SCHEDULING].setup.create_consultation_type(session, actor, data)
    return web.json_response(type_json(view), status=201)


async def type_put(request: web.Request) -> web.Response:
    """Replace a consultation type's settings (the code stays); ``active`` offers it for booking or not."""
    actor = require_actor(request, *TYPE_ROLES)
    tid = _path_id(request, "type_id")
    body = await json_object(request)
    errors: dict[str, str] = {}
    active = get_bool(body, "active", errors=errors) if "active" in body else None
    data = _type_input({k: v for k, v in body.items() if k != "active"}, errors)
    if errors:
        raise ValidationFailed("the consultation type could not be changed", errors)
    setup = request.app[SCHEDULING].setup
    async with request.app[DATABASE].session() as session:
        view = await setup.update_consultation_type(session, actor, tid, data)
        if active is not None:
            await setup.set_type_active(session, actor, tid, active)
        _, is_active = await setup.consultation_type(session, tid)
    return web.json_response({**type_json(view), "active": is_active})


async def rooms_import(request: web.Request) -> web.Response:
    """Check a CSV file of health rooms; with ``?dry_run=false`` import it, all or nothing."""
    actor = require_actor(request, *SETUP_ROLES)
    if request.content_type != "text/csv":
        raise ValidationFailed("send text/csv", {"body": "unsupported_media_type"})
    if request.content_length is not None and request.content_length > MAX_BYTES:
        raise ValidationFailed("too large", {"body": "too_large"})
    dry_run = request.query.get("dry_run", "true")
    if dry_run not in ("true", "false"):
        raise ValidationFailed("dry_run is true or false", {"dry_run": "invalid_choice"})
    data = await request.read()
    async with request.app[DATABASE].session(write_lock=dry_run == "false") as session:
        report = await request.app[SCHEDULING].setup.import_rooms(
            session, actor, data, equipment_names=equipment_names(), dry_run=dry_run == "true")
    if report.problems:
        # each problem as a field of the problem document: "rows[3].municipality", or "file" for the whole
        raise ValidationFailed("the file has problems; nothing was imported", {
            (f"rows[{p.row}].{p.column}" if p.column else f"rows[{p.row}]") if p.row else "file": p.code
            for p in report.problems})
    return web.json_response({"rooms": report.rooms, "imported": report.imported},
                             status=201 if report.imported else 200)
