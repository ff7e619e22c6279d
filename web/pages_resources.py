"""Resource settings for coordinators: weekly hours, dated exceptions and the resource's own calendars
(an uploaded .ics or a feed address fetched on a schedule, with the last error shown)."""

from __future__ import annotations

from datetime import date, time
from typing import Any

from aiohttp import web

from scheduling.models import ExceptionKindDb
from scheduling.services.views import ExceptionInput, HoursInput
from server.appkeys import DATABASE, SCHEDULING
from server.errors import ValidationFailed
from server.models import Role
from web.forms import parse_id
from web.guards import require_actor
from web.messages import N_, message_for
from web.render import render

WEEKDAYS = (N_("Monday"), N_("Tuesday"), N_("Wednesday"), N_("Thursday"), N_("Friday"), N_("Saturday"),
            N_("Sunday"))
MAX_UPLOAD = 2 * 1024 * 1024
MANAGERS = (Role.COORDINATOR, Role.ADMIN)


def _resource_id(request: web.Request) -> int:
    rid = parse_id(request.match_info["resource_id"])
    if rid is None:
        raise web.HTTPNotFound()
    return rid


async def _page(request: web.Request, errors: dict[str, str] | None = None, notice: str = "",
                status: int = 200) -> web.Response:
    require_actor(request, *MANAGERS)
    rid = _resource_id(request)
    services = request.app[SCHEDULING]
    async with request.app[DATABASE].session() as session:
        resource = await services.resources.get_resource(session, rid)
        hours = await services.resources.weekly_hours(session, rid)
        exceptions = await services.resources.list_exceptions(session, rid)
        sources = await services.resources.list_sources(session, rid)
    by_day: dict[int, list[HoursInput]] = {d: [] for d in range(7)}
    for h in hours:
        by_day[h.weekday].append(h)
    context: dict[str, Any] = {
        "resource": resource, "weekdays": WEEKDAYS, "by_day": by_day, "exceptions": exceptions,
        "sources": sources, "errors": errors or {}, "notice": notice,
    }
    return render(request, "resource.html", context, status=status)


async def resources_page(request: web.Request) -> web.StreamResponse:
    require_actor(request, *MANAGERS)
    async with request.app[DATABASE].session() as session:
        rows = await request.app[SCHEDULING].resources.list_resources(session)
    return render(request, "resources.html", {"resources": rows})


async def resource_page(request: web.Request) -> web.StreamResponse:
    return await _page(request, notice=request.query.get("saved", ""))


def _time(raw: str) -> time:
    return time.fromisoformat(raw.strip())


async def save_hours(request: web.Request) -> web.StreamResponse:
    """One "from–to" pair per weekday (empty means closed); several ranges as "08:00-11:00, 12:00-15:30"."""
    actor = require_actor(request, *MANAGERS)
    rid = _resource_id(request)
    form = await request.post()
    hours: list[HoursInput] = []
    errors: dict[str, str] = {}
    for day in range(7):
        raw = str(form.get(f"day{day}", "")).strip()
        for part in filter(None, (p.strip() for p in raw.split(","))):
            start, _, end = part.partition("-")
            try:
                hours.append(HoursInput(weekday=day, start=_time(start), end=_time(end)))
            except ValueError:
                errors[f"day{day}"] = message_for("hours_format")
    if not errors:
        try:
            async with request.app[DATABASE].session() as session:
                await request.app[SCHEDULING].resources.set_weekly_hours(session, actor, rid, hours)
        except ValidationFailed as exc:
            errors = {"hours": message_for(next(iter(exc.fields.values()), exc.code))}
    if errors:
        return await _page(request, errors, status=422)
    raise web.HTTPSeeOther(f"/resources/{rid}?saved=hours")


