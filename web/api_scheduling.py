"""The scheduling JSON API: consultation types, resources, referrals, slots, bookings, day lists."""

from __future__ import annotations

import sys
from datetime import datetime, timedelta

from aiohttp import web

from scheduling.models import BookingStatus, ResourceKind, Urgency
from scheduling.services.views import (
    BookRequest,
    ReferralInput,
    RescheduleRequest,
    SlotSearchInput,
)
from server.people.patients import CLINICAL_ROLES
from server.platform.appkeys import CLOCK, DATABASE
from server.platform.errors import ValidationFailed
from server.platform.local_time import OSLO
from web.appkeys import SCHEDULING
from web.dates import DateRefused, parse_aware, query_day
from web.forms import get_bool, get_int, get_str, json_object, query_int, reject_unknown
from web.guards import require_actor
from web.reads import reading
from web.scheduling_json import booking_json, queue_json, referral_json, resource_json, slot_json, type_json


def _aware(raw: object, field: str, errors: dict[str, str]) -> datetime | None:
    if not isinstance(raw, str):
        errors[field] = "required" if raw is None else "invalid_choice"
        return None
    try:
        return parse_aware(raw)
    except DateRefused as exc:
        errors[field] = exc.code
        return None


def _chosen(raw: object, errors: dict[str, str]) -> tuple[tuple[str, int], ...]:
    if not isinstance(raw, dict) or not raw:
        errors["chosen"] = "required"
        return ()
    pairs = []
    for key, value in raw.items():
        if not isinstance(value, int) or isinstance(value, bool) or len(key) > 40:
            errors["chosen"] = "invalid_choice"
            return ()
        pairs.append((key, value))
    return tuple(sorted(pairs))


async def consultation_types(request: web.Request) -> web.Response:
    require_actor(request)
    async with reading(request) as session:
        types = await request.app[SCHEDULING].resources.list_consultation_types(session)
    return web.json_response([type_json(t) for t in types])


async def resources(request: web.Request) -> web.Response:
    require_actor(request)
    kind_raw = request.query.get("kind")
    try:
        kind = ResourceKind(kind_raw) if kind_raw else None
    except ValueError:
        raise ValidationFailed("unknown kind", {"kind": "invalid_choice"}) from None
    async with reading(request) as session:
        rows = await request.app[SCHEDULING].resources.list_resources(session, kind=kind)
    return web.json_response([resource_json(r) for r in rows])


async def referral_queue(request: web.Request) -> web.Response:
    actor = require_actor(request, *CLINICAL_ROLES)
    async with reading(request) as session:
        queue = await request.app[SCHEDULING].referrals.queue(session, actor)
    return web.json_response([queue_json(e) for e in queue])


async def referral_create(request: web.Request) -> web.Response:
    actor = require_actor(request, *CLINICAL_ROLES)
    body = await json_object(request)
    errors: dict[str, str] = {}
    reject_unknown(body, {"patient_id", "reason", "urgency", "what_matters", "wished_participants",
                          "consultation_type_id", "otherwise_hospital", "travel_hours", "escort_needed",
                          "nurse_would_travel"}, errors)
    urgency_raw = get_str(body, "urgency", max_len=20, errors=errors)
    try:
        urgency = Urgency(urgency_raw)
    except ValueError:
        errors.setdefault("urgency", "invalid_choice")
        urgency = Urgency.WEEK
    travel = body.get("travel_hours")
    if travel is not None and (isinstance(travel, bool) or not isinstance(travel, int | float)
                               or not 0 <= travel <= 48):
        errors["travel_hours"] = "hours_invalid"
        travel = None
    data = ReferralInput(
        patient_public_id=get_str(body, "patient_id", max_len=64, errors=errors),
        reason=get_str(body, "reason", max_len=4000, errors=errors), urgency=urgency,
        what_matters=get_str(body, "what_matters", required=False, max_len=4000, errors=errors),
        wished_participants=get_str(body, "wished_participants", required=False, max_len=1000, errors=errors),
        consultation_type_id=get_int(body, "consultation_type_id", required=False, errors=errors),
        otherwise_hospital=get_str(body, "otherwise_hospital", required=False, max_len=200, errors=errors),
        travel_hours=float(travel) if travel is not None else None,
        escort_needed=get_bool(body, "escort_needed", errors=errors),
        nurse_would_travel=get_bool(body, "nurse_would_travel", errors=errors),
    )
    if errors:
        raise ValidationFailed("the referral could not be made", errors)
    async with request.app[DATABASE].session() as session:
        referral = await request.app[SCHEDULING].referrals.create(session, actor, data)
    return web.json_response(referral_json(referral), status=201,
                             headers={"Location": f"/api/referrals/{referral.public_id}"})


async def referral_get(request: web.Request) -> web.Response:
    actor = require_actor(request, *CLINICAL_ROLES)
    async with reading(request) as session:
        referral = await request.app[SCHEDULING].referrals.get(session, actor, request.match_info["public_id"],
                                                              "api")
    return web.json_response(referral_json(referral))


