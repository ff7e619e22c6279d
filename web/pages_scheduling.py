"""Scheduling pages: referral queue, referral form, slot finder, bookings, day list, week calendar.
Thin handlers over ``scheduling.services``; calendar feeds and the outbox are in :mod:`web.pages_feeds`."""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from aiohttp import web
from babel.numbers import format_decimal

from scheduling.booking_rules import CANCEL_REASON_MAX
from scheduling.intervals import IntervalSet
from scheduling.models import BookingStatus, ResourceKind, Urgency
from scheduling.services.views import (
    BookRequest,
    ReferralInput,
    RescheduleRequest,
    SlotSearchInput,
    SlotView,
)
from server.people.appkeys import PATIENTS
from server.people.patients import CLINICAL_ROLES
from server.platform.appkeys import CLOCK, DATABASE
from server.platform.errors import Conflict, ValidationFailed
from server.platform.local_time import OSLO
from server.platform.roles import Role
from web.appkeys import SCHEDULING
from web.dates import DateRefused, parse_aware, query_day
from web.forms import form_fields, parse_id
from web.guards import require_actor
from web.i18n import babel_locale
from web.messages import message_for
from web.reads import reading
from web.render import local_date, render
from web.scheduling_labels import page_context
from web.send_code_flow import join_url
from web.send_code_view import invite_area


def _errors(exc: ValidationFailed) -> dict[str, str]:
    return {k: message_for(v) for k, v in exc.fields.items()}


def _today(request: web.Request) -> date:
    return request.app[CLOCK].now().astimezone(OSLO).date()


# ---------------------------------------------------------------------------------------- referrals


async def referral_queue(request: web.Request) -> web.StreamResponse:
    actor = require_actor(request, *CLINICAL_ROLES)
    async with reading(request) as session:
        queue = await request.app[SCHEDULING].referrals.queue(session, actor)
    return render(request, "referrals.html", page_context({"queue": queue}))


async def _referral_form(request: web.Request, values: dict[str, str], errors: dict[str, str],
                         status: int = 200) -> web.Response:
    actor = require_actor(request, *CLINICAL_ROLES)
    async with reading(request) as session:
        patients = await request.app[PATIENTS].list_for(session, actor)
        types = await request.app[SCHEDULING].resources.list_consultation_types(session)
    return render(request, "referral_new.html", page_context({
        "values": values, "errors": errors, "types": types,
        "patients": [(p.public_id, f"{p.family_name}, {p.given_name} ({local_date(p.birth_date, 'short')})")
                     for p in patients],
        "urgencies": list(Urgency),
    }), status=status)


async def referral_new_form(request: web.Request) -> web.StreamResponse:
    return await _referral_form(request, {"patient": request.query.get("patient", "")}, {})


async def referral_new_submit(request: web.Request) -> web.StreamResponse:
    actor = require_actor(request, *CLINICAL_ROLES)
    fields = await form_fields(request)
    errors: dict[str, str] = {}
    try:
        urgency = Urgency(fields.get("urgency", ""))
    except ValueError:
        errors["urgency"] = message_for("invalid_choice")
        urgency = Urgency.WEEK
    type_raw = fields.get("consultation_type_id", "")
    travel_raw = fields.get("travel_hours", "").replace(",", ".").strip()
    travel: float | None = None
    if travel_raw:
        try:
            travel = float(travel_raw)
            if not 0 <= travel <= 48:
                raise ValueError
        except ValueError:
            errors["travel_hours"] = message_for("hours_invalid")
    if not errors:
        try:
            async with request.app[DATABASE].session() as session:
                referral = await request.app[SCHEDULING].referrals.create(session, actor, ReferralInput(
                    patient_public_id=fields.get("patient", ""), reason=fields.get("reason", ""), urgency=urgency,
                    what_matters=fields.get("what_matters", ""),
                    wished_participants=fields.get("wished_participants", ""),
                    consultation_type_id=parse_id(type_raw),
                    otherwise_hospital=fields.get("otherwise_hospital", ""), travel_hours=travel,
                    escort_needed=fields.get("escort_needed") == "on",
                    nurse_would_travel=fields.get("nurse_would_travel") == "on",
                ))
        except ValidationFailed as exc:
            errors = _errors(exc)
    if errors:
        return await _referral_form(request, fields, errors, status=422)
    raise web.HTTPSeeOther(f"/referrals/{referral.public_id}/slots")


# ------------------------------------------------------------------------------------ slot finder


