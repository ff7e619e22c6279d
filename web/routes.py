"""Every route of the app, in one table per kind."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp import web

from server.platform.appkeys import DATABASE
from web import (
    api,
    api_notes,
    api_outcomes,
    api_people,
    api_recordings,
    api_reports,
    api_resources,
    api_scheduling,
    api_send_code,
    api_setup,
    fhir,
    note_socket,
    pages_access_report,
    pages_admin,
    pages_auth,
    pages_benefits,
    pages_call,
    pages_check,
    pages_feeds,
    pages_import_staff,
    pages_notes,
    pages_organisations,
    pages_outcomes,
    pages_patients,
    pages_recordings,
    pages_resources,
    pages_scheduling,
    pages_send_code,
    pages_setup,
    pages_staff,
)
from web.metrics import metrics_handler
from web.openapi import NOTE_ID_PARAM, PUBLIC_ID_PARAM, REASON_PARAM, ApiRoute, build_document

STATIC_DIR = Path(__file__).parent / "static"
API_VERSION = "1.0.0"

def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _array(name: str) -> dict[str, Any]:
    return {"type": "array", "items": _ref(name)}


def _q(name: str, schema: dict[str, Any], *, required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "schema": schema}


def _path(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": schema}


API_ROUTES: list[ApiRoute] = [
    ApiRoute("GET", "/api/me", api.me, "The logged-in user", {"$ref": "#/components/schemas/Me"}),
    ApiRoute("GET", "/api/organisations", api.organisations, "Organisations and their departments",
             {"type": "array", "items": {"$ref": "#/components/schemas/Organisation"}}),
    ApiRoute("GET", "/api/patients", api.patients_list, "Patients related to my organisation",
             {"type": "array", "items": {"$ref": "#/components/schemas/PatientSummary"}}, tag="patients"),
    ApiRoute("POST", "/api/patients", api.patients_create, "Register a patient",
             {"$ref": "#/components/schemas/Patient"}, status=201, request_schema="PatientInput",
             tag="patients"),
    ApiRoute("GET", "/api/patients/{public_id}", api.patient_get, "One patient (audited, needs a reason)",
             {"$ref": "#/components/schemas/Patient"}, parameters=[PUBLIC_ID_PARAM, REASON_PARAM], tag="patients"),
    ApiRoute("GET", "/api/patients/{public_id}/access-log", api.patient_access_log,
             "Who read or wrote this patient's data",
             {"type": "array", "items": {"$ref": "#/components/schemas/AccessRecord"}},
             parameters=[PUBLIC_ID_PARAM, REASON_PARAM], tag="patients"),
    ApiRoute("GET", "/api/consultation-types", api_scheduling.consultation_types, "Kinds of consultation",
             _array("ConsultationType"), tag="scheduling"),
    ApiRoute("GET", "/api/resources", api_scheduling.resources, "People, health rooms and equipment",
             _array("Resource"), parameters=[_q("kind", {"type": "string",
                                                         "enum": ["person", "health_room", "equipment"]})],
             tag="scheduling"),
    ApiRoute("POST", "/api/resources/{resource_id}/busy-calendar", api_resources.busy_import,
             "Upload a resource's own calendar (.ics) as busy times", _ref("CalendarImport"), status=201,
             parameters=[_path("resource_id", {"type": "string", "pattern": "^[0-9]+$"})],
             request_schema="text", request_media_type="text/calendar", tag="scheduling"),
    ApiRoute("PUT", "/api/resources/{resource_id}/hours", api_resources.weekly_hours_put,
             "Replace a resource's weekly hours (local time)", _ref("WeeklyHours"),
             parameters=[_path("resource_id", {"type": "string", "pattern": "^[0-9]+$"})],
             request_schema="WeeklyHours", tag="scheduling"),
    ApiRoute("POST", "/api/resources/{resource_id}/exceptions", api_resources.exception_create,
             "Close a day (or part of it) or add extra hours", _ref("AvailabilityException"), status=201,
             parameters=[_path("resource_id", {"type": "string", "pattern": "^[0-9]+$"})],
             request_schema="AvailabilityExceptionInput", tag="scheduling"),
    ApiRoute("DELETE", "/api/resources/{resource_id}/exceptions/{exception_id}", api_resources.exception_delete,
             "Remove a closed day or extra hours: the weekly hours apply again", _ref("RemovedException"),
             parameters=[_path("resource_id", {"type": "string", "pattern": "^[0-9]+$"}),
                         _path("exception_id", {"type": "string", "pattern": "^[0-9]+$"})], tag="scheduling"),
    ApiRoute("POST", "/api/resources/{resource_id}/calendar-sources", api_resources.calendar_source_create,
             "Add a calendar feed address whose busy times block bookings", _ref("CalendarSource"), status=201,
             parameters=[_path("resource_id", {"type": "string", "pattern": "^[0-9]+$"})],
             request_schema="CalendarSourceInput", tag="scheduling"),
    ApiRoute("GET", "/api/referrals", api_scheduling.referral_queue, "The referral queue, most urgent first",
             _array("Referral"), tag="referrals"),
    ApiRoute("POST", "/api/referrals", api_scheduling.referral_create, "Refer a patient to a joint consultation",
             _ref("Referral"), status=201, request_schema="ReferralInput", tag="referrals"),
    ApiRoute("GET", "/api/referrals/{public_id}", api_scheduling.referral_get, "One referral",
             _ref("Referral"), parameters=[PUBLIC_ID_PARAM], tag="referrals"),
    ApiRoute("GET", "/api/slots", api_scheduling.slots, "The earliest times when every participant is free",
             _array("Slot"), parameters=[
                 _q("consultation_type_id", {"type": "integer", "minimum": 1}, required=True),
                 _q("from", {"type": "string", "format": "date"}), _q("to", {"type": "string", "format": "date"}),
                 _q("municipality_id", {"type": "integer", "minimum": 1}),
                 _q("limit", {"type": "integer", "minimum": 1, "maximum": 50})], tag="scheduling"),
    ApiRoute("POST", "/api/bookings", api_scheduling.booking_create,
             "Book a slot (send an Idempotency-Key to retry safely)", _ref("Booking"), status=201,
             parameters=[{"name": "Idempotency-Key", "in": "header", "required": False,
                          "schema": {"type": "string", "minLength": 1, "maxLength": 200}}],
             request_schema="BookingInput", tag="bookings", extra_responses=(409,)),
    ApiRoute("GET", "/api/bookings/{public_id}", api_scheduling.booking_get, "One booking (audited)",
             _ref("Booking"), parameters=[PUBLIC_ID_PARAM], tag="bookings"),
    ApiRoute("POST", "/api/bookings/{public_id}/reschedule", api_scheduling.booking_reschedule,
             "Move a booking (same invitation, higher SEQUENCE)", _ref("Booking"), parameters=[PUBLIC_ID_PARAM],
             request_schema="RescheduleInput", tag="bookings", extra_responses=(409,)),
    ApiRoute("POST", "/api/bookings/{public_id}/cancel", api_scheduling.booking_cancel,
             "Cancel a booking with a reason", _ref("Booking"), parameters=[PUBLIC_ID_PARAM],
             request_schema="CancelInput", tag="bookings", extra_responses=(409,)),
    ApiRoute("POST", "/api/bookings/{public_id}/status", api_scheduling.booking_status,
             "Arrived, in progress, completed or no-show", _ref("Booking"), parameters=[PUBLIC_ID_PARAM],
             request_schema="StatusInput", tag="bookings", extra_responses=(409,)),
    ApiRoute("POST", "/api/bookings/{public_id}/join-codes", api_send_code.code_create,
             "Make a join code for a named relative, patient or interpreter (staff booked into it only)",
             _ref("JoinCode"), status=201, parameters=[PUBLIC_ID_PARAM], request_schema="JoinCodeInput",
             tag="join codes"),
    ApiRoute("POST", "/api/bookings/{public_id}/join-codes/send", api_send_code.code_send,
             "Send a valid join code of this booking by SMS (Norwegian mobile) or email, through the outbox",
             _ref("JoinCodeMessage"), status=202, parameters=[PUBLIC_ID_PARAM], request_schema="JoinCodeSendInput",
             tag="join codes"),
    ApiRoute("GET", "/api/bookings/{public_id}/join-codes/messages/{message_id}", api_send_code.code_message,
             "Where a sent join code message stands", _ref("JoinCodeMessageState"),
             parameters=[PUBLIC_ID_PARAM, _path("message_id", {"type": "string", "pattern": "^[0-9]+$"})],
             tag="join codes"),
    ApiRoute("GET", "/api/day-list", api_scheduling.day_list, "My consultations on a date", _array("Booking"),
             parameters=[_q("date", {"type": "string", "format": "date"})], tag="bookings"),
    ApiRoute("GET", "/api/audit/verify", api.audit_verify, "Check the audit chain",
             {"$ref": "#/components/schemas/AuditVerification"}, tag="audit"),
    ApiRoute("GET", "/api/bookings/{public_id}/note", api_notes.booking_note,
             "The consultation's note (audited); before the first save an empty note with no id at version 0 "
             "(opening creates nothing)", {"$ref": "#/components/schemas/Note"},
             parameters=[PUBLIC_ID_PARAM], tag="notes"),
    ApiRoute("PUT", "/api/bookings/{public_id}/note", api_notes.booking_note_put,
             "Save the consultation's note, creating it on the first save (based_on 0 for a note not yet "
             "created); as PUT /api/notes/{note_id}", {"$ref": "#/components/schemas/NoteSaved"},
             parameters=[PUBLIC_ID_PARAM], request_schema="NoteFirstSave", tag="notes"),
    ApiRoute("GET", "/api/notes/{note_id}", api_notes.note_get, "A note's latest state (audited)",
             {"$ref": "#/components/schemas/Note"}, parameters=[NOTE_ID_PARAM], tag="notes"),
    ApiRoute("PUT", "/api/notes/{note_id}", api_notes.note_put,
             "Save content based on a version; 409 with both texts when the same part changed",
             {"$ref": "#/components/schemas/NoteSaved"}, parameters=[NOTE_ID_PARAM], request_schema="NoteSave",
             tag="notes"),
    ApiRoute("POST", "/api/notes/{note_id}/sign", api_notes.note_sign, "Sign the latest version (locks the note)",
             {"$ref": "#/components/schemas/Note"}, parameters=[NOTE_ID_PARAM], tag="notes"),
    ApiRoute("POST", "/api/notes/{note_id}/amendments", api_notes.note_amend, "Add a signed amendment",
             {"$ref": "#/components/schemas/Note"}, status=201, parameters=[NOTE_ID_PARAM],
             request_schema="NoteAmendmentInput", tag="notes"),
    ApiRoute("PUT", "/api/notes/{note_id}/amendment-drafts", api_notes.note_amendment_draft,
             "Keep the reader's draft amendment of a part of a signed note (empty text drops it)",
             {"$ref": "#/components/schemas/Note"}, parameters=[NOTE_ID_PARAM],
             request_schema="NoteAmendmentDraftInput", tag="notes"),
    ApiRoute("POST", "/api/notes/{note_id}/share", api_notes.note_share,
             "Share the signed summary with the patient and relatives", {"$ref": "#/components/schemas/Note"},
             parameters=[NOTE_ID_PARAM], request_schema="NoteShareInput", tag="notes"),
    ApiRoute("GET", "/api/notes/{note_id}/versions", api_notes.note_versions,
             "The saved versions, oldest first, without content (Link rel=next while more remain)",
             _array("NoteVersionSummary"),
             parameters=[NOTE_ID_PARAM, _q("offset", {"type": "integer", "minimum": 0}),
                         _q("limit", {"type": "integer", "minimum": 1, "maximum": 500})], tag="notes"),
    ApiRoute("GET", "/api/notes/{note_id}/versions/{version}", api_notes.note_version,
             "One saved version with its content", _ref("NoteVersion"),
             parameters=[NOTE_ID_PARAM, _path("version", {"type": "integer", "minimum": 1})], tag="notes"),
    ApiRoute("GET", "/api/notes/{note_id}/export.txt", api_notes.export_text, "The note as plain text",
             {"type": "string"}, parameters=[NOTE_ID_PARAM], tag="notes"),
    ApiRoute("GET", "/api/notes/{note_id}/export.pdf", api_notes.export_pdf, "The note as PDF",
             {"type": "string", "format": "binary"}, parameters=[NOTE_ID_PARAM], tag="notes"),
    ApiRoute("GET", "/api/notes/{note_id}/fhir", api_notes.export_fhir,
             "The note as a FHIR R5 document Bundle (application/fhir+json)", {"type": "object"},
             parameters=[NOTE_ID_PARAM], tag="notes"),
    ApiRoute("POST", "/api/health-rooms", api_setup.room_create,
             "Create a health room with its equipment and weekly hours", _ref("Resource"), status=201,
             request_schema="HealthRoomInput", tag="set-up"),
    ApiRoute("POST", "/api/health-rooms/import", api_setup.rooms_import,
             "Check a CSV file of health rooms (dry run); ?dry_run=false imports it, all rows or none; "
             "422 lists every row's problem", _ref("RoomImport"), status=200,
             parameters=[_q("dry_run", {"type": "string", "enum": ["true", "false"], "default": "true"})],
             request_schema="text", request_media_type="text/csv", tag="set-up"),
    ApiRoute("POST", "/api/equipment-items", api_setup.equipment_create,
             "Add an equipment item, owned by an organisation and maybe kept in a health room", _ref("Resource"),
             status=201, request_schema="EquipmentItemInput", tag="set-up"),
    ApiRoute("POST", "/api/bookable-staff", api_setup.bookable_create,
             "Make a specialist or nurse bookable with weekly hours", _ref("Resource"), status=201,
             request_schema="BookableStaffInput", tag="set-up"),
    ApiRoute("PATCH", "/api/resources/{resource_id}", api_setup.resource_patch,
             "Change a resource's details, or take it out of use (its bookings stay)", _ref("Resource"),
             parameters=[_path("resource_id", {"type": "string", "pattern": "^[0-9]+$"})],
             request_schema="ResourceChange", tag="set-up"),
    ApiRoute("POST", "/api/consultation-types", api_setup.type_create,
             "Create a consultation type (duration, notice, buffers, who takes part)", _ref("ConsultationType"),
             status=201, request_schema="ConsultationTypeInput", tag="set-up"),
    ApiRoute("PUT", "/api/consultation-types/{type_id}", api_setup.type_put,
             "Replace a consultation type's settings; new bookings follow them", _ref("ConsultationType"),
             parameters=[_path("type_id", {"type": "string", "pattern": "^[0-9]+$"})],
             request_schema="ConsultationTypeInput", tag="set-up"),
    *pages_check.API_ROUTES,
    *api_people.API_ROUTES,
    *api_reports.API_ROUTES,
    *api_outcomes.API_ROUTES,
    *api_recordings.API_ROUTES,
]


async def openapi_json(request: web.Request) -> web.Response:
    return web.json_response(build_document(API_ROUTES, version=API_VERSION,
                                             extra_schemas={**api_people.SCHEMAS, **api_reports.SCHEMAS,
                                                            **api_outcomes.SCHEMAS, **api_recordings.SCHEMAS}))


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    ready = await request.app[DATABASE].ping()
    return web.json_response({"status": "ready" if ready else "database unreachable"},
                             status=200 if ready else 503)


def setup_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/", pages_auth.index)
    r.add_get("/login", pages_auth.login_form)
    r.add_post("/login", pages_auth.login_submit)
    r.add_get("/login/totp", pages_auth.totp_form)
    r.add_post("/login/totp", pages_auth.totp_submit)
    r.add_get("/login/enrol", pages_auth.enrol_form)
    r.add_post("/login/enrol", pages_auth.enrol_submit)
    r.add_post("/logout", pages_auth.logout)
    r.add_post("/language", pages_auth.set_language)
    r.add_get("/account", pages_auth.account_page)
    r.add_post("/account/password", pages_auth.change_password)
    r.add_get("/patients", pages_patients.patient_list)
    r.add_get("/patients/new", pages_patients.patient_new_form)
    r.add_post("/patients/new", pages_patients.patient_new_submit)
    r.add_get("/patients/{public_id}", pages_patients.patient_detail)
    r.add_get("/patients/{public_id}/access-log", pages_patients.patient_access_log)
    r.add_get("/admin/users", pages_admin.users_page)
    r.add_post("/admin/users", pages_admin.users_create)
    r.add_get("/admin/organisations", pages_admin.organisations_page)
    r.add_post("/admin/organisations", pages_admin.organisations_create)
    r.add_get("/admin/audit", pages_admin.audit_page)
    pages_staff.setup_routes(r)
    pages_import_staff.setup_routes(r)
    pages_organisations.setup_routes(r)
    r.add_get("/team", pages_admin.team_overview)
    pages_call.setup_routes(r)
    pages_check.setup_routes(r)
    pages_access_report.setup_routes(r)
    pages_benefits.setup_routes(r)
    r.add_get("/referrals", pages_scheduling.referral_queue)
    r.add_get("/referrals/new", pages_scheduling.referral_new_form)
    r.add_post("/referrals/new", pages_scheduling.referral_new_submit)
    r.add_get("/referrals/{public_id}/slots", pages_scheduling.slot_finder)
    r.add_post("/bookings", pages_scheduling.booking_create)
    r.add_get("/bookings/{public_id}", pages_scheduling.booking_page)
    r.add_get("/bookings/{public_id}/recordings", pages_recordings.recordings_page)
    r.add_post("/bookings/{public_id}/cancel", pages_scheduling.booking_cancel)
    r.add_post("/bookings/{public_id}/status", pages_scheduling.booking_status)
    r.add_get("/bookings/{public_id}/reschedule", pages_scheduling.reschedule_page)
    r.add_post("/bookings/{public_id}/reschedule", pages_scheduling.reschedule_submit)
    pages_send_code.setup_routes(r)
    pages_outcomes.setup_routes(r)
    r.add_get("/day", pages_scheduling.day_list)
    r.add_get("/calendar", pages_scheduling.week_calendar)
    r.add_get("/calendar/feeds", pages_feeds.feeds_page)
    r.add_post("/calendar/feeds", pages_feeds.feed_create)
    r.add_post("/calendar/feeds/revoke", pages_feeds.feed_revoke)
    r.add_get("/feeds/{token}.ics", pages_feeds.feed_ics)
    r.add_get("/outbox", pages_feeds.outbox_page)
    r.add_get("/consultations/{booking_id}/note", pages_notes.note_page)
    r.add_get("/notes/{note_id}/print", pages_notes.print_page)
    pages_setup.setup_routes(r)  # before the resource page: "/resources/import" is no resource id
    r.add_get("/ws/notes/{note_id}", note_socket.note_socket)
    r.add_get("/ws/consultations/{booking_id}/note", note_socket.consultation_note_socket)
    pages_resources.setup_routes(r)
    fhir.setup_routes(r)
    r.add_get("/healthz", healthz)
    r.add_get("/readyz", readyz)
    r.add_get("/metrics", metrics_handler)
    r.add_get("/api/openapi.json", openapi_json)
    for route in API_ROUTES:
        r.add_route(route.method, route.path, route.handler)
    r.add_static("/static/", STATIC_DIR, append_version=True)
