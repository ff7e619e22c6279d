"""The benefits report's JSON API: who may read it, bad periods as problems, the small-cell rule in the
JSON, one audit row per view, the settings, and the OpenAPI document."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import select

from server.platform.audit_models import AuditEntry
from server.platform.clock import FixedClock
from server.platform.db import Database
from tests.conftest import Seeded
from tests.helpers import api_headers, login_as
from tests.integration.benefits.fixture import build

PERIOD = "from=2026-03-01&to=2026-04-30"


def _counts(node: Any) -> list[dict[str, Any]]:
    """Every count, amount and share in a JSON answer (objects with a "suppressed" key)."""
    found = []
    if isinstance(node, dict):
        if "suppressed" in node:
            found.append(node)
        for value in node.values():
            found += _counts(value)
    elif isinstance(node, list):
        for value in node:
            found += _counts(value)
    return found


async def test_a_team_leader_reads_the_figures_of_one_municipality(
        client: TestClient, seeded: Seeded, db: Database, clock: FixedClock) -> None:
    world = await build(db)
    await login_as(client, "leder", clock)
    resp = await client.get(f"/api/reports/benefits?{PERIOD}&municipality={world.oyvaer}")
    assert resp.status == 200, await resp.text()
    assert resp.headers["Cache-Control"] == "no-store"
    body = await resp.json()
    assert body["period"] == {"from": "2026-03-01", "to": "2026-04-30", "kind": "custom"}
    assert body["filters"]["municipality"] == world.oyvaer
    totals = body["totals"]
    # the fixture's Øyvær: 13 consultations, 10 held, 15 trips, 2 x (920 + 240 + 160) km, 3 x 2 x 920 NOK
    assert totals["consultations"] == {"value": 13, "suppressed": False, "below_limit": False}
    assert totals["held"]["value"] == 10 and totals["trips_avoided"]["value"] == 15
    assert totals["km_avoided"] == {"value": 2640.0, "unit": "km", "suppressed": False, "below_limit": False}
    assert totals["travel_cost_avoided_nok"]["value"] == 5520
    assert totals["travel_hours_avoided"]["value"] == 80.0
    assert totals["cancelled"] == {"value": None, "suppressed": True, "below_limit": True}  # a9 alone
    assert [m["month"] for m in body["months"]] == ["2026-03", "2026-04"]
    assert body["settings"]["cost_per_km_nok"] == 3.0 and "§ 21" in body["settings"]["cost_per_km_source"]
    # nothing under five is shown anywhere, and no patient is named
    for node in _counts(body):
        if node["suppressed"]:
            assert node["value"] is None
        elif "unit" not in node and "target" not in node:
            assert node["value"] >= 5
    text = await resp.text()
    assert "Nordmann" not in text and "benefit-patient" not in text


async def test_every_view_is_audited_once_without_a_patient(
        client: TestClient, seeded: Seeded, db: Database, clock: FixedClock) -> None:
    await login_as(client, "leder", clock)
    for _ in range(2):
        assert (await client.get(f"/api/reports/benefits?{PERIOD}")).status == 200
    async with db.session() as session:
        rows = (await session.execute(select(AuditEntry).where(
            AuditEntry.object_type == "benefits_report"))).scalars().all()
    assert [(r.action, r.object_id, r.patient_id, r.role) for r in rows] == [
        ("view", "2026-03-01..2026-04-30", None, "team_leader")] * 2


async def test_period_shortcuts(client: TestClient, seeded: Seeded, clock: FixedClock) -> None:
    await login_as(client, "admin", clock)
    body = await (await client.get("/api/reports/benefits?period=quarter&from=2026-05-17")).json()
    assert body["period"] == {"from": "2026-04-01", "to": "2026-06-30", "kind": "quarter"}
    body = await (await client.get("/api/reports/benefits?period=year")).json()
    today = clock.now().date()
    assert body["period"]["from"] == f"{today.year}-01-01" and len(body["months"]) == 12


async def test_bad_periods_are_clear_problems(client: TestClient, seeded: Seeded, clock: FixedClock) -> None:
    await login_as(client, "leder", clock)
    cases = {
        "": {"from": "required", "to": "required"},
        "from=2026-03-02&to=2026-03-01": {"to": "dates_reversed"},
        "from=2020-01-01&to=2026-01-01": {"to": "period_too_long"},
        "from=2026-02-30&to=20260301": {"from": "invalid_date", "to": "invalid_date"},
        "from=0001-01-01&to=9999-12-31": {"from": "invalid_date", "to": "invalid_date"},
        "period=week": {"period": "invalid_choice"},
        "period=month&to=2026-03-01": {"to": "period_or_dates"},
        f"{PERIOD}&municipality=abc&department=0": {"municipality": "invalid_choice", "department": "invalid_choice"},
        f"{PERIOD}&municipality=999999&consultation_type=999999": {
            "municipality": "unknown_municipality", "consultation_type": "unknown_consultation_type"},
    }
    for query, fields in cases.items():
        resp = await client.get(f"/api/reports/benefits?{query}")
        assert resp.status == 422, query
        assert resp.content_type == "application/problem+json"
        problem = await resp.json()
        assert {e["field"]: e["code"] for e in problem["errors"]} == fields, query
        assert all(e["message"] and e["message"] != "Noe gikk galt." for e in problem["errors"]), problem


async def test_only_team_leaders_and_admins(client: TestClient, seeded: Seeded, clock: FixedClock) -> None:
    assert (await client.get(f"/api/reports/benefits?{PERIOD}")).status == 401
    for username in ("koordinator", "lege", "sykepleier.rodoy"):
        await login_as(client, username, clock)
        resp = await client.get(f"/api/reports/benefits?{PERIOD}")
        assert resp.status == 403, username
        assert (await client.get("/api/reports/benefit-settings")).status == 403
        await client.post("/logout", data={})
        client.session.cookie_jar.clear()


async def test_settings_read_by_leaders_changed_by_admins(client: TestClient, seeded: Seeded,
                                                         clock: FixedClock) -> None:
    token = await login_as(client, "leder", clock)
    defaults = await (await client.get("/api/reports/benefit-settings")).json()
    assert defaults["cost_per_km_nok"] == 3.0 and defaults["updated_at"] is None
    assert "pasientreiseforskriften" in defaults["sources"]["cost_per_km_nok"].lower()
    resp = await client.put("/api/reports/benefit-settings", json={"co2_kg_per_km": 0.1},
                            headers=api_headers(token))
    assert resp.status == 403
    await client.post("/logout", data={})
    client.session.cookie_jar.clear()
    token = await login_as(client, "admin", clock)
    resp = await client.put("/api/reports/benefit-settings", json={"co2_kg_per_km": 0.1, "home_share_target": 2,
                                                                   "escort_cost_counted": 1},
                            headers=api_headers(token))
    assert resp.status == 422
    problem = await resp.json()
    assert {e["field"]: e["code"] for e in problem["errors"]} == {
        "home_share_target": "out_of_range", "escort_cost_counted": "not_a_boolean"}
    resp = await client.put("/api/reports/benefit-settings", json={"co2_kg_per_km": 0.1},
                            headers=api_headers(token))
    assert resp.status == 200
    saved = await resp.json()
    assert saved["co2_kg_per_km"] == 0.1 and saved["cost_per_km_nok"] == 3.0 and saved["updated_at"]
    report = await (await client.get(f"/api/reports/benefits?{PERIOD}")).json()
    assert report["settings"]["co2_kg_per_km"] == 0.1


async def test_in_the_openapi_document(client: TestClient) -> None:
    document = await (await client.get("/api/openapi.json")).json()
    assert set(document["paths"]["/api/reports/benefits"]) == {"get"}
    assert set(document["paths"]["/api/reports/benefit-settings"]) == {"get", "put"}
    assert "BenefitsReport" in document["components"]["schemas"]


async def test_the_audit_row_names_the_filters_within_its_column(
        client: TestClient, seeded: Seeded, db: Database, clock: FixedClock) -> None:
    world = await build(db)
    await login_as(client, "leder", clock)
    query = f"municipality={world.oyvaer}&consultation_type={world.type_room}&department={world.department}"
    assert (await client.get(f"/api/reports/benefits?{PERIOD}&{query}")).status == 200
    async with db.session() as session:
        row = (await session.execute(select(AuditEntry).where(
            AuditEntry.object_type == "benefits_report"))).scalar_one()
    assert row.object_id == (f"2026-03-01..2026-04-30 m={world.oyvaer} t={world.type_room} "
                             f"d={world.department}")
