"""The administrator's page for one staff member: edit, deactivate or reactivate, and reset the password
or two-factor login. The list and the form for a new user are in ``web.pages_admin``."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from server.people.appkeys import ACCOUNTS, STAFF_ADMIN
from server.people.staff_admin import StaffChanges
from server.platform.appkeys import DATABASE
from server.platform.errors import Conflict, NotFound, ValidationFailed
from server.platform.roles import Role
from web import labels
from web.forms import form_fields, parse_id
from web.guards import require_actor
from web.messages import message_for
from web.reads import reading
from web.render import render

_DONE = {"saved", "deactivated", "reactivated", "two_factor_reset"}


def _user_id(request: web.Request) -> int:
    user_id = parse_id(request.match_info["user_id"])
    if user_id is None:
        raise NotFound("no such user")
    return user_id


async def _page(request: web.Request, user_id: int, *, values: dict[str, str] | None = None,
                errors: dict[str, str] | None = None, status: int = 200, extra: dict[str, Any] | None = None
                ) -> web.Response:
    async with reading(request) as session:
        user = await request.app[STAFF_ADMIN].get(session, user_id)
        orgs = await request.app[ACCOUNTS].list_organisations(session)
        departments = await request.app[ACCOUNTS].list_departments(session)
    if values is None:
        values = {"display_name": user.display_name, "email": user.email, "phone": user.phone,
                  "role": user.role.value, "organisation_id": str(user.organisation_id),
                  "department_id": str(user.department_id or ""), "profession": user.profession}
    done = request.query.get("done", "")
    response = render(request, "admin_user.html", {
        "person": user, "organisations": orgs, "departments": departments, "values": values,
        "errors": errors or {}, "role_options": labels.role_options(),
        "profession_options": labels.profession_options(), "profession_label": labels.profession_label,
        "done": done if done in _DONE else "", "temporary_password": "", "action_error": "", **(extra or {}),
    }, status=status)
    response.headers["Cache-Control"] = "no-store"
    return response


async def user_page(request: web.Request) -> web.StreamResponse:
    require_actor(request, Role.ADMIN)
    return await _page(request, _user_id(request))


async def user_save(request: web.Request) -> web.StreamResponse:
    actor = require_actor(request, Role.ADMIN)
    user_id = _user_id(request)
    fields = await form_fields(request)
    values = {k: fields.get(k, "") for k in ("display_name", "email", "phone", "role", "organisation_id",
                                              "department_id", "profession")}
    org_id = parse_id(values["organisation_id"])
    dep_id = parse_id(values["department_id"])
    errors: dict[str, str] = {}
    if values["department_id"] and dep_id is None:
        errors["department_id"] = message_for("unknown_department")
    if not errors:
        try:
            async with request.app[DATABASE].session() as session:
                await request.app[STAFF_ADMIN].update(session, actor, user_id, StaffChanges(
                    display_name=values["display_name"], email=values["email"], phone=values["phone"],
                    role=values["role"], organisation_id=org_id, department_id=dep_id,
                    profession=values["profession"]))
        except ValidationFailed as exc:
            errors = {k: message_for(v) for k, v in exc.fields.items()}
    if errors:
        return await _page(request, user_id, values=values, errors=errors, status=422)
    raise web.HTTPSeeOther(f"/admin/users/{user_id}?done=saved")


async def _action(request: web.Request, name: str) -> web.StreamResponse:
    actor = require_actor(request, Role.ADMIN)
    user_id = _user_id(request)
    admin = request.app[STAFF_ADMIN]
    password = ""
    try:
        async with request.app[DATABASE].session() as session:
            if name == "deactivate":
                await admin.deactivate(session, actor, user_id)
                done = "deactivated"
            elif name == "reactivate":
                await admin.reactivate(session, actor, user_id)
                done = "reactivated"
            elif name == "reset-two-factor":
                await admin.reset_two_factor(session, actor, user_id)
                done = "two_factor_reset"
            else:
                password = await admin.reset_password(session, actor, user_id)
                done = ""
    except Conflict as exc:
        return await _page(request, user_id, extra={"action_error": message_for(exc.code)}, status=409)
    if password:  # shown in this answer only, never in an address or on a later page
        return await _page(request, user_id, extra={"temporary_password": password})
    raise web.HTTPSeeOther(f"/admin/users/{user_id}?done={done}")


async def user_deactivate(request: web.Request) -> web.StreamResponse:
    return await _action(request, "deactivate")


async def user_reactivate(request: web.Request) -> web.StreamResponse:
    return await _action(request, "reactivate")


async def user_reset_password(request: web.Request) -> web.StreamResponse:
    return await _action(request, "reset-password")


async def user_reset_two_factor(request: web.Request) -> web.StreamResponse:
    return await _action(request, "reset-two-factor")


def setup_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/admin/users/{user_id:[0-9]+}", user_page)
    router.add_post("/admin/users/{user_id:[0-9]+}", user_save)
    router.add_post("/admin/users/{user_id:[0-9]+}/deactivate", user_deactivate)
    router.add_post("/admin/users/{user_id:[0-9]+}/reactivate", user_reactivate)
    router.add_post("/admin/users/{user_id:[0-9]+}/reset-password", user_reset_password)
    router.add_post("/admin/users/{user_id:[0-9]+}/reset-two-factor", user_reset_two_factor)
