"""Administration: users, organisations, the audit chain, and the team leader's overview."""

from __future__ import annotations

from aiohttp import web

from server.people.appkeys import ACCOUNTS
from server.platform.appkeys import AUDIT, DATABASE
from server.platform.errors import Conflict, ValidationFailed
from server.platform.roles import OrganisationKind, Role
from web import labels
from web.forms import form_fields, parse_id
from web.guards import require_actor
from web.messages import N_, message_for
from web.render import render

ROLE_LABELS = {
    Role.COORDINATOR: N_("Coordinators"),
    Role.SPECIALIST: N_("Specialists"),
    Role.NURSE: N_("Nurses"),
    Role.TEAM_LEADER: N_("Team leaders"),
    Role.ADMIN: N_("Administrators"),
}


async def _user_page(request: web.Request, values: dict[str, str], errors: dict[str, str],
                     status: int = 200) -> web.Response:
    async with request.app[DATABASE].session() as session:
        accounts = request.app[ACCOUNTS]
        users = await accounts.list_users(session)
        orgs = await accounts.list_organisations(session)
        departments = await accounts.list_departments(session)
    return render(request, "admin_users.html", {
        "active": [u for u in users if u.is_active], "inactive": [u for u in users if not u.is_active],
        "organisations": orgs, "departments": departments, "role_options": labels.role_options(),
        "profession_options": labels.profession_options(), "profession_label": labels.profession_label,
        "values": values, "errors": errors, "created": request.query.get("created"),
    }, status=status)


async def users_page(request: web.Request) -> web.StreamResponse:
    require_actor(request, Role.ADMIN)
    return await _user_page(request, {}, {})


async def users_create(request: web.Request) -> web.StreamResponse:
    actor = require_actor(request, Role.ADMIN)
    fields = await form_fields(request)
    errors: dict[str, str] = {}
    try:
        role = Role(fields.get("role", ""))
    except ValueError:
        errors["role"] = message_for("invalid_choice")
    org_id = parse_id(fields.get("organisation_id")) or 0
    dep_raw = fields.get("department_id", "")
    dep_id = parse_id(dep_raw)
    if not errors:
        try:
            async with request.app[DATABASE].session() as session:
                await request.app[ACCOUNTS].create_user(
                    session, username=fields.get("username", ""), display_name=fields.get("display_name", ""),
                    password=fields.get("password", ""), role=role, organisation_id=org_id,
                    department_id=dep_id, email=fields.get("email", ""), phone=fields.get("phone", ""),
                    profession=fields.get("profession", ""), actor=actor,
                )
        except ValidationFailed as exc:
            errors = {k: message_for(v) for k, v in exc.fields.items()}
    if errors:
        values = {k: v for k, v in fields.items() if k != "password"}
        return await _user_page(request, values, errors, status=422)
    raise web.HTTPSeeOther(f"/admin/users?created={fields.get('username', '').strip().lower()}")


async def _org_page(request: web.Request, values: dict[str, str], errors: dict[str, str],
                    status: int = 200) -> web.Response:
    async with request.app[DATABASE].session() as session:
        orgs = await request.app[ACCOUNTS].list_organisations(session)
        departments = await request.app[ACCOUNTS].list_departments(session)
    return render(request, "admin_organisations.html", {
        "organisations": orgs, "departments": departments, "kinds": list(OrganisationKind),
        "values": values, "errors": errors,
    }, status=status)


async def organisations_page(request: web.Request) -> web.StreamResponse:
    require_actor(request, Role.ADMIN)
    return await _org_page(request, {}, {})


async def organisations_create(request: web.Request) -> web.StreamResponse:
    actor = require_actor(request, Role.ADMIN)
    fields = await form_fields(request)
    errors: dict[str, str] = {}
    try:
        kind = OrganisationKind(fields.get("kind", ""))
    except ValueError:
        errors["kind"] = message_for("invalid_choice")
    if not errors:
        departments = [d.strip() for d in fields.get("departments", "").split(",") if d.strip()]
        try:
            async with request.app[DATABASE].session() as session:
                await request.app[ACCOUNTS].create_organisation(
                    session, fields.get("name", ""), kind, fields.get("code") or None, departments, actor=actor)
        except ValidationFailed as exc:
            errors = {k: message_for(v) for k, v in exc.fields.items()}
        except Conflict as exc:
            errors = {"name": message_for(exc.code)}
    if errors:
        return await _org_page(request, fields, errors, status=422)
    raise web.HTTPSeeOther("/admin/organisations")


async def audit_page(request: web.Request) -> web.StreamResponse:
    require_actor(request, Role.ADMIN)
    async with request.app[DATABASE].session() as session:
        result = await request.app[AUDIT].verify(session)
    return render(request, "admin_audit.html", {"result": result})


async def team_overview(request: web.Request) -> web.StreamResponse:
    actor = require_actor(request, Role.TEAM_LEADER, Role.ADMIN)
    async with request.app[DATABASE].session() as session:
        overview = await request.app[ACCOUNTS].organisation_overview(session, actor)
    return render(request, "team.html", {
        "staff": [(ROLE_LABELS[role], count) for role, count in overview.staff_by_role.items()],
        "patient_count": overview.patient_count,
    })
