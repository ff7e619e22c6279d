"""Resource settings for coordinators: weekly hours, dated exceptions and the resource's own calendars
(an uploaded .ics or a feed address fetched on a schedule, with the last error shown)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import date, time
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling.calendar_fetch import redact_feed_url
from scheduling.models import ExceptionKindDb, ResourceKind
from scheduling.services.factory import SchedulingServices
from scheduling.services.views import ExceptionInput, HoursInput
from server.platform.appkeys import DATABASE
from server.platform.errors import ValidationFailed
from server.platform.roles import Role
from web.appkeys import SCHEDULING
from web.dates import DateRefused, parse_day
from web.forms import parse_id
from web.guards import require_actor
from web.labels import calendar_error_label, equipment_options
from web.messages import N_, message_for
from web.reads import reading
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
                status: int = 200, values: dict[str, Any] | None = None, feed_url: str = "") -> web.Response:
    require_actor(request, *MANAGERS)
    rid = _resource_id(request)
    services = request.app[SCHEDULING]
    async with reading(request) as session:
        resource = await services.resources.get_resource(session, rid)
        hours = await services.resources.weekly_hours(session, rid)
        exceptions = await services.resources.list_exceptions(session, rid)
        sources = await services.calendars.list_sources(session, rid)
        everything = await services.setup.list_all_resources(session)
    rooms = [(r.id, r.name) for r in everything if r.kind is ResourceKind.HEALTH_ROOM and r.active]
    items = [r for r in everything if r.located_in_id == rid]
    details = values if values is not None else {
        "name": resource.name, "address": resource.address, "email": resource.email,
        "equipment": list(resource.equipment_codes), "room_id": str(resource.located_in_id or "")}
    by_day: dict[int, list[HoursInput]] = {d: [] for d in range(7)}
    for h in hours:
        by_day[h.weekday].append(h)
    context: dict[str, Any] = {
        "resource": resource, "weekdays": WEEKDAYS, "by_day": by_day, "exceptions": exceptions,
        "sources": sources, "errors": errors or {}, "notice": notice, "values": details, "rooms": rooms,
        "items": items, "equipment_options": equipment_options(), "feed_url": feed_url,
        "room_name": dict(rooms).get(resource.located_in_id or 0, ""),
    }
    return render(request, "resource.html", context, status=status)


async def resource_page_with(request: web.Request, errors: dict[str, str],
                             values: dict[str, Any]) -> web.Response:
    """The resource page again after a refused change of its details, with what was typed."""
    return await _page(request, errors, status=422, values=values)


async def resources_page(request: web.Request) -> web.StreamResponse:
    """Every resource, those in use first; the ways to add rooms, equipment and bookable staff."""
    require_actor(request, *MANAGERS)
    async with reading(request) as session:
        rows = await request.app[SCHEDULING].setup.list_all_resources(session)
    rooms = {r.id: r.name for r in rows if r.kind is ResourceKind.HEALTH_ROOM}
    return render(request, "resources.html", {
        "resources": sorted(rows, key=lambda r: not r.active), "rooms": rooms,
        "imported": parse_id(request.query.get("imported", "")) or 0})


async def resource_page(request: web.Request) -> web.StreamResponse:
    return await _page(request, notice=request.query.get("saved", ""))


def _time(raw: str) -> time:
    return time.fromisoformat(raw.strip())


Change = Callable[[AsyncSession, SchedulingServices], Awaitable[object]]


def _refusal(exc: ValidationFailed, field: str | None) -> dict[str, str]:
    """The form messages for a refused change: all on ``field``, or by the fields the service named."""
    if field is not None:
        return {field: message_for(next(iter(exc.fields.values()), exc.code))}
    return {k: message_for(v) for k, v in exc.fields.items()} or {"day": message_for(exc.code)}


async def _apply(request: web.Request, change: Change, *, saved: str, field: str | None,
                 errors: dict[str, str] | None = None) -> web.StreamResponse:
    """Run one change to the resource's settings and go back to its page; on a refusal (the form's own
    ``errors`` or the service's) show the page again with the messages and nothing saved."""
    rid = _resource_id(request)
    if not errors:
        try:
            async with request.app[DATABASE].session() as session:
                await change(session, request.app[SCHEDULING])
        except ValidationFailed as exc:
            errors = _refusal(exc, field)
    if errors:
        return await _page(request, errors, status=422)
    raise web.HTTPSeeOther(f"/resources/{rid}?saved={saved}")


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
    return await _apply(request, lambda session, s: s.resources.set_weekly_hours(session, actor, rid, hours),
                        saved="hours", field="hours", errors=errors)


