"""The call pages: my consultations today, the call itself, and the guests' join code entry."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from aiohttp import web
from babel.dates import format_date, format_time

from notes.document import build_document
from notes.headings import Language
from recordings_policy.rules import RETENTION
from rooms.access import resolve_participant
from rooms.appkeys import GUEST_ACCESS, LIVE_REGISTRY
from rooms.errors import JoinCodeRateLimited, JoinCodeRefused
from rooms.join_codes import CODE_LENGTH
from rooms.registry import BookingRoom, actor_for
from rooms.room import MAX_WAITING_MESSAGE_CHARS, OPEN_BEFORE
from rooms.roster import Identity
from server.platform.appkeys import CLOCK, DATABASE, SETTINGS
from server.platform.errors import DomainError
from server.platform.local_time import OSLO
from server.platform.roles import Role
from web.appkeys import NOTES
from web.client_address import client_address
from web.context import GUEST_COOKIE, caller, ctx
from web.forms import form_fields
from web.guards import require_actor
from web.i18n import babel_locale, current_language
from web.i18n import gettext as _
from web.pages_access_report import patient_summary_section
from web.pages_notes import note_editor_config
from web.pages_recordings import purpose_names
from web.reads import reading
from web.render import local_datetime, render

_MAX_ROOM_ID = 64


async def _participant(request: web.Request, booking_id: str) -> tuple[BookingRoom, Identity]:
    app = request.app
    return await resolve_participant(app[LIVE_REGISTRY], app[GUEST_ACCESS], booking_id, caller(request))


_DAY_PATTERNS = {"nb": "EEEE d. MMMM", "en": "EEEE d MMMM"}
_TIME_PATTERNS = {"nb": "HH.mm", "en": "HH:mm"}


def oslo_moment(value: datetime) -> str:
    """A moment as people say it, in Oslo time: "tirsdag 1. desember kl. 11.15"."""
    local = value.astimezone(OSLO)
    lang = "en" if current_language() == "en" else "nb"
    day = format_date(local.date(), _DAY_PATTERNS[lang], locale=babel_locale())
    clock = format_time(local.time(), _TIME_PATTERNS[lang], locale=babel_locale())
    return _("{day} at {time}").format(day=day, time=clock)


def not_open_message(booking: BookingRoom, open_before: timedelta = OPEN_BEFORE) -> str:
    """What someone who comes too early is told: when the room opens, in Oslo time."""
    return _("The consultation room opens {when}.").format(when=oslo_moment(booking.starts_at - open_before))


def _call_strings(booking: BookingRoom | None = None, open_before: timedelta = OPEN_BEFORE) -> dict[str, str]:
    """The words the call page's JavaScript shows, in the page's language."""
    return {
        "specialist": _("Specialist"),
        "nurse": _("Nurse"),
        "coordinator": _("Coordinator"),
        "patient": _("Patient"),
        "relative": _("Relative"),
        "interpreter": _("Interpreter"),
        "audio": _("Microphone"),
        "room_camera": _("Room camera"),
        "exam_camera": _("Examination camera"),
        "screen": _("Screen"),
        "you": _("you"),
        "in_health_room": _("in health room"),
        "admit": _("Admit"),
        "deny": _("Deny"),
        "remove": _("Remove"),
        "nobody_waiting": _("Nobody is waiting."),
        "connecting": _("Connecting…"),
        "reconnecting": _("Reconnecting…"),
        "waiting": _("You are in the waiting room. Someone from the health service will let you in."),
        "in_call": _("You are in the consultation."),
        "denied": _("You were not let in to this consultation."),
        "ended": _("The consultation has ended."),
        "left": _("You have left the consultation."),
        "removed": _("You were removed from the consultation."),
        "not_open": not_open_message(booking, open_before) if booking is not None else "",
        "closed": _("This consultation is over."),
        "mute": _("Mute microphone"),
        "unmute": _("Turn microphone on"),
        "camera_off": _("Turn camera off"),
        "camera_on": _("Turn camera on"),
        "add_exam": _("Add examination camera"),
        "remove_exam": _("Remove examination camera"),
        "share_screen": _("Share screen"),
        "stop_share": _("Stop sharing"),
        "no_devices": _("No camera or microphone was found. You can still take part and see the others."),
        "invited": _("Join code for {name}: {code}. Link: {link}"),
        "media_failed": _("The video could not be restored."),
        "joined_chat": _("joined"),
        "replaced": _("You opened the consultation in another window or on another device."),
        "use_here": _("Use it here instead"),
        "join_again": _("Join again"),
        "retry": _("Try again"),
        "not_connected": _("You are not connected right now. What you wrote is kept; try again in a moment."),
        # Who knows a guest is waiting: the staff kinds in the call, as a guest would say it.
        "staff_aware_specialist": _("The doctor knows you are waiting."),
        "staff_aware_nurse": _("The nurse knows you are waiting."),
        "staff_aware_both": _("The doctor and the nurse know you are waiting."),
        "staff_aware_other": _("The health service knows you are waiting."),
        "staff_not_yet": _("Nobody from the health service has come in yet. You will be let in when they do."),
        "waiting_message_sent": _("Sent to those waiting at {time}: {text}"),
        "waiting_message_count": _("{count} of {max} characters"),
        "waiting_message_too_long": _("The message has {count} characters; at most {max} can be sent. "
                                      "Shorten it and try again."),
        "waiting_message_empty": _("Write a message first."),
        "making_code": _("Making the join code…"),
        # Readings as everyone in the call sees them: Norwegian names and units people say aloud.
        "reading_blood_pressure": _("Blood pressure"),
        "reading_spo2": _("Oxygen saturation (SpO2)"),
        "reading_pulse": _("Pulse"),
        "reading_temperature": _("Temperature"),
        "reading_weight": _("Weight"),
        "unit_blood_pressure": _("mmHg"),
        "unit_spo2": _("percent"),
        "unit_pulse": _("beats per minute"),
        "unit_temperature": _("°C"),
        "unit_weight": _("kg"),
        "reading_line": _("{time} {name}: {value} {unit} (by {who})"),
        # Recording, only with everyone's consent: what each person is asked and told.
        "recording_on": _("Recording in progress: started by {name} for {purpose}. Kept for {days} days, "
                          "then deleted."),
        "recording_waiting": _("Recording proposed by {name} for {purpose}. Nothing is recorded until everyone "
                               "has agreed. Waiting for: {names}."),
        "recording_ask": _("{name} asks to record the consultation for {purpose}. The recording is kept for "
                           "{days} days and then deleted. Nothing is recorded until everyone has agreed, and "
                           "anyone can stop it at any time."),
        "recording_stop": _("Stop the recording"),
        "recording_withdraw_agreement": _("Withdraw my agreement"),
        "recording_roster": _("{name} (records for {purpose})"),
        "recording_kept": _("What was recorded is kept for {days} days, then deleted."),
        **{f"recording_ended_{reason}": text for reason, text in _recording_endings().items()},
        **{f"purpose_{purpose.value}": text for purpose, text in purpose_names().items()},
        "reading_invalid": _("Check the value: blood pressure as 142/88, the others as a number such as 72 or 37,5."),
        # Refusals as people read them, by the code of the error frame (never the server's own text).
        **{f"error_{code}": message for code, message in _error_titles().items()},
    }


def _recording_endings() -> dict[str, str]:
    """Why a proposal or a recording ended, by the reason the server gives."""
    not_stored = _("The recording stopped because it could not be stored. The consultation goes on.")
    media = _("The recording stopped because of a problem with the video. The consultation goes on.")
    return {
        "declined": _("Nothing is recorded: someone said no."),
        "withdrawn": _("The recording was stopped: someone withdrew their agreement."),
        "proposer_left": _("The proposal to record ended: the person who proposed it left."),
        "nobody_recorded": _("The recording stopped: nobody who agreed is in the consultation."),
        "ended": _("The recording ended with the consultation."),
        "disk_full": not_stored,
        "write_error": not_stored,
        "store_error": not_stored,
        "media_lost": media,
        "media_error": media,
    }


def _recording_purposes() -> list[dict[str, str]]:
    """The choices staff have when proposing a recording, with how long each is kept."""
    return [{"value": purpose.value,
             "label": _("{purpose} (kept {days} days)").format(purpose=name, days=RETENTION[purpose].days)}
            for purpose, name in purpose_names().items()]


def _error_titles() -> dict[str, str]:
    """What a person is told when the server refuses something in the call, by error code."""
    return {
        "error": _("Something went wrong. Try again."),
        "rate_limited": _("Too much at once. Wait a moment and try again."),
        "bad_field": _("Some of what was sent was not accepted. Check it and try again."),
        "not_joined": _("You are not in the consultation yet."),
        "not_admitted": _("Wait until you are let in."),
        "forbidden": _("Only staff can do this."),
        "room_full": _("The consultation is full."),
        "unknown_participant": _("That person is no longer here."),
        "invalid_transition": _("That cannot be done now; the list may just have changed."),
        "invalid_reading": _("Check the value: blood pressure as 142/88, the others as a number such as 72 or 37,5."),
        "invalid_invite": _("Write the name of the person to invite (at most 100 characters)."),
        "nobody_waiting": _("Nobody is in the waiting room now."),
        "waiting_message_length": _("The message is too long or empty."),
        "media_error": _("The video connection had a problem; it is being set up again."),
        "recording_refused": _("Recording is not possible now."),
        "no_recording_proposed": _("No recording has been proposed."),
        "recording_unavailable": _("Recording is not set up on this server."),
        "internal_error": _("Something went wrong on our side. Try again."),
        "room_moving": _("The consultation is moving to another server. Joining again in a moment…"),
    }


async def my_consultations(request: web.Request) -> web.StreamResponse:
    """Today's consultations of the logged-in staff member, each with a way into the call."""
    actor = require_actor(request, Role.SPECIALIST, Role.NURSE, Role.COORDINATOR)
    today = request.app[CLOCK].now().astimezone(OSLO).date()
    start = datetime.combine(today, time.min, OSLO)
    assert actor.user_id is not None  # staff actors always have one
    bookings = await request.app[LIVE_REGISTRY].directory.rooms_for_staff(
        actor.user_id, start, start + timedelta(days=1)
    )
    return render(request, "call_list.html", {"bookings": bookings})


