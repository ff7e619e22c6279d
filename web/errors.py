"""Failures as RFC 9457 problem+json under /api, and as friendly pages elsewhere."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from notes.errors import InvalidNote, NotesError
from server.platform.errors import (
    AuthenticationFailed,
    Conflict,
    DomainError,
    NotFound,
    PermissionDenied,
    RateLimited,
    Unavailable,
    ValidationFailed,
)
from web.fhir_outcome import operation_outcome
from web.i18n import gettext as _
from web.messages import message_for
from web.note_messages import field_message
from web.render import render

PROBLEM_TYPE = "application/problem+json"


def status_for(exc: DomainError) -> int:
    if exc.code == "csrf_failed":
        return 403
    if isinstance(exc, ValidationFailed):
        return 422
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, PermissionDenied):
        return 403
    if isinstance(exc, AuthenticationFailed):
        return 401
    if isinstance(exc, RateLimited):
        return 429
    if isinstance(exc, Conflict):
        return 409
    if isinstance(exc, Unavailable):
        return 503
    return 400


def title_for(exc: DomainError) -> str:
    """The translated headline of a domain error: the message of its code.

    Notes errors have many precise codes and one headline per kind of refusal, which the note editor
    shows above the detail.
    """
    if isinstance(exc, NotesError):
        if isinstance(exc, Conflict):
            return _("The note has changed or is signed.")
        if isinstance(exc, ValidationFailed):
            return _("The note could not be saved as it is.")
    return message_for(exc.code)


def field_errors(exc: ValidationFailed) -> list[dict[str, str]] | None:
    """The per-field problems of a refused input for problem+json; None when the refusal names no field."""
    if isinstance(exc, InvalidNote):  # the note's own rules word each problem, by its path in the document
        return [{"field": e.path, "code": e.code, "message": field_message(e)} for e in exc.errors]
    if isinstance(exc, NotesError):  # an empty note or a bad amendment is refused as a whole
        return None
    return [{"field": f, "code": c, "message": message_for(c)} for f, c in exc.fields.items()]


def wants_problem_json(request: web.Request) -> bool:
    return request.path.startswith("/api/") or request.path.startswith("/fhir/")


def _fhir_outcome(request: web.Request, status: int, code: str, detail: str) -> web.Response | None:
    if not request.path.startswith("/fhir/"):
        return None
    return operation_outcome(status, code, detail or message_for(code))


def problem_response(status: int, code: str, detail: str, *, extra: dict[str, Any] | None = None,
                     headers: dict[str, str] | None = None, title: str | None = None) -> web.Response:
    body: dict[str, Any] = {
        "type": f"https://samkonsult.no/problems/{code}",
        "title": message_for(code) if title is None else title,
        "status": status,
        "detail": detail,
        "code": code,
    }
    body.update(extra or {})
    return web.Response(status=status, text=json.dumps(body, ensure_ascii=False),
                        content_type=PROBLEM_TYPE, headers=headers)


def _page(request: web.Request, status: int, title: str, detail: str, error_id: str | None = None,
          problems: list[str] | None = None) -> web.Response:
    try:
        return render(request, "error.html", {"title": title, "detail": detail, "error_id": error_id,
                                              "problems": problems or []}, status=status)
    except Exception:  # the layout itself failed; answer in plain text rather than not at all
        text = f"{title}\n{detail}" + (f"\nError id: {error_id}" if error_id else "")
        return web.Response(status=status, text=text)


def render_domain_error(request: web.Request, exc: DomainError) -> web.Response:
    status = status_for(exc)
    headers = {}
    if isinstance(exc, RateLimited | Unavailable):
        headers["Retry-After"] = str(exc.retry_after_seconds)
    outcome = _fhir_outcome(request, status, exc.code, exc.message)
    if outcome is not None:
        outcome.headers.update(headers)
        return outcome
    if wants_problem_json(request):
        extra: dict[str, Any] = {}
        errors = field_errors(exc) if isinstance(exc, ValidationFailed) else None
        if errors is not None:
            extra["errors"] = errors
        return problem_response(status, exc.code, exc.message, extra=extra, headers=headers,
                                title=title_for(exc))
    # A page refused for its address (a ?date= that is no date) says what is wrong with it, not only that
    # something is: the same words a form shows beside the field.
    problems = [item["message"] for item in field_errors(exc) or []] if isinstance(exc, ValidationFailed) else []
    response = _page(request, status, title_for(exc), "", problems=problems)
    response.headers.update(headers)
    return response


_HTTP_CODES = {400: "error", 401: "authentication_required", 403: "forbidden", 404: "not_found",
               405: "method_not_allowed", 413: "too_large", 415: "unsupported_media_type", 429: "rate_limited"}


def render_http_error(request: web.Request, exc: web.HTTPException) -> web.Response:
    code = _HTTP_CODES.get(exc.status, "error")
    outcome = _fhir_outcome(request, exc.status, code, exc.reason)
    if outcome is not None:
        return outcome
    if wants_problem_json(request):
        response = problem_response(exc.status, code, exc.reason)
    elif exc.status == 404:
        response = _page(request, 404, _("Page not found"), _("The page does not exist or has moved."))
    else:
        # the reason phrase is English protocol text; people read the code's message in their language
        response = _page(request, exc.status, message_for(code), "")
    if exc.status == 405 and "Allow" in exc.headers:
        response.headers["Allow"] = exc.headers["Allow"]
    if exc.status == 401 and "WWW-Authenticate" in exc.headers:
        response.headers["WWW-Authenticate"] = exc.headers["WWW-Authenticate"]
    return response


def render_internal_error(request: web.Request, error_id: str) -> web.Response:
    outcome = _fhir_outcome(request, 500, "internal_error", f"error id {error_id}")
    if outcome is not None:
        return outcome
    if wants_problem_json(request):
        return problem_response(500, "internal_error", "An unexpected error occurred.",
                                extra={"error_id": error_id})
    return _page(request, 500, _("Something went wrong"),
                 _("The error has been logged. Quote this error id if you contact support:"), error_id)
