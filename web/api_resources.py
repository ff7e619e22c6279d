"""The JSON API for setting up resources: opening hours, exceptions, and busy times from calendars."""

from __future__ import annotations

from datetime import date, time

from aiohttp import web

from scheduling.models import ExceptionKindDb
from scheduling.services.views import ExceptionInput, HoursInput
from server.platform.appkeys import DATABASE
from server.platform.errors import NotFound, ValidationFailed
from server.platform.roles import Role
from web.appkeys import SCHEDULING
from web.dates import DateRefused, parse_day
from web.forms import get_str, json_object, parse_id, reject_unknown
from web.guards import require_actor

MAX_ICS_BYTES = 2 * 1024 * 1024


async def busy_import(request: web.Request) -> web.Response:
    """Upload a resource's own calendar (.ics); its busy times block slots from now on."""
    actor = require_actor(request, Role.COORDINATOR, Role.ADMIN, Role.SPECIALIST, Role.NURSE)
    if request.content_type != "text/calendar":
        raise ValidationFailed("send text/calendar", {"body": "unsupported_media_type"})
    if request.content_length is not None and request.content_length > MAX_ICS_BYTES:
        raise ValidationFailed("too large", {"body": "too_large"})
    data = await request.read()
    rid = parse_id(request.match_info["resource_id"])
    if rid is None:
        raise ValidationFailed("unknown resource", {"resource_id": "invalid_choice"})
    async with request.app[DATABASE].session(write_lock=True) as session:
        result = await request.app[SCHEDULING].calendars.import_ics(session, actor, rid, data)
    return web.json_response({"intervals": result.intervals, "occurrences": result.occurrences,
                              "ignored_free": result.ignored_free, "ignored_cancelled": result.ignored_cancelled,
                              "imported_at": result.imported_at.isoformat()}, status=201)


def _resource_path_id(request: web.Request) -> int:
    rid = parse_id(request.match_info["resource_id"])
    if rid is None:
        raise ValidationFailed("unknown resource", {"resource_id": "invalid_choice"})
    return rid


def _clock_time(raw: object, field: str, errors: dict[str, str]) -> time | None:
    if not isinstance(raw, str):
        errors[field] = "hours_format"
        return None
    try:
        return time.fromisoformat(raw)
    except ValueError:
        errors[field] = "hours_format"
        return None


async def weekly_hours_put(request: web.Request) -> web.Response:
    """Replace a resource's weekly hours: ``{"hours": [{"weekday": 0, "start": "08:00", "end": "15:30"}]}``."""
    actor = require_actor(request, Role.COORDINATOR, Role.ADMIN)
    rid = _resource_path_id(request)
    body = await json_object(request)
    errors: dict[str, str] = {}
    reject_unknown(body, {"hours"}, errors)
    raw = body.get("hours")
    hours: list[HoursInput] = []
    if not isinstance(raw, list) or len(raw) > 70:
        errors["hours"] = "invalid_choice"
        raw = []
    for i, item in enumerate(raw):
        weekday = item.get("weekday") if isinstance(item, dict) else None
        if isinstance(weekday, bool) or not isinstance(weekday, int) or not 0 <= weekday <= 6:
            errors[f"hours[{i}].weekday"] = "invalid_choice"
            continue
        start = _clock_time(item.get("start"), f"hours[{i}].start", errors)
        end = _clock_time(item.get("end"), f"hours[{i}].end", errors)
        if start is not None and end is not None:
            hours.append(HoursInput(weekday=weekday, start=start, end=end))
    if errors:
        raise ValidationFailed("the hours could not be saved", errors)
    async with request.app[DATABASE].session() as session:
        await request.app[SCHEDULING].resources.set_weekly_hours(session, actor, rid, hours)
        saved = await request.app[SCHEDULING].resources.weekly_hours(session, rid)
    return web.json_response({"hours": [{"weekday": h.weekday, "start": h.start.strftime("%H:%M"),
                                         "end": h.end.strftime("%H:%M")} for h in saved]})


async def exception_create(request: web.Request) -> web.Response:
    actor = require_actor(request, Role.COORDINATOR, Role.ADMIN)
    rid = _resource_path_id(request)
    body = await json_object(request)
    errors: dict[str, str] = {}
    reject_unknown(body, {"day", "kind", "start", "end", "note"}, errors)
    try:
        day = parse_day(get_str(body, "day", max_len=10, errors=errors) or "x")
    except DateRefused as exc:
        errors.setdefault("day", exc.code)
        day = date.min
    try:
        kind = ExceptionKindDb(get_str(body, "kind", max_len=10, errors=errors))
    except ValueError:
        errors.setdefault("kind", "invalid_choice")
        kind = ExceptionKindDb.CLOSED
    start = _clock_time(body["start"], "start", errors) if "start" in body else None
    end = _clock_time(body["end"], "end", errors) if "end" in body else None
    note = get_str(body, "note", required=False, max_len=200, errors=errors)
    if errors:
        raise ValidationFailed("the exception could not be saved", errors)
    async with request.app[DATABASE].session() as session:
        view = await request.app[SCHEDULING].resources.add_exception(
            session, actor, rid, ExceptionInput(day=day, kind=kind, start=start, end=end, note=note))
    return web.json_response({"id": view.id, "day": view.day.isoformat(), "kind": view.kind.value,
                              "start": view.start.strftime("%H:%M") if view.start else None,
                              "end": view.end.strftime("%H:%M") if view.end else None, "note": view.note},
                             status=201)


async def exception_delete(request: web.Request) -> web.Response:
    """Remove one of the resource's exceptions: the weekly hours apply on that day again."""
    actor = require_actor(request, Role.COORDINATOR, Role.ADMIN)
    rid = _resource_path_id(request)
    eid = parse_id(request.match_info["exception_id"])
    if eid is None:
        raise NotFound("no such exception")
    async with request.app[DATABASE].session() as session:
        await request.app[SCHEDULING].resources.remove_exception(session, actor, eid, resource_id=rid)
    return web.json_response({"id": eid, "removed": True})


async def calendar_source_create(request: web.Request) -> web.Response:
    """Register a calendar feed address for a resource; it is fetched on a schedule."""
    actor = require_actor(request, Role.COORDINATOR, Role.ADMIN)
    rid = _resource_path_id(request)
    body = await json_object(request)
    errors: dict[str, str] = {}
    reject_unknown(body, {"url"}, errors)
    url = get_str(body, "url", max_len=2000, errors=errors)
    if errors:
        raise ValidationFailed("the feed could not be added", errors)
    async with request.app[DATABASE].session() as session:
        view = await request.app[SCHEDULING].calendars.add_feed_source(session, actor, rid, url)
    return web.json_response({"id": view.id, "url": view.url, "kind": view.kind.value,
                              "last_error": view.last_error}, status=201)