def _window(request: web.Request) -> tuple[date, date]:
    today = _today(request)
    start = query_day(request, "from", today)
    end = query_day(request, "to", start + timedelta(days=14))
    if end <= start:
        end = start + timedelta(days=1)
    return start, min(end, start + timedelta(days=56))


def _utc_range(start: date, end: date) -> tuple[datetime, datetime]:
    return (datetime.combine(start, time(0), tzinfo=OSLO), datetime.combine(end, time(0), tzinfo=OSLO))


async def _search(request: web.Request, type_id: int, municipality_id: int | None,
                  start: date, end: date) -> list[SlotView]:
    actor = require_actor(request, *CLINICAL_ROLES)
    lo, hi = _utc_range(start, end)
    async with reading(request) as session:
        return await request.app[SCHEDULING].slots.search(session, actor, SlotSearchInput(
            consultation_type_id=type_id, window_start=lo, window_end=hi, municipality_id=municipality_id,
            limit=12))


async def slot_finder(request: web.Request) -> web.StreamResponse:
    """Proposed times for a referral, every resource side by side, each bookable with one click."""
    actor = require_actor(request, *CLINICAL_ROLES)
    services = request.app[SCHEDULING]
    async with reading(request) as session:
        referral = await services.referrals.get(session, actor, request.match_info["public_id"], "slot search")
        types = await services.resources.list_consultation_types(session)
        patient = await request.app[PATIENTS].get(session, actor, referral.patient_public_id, "slot search")
        municipality_id = patient.home_municipality_id
    type_raw = request.query.get("type", "")
    type_id = parse_id(type_raw) or referral.consultation_type_id or types[0].id
    start, end = _window(request)
    slots: list[SlotView] = []
    error = ""
    try:
        slots = await _search(request, type_id, municipality_id, start, end)
    except ValidationFailed as exc:
        error = "; ".join(message_for(v) for v in exc.fields.values()) or message_for(exc.code)
    keys = [p.requirement_key for p in slots[0].participants] if slots else []
    return render(request, "slot_finder.html", page_context({
        "referral": referral, "types": types, "type_id": type_id, "from": start.isoformat(),
        "to": end.isoformat(), "slots": slots, "keys": keys, "error": error,
        "municipality_id": municipality_id, "idempotency_key": secrets.token_urlsafe(16),
        "action": "/bookings", "booking": None, "taken": request.query.get("taken", ""),
        "travel_hours_text": "" if referral.travel_hours is None else format_decimal(
            referral.travel_hours, format="#,##0.#", locale=babel_locale()),
    }))


def _chosen(fields: dict[str, str]) -> tuple[tuple[str, int], ...]:
    pairs = []
    for name, value in fields.items():
        rid = parse_id(value)
        if name.startswith("chosen.") and rid is not None:
            pairs.append((name.removeprefix("chosen."), rid))
    return tuple(sorted(pairs))


def _start(fields: dict[str, str]) -> datetime:
    try:
        return parse_aware(fields.get("start", ""))
    except DateRefused as exc:
        raise ValidationFailed("invalid start", {"start": exc.code}) from None


async def booking_create(request: web.Request) -> web.StreamResponse:
    actor = require_actor(request, *CLINICAL_ROLES)
    fields = await form_fields(request)
    type_raw = fields.get("consultation_type_id", "")
    municipality_raw = fields.get("municipality_id", "")
    data = BookRequest(
        consultation_type_id=parse_id(type_raw) or 0, start=_start(fields),
        chosen=_chosen(fields), referral_public_id=fields.get("referral") or None,
        municipality_id=parse_id(municipality_raw),
    )
    referral = fields.get("referral", "")
    try:
        async with request.app[DATABASE].session(write_lock=True) as session:
            booking = await request.app[SCHEDULING].bookings.book(
                session, actor, data, idempotency_key=fields.get("idempotency_key") or None)
    except Conflict as exc:
        # Someone took the time while the page was open: back to fresh proposals, saying so.
        raise web.HTTPSeeOther(f"/referrals/{referral}/slots?taken={exc.code}") from None
    raise web.HTTPSeeOther(f"/bookings/{booking.public_id}?booked=1")


# --------------------------------------------------------------------------------------- bookings


