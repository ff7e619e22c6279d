"""The administrator's page for one organisation: its address and centre, its departments, and for a
municipality how people travel from it to each hospital. The list and the form for a new organisation
are in ``web.pages_admin``."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from babel.numbers import format_decimal

from server.people.appkeys import ORGANISATION_SETUP
from server.people.organisation_setup import OrganisationDetails
from server.people.travel import read_travel
from server.platform.appkeys import DATABASE
from server.platform.errors import Conflict, NotFound, ValidationFailed
from server.platform.roles import Role
from web import i18n, labels
from web.forms import form_fields, parse_id
from web.guards import require_actor
from web.messages import message_for
from web.reads import reading
from web.render import render

_DONE = {"saved", "department", "travel"}
_DETAIL_FIELDS = ("name", "code", "address", "centre_name", "centre_latitude", "centre_longitude")
_TRAVEL_FIELDS = ("hospital_id", "distance_km", "travel_minutes", "transport", "ferry_minutes")


def _org_id(request: web.Request) -> int:
    org_id = parse_id(request.match_info["organisation_id"])
    if org_id is None:
        raise NotFound("no such organisation")
    return org_id


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def distance_text(km: float) -> str:
    """ "142 km", "142,5 km" in bokmål."""
    return i18n.gettext("%(km)s km") % {"km": format_decimal(km, locale=i18n.babel_locale())}


def duration_text(minutes: int) -> str:
    """ "3 t 25 min" / "3 h 25 min"; under an hour only the minutes."""
    hours, rest = divmod(minutes, 60)
    if not hours:
        return i18n.gettext("%(minutes)d min") % {"minutes": rest}
    return i18n.gettext("%(hours)d h %(minutes)d min") % {"hours": hours, "minutes": rest}


async def _page(request: web.Request, org_id: int, *, form: str = "", values: dict[str, str] | None = None,
                errors: dict[str, str] | None = None, status: int = 200) -> web.Response:
    """The page; ``form`` names the form whose ``values`` and ``errors`` are shown (the others start fresh)."""
    setup = request.app[ORGANISATION_SETUP]
    async with reading(request) as session:
        org = await setup.get(session, org_id)
        travel = await setup.travel_from(session, org_id)
        hospitals = await setup.hospitals(session)
    details = {"name": org.name, "code": org.code or "", "address": org.address, "centre_name": org.centre_name,
               "centre_latitude": _number(org.centre_latitude), "centre_longitude": _number(org.centre_longitude)}
    done = request.query.get("done", "")
    context: dict[str, Any] = {
        "org": org, "travel": travel, "hospital_options": [(h.id, h.name) for h in hospitals],
        "transport_options": labels.transport_options(), "transport_label": labels.transport_label,
        "distance_text": distance_text, "duration_text": duration_text,
        "done": done if done in _DONE else "", "form": form,
        "details": values if form == "details" and values is not None else details,
        "department_values": values if form == "department" and values is not None else {},
        "travel_values": values if form == "travel" and values is not None else {},
        "errors": errors or {},
    }
    return render(request, "admin_organisation.html", context, status=status)


async def organisation_page(request: web.Request) -> web.StreamResponse:
    require_actor(request, Role.ADMIN)
    return await _page(request, _org_id(request))


async def organisation_save(request: web.Request) -> web.StreamResponse:
    actor = require_actor(request, Role.ADMIN)
    org_id = _org_id(request)
    fields = await form_fields(request)
    values = {k: fields.get(k, "") for k in _DETAIL_FIELDS}
    try:
        async with request.app[DATABASE].session() as session:
            await request.app[ORGANISATION_SETUP].update_details(session, actor, org_id, OrganisationDetails(
                **values))
    except ValidationFailed as exc:
        errors = {k: message_for(v) for k, v in exc.fields.items()}
        return await _page(request, org_id, form="details", values=values, errors=errors, status=422)
    raise web.HTTPSeeOther(f"/admin/organisations/{org_id}?done=saved")


async def department_add(request: web.Request) -> web.StreamResponse:
    actor = require_actor(request, Role.ADMIN)
    org_id = _org_id(request)
    fields = await form_fields(request)
    values = {"department": fields.get("department", "")}
    try:
        async with request.app[DATABASE].session() as session:
            await request.app[ORGANISATION_SETUP].add_department(session, actor, org_id, values["department"])
    except ValidationFailed as exc:
        errors = {k: message_for(v) for k, v in exc.fields.items()}
        return await _page(request, org_id, form="department", values=values, errors=errors, status=422)
    raise web.HTTPSeeOther(f"/admin/organisations/{org_id}?done=department")


async def travel_save(request: web.Request) -> web.StreamResponse:
    actor = require_actor(request, Role.ADMIN)
    org_id = _org_id(request)
    fields = await form_fields(request)
    values = {k: fields.get(k, "") for k in _TRAVEL_FIELDS}
    values["ferry"] = "on" if fields.get("ferry") else ""
    errors: dict[str, str] = {}
    hospital_id = parse_id(values["hospital_id"])
    if hospital_id is None:
        errors["hospital_id"] = "required" if not values["hospital_id"] else "unknown_hospital"
    try:
        travel = read_travel(distance_km=values["distance_km"], travel_minutes=values["travel_minutes"],
                             transport=values["transport"], ferry=bool(values["ferry"]),
                             ferry_minutes=values["ferry_minutes"])
    except ValidationFailed as exc:
        errors.update(exc.fields)
    if not errors:
        assert hospital_id is not None
        try:
            async with request.app[DATABASE].session() as session:
                await request.app[ORGANISATION_SETUP].set_travel(session, actor, org_id, hospital_id, travel)
        except ValidationFailed as exc:
            errors.update(exc.fields)
        except Conflict as exc:
            errors["hospital_id"] = exc.code
    if errors:
        return await _page(request, org_id, form="travel", values=values,
                           errors={k: message_for(v) for k, v in errors.items()}, status=422)
    raise web.HTTPSeeOther(f"/admin/organisations/{org_id}?done=travel")


def setup_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/admin/organisations/{organisation_id:[0-9]+}", organisation_page)
    router.add_post("/admin/organisations/{organisation_id:[0-9]+}", organisation_save)
    router.add_post("/admin/organisations/{organisation_id:[0-9]+}/departments", department_add)
    router.add_post("/admin/organisations/{organisation_id:[0-9]+}/travel", travel_save)
