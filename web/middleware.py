"""The request pipeline: metrics, security headers, errors, session and language, CSRF."""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Awaitable, Callable

from aiohttp import web

from server.people.appkeys import SESSIONS
from server.people.sessions import COOKIE_NAME
from server.people.staff_actor import staff_actor
from server.platform.appkeys import DATABASE, SETTINGS
from server.platform.errors import DomainError
from web import i18n
from web.access_log import loggable_path
from web.context import REQUEST_CONTEXT, RequestContext, ctx
from web.errors import render_domain_error, render_http_error, render_internal_error
from web.metrics import METRICS, route_label
from web.refusals import REFUSALS
from web.security import (
    CSRF_COOKIE,
    CSRF_FIELD,
    CSRF_HEADER,
    SAFE_METHODS,
    apply_security_headers,
    csrf_token_for,
    csrf_valid,
    new_csrf_cookie,
    same_origin,
)

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
# Paths without personal data that may be cached (static assets carry their own headers). /metrics is
# not one: it answers only an operator's scraper, and no cache should keep it.
_PUBLIC_PREFIXES = ("/static/", "/healthz", "/readyz")


@web.middleware
async def metrics_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    finally:
        metrics = request.app[METRICS]
        route = route_label(request)
        metrics.requests.labels(request.method, route, str(status)).inc()
        metrics.latency.labels(request.method, route).observe(time.perf_counter() - started)
        if status >= 500:
            metrics.errors.labels(route).inc()


@web.middleware
async def security_headers_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    settings = request.app[SETTINGS]
    personal = not request.path.startswith(_PUBLIC_PREFIXES)
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        apply_security_headers(exc, over_tls=settings.served_over_tls, personal=personal)
        raise
    apply_security_headers(response, over_tls=settings.served_over_tls, personal=personal)
    return response


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every failure leaves here as problem+json under /api or a friendly page elsewhere."""
    try:
        return await handler(request)
    except web.HTTPRedirection:
        raise
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return render_http_error(request, exc)
    except DomainError as exc:
        refusals = request.app.get(REFUSALS)
        actor = ctx(request).actor if REQUEST_CONTEXT in request else None
        if refusals is not None and actor is not None and refusals.is_refused_access(exc):
            await refusals.record(request, actor)
        return render_domain_error(request, exc)
    except Exception:
        error_id = secrets.token_hex(6)
        log.exception("unhandled error %s on %s %s", error_id, request.method, loggable_path(request.rel_url))
        return render_internal_error(request, error_id)


@web.middleware
async def session_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Load the session and user, choose the language, and make sure a CSRF cookie exists."""
    settings = request.app[SETTINGS]
    token = request.cookies.get(COOKIE_NAME)
    context = RequestContext(language=settings.default_language, session_token=token)
    request[REQUEST_CONTEXT] = context
    if token and not request.path.startswith(_PUBLIC_PREFIXES):
        db = request.app[DATABASE]
        # Read without the write lock; the rare write (expiry, last seen) follows in its own short unit.
        async with db.session(read_only=True) as session:
            found = await request.app[SESSIONS].read(session, token)
            row = found.row
            if row is not None:
                context.session = row
                if row.user_id is not None:
                    user = found.user
                    if user is not None and user.is_active:
                        context.user = user
                        if row.second_factor_done:
                            context.actor = staff_actor(user)
        if found.needs_write:
            async with db.session() as session:
                await request.app[SESSIONS].write_back(session, found)
    context.language = i18n.pick_language(
        context.session.language if context.session else None,
        request.cookies.get("lang"),
        settings.default_language,
    )
    i18n.set_language(context.language)
    csrf_cookie = request.cookies.get(CSRF_COOKIE)
    if not csrf_cookie:
        csrf_cookie = new_csrf_cookie()
        context.set_csrf_cookie = csrf_cookie
    context.csrf_token = csrf_token_for(settings.session_secret, csrf_cookie)
    response = await handler(request)
    if context.set_csrf_cookie:
        response.set_cookie(CSRF_COOKIE, context.set_csrf_cookie, path="/", secure=True, httponly=True,
                            samesite="Strict")
    return response


@web.middleware
async def csrf_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Unsafe methods need our origin and a token matching the CSRF cookie."""
    if request.method in SAFE_METHODS:
        return await handler(request)
    settings = request.app[SETTINGS]
    if not same_origin(request, settings.public_url):
        log.warning("cross-site %s to %s refused", request.method, loggable_path(request.rel_url))
        raise DomainError("cross-site request refused", code="csrf_failed")
    presented = request.headers.get(CSRF_HEADER)
    if presented is None and request.content_type in {
        "application/x-www-form-urlencoded", "multipart/form-data",
    }:
        form = await request.post()
        value = form.get(CSRF_FIELD)
        presented = value if isinstance(value, str) else None
    if not csrf_valid(settings.session_secret, request.cookies.get(CSRF_COOKIE), presented):
        raise DomainError("missing or wrong CSRF token", code="csrf_failed")
    ctx(request)  # the session middleware ran first
    return await handler(request)