async def render_booking_page(request: web.Request, public_id: str, *, errors: dict[str, str] | None = None,
                              cancel_reason: str = "", status: int = 200,
                              invite: dict[str, Any] | None = None,
                              outcome_form: dict[str, Any] | None = None) -> web.Response:
    """The booking with where its invitations stand, a way into the call for those taking part, and for
    them a way to invite someone with a join code (``invite``: that area as a form post left it), and
    what followed the consultation (``outcome_form``: values, errors and a form error as a post left them)."""
    actor = require_actor(request, *CLINICAL_ROLES)
    services = request.app[SCHEDULING]
    bookings = services.bookings
    async with reading(request) as session:
        booking, invitations = await bookings.get_with_invitations(session, actor, public_id, "booking page")
    if outcome_form is None:
        recorded = booking.outcome
        outcome_form = {"values": {"admission_avoided": recorded.admission_avoided.value,
                                   "follow_up": [f.value for f in recorded.follow_up]} if recorded else {},
                        "errors": {}, "error": ""}
    # Making a join code follows the call's rule (rooms/access.py): the staff booked into it.
    may_invite = booking.joinable and actor.is_staff and booking.takes_part(actor.user_id)
    return render(request, "booking.html", page_context({
        "booking": booking, "invitations": invitations, "may_invite": may_invite,
        "invite": invite or invite_area(public_id, join_url(request)),
        "booked": request.query.get("booked") == "1", "moved": request.query.get("moved") == "1",
        # the call admits only the staff booked into it (rooms/access.py): offer it to them alone
        "may_join": booking.joinable and actor.is_staff and booking.takes_part(actor.user_id),
        "may_see_outbox": actor.has_role(Role.COORDINATOR, Role.ADMIN),
        "errors": errors or {}, "cancel_reason": cancel_reason, "cancel_reason_max": CANCEL_REASON_MAX,
        "completed": request.query.get("completed") == "1", "outcome_saved": request.query.get("outcome") == "1",
        "may_record_outcome": services.outcomes.may_record(actor, booking), "outcome_form": outcome_form,
    }), status=status)


async def booking_page(request: web.Request) -> web.StreamResponse:
    return await render_booking_page(request, request.match_info["public_id"])


async def booking_cancel(request: web.Request) -> web.StreamResponse:
    actor = require_actor(request, *CLINICAL_ROLES)
    fields = await form_fields(request)
    public_id = request.match_info["public_id"]
    try:
        async with request.app[DATABASE].session(write_lock=True) as session:
            await request.app[SCHEDULING].bookings.cancel(session, actor, public_id, fields.get("reason", ""))
    except ValidationFailed as exc:
        # the reason comes back exactly as typed, with what is wrong with it
        return await render_booking_page(request, public_id, errors=_errors(exc),
                                   cancel_reason=fields.get("reason", ""), status=422)
    raise web.HTTPSeeOther(f"/bookings/{public_id}")


async def booking_status(request: web.Request) -> web.StreamResponse:
    actor = require_actor(request, *CLINICAL_ROLES)
    fields = await form_fields(request)
    try:
        status = BookingStatus(fields.get("status", ""))
    except ValueError:
        raise ValidationFailed("unknown status", {"status": "invalid_choice"}) from None
    public_id = request.match_info["public_id"]
    async with request.app[DATABASE].session(write_lock=True) as session:
        await request.app[SCHEDULING].bookings.set_status(session, actor, public_id, status)
    raise web.HTTPSeeOther(f"/bookings/{public_id}")


async def reschedule_page(request: web.Request) -> web.StreamResponse:
    actor = require_actor(request, *CLINICAL_ROLES)
    services = request.app[SCHEDULING]
    public_id = request.match_info["public_id"]
    async with reading(request) as session:
        booking = await services.bookings.get(session, actor, public_id, "reschedule")
        if not booking.may_reschedule:
            # Arrived, started or over: the booking page offers what may still be done.
            raise web.HTTPSeeOther(f"/bookings/{public_id}")
        types = await services.resources.list_consultation_types(session)
        patient = await request.app[PATIENTS].get(session, actor, booking.patient_public_id, "reschedule")
    start, end = _window(request)
    slots: list[SlotView] = []
    error = ""
    try:
        slots = await _search(request, booking.consultation_type_id, patient.home_municipality_id, start, end)
    except ValidationFailed as exc:
        error = "; ".join(message_for(v) for v in exc.fields.values()) or message_for(exc.code)
    keys = [p.requirement_key for p in slots[0].participants] if slots else []
    return render(request, "slot_finder.html", page_context({
        "referral": None, "types": types, "type_id": booking.consultation_type_id, "from": start.isoformat(),
        "to": end.isoformat(), "slots": slots, "keys": keys, "error": error,
        "municipality_id": patient.home_municipality_id, "idempotency_key": secrets.token_urlsafe(16),
        "action": f"/bookings/{public_id}/reschedule", "booking": booking, "taken": request.query.get("taken", ""),
    }))


