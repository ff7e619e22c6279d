"""FHIR R5 read endpoints, each resource validated with the fhir.resources package."""

from __future__ import annotations

import re

from aiohttp.test_utils import TestClient
from fhir.resources.appointment import Appointment
from fhir.resources.bundle import Bundle
from fhir.resources.operationoutcome import OperationOutcome
from fhir.resources.schedule import Schedule
from fhir.resources.slot import Slot

from server.platform.clock import FixedClock
from tests.conftest import Seeded
from tests.helpers import login_as


async def test_schedules_slots_and_appointments_validate(client: TestClient, seeded: Seeded,
                                                          clock: FixedClock) -> None:
    await login_as(client, "lege", clock)
    resp = await client.get("/fhir/Schedule")
    assert resp.status == 200 and resp.content_type == "application/fhir+json"
    schedules = Bundle.model_validate(await resp.json())
    assert schedules.entry
    for entry in schedules.entry:
        Schedule.model_validate(entry.resource.model_dump())
    room = next(e.resource for e in schedules.entry
                if e.resource.actor[0].reference.startswith("Location/") and "Rødøy" in (e.resource.name or ""))
    one = await client.get(f"/fhir/Schedule/{room.id}")
    Schedule.model_validate(await one.json())

    resp = await client.get("/fhir/Slot", params={"schedule": f"Schedule/{room.id}", "start": "2026-11-23",
                                                  "end": "2026-11-30"})
    slots = Bundle.model_validate(await resp.json())
    statuses = set()
    for entry in slots.entry:
        slot = Slot.model_validate(entry.resource.model_dump())
        statuses.add(slot.status)
    assert "free" in statuses and "busy" in statuses  # the demo booking holds the Rødøy room

    resp = await client.get("/fhir/Appointment", params={"date": "2026-11-24"})
    appointments = Bundle.model_validate(await resp.json())
    assert appointments.entry
    appointment = Appointment.model_validate(appointments.entry[0].resource.model_dump())
    assert appointment.status == "booked"
    booking_id = appointment.id.replace(".", "_")
    assert appointment.virtualService[0].addressUrl.endswith(f"/consultations/{booking_id}")
    assert appointment.class_fhir[0].coding[0].code == "VR"
    assert {p.status for p in appointment.participant} == {"accepted"}
    assert any(p.actor.reference.startswith("Patient/") for p in appointment.participant)
    single = await client.get(f"/fhir/Appointment/{appointment.id}")
    Appointment.model_validate(await single.json())


async def test_fhir_errors_are_operation_outcomes(client: TestClient, seeded: Seeded, clock: FixedClock) -> None:
    resp = await client.get("/fhir/Schedule")
    assert resp.status == 401
    OperationOutcome.model_validate(await resp.json())
    await login_as(client, "lege", clock)
    resp = await client.get("/fhir/Appointment/does-not-exist")
    assert resp.status == 404
    outcome = OperationOutcome.model_validate(await resp.json())
    assert outcome.issue[0].code == "not-found"
    resp = await client.get("/fhir/Slot", params={"schedule": "x"})
    assert resp.status == 422


async def test_appointment_reads_are_audited(client: TestClient, seeded: Seeded, clock: FixedClock) -> None:
    await login_as(client, "lege", clock)
    bundle = await (await client.get("/fhir/Appointment", params={"date": "2026-11-24"})).json()
    booking_id = bundle["entry"][0]["resource"]["id"]
    await client.get(f"/fhir/Appointment/{booking_id}")
    patient = re.sub(r"^Patient/", "", bundle["entry"][0]["resource"]["subject"]["reference"]).replace(".", "_")
    log = await (await client.get(f"/api/patients/{patient}/access-log", params={"reason": "test"})).json()
    assert any(r["object_type"] == "booking" and r["reason"] == "FHIR read" for r in log)
