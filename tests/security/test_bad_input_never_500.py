"""Hostile input gets a clear 4xx in the caller's format, never an unhandled error (issue 15, finding 4).

An outside probe found fifteen 500s: ``OverflowError`` on dates at the edges of the calendar
(``9999-12-31``, ``0001-01-01``), ``RecursionError`` on deeply nested JSON and ``ValueError`` on a
5,000-digit integer. Each probe below is sent to the app as the probe sent it; the answer must be a
4xx in the right content type (problem+json under /api, an OperationOutcome under /fhir, a page
elsewhere) and the server must log no unhandled error. To cover a new endpoint, add a ``Probe``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from server.platform.clock import FixedClock
from tests.conftest import Seeded
from tests.helpers import api_headers, login_as
from tests.http.notes_documents import note_document

FAR_FUTURE = "9999-12-31"
FAR_PAST = "0001-01-01"
HUGE_INT = "9" * 5000
DEEP_JSON = b"[" * 100_000 + b"]" * 100_000
DEEP_OBJECT = b'{"a":' * 100_000 + b"1" + b"}" * 100_000


@dataclass(frozen=True)
class Probe:
    """One hostile request. ``{booking}``, ``{note}``, ``{referral}`` and ``{room}`` in the path are
    filled with real ids of the demo data, so the request reaches the code that reads the input."""

    user: str
    method: str
    path: str
    params: dict[str, str] = field(default_factory=dict)
    json: Any = None
    raw: bytes | None = None  # a JSON body sent as is (too deep to build as a Python value)
    form: dict[str, str] | None = None  # a form post; the CSRF token is added
    harmless_ok: bool = False  # a 2xx is fine too: the page ignores the value and shows its default

    def label(self) -> str:
        shown = {k: (v if len(v) < 20 else f"{v[:8]}…({len(v)})") for k, v in self.params.items()}
        body = " deep JSON" if self.raw else (" json" if self.json is not None else "")
        return f"{self.user} {self.method} {self.path} {shown}{body}"


def _dates(user: str, method: str, path: str, name: str, **fixed: str) -> list[Probe]:
    return [Probe(user, method, path, {**fixed, name: value}) for value in (FAR_FUTURE, FAR_PAST, HUGE_INT)]


PROBES: list[Probe] = [
    # Dates at the edges of the calendar, in every place a date is read from a query string.
    *_dates("lege", "GET", "/api/day-list", "date"),
    *_dates("lege", "GET", "/day", "date"),
    *_dates("lege", "GET", "/calendar", "week"),
    *_dates("lege", "GET", "/fhir/Appointment", "date"),
    *_dates("lege", "GET", "/fhir/Schedule", "start"),
    *_dates("lege", "GET", "/fhir/Schedule", "end"),
    *_dates("lege", "GET", "/fhir/Slot", "start", schedule="Schedule/{room}"),
    *_dates("koordinator", "GET", "/api/slots", "from", consultation_type_id="1"),
    *_dates("koordinator", "GET", "/api/slots", "to", consultation_type_id="1"),
    *_dates("koordinator", "GET", "/referrals/{referral}/slots", "from"),
    *_dates("koordinator", "GET", "/referrals/{referral}/slots", "to"),
    *_dates("admin", "GET", "/admin/audit", "from"),
    # Dates and times at the edges in bodies: booking, rescheduling (API and page), closing a day.
    *[Probe("koordinator", "POST", "/api/bookings",
            json={"consultation_type_id": 1, "start": f"{day}T10:00:00+01:00", "patient_id": "x",
                  "chosen": {"specialist": 1}}) for day in (FAR_FUTURE, FAR_PAST)],
    *[Probe("koordinator", "POST", "/api/bookings/{booking}/reschedule", json={"start": start})
      for start in (f"{FAR_FUTURE}T23:59:59-23:59", f"{FAR_PAST}T00:00:00+14:00", HUGE_INT)],
    *[Probe("koordinator", "POST", "/bookings/{booking}/reschedule", form={"start": start})
      for start in (f"{FAR_FUTURE}T23:59:59-23:59", f"{FAR_PAST}T00:00:00+14:00", HUGE_INT)],
    *[Probe("koordinator", "POST", "/bookings", form={"start": f"{day}T10:00:00+01:00",
                                                      "consultation_type_id": "1"})
      for day in (FAR_FUTURE, FAR_PAST)],
    *[Probe("koordinator", "POST", "/api/resources/{room}/exceptions",
            json={"day": day, "kind": "closed", "note": "x"}) for day in (FAR_FUTURE, FAR_PAST)],
    # Deep nesting and huge numbers in JSON bodies.
    Probe("lege", "POST", "/api/patients", raw=DEEP_JSON),
    Probe("lege", "POST", "/api/patients", raw=DEEP_OBJECT),
    Probe("lege", "PUT", "/api/notes/{note}", raw=DEEP_JSON),
    Probe("lege", "PUT", "/api/notes/{note}", raw=DEEP_OBJECT),
    Probe("koordinator", "POST", "/api/bookings", raw=f'{{"consultation_type_id": {HUGE_INT}}}'.encode()),
    Probe("lege", "PUT", "/api/notes/{note}", raw=f'{{"base_version": {HUGE_INT}}}'.encode()),
    Probe("lege", "POST", "/api/patients", raw=b'{"given_name": 1e999}'),
    # Huge numbers in query strings.
    Probe("koordinator", "GET", "/api/slots", {"consultation_type_id": HUGE_INT}),
    Probe("lege", "GET", "/calendar", {"resource": HUGE_INT}, harmless_ok=True),
    Probe("leder", "GET", "/reports/benefits", {"period": "year", "year": "²"}),
    Probe("leder", "GET", "/reports/benefits", {"period": "year", "year": HUGE_INT}),
    Probe("leder", "GET", "/api/reports/benefits", {"from": FAR_PAST, "to": FAR_FUTURE}),
    Probe("lege", "POST", "/patients/new", form={"given_name": "Kari", "family_name": "Nordmann",
                                                 "national_id": "12345678901",
                                                 "home_municipality_id": "9" * 1000}),
]

# Every JSON body the API takes also gets the deep document (the path ids are real where it matters).
_JSON_ROUTES = [("POST", "/api/referrals"), ("POST", "/api/bookings/{booking}/cancel"),
                ("POST", "/api/bookings/{booking}/status"), ("PUT", "/api/resources/{room}/hours"),
                ("PUT", "/api/bookings/{booking}/note"),
                ("POST", "/api/notes/{note}/amendments"), ("PUT", "/api/notes/{note}/amendment-drafts"),
                ("POST", "/api/notes/{note}/share"), ("POST", "/api/health-rooms"),
                ("POST", "/api/consultation-types"), ("PATCH", "/api/resources/{room}")]
PROBES += [Probe("admin" if "health-rooms" in path or "types" in path else "koordinator", method, path,
                 raw=DEEP_JSON) for method, path in _JSON_ROUTES]


def _expected_type(path: str) -> str:
    if path.startswith("/api/"):
        return "application/problem+json"
    if path.startswith("/fhir/"):
        return "application/fhir+json"
    return "text/html"


async def _demo_ids(client: TestClient, clock: FixedClock) -> dict[str, str]:
    """Real ids of the demo data: a booking of the doctor's, its note, a referral, a health room."""
    token = await login_as(client, "lege", clock)
    days = ["2026-11-23", "2026-11-24", "2026-11-25", "2026-11-26", "2026-11-27"]
    booking = None
    for day in days:
        rows = await (await client.get("/api/day-list", params={"date": day})).json()
        if rows:
            booking = rows[0]["id"]
            break
    assert booking, "the demo data has no booking of the doctor's this week"
    # Opening a note creates nothing; the first save does (and gives it its id).
    note = await client.put(f"/api/bookings/{booking}/note", headers=api_headers(token),
                            json={"based_on": 0, "content": note_document()})
    assert note.status == 200, await note.text()
    note_id = (await note.json())["note"]["id"]
    await login_as(client, "koordinator", clock)
    referrals = await (await client.get("/api/referrals")).json()
    rooms = await (await client.get("/api/resources", params={"kind": "health_room"})).json()
    return {"booking": booking, "note": note_id, "referral": referrals[0]["id"], "room": str(rooms[0]["id"])}


