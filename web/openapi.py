"""The OpenAPI 3.1 document of the JSON API, built from the same table that adds the routes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

PROBLEM = {"$ref": "#/components/schemas/Problem"}
REASON_PARAM = {"name": "reason", "in": "query", "required": True,
                "description": "Why the caller needs the data (written to the audit log)",
                "schema": {"type": "string", "minLength": 1, "maxLength": 300}}
PUBLIC_ID_PARAM = {"name": "public_id", "in": "path", "required": True,
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
    "AuditVerification": {"type": "object", "required": ["ok", "checked"], "properties": {
        "ok": {"type": "boolean"}, "checked": {"type": "integer"}, "problem": {"type": "string"},
        "seq": {"type": ["integer", "null"]}}},
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


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/problem+json": {"schema": PROBLEM}}}


def build_document(routes: list[ApiRoute], *, version: str) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        op: dict[str, Any] = {
            "summary": route.summary,
            "operationId": route.handler.__name__,
            "tags": [route.tag],
            "responses": {
                str(route.status): {"description": "OK",
                                    "content": {"application/json": {"schema": route.response}}},
                "401": _problem("Not logged in"),
                "403": _problem("Not allowed"),
                "422": _problem("Invalid input"),
            },
        }
        if route.parameters:
            op["parameters"] = route.parameters
        if "{public_id}" in route.path:
            op["responses"]["404"] = _problem("Not found")
        if route.request_schema:
            op["requestBody"] = {"required": True, "content": {"application/json": {
                "schema": {"$ref": f"#/components/schemas/{route.request_schema}"}}}}
            op["responses"]["403"] = _problem("Not allowed, or a cross-site request")
        paths.setdefault(route.path, {})[route.method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {"title": "Samkonsult API", "version": version,
                 "description": "Joint consultations between hospital, municipality and relatives."},
        "paths": paths,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"session": {"type": "apiKey", "in": "cookie", "name": "__Host-samkonsult"}},
        },
        "security": [{"session": []}],
    }