async def slots(request: web.Request) -> web.Response:
    actor = require_actor(request, *CLINICAL_ROLES)
    today = request.app[CLOCK].now().astimezone(OSLO).date()
    start = query_day(request, "from", today)
    end = query_day(request, "to", start + timedelta(days=14))
    if not start < end <= start + timedelta(days=56):
        raise ValidationFailed("the period must be 1 to 56 days", {"to": "invalid_period"})
    type_id = query_int(request, "consultation_type_id", required=True)
    assert type_id is not None
    data = SlotSearchInput(
        consultation_type_id=type_id,
        window_start=datetime.combine(start, datetime.min.time(), tzinfo=OSLO),
        window_end=datetime.combine(end, datetime.min.time(), tzinfo=OSLO),
        municipality_id=query_int(request, "municipality_id", required=False),
        limit=query_int(request, "limit", required=False, hi=50) or 10,
    )
    async with reading(request) as session:
        found = await request.app[SCHEDULING].slots.search(session, actor, data)
    return web.json_response([slot_json(s) for s in found])


async def booking_create(request: web.Request) -> web.Response:
    actor = require_actor(request, *CLINICAL_ROLES)
    key = request.headers.get("Idempotency-Key")
    if key is not None and not 1 <= len(key) <= 200:
        raise ValidationFailed("bad Idempotency-Key", {"Idempotency-Key": "too_long"})
    body = await json_object(request)
    errors: dict[str, str] = {}
    reject_unknown(body, {"consultation_type_id", "start", "chosen", "referral_id", "patient_id",
                          "municipality_id"}, errors)
    data = BookRequest(
        consultation_type_id=get_int(body, "consultation_type_id", errors=errors) or 0,
        start=_aware(body.get("start"), "start", errors) or datetime.min.replace(tzinfo=OSLO),
        chosen=_chosen(body.get("chosen"), errors),
        referral_public_id=get_str(body, "referral_id", required=False, max_len=64, errors=errors) or None,
        patient_public_id=get_str(body, "patient_id", required=False, max_len=64, errors=errors) or None,
        municipality_id=get_int(body, "municipality_id", required=False, errors=errors),
    )
    if not data.referral_public_id and not data.patient_public_id:
        errors.setdefault("referral_id", "required")
    if errors:
        raise ValidationFailed("the booking could not be made", errors)
    async with request.app[DATABASE].session(write_lock=True) as session:
        booking = await request.app[SCHEDULING].bookings.book(session, actor, data, idempotency_key=key)
    # A replay answers exactly as the first time did.
    return web.json_response(booking_json(booking), status=201,
                             headers={"Location": f"/api/bookings/{booking.public_id}"})


async def booking_get(request: web.Request) -> web.Response:
    actor = require_actor(request, *CLINICAL_ROLES)
    async with reading(request) as session:
        booking = await request.app[SCHEDULING].bookings.get(session, actor, request.match_info["public_id"], "api")
    return web.json_response(booking_json(booking))


async def booking_reschedule(request: web.Request) -> web.Response:
    actor = require_actor(request, *CLINICAL_ROLES)
    body = await json_object(request)
    errors: dict[str, str] = {}
    reject_unknown(body, {"start", "chosen"}, errors)
    start = _aware(body.get("start"), "start", errors)
    chosen = _chosen(body["chosen"], errors) if "chosen" in body else None
    if errors or start is None:
        raise ValidationFailed("the booking could not be moved", errors)
    async with request.app[DATABASE].session(write_lock=True) as session:
        booking = await request.app[SCHEDULING].bookings.reschedule(
            session, actor, request.match_info["public_id"], RescheduleRequest(start=start, chosen=chosen))
    return web.json_response(booking_json(booking))


async def booking_cancel(request: web.Request) -> web.Response:
    actor = require_actor(request, *CLINICAL_ROLES)
    body = await json_object(request)
    errors: dict[str, str] = {}
    reject_unknown(body, {"reason"}, errors)
    # empty or too long is the service's rule, so the API and the page refuse alike and say the limit
    reason = get_str(body, "reason", required=False, max_len=sys.maxsize, errors=errors)
    if errors:
        raise ValidationFailed("the booking could not be cancelled", errors)
    async with request.app[DATABASE].session(write_lock=True) as session:
        booking = await request.app[SCHEDULING].bookings.cancel(session, actor, request.match_info["public_id"],
                                                                reason)
    return web.json_response(booking_json(booking))


async def booking_status(request: web.Request) -> web.Response:
    actor = require_actor(request, *CLINICAL_ROLES)
    body = await json_object(request)
    errors: dict[str, str] = {}
    reject_unknown(body, {"status"}, errors)
    raw = get_str(body, "status", max_len=20, errors=errors)
    try:
        status = BookingStatus(raw)
    except ValueError:
        errors.setdefault("status", "invalid_choice")
    if errors:
        raise ValidationFailed("unknown status", errors)
    async with request.app[DATABASE].session(write_lock=True) as session:
        booking = await request.app[SCHEDULING].bookings.set_status(
            session, actor, request.match_info["public_id"], status)
    return web.json_response(booking_json(booking))


async def day_list(request: web.Request) -> web.Response:
    actor = require_actor(request, *CLINICAL_ROLES)
    day = query_day(request, "date", request.app[CLOCK].now().astimezone(OSLO).date())
    async with reading(request) as session:
        bookings = await request.app[SCHEDULING].bookings.day_list(session, actor, day)
    return web.json_response([booking_json(b) for b in bookings])