def _role_label(identity: Identity) -> str:
    return _call_strings()[identity.role.value]


async def call_page(request: web.Request) -> web.StreamResponse:
    """The consultation for one booking, for its staff participants and for admitted guests."""
    booking_id = request.match_info["booking_id"]
    if ctx(request).actor is None and not request.cookies.get(GUEST_COOKIE):
        require_actor(request)  # redirects to the login page
    booking, identity = await _participant(request, booking_id)
    config: dict[str, Any] = {
        "room": booking.booking_id,
        "ws": f"/ws?room={booking.booking_id}",
        "role": identity.role.value,
        "name": identity.display_name,
        "is_staff": identity.is_staff,
        "may_post_readings": identity.role.may_post_readings,
        "waiting_message_max": MAX_WAITING_MESSAGE_CHARS,
        "join_url": f"{request.app[SETTINGS].public_url.rstrip('/')}/join",
        # The service's own address: where the page goes back to if the node it was sent to stops.
        "home": request.app[SETTINGS].public_url,
    }
    note_config = await _note_config(request, booking.booking_id) if identity.is_staff else None
    return render(request, "call.html", {
        "note_config": note_config,
        "booking": booking,
        "identity": identity,
        "role_label": _role_label(identity),
        "summary": booking_summary(booking),
        "starts": local_datetime(booking.starts_at, "short"),
        "config": config,
        "strings": _call_strings(booking, request.app[LIVE_REGISTRY].open_before),
        "waiting_message_max": MAX_WAITING_MESSAGE_CHARS,
        "phones": booking.phones,
        "recording_purposes": _recording_purposes(),
    })


