"""Administration: users, organisations, the audit chain, and the team leader's overview."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

from aiohttp import web

from server.people.appkeys import ACCOUNTS
from server.people.audit_review import AuditFilter, AuditPage, AuditReview
from server.platform.appkeys import AUDIT, DATABASE
from server.platform.errors import Conflict, ValidationFailed
from server.platform.roles import OrganisationKind, Role
from web import labels
from web.dates import DateRefused, parse_day
from web.forms import form_fields, parse_id
from web.guards import require_actor
from web.labels import action_options, audit_reason_text
from web.messages import N_, message_for
from web.reads import reading
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
    async with reading(request) as session:
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
    async with reading(request) as session:
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


def _audit_filter(request: web.Request, errors: dict[str, str]) -> AuditFilter:
    query = request.query

    def day(name: str) -> date | None:
        raw = query.get(name, "").strip()
        if not raw:
            return None
        try:
            return parse_day(raw)
        except DateRefused as exc:
            errors[name] = message_for(exc.code)
            return None

    user_raw = query.get("user", "").strip()
    user_id = parse_id(user_raw)
    if user_raw and user_id is None:
        errors["user"] = message_for("invalid_choice")
    action = query.get("action", "").strip()
    if action and action not in dict(action_options()):
        errors["action"] = message_for("invalid_choice")
        action = ""
    return AuditFilter(national_id=query.get("patient", "").strip()[:20], user_id=user_id, action=action,
                       date_from=day("from"), date_to=day("to"))


def _page_link(request: web.Request, before: int | None) -> str:
    """This filter, from the newest rows (``before`` None) or from those older than row ``before``."""
    query = {k: v for k, v in request.query.items() if k != "before"}
    if before is not None:
        query["before"] = str(before)
    return "/admin/audit" + (f"?{urlencode(query)}" if query else "")


async def audit_page(request: web.Request) -> web.StreamResponse:
    """The audit log: the chain checked, then its entries in words, filtered and a page at a time."""
    actor = require_actor(request, Role.ADMIN)
    review = AuditReview(request.app[AUDIT])
    errors: dict[str, str] = {}
    wanted = _audit_filter(request, errors)
    found: AuditPage | None = None
    async with reading(request) as session:
        result = await request.app[AUDIT].verify(session)
        users = await review.users(session, actor)
        if not errors:
            try:
                found = await review.page(session, actor, wanted, parse_id(request.query.get("before", "")))
            except ValidationFailed as exc:
                errors = {k: message_for(v) for k, v in exc.fields.items()}
    return render(request, "admin_audit.html", {
        "result": result, "users": users, "actions": action_options(), "values": dict(request.query),
        "errors": errors, "found": found, "reason_label": audit_reason_text,
        "newest_link": _page_link(request, None) if found and found.first > 1 else "",
        "older_link": _page_link(request, found.older) if found and found.older is not None else "",
    }, status=422 if errors else 200)


async def team_overview(request: web.Request) -> web.StreamResponse:
    actor = require_actor(request, Role.TEAM_LEADER, Role.ADMIN)
    async with reading(request) as session:
        overview = await request.app[ACCOUNTS].organisation_overview(session, actor)
    return render(request, "team.html", {
        "staff": [(ROLE_LABELS[role], count) for role, count in overview.staff_by_role.items()],
        "patient_count": overview.patient_count,
    })