async def add_exception(request: web.Request) -> web.StreamResponse:
    actor = require_actor(request, *MANAGERS)
    rid = _resource_id(request)
    form = await request.post()
    errors: dict[str, str] = {}
    try:
        day = parse_day(str(form.get("day", "")))
    except DateRefused as exc:
        errors["day"] = message_for(exc.code)
        day = date.min
    try:
        kind = ExceptionKindDb(str(form.get("kind", "")))
    except ValueError:
        errors["kind"] = message_for("invalid_choice")
        kind = ExceptionKindDb.CLOSED
    start = end = None
    if form.get("start") or form.get("end"):
        try:
            start, end = _time(str(form.get("start", ""))), _time(str(form.get("end", "")))
        except ValueError:
            errors["start"] = message_for("hours_format")
    exception = ExceptionInput(day=day, kind=kind, start=start, end=end, note=str(form.get("note", ""))[:200])
    return await _apply(request, lambda session, s: s.resources.add_exception(session, actor, rid, exception),
                        saved="exception", field=None, errors=errors)


def _posted_id(form: Mapping[str, object], field: str, what: str) -> int:
    """The id of the row a remove button names; a missing or malformed one is a refused input."""
    ident = parse_id(str(form.get(field, "")))
    if ident is None:
        raise ValidationFailed(f"unknown {what}", {field: "invalid_choice"})
    return ident


async def remove_exception(request: web.Request) -> web.StreamResponse:
    actor = require_actor(request, *MANAGERS)
    eid = _posted_id(await request.post(), "exception_id", "exception")
    return await _apply(request, lambda session, s: s.resources.remove_exception(session, actor, eid),
                        saved="exception", field="exception_id")


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
    return await _apply(request, lambda session, s: s.calendars.import_ics(session, actor, rid, data),
                        saved="calendar", field="file", errors=errors)


async def add_feed(request: web.Request) -> web.StreamResponse:
    actor = require_actor(request, *MANAGERS)
    rid = _resource_id(request)
    url = str((await request.post()).get("url", "")).strip()
    if not url:
        return await _page(request, {"url": message_for("required")}, status=422)
    try:
        async with request.app[DATABASE].session() as session:
            await request.app[SCHEDULING].calendars.add_feed_source(session, actor, rid, url)
    except ValidationFailed as exc:
        code = next(iter(exc.fields.values()), exc.code)
        # what was typed comes back, except a user name and password, which are never kept or shown
        return await _page(request, {"url": calendar_error_label(code)}, status=422, feed_url=redact_feed_url(url))
    raise web.HTTPSeeOther(f"/resources/{rid}?saved=calendar")


async def remove_source(request: web.Request) -> web.StreamResponse:
    actor = require_actor(request, *MANAGERS)
    sid = _posted_id(await request.post(), "source_id", "calendar")
    return await _apply(request, lambda session, s: s.calendars.remove_source(session, actor, sid),
                        saved="calendar", field="source_id")


def setup_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/resources", resources_page)
    router.add_get("/resources/{resource_id}", resource_page)
    router.add_post("/resources/{resource_id}/hours", save_hours)
    router.add_post("/resources/{resource_id}/exceptions", add_exception)
    router.add_post("/resources/{resource_id}/exceptions/remove", remove_exception)
    router.add_post("/resources/{resource_id}/calendar/upload", upload_calendar)
    router.add_post("/resources/{resource_id}/calendar/feed", add_feed)
    router.add_post("/resources/{resource_id}/calendar/remove", remove_source)
