"""Set-up pages: a new health room, a new equipment item, a staff member made bookable, a resource's
details and whether it is in use, consultation types, and the import of rooms from a spreadsheet.

Every refused form comes back with the messages beside their fields and everything typed still in it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling.models import RequirementKind, ResourceKind
from scheduling.room_import import MAX_BYTES
from scheduling.services.setup import SETUP_ROLES, TYPE_ROLES
from scheduling.services.setup_views import EquipmentItemInput, ImportReport, ResourceChange, RoomInput
from server.platform.appkeys import DATABASE
from server.platform.errors import ValidationFailed
from web.appkeys import SCHEDULING
from web.forms import form_fields, parse_id
from web.guards import require_actor
from web.i18n import gettext as _
from web.labels import equipment_names, equipment_options, profession_options, role_label
from web.messages import N_, message_for
from web.pages_resources import WEEKDAYS, resource_page_with
from web.render import render
from web.setup_forms import type_from_form, week_from_form

IMPORT_COLUMNS = {"name": N_("name"), "municipality": N_("municipality"), "address": N_("address"),
                  "email": N_("email"), "equipment": N_("equipment"), "hours": N_("opening hours")}


def _messages(codes: dict[str, str]) -> dict[str, str]:
    return {k: message_for(v) for k, v in codes.items()}


async def _lists(session: AsyncSession, request: web.Request) -> dict[str, Any]:
    setup = request.app[SCHEDULING].setup
    resources = await setup.list_all_resources(session)
    return {
        "municipalities": await setup.municipalities(session),
        "organisations": await setup.organisations(session),
        "departments": await setup.departments(session),
        "rooms": [(r.id, r.name) for r in resources if r.kind is ResourceKind.HEALTH_ROOM and r.active],
        "people": [(r.id, r.name) for r in resources if r.kind is not ResourceKind.HEALTH_ROOM and r.active],
        "equipment_options": equipment_options(), "weekdays": WEEKDAYS,
        "profession_options": profession_options(),
    }


async def _form_page(request: web.Request, template: str, values: dict[str, Any], errors: dict[str, str],
                     status: int = 200, **extra: Any) -> web.Response:
    async with request.app[DATABASE].session() as session:
        context = await _lists(session, request)
        if template == "setup_person.html":
            context["candidates"] = [
                (c.user_id, f"{c.name} ({role_label(c.role)}, {c.organisation}"
                            f"{', ' + c.department if c.department else ''})")
                for c in await request.app[SCHEDULING].setup.bookable_candidates(session)]
    context.update(values=values, errors=errors, **extra)
    return render(request, template, context, status=status)


Save = Callable[[AsyncSession], Awaitable[Any]]


async def _save(request: web.Request, template: str, fields: dict[str, Any], save: Save,
                errors: dict[str, str], done: Callable[[Any], str], **extra: Any) -> web.StreamResponse:
    """Run one change; on a refusal show the form again with its messages and what was typed."""
    if not errors:
        try:
            async with request.app[DATABASE].session() as session:
                result = await save(session)
            raise web.HTTPSeeOther(done(result))
        except ValidationFailed as exc:
            errors = dict(exc.fields) or {"form": exc.code}
    return await _form_page(request, template, fields, _messages(errors), status=422, **extra)


# ------------------------------------------------------------------------------------------ health rooms

async def room_new_form(request: web.Request) -> web.StreamResponse:
    require_actor(request, *SETUP_ROLES)
    # A health room is there for video: its room camera is ticked to start with, as new types require it.
    return await _form_page(request, "setup_room.html", {"day0": "08:00-15:30", "day1": "08:00-15:30",
                            "day2": "08:00-15:30", "day3": "08:00-15:30", "day4": "08:00-15:30",
                            "equipment": ["room_camera"]}, {})


async def room_new_submit(request: web.Request) -> web.StreamResponse:
    actor = require_actor(request, *SETUP_ROLES)
    post = await request.post()
    fields = await form_fields(request)
    equipment = [str(v) for v in post.getall("equipment", [])]
    hours, errors = week_from_form(fields)
    data = RoomInput(name=fields.get("name", ""), municipality_id=parse_id(fields.get("municipality_id", "")),
                     address=fields.get("address", ""), email=fields.get("email", ""),
                     equipment_codes=tuple(equipment), hours=tuple(hours))
    values: dict[str, Any] = {**fields, "equipment": equipment}
    return await _save(request, "setup_room.html", values,
                       lambda s: request.app[SCHEDULING].setup.create_health_room(s, actor, data), errors,
                       lambda room: f"/resources/{room.id}?saved=created")


# ------------------------------------------------------------------------------------------ equipment

async def equipment_new_form(request: web.Request) -> web.StreamResponse:
    require_actor(request, *SETUP_ROLES)
    return await _form_page(request, "setup_equipment.html", {"room_id": request.query.get("room", "")}, {})


async def equipment_new_submit(request: web.Request) -> web.StreamResponse:
    actor = require_actor(request, *SETUP_ROLES)
    fields = await form_fields(request)
    data = EquipmentItemInput(code=fields.get("code", ""), name=fields.get("name", ""),
                              organisation_id=parse_id(fields.get("organisation_id", "")),
                              room_id=parse_id(fields.get("room_id", "")))
    errors = {"room_id": "unknown_room"} if fields.get("room_id") and data.room_id is None else {}
    return await _save(request, "setup_equipment.html", fields,
                       lambda s: request.app[SCHEDULING].setup.create_equipment_item(s, actor, data), errors,
                       lambda item: f"/resources/{item.located_in_id or item.id}?saved=created")


# ------------------------------------------------------------------------------------------ bookable staff

async def person_new_form(request: web.Request) -> web.StreamResponse:
    require_actor(request, *SETUP_ROLES)
    return await _form_page(request, "setup_person.html", {
        "user_id": request.query.get("user", ""), "day0": "08:00-15:30", "day1": "08:00-15:30",
        "day2": "08:00-15:30", "day3": "08:00-15:30", "day4": "08:00-15:30"}, {})


async def person_new_submit(request: web.Request) -> web.StreamResponse:
    actor = require_actor(request, *SETUP_ROLES)
    fields = await form_fields(request)
    hours, errors = week_from_form(fields)
    user_id = parse_id(fields.get("user_id", ""))
    return await _save(request, "setup_person.html", fields,
                       lambda s: request.app[SCHEDULING].setup.make_bookable(s, actor, user_id, hours), errors,
                       lambda person: f"/resources/{person.id}?saved=created")


# ------------------------------------------------------------------------------------------ a resource

async def resource_details(request: web.Request) -> web.StreamResponse:
    """Change a resource's name and details; a refusal shows the resource page with what was typed."""
    actor = require_actor(request, *SETUP_ROLES)
    rid = parse_id(request.match_info["resource_id"])
    if rid is None:
        raise web.HTTPNotFound()
    post = await request.post()
    fields = await form_fields(request)
    change = ResourceChange(name=fields.get("name", ""), address=fields.get("address", ""),
                            email=fields.get("email", ""),
                            equipment_codes=tuple(str(v) for v in post.getall("equipment", [])),
                            located_in_id=parse_id(fields.get("room_id", "")))
    try:
        async with request.app[DATABASE].session() as session:
            await request.app[SCHEDULING].setup.update_resource(session, actor, rid, change)
    except ValidationFailed as exc:
        values: dict[str, Any] = {**fields, "equipment": list(change.equipment_codes)}
        return await resource_page_with(request, _messages(dict(exc.fields)), values)
    raise web.HTTPSeeOther(f"/resources/{rid}?saved=details")


