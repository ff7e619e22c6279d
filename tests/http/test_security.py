"""Security headers on every route, CSRF and cross-site refusal, no state change by GET."""

from __future__ import annotations

import io
import re

from aiohttp.test_utils import TestClient

from server.platform.clock import FixedClock
from tests.conftest import Seeded
from tests.helpers import csrf_token, login_as

REQUIRED = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
PUBLIC = ("/static/", "/healthz", "/readyz")


def _concrete(path: str, seeded: Seeded) -> str:
    return re.sub(r"\{public_id\}", seeded.patients["Astrid"], path)


def _check_headers(path: str, headers: object) -> None:
    h = headers  # CIMultiDictProxy
    csp = h.get("Content-Security-Policy", "")  # type: ignore[attr-defined]
    assert "object-src 'none'" in csp, path
    assert "base-uri 'none'" in csp, path
    assert "frame-ancestors 'none'" in csp, path
    for name, value in REQUIRED.items():
        assert h.get(name) == value, (path, name)  # type: ignore[attr-defined]
    assert h.get("Server") == "Samkonsult", path  # type: ignore[attr-defined]  # never the library's version
    if not path.startswith(PUBLIC):
        assert h.get("Cache-Control") == "no-store", path  # type: ignore[attr-defined]
    assert "Strict-Transport-Security" not in h  # type: ignore[operator]


async def test_every_route_has_the_security_headers(client: TestClient, seeded: Seeded,
                                                    clock: FixedClock) -> None:
    await login_as(client, "koordinator", clock)
    seen = 0
    for resource in client.app.router.resources():
        info = resource.get_info()
        path = info.get("path") or info.get("formatter") or info.get("prefix")
        assert isinstance(path, str)
        if "prefix" in info:
            path = path.rstrip("/") + "/app.css"
        path = _concrete(path, seeded)
        for method in ("GET", "POST"):
            resp = await client.request(method, path, allow_redirects=False)
            _check_headers(path, resp.headers)
            seen += 1
    # Also the answers nobody routed: 404 pages and problems.
    for path in ("/no/such/page", "/api/no-such-thing"):
        resp = await client.get(path)
        assert resp.status == 404
        _check_headers(path, resp.headers)
    assert seen > 40


async def test_hsts_when_served_over_tls(aiohttp_client, settings, clock) -> None:  # type: ignore[no-untyped-def]
    from dataclasses import replace

    from server.app import create_app

    app = create_app(replace(settings, public_url="https://samkonsult.example"), clock=clock)
    c = await aiohttp_client(app)
    resp = await c.get("/login")
    assert resp.headers["Strict-Transport-Security"].startswith("max-age=")


async def test_cookies_are_host_prefixed_httponly_samesite(client: TestClient, seeded: Seeded,
                                                          clock: FixedClock) -> None:
    resp = await client.get("/login")
    csrf_cookie = resp.cookies["__Host-samkonsult-csrf"]
    assert csrf_cookie["secure"] and csrf_cookie["httponly"] and csrf_cookie["path"] == "/"
    assert csrf_cookie["samesite"] == "Strict"
    token = await csrf_token(client)
    resp = await client.post("/login", data={"csrf_token": token, "username": "lege",
                                             "password": "demo-passord-2026"}, allow_redirects=False)
    session_cookie = resp.cookies["__Host-samkonsult"]
    assert session_cookie["secure"] and session_cookie["httponly"] and session_cookie["path"] == "/"
    assert session_cookie["samesite"] == "Lax"
    assert "domain" not in session_cookie or not session_cookie["domain"]


async def test_cross_site_post_is_refused(client: TestClient, seeded: Seeded) -> None:
    token = await csrf_token(client)
    form = {"csrf_token": token, "username": "lege", "password": "demo-passord-2026"}
    resp = await client.post("/login", data=form, headers={"Origin": "https://evil.example"},
                             allow_redirects=False)
    assert resp.status == 403
    resp = await client.post("/login", data=form, headers={"Sec-Fetch-Site": "cross-site"},
                             allow_redirects=False)
    assert resp.status == 403
    # Same origin with the token goes through.
    resp = await client.post("/login", data=form, headers={"Origin": str(client.make_url("")).rstrip("/")},
                             allow_redirects=False)
    assert resp.status == 303


async def test_origin_null_only_with_same_origin_fetch_metadata(client: TestClient, seeded: Seeded) -> None:
    # Browsers send Origin: null on our own forms because of Referrer-Policy: no-referrer.
    token = await csrf_token(client)
    form = {"csrf_token": token, "username": "lege", "password": "demo-passord-2026"}
    resp = await client.post("/login", data=form, headers={"Origin": "null", "Sec-Fetch-Site": "cross-site"},
                             allow_redirects=False)
    assert resp.status == 403
    resp = await client.post("/login", data=form, headers={"Origin": "null"}, allow_redirects=False)
    assert resp.status == 403
    resp = await client.post("/login", data=form, headers={"Origin": "null", "Sec-Fetch-Site": "same-origin"},
                             allow_redirects=False)
    assert resp.status == 303


async def test_post_without_or_with_wrong_csrf_token_is_refused(client: TestClient, seeded: Seeded) -> None:
    await csrf_token(client)
    form = {"username": "lege", "password": "demo-passord-2026"}
    resp = await client.post("/login", data=form, allow_redirects=False)
    assert resp.status == 403
    resp = await client.post("/login", data={**form, "csrf_token": "0" * 64}, allow_redirects=False)
    assert resp.status == 403
    resp = await client.post("/api/patients", json={}, allow_redirects=False)
    assert resp.status == 403
    assert resp.content_type == "application/problem+json"


async def test_get_changes_nothing(client: TestClient, seeded: Seeded) -> None:
    resp = await client.get("/logout", allow_redirects=False)
    assert resp.status == 405
    resp = await client.get("/language?lang=en", allow_redirects=False)
    assert resp.status == 405


async def test_body_size_limit(client: TestClient, seeded: Seeded) -> None:
    token = await csrf_token(client)
    body = io.BytesIO(f"csrf_token={token}&username={'x' * (2 * 1024 * 1024)}".encode())
    resp = await client.post("/login", data=body,
                             headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert resp.status == 413
