"""The scheduling JSON API: slots, booking with Idempotency-Key, reschedule, cancel, resource settings."""

from __future__ import annotations

from aiohttp.test_utils import TestClient

from server.platform.clock import FixedClock
from tests.conftest import Seeded
from tests.helpers import api_headers, login_as


async def test_book_retry_reschedule_cancel(client: TestClient, seeded: Seeded, clock: FixedClock) -> None:
    headers = api_headers(await login_as(client, "koordinator", clock))
    queue = await (await client.get("/api/referrals")).json()
    johan = next(r for r in queue if r["patient_name"] == "Johan Pedersen")
    types = {t["code"]: t for t in await (await client.get("/api/consultation-types")).json()}
    joint = types["joint_consultation"]
    slots = await (await client.get("/api/slots", params={
        "consultation_type_id": str(joint["id"]), "from": "2026-11-24", "to": "2026-11-30",
        "municipality_id": str(seeded.organisations["Lurøy kommune"])})).json()
    assert len(slots) >= 2
    body = {"consultation_type_id": joint["id"], "start": slots[0]["start"], "referral_id": johan["id"],
            "chosen": {p["key"]: p["resource_id"] for p in slots[0]["participants"]}}
    first = await client.post("/api/bookings", json=body, headers={**headers, "Idempotency-Key": "k-1"})
    assert first.status == 201, await first.text()
    again = await client.post("/api/bookings", json=body, headers={**headers, "Idempotency-Key": "k-1"})
    assert again.status == 201
    booking = await first.json()
    assert (await again.json())["id"] == booking["id"]
    # The same key for another request is a conflict, not a second booking.
    other = {**body, "start": slots[1]["start"]}
    resp = await client.post("/api/bookings", json=other, headers={**headers, "Idempotency-Key": "k-1"})
    assert resp.status == 409 and resp.content_type == "application/problem+json"
    # Booking the same resources at the same time again is a clear conflict.
    resp = await client.post("/api/bookings", json={**body, "referral_id": None,
                                                     "patient_id": seeded.patients["Johan"]}, headers=headers)
    assert resp.status in (409, 422)
    moved = await client.post(f"/api/bookings/{booking['id']}/reschedule", json={"start": slots[1]["start"]},
                              headers=headers)
    assert moved.status == 200, await moved.text()
    assert (await moved.json())["sequence"] == booking["sequence"] + 1
    resp = await client.post(f"/api/bookings/{booking['id']}/cancel", json={"reason": ""}, headers=headers)
    assert resp.status == 422
    cancelled = await client.post(f"/api/bookings/{booking['id']}/cancel", json={"reason": "Innlagt"},
                                  headers=headers)
    assert (await cancelled.json())["status"] == "cancelled"
    assert (await cancelled.json())["sequence"] == booking["sequence"] + 2


async def test_resource_settings_api(client: TestClient, seeded: Seeded, clock: FixedClock) -> None:
    headers = api_headers(await login_as(client, "koordinator", clock))
    rooms = await (await client.get("/api/resources", params={"kind": "health_room"})).json()
    rid = rooms[0]["id"]
    resp = await client.put(f"/api/resources/{rid}/hours", json={"hours": [
        {"weekday": 0, "start": "08:00", "end": "12:00"}, {"weekday": 7, "start": "x", "end": "y"}]},
        headers=headers)
    assert resp.status == 422
    fields = {e["field"] for e in (await resp.json())["errors"]}
    assert "hours[1].weekday" in fields
    resp = await client.put(f"/api/resources/{rid}/hours", json={"hours": [
        {"weekday": 0, "start": "08:00", "end": "12:00"}]}, headers=headers)
    assert resp.status == 200 and (await resp.json())["hours"] == [{"weekday": 0, "start": "08:00", "end": "12:00"}]
    resp = await client.post(f"/api/resources/{rid}/exceptions", json={"day": "2026-12-24", "kind": "closed"},
                             headers=headers)
    assert resp.status == 201
    # Removed again, only through its own resource; a second removal finds nothing.
    eid = (await resp.json())["id"]
    resp = await client.delete(f"/api/resources/{rooms[1]['id']}/exceptions/{eid}", headers=headers)
    assert resp.status == 404
    resp = await client.delete(f"/api/resources/{rid}/exceptions/{eid}", headers=headers)
    assert resp.status == 200 and await resp.json() == {"id": eid, "removed": True}
    resp = await client.delete(f"/api/resources/{rid}/exceptions/{eid}", headers=headers)
    assert resp.status == 404
    resp = await client.post(f"/api/resources/{rid}/calendar-sources", json={"url": "ftp://x"}, headers=headers)
    assert resp.status == 422
    resp = await client.post(f"/api/resources/{rid}/calendar-sources",
                             json={"url": "https://calendar.example.no/rom.ics"}, headers=headers)
    assert resp.status == 201


async def test_nurse_may_not_configure_resources(client: TestClient, seeded: Seeded, clock: FixedClock) -> None:
    headers = api_headers(await login_as(client, "sykepleier.rodoy", clock))
    resp = await client.put("/api/resources/1/hours", json={"hours": []}, headers=headers)
    assert resp.status == 403