async def reschedule_submit(request: web.Request) -> web.StreamResponse:
    actor = require_actor(request, *CLINICAL_ROLES)
    fields = await form_fields(request)
    public_id = request.match_info["public_id"]
    chosen = _chosen(fields)
    try:
        async with request.app[DATABASE].session(write_lock=True) as session:
            await request.app[SCHEDULING].bookings.reschedule(
                session, actor, public_id, RescheduleRequest(start=_start(fields), chosen=chosen or None))
    except Conflict as exc:
        raise web.HTTPSeeOther(f"/bookings/{public_id}/reschedule?taken={exc.code}") from None
    raise web.HTTPSeeOther(f"/bookings/{public_id}?moved=1")


# -------------------------------------------------------------------------------- day list, calendar


async def day_list(request: web.Request) -> web.StreamResponse:
    actor = require_actor(request, Role.SPECIALIST, Role.NURSE, Role.COORDINATOR)
    day = query_day(request, "date", _today(request))
    async with reading(request) as session:
        bookings = await request.app[SCHEDULING].bookings.day_list(session, actor, day)
    return render(request, "day_list.html", page_context({
        "day": day, "bookings": bookings, "previous": (day - timedelta(days=1)).isoformat(),
        "next": (day + timedelta(days=1)).isoformat(), "today": _today(request),
    }))


async def week_calendar(request: web.Request) -> web.StreamResponse:
    """One person's or health room's week: open hours, busy times and bookings, Oslo time."""
    actor = require_actor(request, *CLINICAL_ROLES)
    services = request.app[SCHEDULING]
    day = query_day(request, "week", _today(request))
    monday = day - timedelta(days=day.weekday())
    lo, hi = _utc_range(monday, monday + timedelta(days=7))
    async with reading(request) as session:
        choices = await services.resources.choices_by_kind(session, ResourceKind.PERSON, ResourceKind.HEALTH_ROOM)
        people, rooms = choices[ResourceKind.PERSON], choices[ResourceKind.HEALTH_ROOM]
        raw = request.query.get("resource", "")
        own = await services.resources.resource_id_for_user(session, actor.user_id) if actor.user_id else None
        resource_id = parse_id(raw) or own or ((people + rooms)[0][0] if people or rooms else None)
        if resource_id is None:
            # A trust that has set up nobody bookable yet: say so, rather than fail on an empty list.
            return render(request, "calendar_empty.html", page_context({}))
        free_busy = (await services.slots.free_busy(session, actor, [resource_id], lo, hi))[0]
        bookings = await services.bookings.for_resource(session, actor, resource_id, lo, hi)
    # Busy is what the bookings shown do not explain: the resource's own calendar, and bookings the
    # reader may not see. Free/busy merges back-to-back reservations into one stretch, so it is the
    # shown bookings' blocked time taken away, not a test of whether one booking covers a stretch (a
    # full day of bookings showed as one long "busy" entry). Cancelled bookings block nothing.
    shown = IntervalSet.from_pairs((b.blocked_start, b.blocked_end) for b in bookings
                                   if b.status is not BookingStatus.CANCELLED)
    busy = list(IntervalSet.from_pairs(free_busy.busy).difference(shown).pairs())
    days = []
    for i in range(7):
        d = monday + timedelta(days=i)
        # In UTC, as the bookings' times are: comparing across time zones costs two offset look-ups
        # per comparison, and a week of 200 bookings makes thousands of them.
        d_lo, d_hi = (t.astimezone(UTC) for t in _utc_range(d, d + timedelta(days=1)))
        days.append({
            "date": d,
            "open": [(a, b) for a, b in free_busy.open if a < d_hi and b > d_lo],
            "bookings": [b for b in bookings if b.start < d_hi and b.end > d_lo],
            "busy": [(a, b) for a, b in busy if a < d_hi and b > d_lo],
        })
    return render(request, "calendar.html", page_context({
        "resource_id": resource_id, "people": people, "rooms": rooms, "name": free_busy.name, "days": days,
        "previous": (monday - timedelta(days=7)).isoformat(), "next": (monday + timedelta(days=7)).isoformat(),
        "monday": monday, "oslo": OSLO,
    }))