async def _send(client: TestClient, probe: Probe, ids: dict[str, str], token: str) -> tuple[int, str, str]:
    path = probe.path.format(**ids)
    params = {k: v.format(**ids) for k, v in probe.params.items()}
    headers = api_headers(token)
    kwargs: dict[str, Any] = {"params": params, "headers": headers, "allow_redirects": False}
    if probe.raw is not None:
        kwargs["data"] = probe.raw
        headers["Content-Type"] = "application/json"
    elif probe.json is not None:
        kwargs["json"] = probe.json
    elif probe.form is not None:
        kwargs["data"] = {**probe.form, "csrf_token": token}
    resp = await client.request(probe.method, path, **kwargs)
    return resp.status, resp.content_type, await resp.text()


async def test_every_probe_gets_a_clear_4xx(client: TestClient, seeded: Seeded, clock: FixedClock,
                                           caplog: pytest.LogCaptureFixture) -> None:
    ids = await _demo_ids(client, clock)
    failures: list[str] = []
    for user in dict.fromkeys(p.user for p in PROBES):
        token = await login_as(client, user, clock)
        for probe in (p for p in PROBES if p.user == user):
            caplog.clear()
            with caplog.at_level(logging.ERROR):
                status, content_type, text = await _send(client, probe, ids, token)
            logged = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
            refused = 400 <= status < 500 and content_type == _expected_type(probe.path)
            if not refused and not (probe.harmless_ok and status == 200):
                failures.append(f"{probe.label()}: {status} {content_type} {text[:120]!r}")
            elif logged or "Traceback" in text or "Internal Server Error" in text:
                failures.append(f"{probe.label()}: logged {logged[:1]}")
    assert not failures, "\n".join(failures)