async def resource_active(request: web.Request) -> web.StreamResponse:
    actor = require_actor(request, *SETUP_ROLES)
    rid = parse_id(request.match_info["resource_id"])
    if rid is None:
        raise web.HTTPNotFound()
    active = (await form_fields(request)).get("active") == "1"
    async with request.app[DATABASE].session() as session:
        await request.app[SCHEDULING].setup.set_resource_active(session, actor, rid, active)
    raise web.HTTPSeeOther(f"/resources/{rid}?saved={'active' if active else 'inactive'}")


# ------------------------------------------------------------------------------------------ consultation types

async def types_page(request: web.Request) -> web.StreamResponse:
    require_actor(request, *TYPE_ROLES)
    async with request.app[DATABASE].session() as session:
        types = await request.app[SCHEDULING].setup.list_all_consultation_types(session)
        departments = dict(await request.app[SCHEDULING].setup.departments(session))
    return render(request, "consultation_types.html", {"types": types, "departments": departments,
                                                       "saved": request.query.get("saved", "")})


def _type_values(view: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "name": view.name, "name_en": view.name_en,
        "duration_minutes": str(int(view.duration.total_seconds() // 60)),
        "buffer_before_minutes": str(int(view.buffer_before.total_seconds() // 60)),
        "buffer_after_minutes": str(int(view.buffer_after.total_seconds() // 60)),
        "min_notice_minutes": str(int(view.min_notice.total_seconds() // 60)), "equipment": []}
    for r in view.requirements:
        match r.kind:
            case RequirementKind.DEPARTMENT_SPECIALIST:
                values.update(need_specialist="1", department_id=str(r.department_id or ""))
            case RequirementKind.NAMED_PERSON:
                values.update(need_person="1", person_id=str(r.resource_id or ""))
            case RequirementKind.MUNICIPALITY_NURSE:
                values["need_nurse"] = "1"
            case RequirementKind.HEALTH_ROOM:
                values.update(need_room="1", equipment=list(r.equipment_codes))
            case RequirementKind.PATIENT_HOME:
                values["patient_at_home"] = "1"
            case RequirementKind.PROFESSION:
                values.update(need_profession="1", profession=r.profession,
                              profession_department_id=str(r.department_id or ""))
    return values


async def type_new_form(request: web.Request) -> web.StreamResponse:
    require_actor(request, *TYPE_ROLES)
    return await _form_page(request, "consultation_type.html", {
        "duration_minutes": "30", "buffer_before_minutes": "0", "buffer_after_minutes": "5",
        "min_notice_minutes": "60", "need_specialist": "1", "need_nurse": "1", "need_room": "1",
        "equipment": ["room_camera"]}, {}, type_id=None, active=True)


async def _type_submit(request: web.Request, type_id: int | None) -> web.StreamResponse:
    actor = require_actor(request, *TYPE_ROLES)
    post = await request.post()
    fields = await form_fields(request)
    equipment = [str(v) for v in post.getall("equipment", [])]
    data, errors = type_from_form(fields, equipment)
    setup = request.app[SCHEDULING].setup

    # The profession's part is named by the profession: its refusals belong beside the profession field.
    profession_keys = {f"requirements.{r.key}" for r in data.requirements if r.kind is RequirementKind.PROFESSION}

    async def save(session: AsyncSession) -> Any:
        try:
            if type_id is None:
                return await setup.create_consultation_type(session, actor, data)
            return await setup.update_consultation_type(session, actor, type_id, data)
        except ValidationFailed as exc:
            raise ValidationFailed(str(exc), {("profession" if k in profession_keys else k): v
                                              for k, v in exc.fields.items()}, code=exc.code) from None

    return await _save(request, "consultation_type.html", {**fields, "equipment": equipment}, save, errors,
                       lambda _view: "/consultation-types?saved=1", type_id=type_id, active=True)


async def type_new_submit(request: web.Request) -> web.StreamResponse:
    return await _type_submit(request, None)


def _type_id(request: web.Request) -> int:
    tid = parse_id(request.match_info["type_id"])
    if tid is None:
        raise web.HTTPNotFound()
    return tid


async def type_edit_form(request: web.Request) -> web.StreamResponse:
    require_actor(request, *TYPE_ROLES)
    tid = _type_id(request)
    async with request.app[DATABASE].session() as session:
        view, active = await request.app[SCHEDULING].setup.consultation_type(session, tid)
    return await _form_page(request, "consultation_type.html", _type_values(view), {}, type_id=tid,
                            active=active, code=view.code)


async def type_edit_submit(request: web.Request) -> web.StreamResponse:
    return await _type_submit(request, _type_id(request))


async def type_active(request: web.Request) -> web.StreamResponse:
    actor = require_actor(request, *TYPE_ROLES)
    tid = _type_id(request)
    active = (await form_fields(request)).get("active") == "1"
    async with request.app[DATABASE].session() as session:
        await request.app[SCHEDULING].setup.set_type_active(session, actor, tid, active)
    raise web.HTTPSeeOther("/consultation-types?saved=1")


# ------------------------------------------------------------------------------------------ import

def _problem_rows(report: ImportReport) -> list[tuple[str, str, str]]:
    """(row, column, message) in the reader's language, in the file's order."""
    rows = []
    for p in report.problems:
        column = _(IMPORT_COLUMNS[p.column]) if p.column in IMPORT_COLUMNS else p.column
        rows.append((str(p.row) if p.row else _("the whole file"), column or "–", message_for(p.code)))
    return rows


async def import_page(request: web.Request) -> web.StreamResponse:
    require_actor(request, *SETUP_ROLES)
    return render(request, "setup_import.html", {"report": None, "problems": [], "csv_text": "",
                                                 "errors": {}})


async def import_submit(request: web.Request) -> web.StreamResponse:
    """Check the file (a dry run) or, with ``confirm``, import the checked text in one transaction."""
    actor = require_actor(request, *SETUP_ROLES)
    post = await request.post()
    upload = post.get("file")
    if isinstance(upload, web.FileField):
        data = upload.file.read(MAX_BYTES + 1)
    else:
        data = str(post.get("csv_text", "")).encode()
    confirm = post.get("confirm") == "1"
    errors: dict[str, str] = {}
    report: ImportReport | None = None
    if not data.strip():
        errors["file"] = message_for("required")
    else:
        async with request.app[DATABASE].session() as session:
            report = await request.app[SCHEDULING].setup.import_rooms(
                session, actor, data, equipment_names=equipment_names(), dry_run=not confirm)
        if report.imported:
            raise web.HTTPSeeOther(f"/resources?imported={report.rooms}")
    text = data.decode("utf-8-sig", errors="replace") if report is not None and not report.problems else ""
    return render(request, "setup_import.html", {
        "report": report, "problems": _problem_rows(report) if report else [], "csv_text": text,
        "errors": errors}, status=422 if errors or (report is not None and report.problems) else 200)


def setup_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/resources/new/room", room_new_form)
    router.add_post("/resources/new/room", room_new_submit)
    router.add_get("/resources/new/equipment", equipment_new_form)
    router.add_post("/resources/new/equipment", equipment_new_submit)
    router.add_get("/resources/new/person", person_new_form)
    router.add_post("/resources/new/person", person_new_submit)
    router.add_get("/resources/import", import_page)
    router.add_post("/resources/import", import_submit)
    router.add_post("/resources/{resource_id}/details", resource_details)
    router.add_post("/resources/{resource_id}/active", resource_active)
    router.add_get("/consultation-types", types_page)
    router.add_get("/consultation-types/new", type_new_form)
    router.add_post("/consultation-types/new", type_new_submit)
    router.add_get("/consultation-types/{type_id}", type_edit_form)
    router.add_post("/consultation-types/{type_id}", type_edit_submit)
    router.add_post("/consultation-types/{type_id}/active", type_active)
