"""Reading form posts and JSON bodies into plain values, with clear field errors."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from server.platform import strict_json
from server.platform.appkeys import SETTINGS
from server.platform.errors import ValidationFailed

MAX_FIELD = 2000
# Identifiers are database integers; anything larger cannot exist (and SQLite cannot even bind it).
MAX_ID = 2**31 - 1


def parse_id(raw: str | None) -> int | None:
    """A database id from text: ASCII digits only (``"²".isdigit()`` is true), within range."""
    if raw is None or not raw.isascii() or not raw.isdigit() or len(raw) > 10:
        return None
    value = int(raw)
    return value if 0 < value <= MAX_ID else None


async def form_fields(request: web.Request) -> dict[str, str]:
    """The posted form as strings (files are refused here), without the CSRF field."""
    data = await request.post()
    out: dict[str, str] = {}
    for key, value in data.items():
        if isinstance(value, str) and key != "csrf_token":
            out[key] = value[:MAX_FIELD * 5]
    return out


async def json_object(request: web.Request) -> dict[str, Any]:
    """The JSON body as an object; wrong type, bad or over-deep JSON, huge numbers or duplicate keys
    are a 422 problem."""
    if request.content_type != "application/json":
        raise ValidationFailed("send application/json", {"body": "invalid_json"})
    body = await request.read()  # aiohttp has already refused a body over client_max_size (413)
    try:
        value = strict_json.loads(body, max_bytes=request.app[SETTINGS].max_body_bytes)
    except strict_json.JsonRejected as exc:
        if exc.key is not None:  # a duplicate key: the problem names the field given twice
            raise ValidationFailed(exc.message, {exc.key: "duplicate_key"}) from None
        raise ValidationFailed(f"invalid JSON: {exc.message}", {"body": "invalid_json"}) from None
    if not isinstance(value, dict):
        raise ValidationFailed("the body must be a JSON object", {"body": "invalid_json"})
    return value


def get_str(body: dict[str, Any], key: str, *, required: bool = True, max_len: int = 200,
            errors: dict[str, str]) -> str:
    value = body.get(key)
    if value is None:
        if required:
            errors[key] = "required"
        return ""
    if not isinstance(value, str):
        errors[key] = "invalid_choice"
        return ""
    if len(value) > max_len:
        errors[key] = "too_long"
        return ""
    if required and not value.strip():
        errors[key] = "required"
    return value


def get_int(body: dict[str, Any], key: str, *, required: bool = True, errors: dict[str, str]) -> int | None:
    value = body.get(key)
    if value is None:
        if required:
            errors[key] = "required"
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_ID:
        errors[key] = "invalid_choice"
        return None
    return value


def get_bool(body: dict[str, Any], key: str, *, errors: dict[str, str]) -> bool:
    value = body.get(key, False)
    if not isinstance(value, bool):
        errors[key] = "invalid_choice"
        return False
    return value


def reject_unknown(body: dict[str, Any], allowed: set[str], errors: dict[str, str]) -> None:
    for key in body:
        if key not in allowed:
            errors[key] = "unknown_field"


def query_int(request: web.Request, name: str, *, required: bool, lo: int = 1, hi: int = 2**31) -> int | None:
    """A whole number from the query string within [lo, hi]; None when absent and not required."""
    raw = request.query.get(name)
    if raw is None or raw == "":
        if required:
            raise ValidationFailed("missing", {name: "required"})
        return None
    value = parse_id(raw)
    if value is None or not lo <= value <= hi:
        raise ValidationFailed("not a number", {name: "invalid_choice"})
    return value
