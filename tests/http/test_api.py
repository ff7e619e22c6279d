"""The JSON API: problem+json errors, patient access across organisations, the OpenAPI document."""

from __future__ import annotations

from aiohttp.test_utils import TestClient

from server.platform.clock import FixedClock
from tests.conftest import Seeded
from tests.helpers import api_headers, csrf_token, login_as
from web.routes import API_ROUTES


async def test_problem_json_on_bad_requests(client: TestClient, seeded: Seeded, clock: FixedClock) -> None:
    token = await login_as(client, "koordinator", clock)
    cases = [
        ("not json", "application/json"),
        ('{"a": 1, "a": 2}', "application/json"),
        ("[1, 2]", "application/json"),
        ("given_name=x", "text/plain"),
    ]
    for body, ctype in cases:
        resp = await client.post("/api/patients", data=body,
                                 headers={**api_headers(token), "Content-Type": ctype})
        assert resp.status == 422, body
        assert resp.content_type == "application/problem+json"
        problem = await resp.json()
        assert problem["status"] == 422 and problem["type"] and problem["title"]
    resp = await client.post("/api/patients", json={"given_name": "", "national_id": "12345678901",
                                                    "home_municipality_id": "x", "extra": 1},
                             headers=api_headers(token))
    problem = await resp.json()
    fields = {e["field"] for e in problem["errors"]}
    assert {"given_name", "family_name", "home_municipality_id", "extra", "reason"} <= fields
    resp = await client.get("/api/no-such-route")
    assert resp.status == 404 and resp.content_type == "application/problem+json"
    resp = await client.delete("/api/me", headers=api_headers(token))
    assert resp.status == 405 and resp.content_type == "application/problem+json"


async def test_deep_nesting_and_huge_integers_are_a_clear_422(client: TestClient, seeded: Seeded,
                                                               clock: FixedClock) -> None:
    # Both used to escape the JSON reader (RecursionError, int conversion limit) and answer 500.
    token = await login_as(client, "koordinator", clock)
    cases = {
        '{"given_name": ' + "[" * 50_000 + "]" * 50_000 + "}": "nested deeper",
        '{"home_municipality_id": ' + "9" * 5000 + "}": "digits",
    }
    for body, words in cases.items():
        for path in ("/api/patients", "/api/bookings"):
            resp = await client.post(path, data=body,
                                     headers={**api_headers(token), "Content-Type": "application/json"})
            assert resp.status == 422, (path, words)
            assert resp.content_type == "application/problem+json"
            problem = await resp.json()
            assert problem["code"] == "validation_failed"
            assert words in problem["detail"]
            assert [(e["field"], e["code"]) for e in problem["errors"]] == [("body", "invalid_json")]


async def test_a_key_given_twice_is_named_in_the_problem(client: TestClient, seeded: Seeded,
                                                         clock: FixedClock) -> None:
    token = await login_as(client, "koordinator", clock)
    resp = await client.post("/api/patients", data='{"reason": "a", "reason": "b"}',
                             headers={**api_headers(token), "Content-Type": "application/json"})
    assert resp.status == 422
    problem = await resp.json()
    assert [(e["field"], e["code"]) for e in problem["errors"]] == [("reason", "duplicate_key")]


async def test_problem_titles_follow_the_language(client: TestClient, seeded: Seeded) -> None:
    resp = await client.get("/api/me")
    assert resp.status == 401
    nb = (await resp.json())["title"]
    token = await csrf_token(client)
    await client.post("/language", data={"csrf_token": token, "lang": "en"})
    en = (await (await client.get("/api/me")).json())["title"]
    assert nb != en


