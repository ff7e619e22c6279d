"""FHIR's answer format: the JSON response, and the OperationOutcome that FHIR clients expect for errors.

Apart from the FHIR endpoints so that the error mapping can use it without importing them.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

FHIR_JSON = "application/fhir+json"


def fhir_response(body: dict[str, Any], status: int = 200) -> web.Response:
    return web.Response(text=json.dumps(body, ensure_ascii=False), status=status, content_type=FHIR_JSON)


def operation_outcome(status: int, code: str, detail: str) -> web.Response:
    issue_code = {400: "invalid", 401: "login", 403: "forbidden", 404: "not-found", 409: "conflict",
                  422: "invalid", 429: "throttled"}.get(status, "exception")
    return fhir_response({
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": issue_code, "details": {"text": detail}, "diagnostics": code}],
    }, status=status)