async def test_a_refused_date_names_the_field_and_the_range(client: TestClient, seeded: Seeded,
                                                           clock: FixedClock) -> None:
    """The answer says what is wrong, so a person (or a program) can correct it."""
    await login_as(client, "lege", clock)
    resp = await client.get("/api/day-list", params={"date": FAR_FUTURE})
    assert resp.status == 422
    problem = await resp.json()
    assert {"field": "date", "code": "date_out_of_range"}.items() <= problem["errors"][0].items()
    assert "1900" in problem["detail"] and "2200" in problem["detail"]
    # The edges of the range itself are still dates a person may ask about.
    for day in ("1900-01-01", "2200-12-31"):
        ok = await client.get("/api/day-list", params={"date": day})
        assert ok.status == 200, await ok.text()
    page = await client.get("/day", params={"date": FAR_FUTURE})
    assert page.status == 422 and page.content_type == "text/html"
    # A page says it in words, in the reader's language, as a form would beside the field.
    assert "Velg en dato mellom år 1900 og 2200." in await page.text()
    page = await client.get("/calendar", params={"week": "24.11.2026"})
    assert page.status == 422 and "Skriv datoen som ÅÅÅÅ-MM-DD." in await page.text()


@pytest.mark.parametrize("text", [f"{FAR_FUTURE}T23:59:59-23:59", f"{FAR_PAST}T00:00:00+14:00"])
def test_signaling_and_note_readers_refuse_edge_dates(text: str) -> None:
    """The WebSocket frames and the note document read dates with their own readers (no HTTP form
    around them); they refuse the same range, so no later conversion to UTC or Oslo time can overflow."""
    from notes.json_fields import FieldReader
    from signaling.fields import Bad, aware_datetime

    with pytest.raises(Bad):
        aware_datetime(text)
    reader = FieldReader()
    assert reader.moment("measures[0]", {"at": text}, "at") is None
    assert reader.day("measures[0]", {"start": text[:10]}, "start") is None
    assert [e.code for e in reader.errors] == ["bad_time", "bad_date"]
    assert aware_datetime("2026-11-24T11:30:00+01:00").year == 2026