async def _note_config(request: web.Request, booking_id: str) -> dict[str, Any] | None:
    """The joint note's editor configuration, to sit beside the video; None when this person may not
    write it (the call still works, and the note stays reachable from the booking)."""
    actor = ctx(request).actor
    if actor is None:
        return None
    try:
        async with reading(request) as session:  # a read: the note is created by the editor's first save
            view = await request.app[NOTES].open_for_booking(session, actor, booking_id, "")
    except DomainError:
        return None
    return note_editor_config(request, view.booking_public_id)


async def summary_page(request: web.Request) -> web.StreamResponse:
    """The signed joint note for the patient and relatives, once staff have shared it (read is audited)."""
    booking_id = request.match_info["booking_id"]
    if ctx(request).actor is not None:
        raise web.HTTPSeeOther(f"/consultations/{booking_id}/note")
    booking, identity = await _participant(request, booking_id)
    guest = actor_for(identity)
    async with request.app[DATABASE].session(write_lock=True) as session:
        view = await request.app[NOTES].read_shared(session, guest, booking_id)
    lang: Language = "en" if current_language() == "en" else "nb"
    # Beside the summary, the patient themself (never a relative or interpreter) sees who looked.
    access = await patient_summary_section(request, booking, identity)
    return render(request, "note_print.html", {
        "view": view, "document": build_document(view.header, view.state, lang), "guest": True,
        "access": access})


