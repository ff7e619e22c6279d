"""Every route of the app, in one table per kind."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from server.appkeys import DATABASE
from web import api, pages_admin, pages_auth, pages_call, pages_patients, pages_scheduling
from web.metrics import metrics_handler
from web.openapi import PUBLIC_ID_PARAM, REASON_PARAM, ApiRoute, build_document

STATIC_DIR = Path(__file__).parent / "static"
API_VERSION = "1.0.0"

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
    ApiRoute("GET", "/api/audit/verify", api.audit_verify, "Check the audit chain",
             {"$ref": "#/components/schemas/AuditVerification"}, tag="audit"),
]


async def openapi_json(request: web.Request) -> web.Response:
    return web.json_response(build_document(API_ROUTES, version=API_VERSION))


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
    r.add_get("/team", pages_admin.team_overview)
    pages_call.setup_routes(r)
    r.add_get("/referrals", pages_scheduling.referral_queue)
    r.add_get("/referrals/new", pages_scheduling.referral_new_form)
    r.add_post("/referrals/new", pages_scheduling.referral_new_submit)
    r.add_get("/referrals/{public_id}/slots", pages_scheduling.slot_finder)
    r.add_post("/bookings", pages_scheduling.booking_create)
    r.add_get("/bookings/{public_id}", pages_scheduling.booking_page)
    r.add_post("/bookings/{public_id}/cancel", pages_scheduling.booking_cancel)
    r.add_post("/bookings/{public_id}/status", pages_scheduling.booking_status)
    r.add_get("/bookings/{public_id}/reschedule", pages_scheduling.reschedule_page)
    r.add_post("/bookings/{public_id}/reschedule", pages_scheduling.reschedule_submit)
    r.add_get("/day", pages_scheduling.day_list)
    r.add_get("/calendar", pages_scheduling.week_calendar)
    r.add_get("/calendar/feeds", pages_scheduling.feeds_page)
    r.add_post("/calendar/feeds", pages_scheduling.feed_create)
    r.add_post("/calendar/feeds/revoke", pages_scheduling.feed_revoke)
    r.add_get("/feeds/{token}.ics", pages_scheduling.feed_ics)
    r.add_get("/outbox", pages_scheduling.outbox_page)
    r.add_get("/healthz", healthz)
    r.add_get("/readyz", readyz)
    r.add_get("/metrics", metrics_handler)
    r.add_get("/api/openapi.json", openapi_json)
    for route in API_ROUTES:
        r.add_route(route.method, route.path, route.handler)
    r.add_static("/static/", STATIC_DIR, append_version=True)