async def add_exception(request: web.Request) -> web.StreamResponse:
    actor = require_actor(request, *MANAGERS)
    rid = _resource_id(request)
    form = await request.post()
    errors: dict[str, str] = {}
    try:
        day = date.fromisoformat(str(form.get("day", "")))
    except ValueError:
        errors["day"] = message_for("invalid_date")
        day = date.min
    kind_raw = str(form.get("kind", ""))
    try:
        kind = ExceptionKindDb(kind_raw)
    except ValueError:
        errors["kind"] = message_for("invalid_choice")
        kind = ExceptionKindDb.CLOSED
    start = end = None
    if form.get("start") or form.get("end"):
        try:
            start, end = _time(str(form.get("start", ""))), _time(str(form.get("end", "")))
        except ValueError:
            errors["start"] = message_for("hours_format")
    if not errors:
        try:
            async with request.app[DATABASE].session() as session:
                await request.app[SCHEDULING].resources.add_exception(session, actor, rid, ExceptionInput(
                    day=day, kind=kind, start=start, end=end, note=str(form.get("note", ""))[:200]))
        except ValidationFailed as exc:
            errors = {k: message_for(v) for k, v in exc.fields.items()} or {"day": message_for(exc.code)}
    if errors:
        return await _page(request, errors, status=422)
    raise web.HTTPSeeOther(f"/resources/{rid}?saved=exception")


async def remove_exception(request: web.Request) -> web.StreamResponse:
    actor = require_actor(request, *MANAGERS)
    rid = _resource_id(request)
    form = await request.post()
    eid = parse_id(str(form.get("exception_id", "")))
    if eid is None:
        raise ValidationFailed("unknown exception", {"exception_id": "invalid_choice"})
    async with request.app[DATABASE].session() as session:
        await request.app[SCHEDULING].resources.remove_exception(session, actor, eid)
    raise web.HTTPSeeOther(f"/resources/{rid}?saved=exception")


async def upload_calendar(request: web.Request) -> web.StreamResponse:
    actor = require_actor(request, *MANAGERS)
    rid = _resource_id(request)
    form = await request.post()
    upload = form.get("file")
    data = upload.file.read(MAX_UPLOAD + 1) if isinstance(upload, web.FileField) else b""
    errors: dict[str, str] = {}
    if not data:
        errors["file"] = message_for("required")
    elif len(data) > MAX_UPLOAD:
        errors["file"] = message_for("too_large")
    if not errors:
        try:
            async with request.app[DATABASE].session() as session:
                await request.app[SCHEDULING].resources.import_ics(session, actor, rid, data)
        except ValidationFailed as exc:
            errors = {"file": message_for(next(iter(exc.fields.values()), exc.code))}
    if errors:
        return await _page(request, errors, status=422)
    raise web.HTTPSeeOther(f"/resources/{rid}?saved=calendar")


async def add_feed(request: web.Request) -> web.StreamResponse:
    actor = require_actor(request, *MANAGERS)
    rid = _resource_id(request)
    form = await request.post()
    try:
        async with request.app[DATABASE].session() as session:
            await request.app[SCHEDULING].resources.add_feed_source(session, actor, rid,
                                                                     str(form.get("url", "")).strip())
    except ValidationFailed as exc:
        return await _page(request, {"url": message_for(next(iter(exc.fields.values()), exc.code))}, status=422)
    raise web.HTTPSeeOther(f"/resources/{rid}?saved=calendar")


async def remove_source(request: web.Request) -> web.StreamResponse:
    actor = require_actor(request, *MANAGERS)
    rid = _resource_id(request)
    form = await request.post()
    sid = parse_id(str(form.get("source_id", "")))
    if sid is None:
        raise ValidationFailed("unknown calendar", {"source_id": "invalid_choice"})
    async with request.app[DATABASE].session() as session:
        await request.app[SCHEDULING].resources.remove_source(session, actor, sid)
    raise web.HTTPSeeOther(f"/resources/{rid}?saved=calendar")


def setup_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/resources", resources_page)
    router.add_get("/resources/{resource_id}", resource_page)
    router.add_post("/resources/{resource_id}/hours", save_hours)
    router.add_post("/resources/{resource_id}/exceptions", add_exception)
    router.add_post("/resources/{resource_id}/exceptions/remove", remove_exception)
    router.add_post("/resources/{resource_id}/calendar/upload", upload_calendar)
    router.add_post("/resources/{resource_id}/calendar/feed", add_feed)
    router.add_post("/resources/{resource_id}/calendar/remove", remove_source)