async def test_register_and_read_patient_with_reason(client: TestClient, seeded: Seeded,
                                                     clock: FixedClock) -> None:
    from datetime import date

    from server.people.national_id import first_synthetic_id

    token = await login_as(client, "sykepleier.rodoy", clock)
    nin = first_synthetic_id(date(1940, 2, 2))
    resp = await client.post("/api/patients", json={
        "given_name": "Eva", "family_name": "Lund", "national_id": nin,
        "home_municipality_id": seeded.organisations["Rødøy kommune"], "reason": "Henvisning"},
        headers=api_headers(token))
    assert resp.status == 201, await resp.text()
    created = await resp.json()
    resp = await client.get(f"/api/patients/{created['id']}")
    assert resp.status == 422  # no reason given
    resp = await client.get(f"/api/patients/{created['id']}", params={"reason": "Planlagt samkonsultasjon"})
    assert resp.status == 200 and (await resp.json())["national_id"] == nin
    # The same number again is refused with a field error.
    resp = await client.post("/api/patients", json={
        "given_name": "Eva", "family_name": "Lund", "national_id": nin,
        "home_municipality_id": seeded.organisations["Rødøy kommune"], "reason": "Henvisning"},
        headers=api_headers(token))
    assert resp.status == 422
    assert (await resp.json())["errors"][0]["field"] == "national_id"


async def test_staff_of_unrelated_municipality_cannot_read_patient(client: TestClient, seeded: Seeded,
                                                                   clock: FixedClock) -> None:
    await login_as(client, "sykepleier.luroy", clock)
    astrid = seeded.patients["Astrid"]  # lives in Rødøy
    resp = await client.get(f"/api/patients/{astrid}", params={"reason": "nysgjerrig"})
    assert resp.status == 404
    listed = {p["id"] for p in await (await client.get("/api/patients")).json()}
    assert astrid not in listed and seeded.patients["Johan"] in listed


async def test_roles_without_clinical_access_cannot_read_patients(client: TestClient, seeded: Seeded,
                                                                   clock: FixedClock) -> None:
    await login_as(client, "admin", clock)
    resp = await client.get(f"/api/patients/{seeded.patients['Astrid']}", params={"reason": "x"})
    assert resp.status == 403
    assert (await client.get("/api/patients")).status == 403


async def test_access_log_lists_every_read(client: TestClient, seeded: Seeded, clock: FixedClock) -> None:
    await login_as(client, "lege", clock)
    astrid = seeded.patients["Astrid"]
    await client.get(f"/api/patients/{astrid}", params={"reason": "Planlagt samkonsultasjon"})
    resp = await client.get(f"/api/patients/{astrid}/access-log", params={"reason": "Pasienten spør"})
    records = await resp.json()
    reads = [r for r in records if r["action"] == "read" and r["actor"] == "Ingrid Hansen"]
    assert any(r["reason"] == "Planlagt samkonsultasjon" for r in reads)
    assert any(r["reason"] == "Pasienten spør" for r in reads)


def test_openapi_lists_every_api_route() -> None:
    from server.app import create_app
    from server.platform.settings import Settings

    app = create_app(Settings(database_url="sqlite+aiosqlite:///unused.db", session_secret="x" * 32,
                              totp_encryption_key="y" * 32))
    from web.openapi import build_document

    document = build_document(API_ROUTES, version="test")
    documented = {(method.upper(), path) for path, ops in document["paths"].items() for method in ops}
    routed = set()
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource else {}
        path = info.get("path") or info.get("formatter") or ""
        if path.startswith("/api/") and path != "/api/openapi.json" and route.method != "HEAD":
            routed.add((route.method, path))
    assert routed == documented


async def test_openapi_document_is_served_and_valid(client: TestClient) -> None:
    from jsonschema.validators import Draft202012Validator

    resp = await client.get("/api/openapi.json")
    document = await resp.json()
    assert document["openapi"].startswith("3.1")
    for schema in document["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)
    assert "/api/patients/{public_id}" in document["paths"]


async def test_health_ready_and_metrics(client: TestClient) -> None:
    assert (await client.get("/healthz")).status == 200
    resp = await client.get("/readyz")
    assert resp.status == 200 and (await resp.json())["status"] == "ready"
    await client.get("/login")
    text = await (await client.get("/metrics")).text()
    assert 'samkonsult_http_requests_total{method="GET",route="/login",status="200"}' in text
    assert "samkonsult_http_request_seconds_bucket" in text
