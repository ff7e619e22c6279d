"""The OpenAPI 3.1 document of the JSON API, built from the same table that adds the routes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from server.people.professions import Profession

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

PROFESSION_CODES = [p.value for p in Profession]

PROBLEM = {"$ref": "#/components/schemas/Problem"}
REASON_PARAM = {"name": "reason", "in": "query", "required": True,
                "description": "Why the caller needs the data (written to the audit log)",
                "schema": {"type": "string", "minLength": 1, "maxLength": 300}}
PUBLIC_ID_PARAM = {"name": "public_id", "in": "path", "required": True,
                   "schema": {"type": "string", "minLength": 1, "maxLength": 64}}
NOTE_ID_PARAM = {"name": "note_id", "in": "path", "required": True,
                 "schema": {"type": "string", "minLength": 1, "maxLength": 64}}

SCHEMAS: dict[str, Any] = {
    "Problem": {
        "type": "object",
        "required": ["type", "title", "status", "code"],
        "properties": {
            "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
            "detail": {"type": "string"}, "code": {"type": "string"}, "error_id": {"type": "string"},
            "errors": {"type": "array", "items": {"type": "object", "properties": {
                "field": {"type": "string"}, "code": {"type": "string"}, "message": {"type": "string"}}}},
        },
    },
    "Me": {"type": "object", "required": ["name", "role", "organisation"], "properties": {
        "name": {"type": "string"}, "role": {"type": "string"}, "organisation": {"type": "string"}}},
    "Organisation": {"type": "object", "required": ["id", "name", "kind", "departments"], "properties": {
        "id": {"type": "integer"}, "name": {"type": "string"},
        "kind": {"type": "string", "enum": ["hospital", "municipality"]},
        "code": {"type": ["string", "null"]},
        "departments": {"type": "array", "items": {"type": "object", "required": ["id", "name"], "properties": {
            "id": {"type": "integer"}, "name": {"type": "string"}}}}}},
    "PatientSummary": {"type": "object", "required": ["id", "given_name", "family_name", "birth_date"],
                       "properties": {"id": {"type": "string"}, "given_name": {"type": "string"},
                                      "family_name": {"type": "string"},
                                      "birth_date": {"type": "string", "format": "date"}}},
    "Patient": {"type": "object", "required": ["id", "given_name", "family_name", "birth_date", "national_id",
                                               "home_municipality"], "properties": {
        "id": {"type": "string"}, "given_name": {"type": "string"}, "family_name": {"type": "string"},
        "birth_date": {"type": "string", "format": "date"}, "national_id": {"type": "string"},
        "home_municipality": {"type": "string"}, "address": {"type": "string"}, "phone": {"type": "string"},
        "email": {"type": "string"}, "preferred_language": {"type": "string"},
        "interpreter_needed": {"type": "boolean"}}},
    "PatientInput": {"type": "object", "additionalProperties": False,
                     "required": ["given_name", "family_name", "national_id", "home_municipality_id", "reason"],
                     "properties": {
        "given_name": {"type": "string", "minLength": 1, "maxLength": 200},
        "family_name": {"type": "string", "minLength": 1, "maxLength": 200},
        "national_id": {"type": "string", "pattern": "^[0-9]{11}$"},
        "home_municipality_id": {"type": "integer"},
        "address": {"type": "string", "maxLength": 300}, "phone": {"type": "string", "maxLength": 40},
        "email": {"type": "string", "maxLength": 254},
        "preferred_language": {"type": "string", "maxLength": 40},
        "interpreter_needed": {"type": "boolean"},
        "reason": {"type": "string", "minLength": 1, "maxLength": 300}}},
    "AccessRecord": {"type": "object", "required": ["at", "actor", "role", "action"], "properties": {
        "at": {"type": "string", "format": "date-time"}, "actor": {"type": "string"}, "role": {"type": "string"},
        "organisation": {"type": "string"}, "object_type": {"type": "string"}, "object_id": {"type": "string"},
        "action": {"type": "string"}, "reason": {"type": "string"}}},
    "ConsultationType": {"type": "object", "required": ["id", "code", "name", "duration_minutes"], "properties": {
        "id": {"type": "integer"}, "code": {"type": "string"}, "name": {"type": "string"},
        "name_en": {"type": "string"}, "duration_minutes": {"type": "integer"},
        "buffer_before_minutes": {"type": "integer"}, "buffer_after_minutes": {"type": "integer"},
        "min_notice_minutes": {"type": "integer"},
        "requirements": {"type": "array", "items": {"type": "object", "properties": {
            "key": {"type": "string"}, "kind": {"type": "string"}, "resource_id": {"type": ["integer", "null"]},
            "department_id": {"type": ["integer", "null"]}, "equipment": {"type": "array", "items": {"type": "string"}},
            "profession": {"type": "string"}}}}}},
    "Resource": {"type": "object", "required": ["id", "kind", "name"], "properties": {
        "id": {"type": "integer"}, "kind": {"type": "string", "enum": ["person", "health_room", "equipment"]},
        "name": {"type": "string"}, "organisation_id": {"type": "integer"}, "profession": {"type": "string"},
        "address": {"type": "string"}, "latitude": {"type": ["number", "null"]},
        "longitude": {"type": ["number", "null"]}, "municipality_id": {"type": ["integer", "null"]},
        "equipment": {"type": "array", "items": {"type": "string"}}}},
    "Referral": {"type": "object", "required": ["id", "patient_id", "reason", "urgency", "status", "due_at"],
                 "properties": {
        "id": {"type": "string"}, "patient_id": {"type": "string"}, "patient_name": {"type": "string"},
        "reason": {"type": "string"}, "urgency": {"type": "string", "enum": ["day", "week", "four_weeks"]},
        "what_matters": {"type": "string"}, "wished_participants": {"type": "string"},
        "consultation_type_id": {"type": ["integer", "null"]}, "referred_by": {"type": "string"},
        "referring_organisation": {"type": "string"}, "otherwise_hospital": {"type": "string"},
        "travel_hours": {"type": ["number", "null"]}, "status": {"type": "string"},
        "created_at": {"type": "string", "format": "date-time"},
        "responded_at": {"type": ["string", "null"], "format": "date-time"},
        "due_at": {"type": "string", "format": "date-time"},
        "response_minutes": {"type": ["integer", "null"]}, "waited_minutes": {"type": "integer"},
        "overdue": {"type": "boolean"}, "escort_needed": {"type": "boolean"},
        "nurse_would_travel": {"type": "boolean"}}},
    "ReferralInput": {"type": "object", "additionalProperties": False,
                      "required": ["patient_id", "reason", "urgency"], "properties": {
        "patient_id": {"type": "string", "minLength": 1, "maxLength": 64},
        "reason": {"type": "string", "minLength": 1, "maxLength": 4000},
        "urgency": {"type": "string", "enum": ["day", "week", "four_weeks"]},
        "what_matters": {"type": "string", "maxLength": 4000},
        "wished_participants": {"type": "string", "maxLength": 1000},
        "consultation_type_id": {"type": "integer"}, "otherwise_hospital": {"type": "string", "maxLength": 200},
        "travel_hours": {"type": "number", "minimum": 0, "maximum": 48},
        "escort_needed": {"type": "boolean", "description": "The patient could not have travelled alone"},
        "nurse_would_travel": {"type": "boolean",
                               "description": "The municipal nurse would have gone along to the hospital"}}},
    "Slot": {"type": "object", "required": ["start", "end", "participants"], "properties": {
        "start": {"type": "string", "format": "date-time"}, "end": {"type": "string", "format": "date-time"},
        "participants": {"type": "array", "items": {"$ref": "#/components/schemas/BookingParticipant"}}}},
    "BookingParticipant": {"type": "object", "required": ["key", "resource_id", "name", "kind"], "properties": {
        "key": {"type": "string"}, "resource_id": {"type": "integer"}, "name": {"type": "string"},
        "kind": {"type": "string"}}},
    "Booking": {"type": "object", "required": ["id", "status", "start", "end", "participants", "sequence"],
                "properties": {
        "id": {"type": "string"}, "status": {"type": "string", "enum": [
            "booked", "arrived", "in_progress", "completed", "cancelled", "no_show"]},
        "start": {"type": "string", "format": "date-time"}, "end": {"type": "string", "format": "date-time"},
        "consultation_type_id": {"type": "integer"}, "consultation_type": {"type": "string"},
        "patient_id": {"type": "string"}, "patient_name": {"type": "string"},
        "referral_id": {"type": ["string", "null"]}, "patient_at_home": {"type": "boolean"},
        "sequence": {"type": "integer"}, "cancel_reason": {"type": "string"},
        "participants": {"type": "array", "items": {"$ref": "#/components/schemas/BookingParticipant"}},
        "outcome": {"description": "What followed, once recorded (completed consultations only)",
                    "oneOf": [{"$ref": "#/components/schemas/Outcome"}, {"type": "null"}]}}},
    "BookingInput": {"type": "object", "additionalProperties": False,
                     "required": ["consultation_type_id", "start", "chosen"], "properties": {
        "consultation_type_id": {"type": "integer"}, "start": {"type": "string", "format": "date-time"},
        "chosen": {"type": "object", "minProperties": 1, "additionalProperties": {"type": "integer"}},
        "referral_id": {"type": "string", "maxLength": 64}, "patient_id": {"type": "string", "maxLength": 64},
        "municipality_id": {"type": "integer"}}},
    "RescheduleInput": {"type": "object", "additionalProperties": False, "required": ["start"], "properties": {
        "start": {"type": "string", "format": "date-time"},
        "chosen": {"type": "object", "minProperties": 1, "additionalProperties": {"type": "integer"}}}},
    "CancelInput": {"type": "object", "additionalProperties": False, "required": ["reason"], "properties": {
        "reason": {"type": "string", "minLength": 1, "maxLength": 500}}},
    "StatusInput": {"type": "object", "additionalProperties": False, "required": ["status"], "properties": {
        "status": {"type": "string", "enum": ["arrived", "in_progress", "completed", "no_show"]}}},
    "CalendarImport": {"type": "object", "required": ["intervals", "occurrences"], "properties": {
        "intervals": {"type": "integer"}, "occurrences": {"type": "integer"}, "ignored_free": {"type": "integer"},
        "ignored_cancelled": {"type": "integer"}, "imported_at": {"type": "string", "format": "date-time"}}},
    "WeeklyHours": {"type": "object", "additionalProperties": False, "required": ["hours"], "properties": {
        "hours": {"type": "array", "maxItems": 70, "items": {
            "type": "object", "required": ["weekday", "start", "end"], "properties": {
                "weekday": {"type": "integer", "minimum": 0, "maximum": 6},
                "start": {"type": "string", "pattern": "^[0-2][0-9]:[0-5][0-9]$"},
                "end": {"type": "string", "pattern": "^[0-2][0-9]:[0-5][0-9]$"}}}}}},
    "AvailabilityExceptionInput": {"type": "object", "additionalProperties": False, "required": ["day", "kind"],
                                   "properties": {
        "day": {"type": "string", "format": "date"}, "kind": {"type": "string", "enum": ["closed", "extra"]},
        "start": {"type": "string", "pattern": "^[0-2][0-9]:[0-5][0-9]$"},
        "end": {"type": "string", "pattern": "^[0-2][0-9]:[0-5][0-9]$"},
        "note": {"type": "string", "maxLength": 200}}},
    "RemovedException": {"type": "object", "required": ["id", "removed"], "properties": {
        "id": {"type": "integer"}, "removed": {"type": "boolean"}}},
    "AvailabilityException": {"type": "object", "required": ["id", "day", "kind"], "properties": {
        "id": {"type": "integer"}, "day": {"type": "string", "format": "date"}, "kind": {"type": "string"},
        "start": {"type": ["string", "null"]}, "end": {"type": ["string", "null"]}, "note": {"type": "string"}}},
    "CalendarSourceInput": {"type": "object", "additionalProperties": False, "required": ["url"], "properties": {
        "url": {"type": "string", "format": "uri", "maxLength": 2000}}},
    "CalendarSource": {"type": "object", "required": ["id", "url", "kind"], "properties": {
        "id": {"type": "integer"}, "url": {"type": "string"}, "kind": {"type": "string"},
        "last_error": {"type": "string"}}},
    "AuditVerification": {"type": "object", "required": ["ok", "checked"], "properties": {
        "ok": {"type": "boolean"}, "checked": {"type": "integer"}, "problem": {"type": "string"},
        "seq": {"type": ["integer", "null"]}}},
    # Consultation notes (web/api_notes.py); "content" is the stored note document (notes/codec.py, schema 1).
    "Note": {"type": "object", "required": ["id", "booking", "version", "status", "content", "permissions"],
             "properties": {
        "id": {"type": ["string", "null"], "description": "null until the first save creates the note"},
        "booking": {"type": "string"},
        "version": {"type": "integer", "description": "0 until the first save creates the note"},
        "status": {"type": "string", "enum": ["preliminary", "final", "amended"]},
        "content": {"type": "object"}, "signature": {"type": ["object", "null"]},
        "amendments": {"type": "array", "items": {"type": "object"}}, "shared": {"type": "boolean"},
        "verified": {"type": "boolean"}, "permissions": {"type": "array", "items": {"type": "string"}},
        "patient": {"type": "object"}, "profession": {"type": "string"}, "links": {"type": "object"}}},
    "JoinCodeInput": {"type": "object", "additionalProperties": False, "required": ["name", "role"],
                      "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 100},
                                     "role": {"type": "string", "enum": ["relative", "patient", "interpreter"]}}},
    "JoinCode": {"type": "object", "required": ["code", "join_url", "name", "role", "valid_from", "valid_until"],
                 "description": "The plain code appears in this answer only; the server keeps its hash.",
                 "properties": {"code": {"type": "string", "pattern": "^[2-9A-Z]{4}(-[2-9A-Z]{4}){3}$"},
                                "join_url": {"type": "string", "format": "uri"}, "name": {"type": "string"},
                                "role": {"type": "string"},
                                "valid_from": {"type": "string", "format": "date-time"},
                                "valid_until": {"type": "string", "format": "date-time"}}},
    "JoinCodeSendInput": {"type": "object", "additionalProperties": False, "required": ["code", "channel", "to"],
                          "properties": {
        "code": {"type": "string", "maxLength": 64, "description": "A valid, unused code of this booking"},
        "channel": {"type": "string", "enum": ["sms", "email"]},
        "to": {"type": "string", "maxLength": 300,
               "description": "sms: a Norwegian mobile number (+47 and 8 digits starting with 4 or 9, spaces "
                              "allowed); email: an email address"},
        "language": {"type": "string", "enum": ["nb", "en"], "default": "nb"}}},
    "JoinCodeMessage": {"type": "object", "required": ["message_id", "channel", "to", "state"], "properties": {
        "message_id": {"type": "integer"}, "channel": {"type": "string", "enum": ["sms", "email"]},
        "to": {"type": "string", "description": "The address, masked"},
        "state": {"type": "string", "enum": ["queued", "sent", "failed", "no_gateway"]}}},
    "JoinCodeMessageState": {"type": "object", "required": ["message_id", "state"], "properties": {
        "message_id": {"type": "integer"},
        "state": {"type": "string", "enum": ["queued", "sent", "failed", "no_gateway"]}}},
    "NoteSave": {"type": "object", "additionalProperties": False, "required": ["based_on", "content"],
                 "properties": {"based_on": {"type": "integer", "minimum": 1}, "content": {"type": "object"},
                                "reason": {"type": "string", "maxLength": 300}}},
    "NoteFirstSave": {"type": "object", "additionalProperties": False, "required": ["based_on", "content"],
                      "properties": {"based_on": {"type": "integer", "minimum": 0}, "content": {"type": "object"},
                                     "reason": {"type": "string", "maxLength": 300}}},
    "NoteSaved": {"type": "object", "required": ["version", "saved", "note"], "properties": {
        "version": {"type": "integer"}, "saved": {"type": "boolean"}, "note": {"$ref": "#/components/schemas/Note"},
        "conflicts": {"type": "array", "description": "Only in a 409 answer: parts changed on both sides",
                      "items": {"type": "object", "required": ["part", "base", "theirs", "mine"], "properties": {
                          "part": {"type": "string"}, "base": {}, "theirs": {}, "mine": {},
                          "base_text": {"type": "string"}, "theirs_text": {"type": "string"},
                          "mine_text": {"type": "string"}}}}}},
    "NoteAmendmentInput": {"type": "object", "additionalProperties": False, "required": ["part", "text"],
                           "properties": {"part": {"type": "string", "maxLength": 200},
                                          "text": {"type": "string", "minLength": 1, "maxLength": 10000},
                                          "reason": {"type": "string", "maxLength": 300},
                                          "draft": {"type": "string", "maxLength": 200}}},
    "NoteAmendmentDraftInput": {"type": "object", "additionalProperties": False, "required": ["part"],
                                "properties": {"part": {"type": "string", "maxLength": 200},
                                               "text": {"type": "string", "maxLength": 200000},
                                               "reason": {"type": "string", "maxLength": 300}}},
    "NoteShareInput": {"type": "object", "additionalProperties": False, "required": ["shared"],
                       "properties": {"shared": {"type": "boolean"}, "reason": {"type": "string", "maxLength": 300}}},
    "NoteVersionSummary": {"type": "object", "required": ["version", "author", "created_at", "size", "links"],
                           "properties": {
        "version": {"type": "integer"}, "author": {"type": "object"},
        "created_at": {"type": "string", "format": "date-time"}, "size": {"type": "integer"},
        "links": {"type": "object"}}},
    "NoteVersion": {"type": "object", "required": ["version", "author", "created_at", "content"], "properties": {
        "version": {"type": "integer"}, "author": {"type": "object"},
        "created_at": {"type": "string", "format": "date-time"}, "content": {"type": "object"}}},
    # The device and connection check (web/pages_check.py): no login, nothing about anyone.
    "ConnectionCheckStart": {"type": "object", "additionalProperties": False, "properties": {}},
    "ConnectionCheck": {"type": "object", "required": ["id", "ice_servers", "time_limit_seconds"], "properties": {
        "id": {"type": "string"}, "time_limit_seconds": {"type": "number"},
        "ice_servers": {"type": "array", "items": {"type": "object", "required": ["urls"], "properties": {
            "urls": {"type": "array", "items": {"type": "string"}}, "username": {"type": "string"},
            "credential": {"type": "string"}}}}}},
    "ConnectionCheckOffer": {"type": "object", "additionalProperties": False, "required": ["type", "sdp"],
                             "properties": {"type": {"type": "string", "enum": ["offer"]},
                                            "sdp": {"type": "string", "minLength": 1, "maxLength": 20000}}},
    "ConnectionCheckAnswer": {"type": "object", "required": ["type", "sdp"], "properties": {
        "type": {"type": "string", "enum": ["answer"]}, "sdp": {"type": "string"}}},
    "ConnectionCheckStopped": {"type": "object", "required": ["id", "stopped"], "properties": {
        "id": {"type": "string"}, "stopped": {"type": "boolean"}}},
    # Setting a trust up (web/api_setup.py): equipment kinds are scheduling.equipment.EQUIPMENT_KINDS.
    "HealthRoomInput": {"type": "object", "additionalProperties": False, "required": ["name", "municipality_id"],
                        "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 200}, "municipality_id": {"type": "integer"},
        "address": {"type": "string", "maxLength": 300}, "email": {"type": "string", "maxLength": 254},
        "equipment": {"type": "array", "maxItems": 50, "items": {"type": "string", "maxLength": 60}},
        "hours": {"type": "array", "maxItems": 70, "items": {
            "type": "object", "required": ["weekday", "start", "end"], "properties": {
                "weekday": {"type": "integer", "minimum": 0, "maximum": 6},
                "start": {"type": "string", "pattern": "^[0-2][0-9]:[0-5][0-9]$"},
                "end": {"type": "string", "pattern": "^[0-2][0-9]:[0-5][0-9]$"}}}}}},
    "EquipmentItemInput": {"type": "object", "additionalProperties": False, "required": ["kind"], "properties": {
        "kind": {"type": "string", "maxLength": 60}, "name": {"type": "string", "maxLength": 200},
        "organisation_id": {"type": "integer", "description": "Empty: the organisation of the room"},
        "room_id": {"type": "integer", "description": "The health room it is kept in"}}},
    "BookableStaffInput": {"type": "object", "additionalProperties": False, "required": ["user_id", "hours"],
                           "properties": {"user_id": {"type": "integer"}, "hours": {
            "type": "array", "maxItems": 70, "items": {
            "type": "object", "required": ["weekday", "start", "end"], "properties": {
                "weekday": {"type": "integer", "minimum": 0, "maximum": 6},
                "start": {"type": "string", "pattern": "^[0-2][0-9]:[0-5][0-9]$"},
                "end": {"type": "string", "pattern": "^[0-2][0-9]:[0-5][0-9]$"}}}}}},
    "ResourceChange": {"type": "object", "additionalProperties": False, "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 200}, "address": {"type": "string", "maxLength": 300},
        "email": {"type": "string", "maxLength": 254},
        "equipment": {"type": "array", "maxItems": 50, "items": {"type": "string", "maxLength": 60}},
        "room_id": {"type": ["integer", "null"]}, "active": {"type": "boolean"}}},
    "ConsultationTypeInput": {"type": "object", "additionalProperties": False,
                              "required": ["name", "name_en", "duration_minutes", "requirements"], "properties": {
        "code": {"type": "string", "pattern": "^[a-z0-9_]{1,60}$"},
        "name": {"type": "string", "minLength": 1, "maxLength": 200},
        "name_en": {"type": "string", "minLength": 1, "maxLength": 200},
        "duration_minutes": {"type": "integer", "minimum": 5, "maximum": 480},
        "buffer_before_minutes": {"type": "integer", "minimum": 0, "maximum": 240},
        "buffer_after_minutes": {"type": "integer", "minimum": 0, "maximum": 240},
        "min_notice_minutes": {"type": "integer", "minimum": 0, "maximum": 86400},
        "active": {"type": "boolean", "description": "PUT only: offered for booking"},
        "requirements": {"type": "array", "minItems": 1, "maxItems": 10, "items": {
            "type": "object", "additionalProperties": False, "required": ["key", "kind"], "properties": {
                "key": {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,39}$"},
                "kind": {"type": "string", "enum": ["named_person", "department_specialist", "municipality_nurse",
                                                   "health_room", "patient_home", "profession"]},
                "resource_id": {"type": "integer"}, "department_id": {"type": "integer"},
                "equipment": {"type": "array", "items": {"type": "string"}},
                "profession": {"type": "string", "enum": PROFESSION_CODES, "description": (
                    "kind profession: any bookable person of this profession, of department_id, or of the "
                    "patient's municipality when no department is named")}}}}}},
    "RoomImport": {"type": "object", "required": ["rooms", "imported"], "properties": {
        "rooms": {"type": "integer"}, "imported": {"type": "boolean"}}},
}


@dataclass(frozen=True)
class ApiRoute:
    method: str
    path: str
    handler: Handler
    summary: str
    response: dict[str, Any]
    status: int = 200
    parameters: list[dict[str, Any]] = field(default_factory=list)
    request_schema: str | None = None
    tag: str = "general"
    request_media_type: str = "application/json"
    extra_responses: tuple[int, ...] = ()
    response_media_type: str = "application/json"


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/problem+json": {"schema": PROBLEM}}}


def build_document(routes: list[ApiRoute], *, version: str,
                   extra_schemas: dict[str, Any] | None = None) -> dict[str, Any]:
    """The document; ``extra_schemas`` are those a module keeps beside its own handlers."""
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        op: dict[str, Any] = {
            "summary": route.summary,
            "operationId": route.handler.__name__,
            "tags": [route.tag],
            "responses": {
                str(route.status): {"description": "OK",
                                    "content": {route.response_media_type: {"schema": route.response}}},
                "400": _problem("Malformed request"),
                "401": _problem("Not logged in"),
                "403": _problem("Not allowed"),
                "422": _problem("Invalid input"),
            },
        }
        if route.parameters:
            op["parameters"] = route.parameters
        # Anything the request names (a patient, a type, a resource) may not exist or not be the caller's.
        op["responses"]["404"] = _problem("Not found")
        for status in route.extra_responses:
            op["responses"][str(status)] = _problem({409: "Conflict, e.g. the time was taken",
                                                     429: "Too many requests"}.get(status, "Error"))
        if route.request_schema:
            schema = ({"type": "string"} if route.request_schema == "text"
                      else {"$ref": f"#/components/schemas/{route.request_schema}"})
            op["requestBody"] = {"required": True, "content": {route.request_media_type: {"schema": schema}}}
            op["responses"]["403"] = _problem("Not allowed, or a cross-site request")
            # Any body past the server's size limit is refused before the handler reads it.
            op["responses"]["413"] = _problem("The request body is too large")
        paths.setdefault(route.path, {})[route.method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {"title": "Samkonsult API", "version": version,
                 "description": "Joint consultations between hospital, municipality and relatives."},
        "paths": paths,
        "components": {
            "schemas": {**SCHEMAS, **(extra_schemas or {})},
            "securitySchemes": {"session": {"type": "apiKey", "in": "cookie", "name": "__Host-samkonsult"}},
        },
        "security": [{"session": []}],
    }
