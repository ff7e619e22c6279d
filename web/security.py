"""Security headers and cross-site request forgery protection.

CSRF uses a double-submit token bound by HMAC to a ``__Host-`` cookie, so it works before login
(login and language forms) and needs no server state; unsafe requests must also come from our
own origin (``Origin``/``Sec-Fetch-Site``).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from aiohttp import web

# What every answer says in ``Server``: the product, never the library and its version.
SERVER_NAME = "Samkonsult"

CSRF_COOKIE = "__Host-samkonsult-csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "media-src 'self' blob: mediastream:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ]
)


def apply_security_headers(response: web.StreamResponse, *, over_tls: bool, personal: bool) -> None:
    """Headers every response gets; ``personal`` adds no-store for pages and API answers."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "no-referrer"
    headers["X-Frame-Options"] = "DENY"
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    headers["Permissions-Policy"] = "camera=(self), microphone=(self), display-capture=(self), geolocation=()"
    if over_tls:
        headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
    if personal:
        headers["Cache-Control"] = "no-store"
        headers["Pragma"] = "no-cache"


async def name_the_server(_request: web.Request, response: web.StreamResponse) -> None:
    """``on_response_prepare``: replace aiohttp's ``Server: Python/3.x aiohttp/3.y`` on every answer the
    app makes (pages, API, static files, WebSocket upgrades, 404s and errors); the version would only
    help someone look up which known flaws to try."""
    response.headers["Server"] = SERVER_NAME


def new_csrf_cookie() -> str:
    return secrets.token_urlsafe(32)


def csrf_token_for(secret: str, cookie_value: str) -> str:
    return hmac.new(secret.encode(), cookie_value.encode(), hashlib.sha256).hexdigest()


def csrf_valid(secret: str, cookie_value: str | None, presented: str | None) -> bool:
    if not cookie_value or not presented:
        return False
    return hmac.compare_digest(csrf_token_for(secret, cookie_value), presented)


def same_origin(request: web.Request, public_url: str) -> bool:
    """Refuse requests a browser marks as cross-site or whose Origin is not ours.

    ``Sec-Fetch-Site`` cannot be set by a page, so it is trusted first. Under our
    ``Referrer-Policy: no-referrer`` browsers send ``Origin: null`` on our own form posts; that is
    accepted only together with ``Sec-Fetch-Site: same-origin`` (the CSRF token is checked anyway).
    """
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None and site not in {"same-origin", "none"}:
        return False
    origin = request.headers.get("Origin")
    if origin is None:
        # Non-browser clients send none; the CSRF token still has to match.
        return True
    if origin == "null":
        return site == "same-origin"
    own = {public_url.rstrip("/"), f"{request.scheme}://{request.host}"}
    return origin in own
