"""Read-only HL7 FHIR R5 views of the schedule: Schedule, Slot (free and busy) and Appointment.

Served as ``application/fhir+json`` under ``/fhir``; errors there are OperationOutcomes. Reads of
appointments go through the booking service, so they are audited like any other read.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from aiohttp import web

from scheduling.intervals import Interval, IntervalSet
from scheduling.models import BookingStatus, ResourceKind
from scheduling.services.views import BookingView, FreeBusyView, ResourceView
from server.people.patients import CLINICAL_ROLES
from server.platform.appkeys import CLOCK, DATABASE, SETTINGS
from server.platform.errors import NotFound, ValidationFailed
from server.platform.local_time import OSLO
from web.appkeys import SCHEDULING
from web.dates import query_day
from web.fhir_outcome import fhir_response
from web.forms import parse_id
from web.guards import require_actor
from web.reads import reading

VIRTUAL_SERVICE_SYSTEM = "https://samkonsult.no/fhir/CodeSystem/virtual-service"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"

APPOINTMENT_STATUS = {
    BookingStatus.BOOKED: "booked",
    BookingStatus.ARRIVED: "arrived",
    BookingStatus.IN_PROGRESS: "checked-in",
    BookingStatus.COMPLETED: "fulfilled",
    BookingStatus.CANCELLED: "cancelled",
    BookingStatus.NO_SHOW: "noshow",
}


def fhir_id(public_id: str) -> str:
    """Our URL-safe ids use ``_``, which FHIR ids may not; ``.`` never occurs in them, so swap it."""
    return public_id.replace("_", ".")


def from_fhir_id(resource_id: str) -> str:
    return resource_id.replace(".", "_")


def _actor_ref(kind: ResourceKind, resource_id: int) -> str:
    return f"Location/{resource_id}" if kind is ResourceKind.HEALTH_ROOM else f"Practitioner/{resource_id}"


def schedule_resource(r: ResourceView, horizon: tuple[datetime, datetime]) -> dict[str, Any]:
    return {
        "resourceType": "Schedule",
        "id": str(r.id),
        "active": r.active,
        "name": r.name,
        "actor": [{"reference": _actor_ref(r.kind, r.id), "display": r.name}],
        "planningHorizon": {"start": horizon[0].isoformat(), "end": horizon[1].isoformat()},
    }


def slot_resources(fb: FreeBusyView) -> list[dict[str, Any]]:
    """Free slots (open hours not busy) and busy slots of one schedule, in time order."""
    busy = IntervalSet(Interval(a, b) for a, b in fb.busy)
    free = IntervalSet(Interval(a, b) for a, b in fb.open).difference(busy)
    items = [("free", a, b) for a, b in free.pairs()] + [("busy", a, b) for a, b in busy.pairs()]
    items.sort(key=lambda item: item[1])
    return [{
        "resourceType": "Slot",
        "id": f"{fb.resource_id}-{status}-{int(start.timestamp())}",
        "schedule": {"reference": f"Schedule/{fb.resource_id}", "display": fb.name},
        "status": status,
        "start": start.isoformat(),
        "end": end.isoformat(),
    } for status, start, end in items]


def appointment_resource(b: BookingView, video_url: str) -> dict[str, Any]:
    participant_status = "declined" if b.status is BookingStatus.CANCELLED else "accepted"
    participants: list[dict[str, Any]] = [{
        "actor": {"reference": _actor_ref(p.kind, p.resource_id), "display": p.name},
        "required": True,
        "status": participant_status,
    } for p in b.participants]
    participants.append({
        "actor": {"reference": f"Patient/{fhir_id(b.patient_public_id)}", "display": b.patient_name},
        "required": True,
        "status": participant_status,
    })
    body: dict[str, Any] = {
        "resourceType": "Appointment",
        "id": fhir_id(b.public_id),
        "status": APPOINTMENT_STATUS[b.status],
        "class": [{"coding": [{"system": ACT_CODE, "code": "VR", "display": "virtual"}]}],
        "description": b.consultation_type_name,
        "start": b.start.isoformat(),
        "end": b.end.isoformat(),
        "minutesDuration": int((b.end - b.start).total_seconds() // 60),
        "created": b.created_at.isoformat(),
        "subject": {"reference": f"Patient/{fhir_id(b.patient_public_id)}", "display": b.patient_name},
        "participant": participants,
        "virtualService": [{
            "channelType": {"system": VIRTUAL_SERVICE_SYSTEM, "code": "samkonsult-video",
                            "display": "Samkonsult video"},
            "addressUrl": video_url,
        }],
    }
    if b.status is BookingStatus.CANCELLED and b.cancel_reason:
        body["cancellationReason"] = {"text": b.cancel_reason}
    return body


def bundle(resources: list[dict[str, Any]], base: str) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(resources),
        "entry": [{"fullUrl": f"{base}/fhir/{r['resourceType']}/{r['id']}", "resource": r,
                   "search": {"mode": "match"}} for r in resources],
    }


def _base(request: web.Request) -> str:
    return request.app[SETTINGS].public_url.rstrip("/")


def _week(request: web.Request) -> tuple[datetime, datetime]:
    today = request.app[CLOCK].now().astimezone(OSLO).date()
    start = query_day(request, "start", today)
    end = query_day(request, "end", start + timedelta(days=7))
    if not start < end <= start + timedelta(days=31):
        raise ValidationFailed("at most 31 days", {"end": "invalid_period"})
    return (datetime.combine(start, time(0), tzinfo=OSLO), datetime.combine(end, time(0), tzinfo=OSLO))


async def schedules(request: web.Request) -> web.Response:
    require_actor(request, *CLINICAL_ROLES)
    horizon = _week(request)
    async with request.app[DATABASE].session() as session:
        rows = await request.app[SCHEDULING].resources.list_resources(session)
    items = [schedule_resource(r, horizon) for r in rows if r.kind is not ResourceKind.EQUIPMENT]
    return fhir_response(bundle(items, _base(request)))


async def schedule(request: web.Request) -> web.Response:
    require_actor(request, *CLINICAL_ROLES)
    rid = parse_id(request.match_info["id"])
    if rid is None:
        raise NotFound("no such schedule")
    async with request.app[DATABASE].session() as session:
        row = await request.app[SCHEDULING].resources.get_resource(session, rid)
    return fhir_response(schedule_resource(row, _week(request)))


async def slots(request: web.Request) -> web.Response:
    actor = require_actor(request, *CLINICAL_ROLES)
    rid = parse_id(request.query.get("schedule", "").removeprefix("Schedule/"))
    if rid is None:
        raise ValidationFailed("give schedule=Schedule/<id>", {"schedule": "required"})
    lo, hi = _week(request)
    async with request.app[DATABASE].session() as session:
        await request.app[SCHEDULING].resources.get_resource(session, rid)
        views = await request.app[SCHEDULING].slots.free_busy(session, actor, [rid], lo, hi)
    return fhir_response(bundle(slot_resources(views[0]), _base(request)))


async def appointment(request: web.Request) -> web.Response:
    actor = require_actor(request, *CLINICAL_ROLES)
    async with request.app[DATABASE].session() as session:
        booking = await request.app[SCHEDULING].bookings.get(session, actor, from_fhir_id(request.match_info["id"]),
                                                            "FHIR read")
    return fhir_response(appointment_resource(booking, f"{_base(request)}/consultations/{booking.public_id}"))


async def appointments(request: web.Request) -> web.Response:
    """The caller's appointments on a date (``date=YYYY-MM-DD``, default today)."""
    actor = require_actor(request, *CLINICAL_ROLES)
    today = request.app[CLOCK].now().astimezone(OSLO).date()
    day = query_day(request, "date", today)
    async with reading(request) as session:
        rows = await request.app[SCHEDULING].bookings.day_list(session, actor, day)
    base = _base(request)
    return fhir_response(bundle([appointment_resource(b, f"{base}/consultations/{b.public_id}") for b in rows],
                                base))


def setup_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/fhir/Schedule", schedules)
    router.add_get("/fhir/Schedule/{id}", schedule)
    router.add_get("/fhir/Slot", slots)
    router.add_get("/fhir/Appointment", appointments)
    router.add_get("/fhir/Appointment/{id}", appointment)