def _join_context(room: str, error: str = "") -> dict[str, Any]:
    return {"room": room[:_MAX_ROOM_ID], "form_error": error, "code_length": CODE_LENGTH}


async def join_form(request: web.Request) -> web.StreamResponse:
    """Where a patient, relative or interpreter types the join code they received."""
    return render(request, "join.html", _join_context(request.query.get("room", "")))


async def join_submit(request: web.Request) -> web.StreamResponse:
    """Exchange a join code for a short guest session, then on to the waiting room."""
    fields = await form_fields(request)
    room = fields.get("room", "")[:_MAX_ROOM_ID]
    try:
        entry = await request.app[GUEST_ACCESS].redeem(
            room or None, fields.get("code", ""), client_key=client_address(request)
        )
    except JoinCodeRateLimited as exc:
        response = render(request, "join.html", _join_context(
            room, _("Too many attempts. Wait a few minutes and try again.")), status=429)
        response.headers["Retry-After"] = str(exc.retry_after_seconds)
        return response
    except JoinCodeRefused as exc:
        if exc.code == "join_code_not_yet_valid" and exc.valid_from is not None:
            message = _("This code can be used from {when}.").format(when=oslo_moment(exc.valid_from))
        elif exc.code == "join_code_expired":
            message = _("This code has expired. Ask the health service for a new one.")
        else:
            message = _("The code cannot be used. Check it, or ask for a new one.")
        return render(request, "join.html", _join_context(room, message), status=403)
    response = web.HTTPSeeOther(f"/consultations/{entry.room_id}")
    max_age = max(60, int((entry.expires_at - request.app[CLOCK].now()).total_seconds()))
    response.set_cookie(GUEST_COOKIE, entry.token, path="/", secure=True, httponly=True, samesite="Strict",
                        max_age=max_age)
    raise response


def booking_summary(booking: BookingRoom) -> str:
    """The line under the title: who the consultation is about and where."""
    if booking.health_room and booking.nurse_name:
        return _("{patient} with nurse {nurse} in {room}").format(
            patient=booking.patient_name, nurse=booking.nurse_name, room=booking.health_room)
    return booking.patient_name


def setup_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/consultations", my_consultations)
    router.add_get("/consultations/{booking_id}", call_page)
    router.add_get("/consultations/{booking_id}/summary", summary_page)
    router.add_get("/join", join_form)
    router.add_post("/join", join_submit)
