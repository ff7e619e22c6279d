"""Rendering pages with the shared layout context."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import aiohttp_jinja2
from aiohttp import web
from babel.dates import format_date, format_datetime

from server.platform.local_time import OSLO
from web import i18n, labels
from web.context import REQUEST_CONTEXT
from web.navigation import navigation_for
from web.security import CSRF_FIELD


def local_datetime(value: datetime, fmt: str = "medium") -> str:
    """A UTC datetime as Oslo local time in the user's language."""
    return format_datetime(value.astimezone(OSLO), format=fmt, locale=i18n.babel_locale())


def local_date(value: Any, fmt: str = "medium") -> str:
    return format_date(value, format=fmt, locale=i18n.babel_locale())


def render(request: web.Request, template: str, context: dict[str, Any] | None = None,
           *, status: int = 200) -> web.Response:
    """Render a page with the user, navigation, language and CSRF token filled in."""
    page_ctx = request.get(REQUEST_CONTEXT)
    base: dict[str, Any] = {
        "lang": i18n.current_language(),
        "user": page_ctx.user if page_ctx else None,
        "actor": page_ctx.actor if page_ctx else None,
        "csrf_field": CSRF_FIELD,
        "csrf_token": page_ctx.csrf_token if page_ctx else "",
        "nav": navigation_for(page_ctx.actor if page_ctx else None, request.path),
        "path": request.path,
        "local_datetime": local_datetime,
        "local_date": local_date,
        "role_label": labels.role_label,
        "action_label": labels.action_label,
        "object_label": labels.object_label,
        "outbox_label": labels.outbox_label,
    }
    base.update(context or {})
    response = aiohttp_jinja2.render_template(template, request, base, status=status)
    response.headers["Content-Language"] = i18n.current_language()
    return response
