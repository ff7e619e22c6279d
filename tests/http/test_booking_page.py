"""The booking page as people read it: when in plain words, where the invitations stand, who may join,
and cancelling that never cuts what was typed."""

from __future__ import annotations

import html

from aiohttp.test_utils import TestClient

from server.platform.clock import FixedClock
from tests.conftest import Seeded
from tests.helpers import api_headers, login_as

START = "2026-12-01T10:30:00+00:00"  # tirsdag 1. desember 2026 kl. 11.30 in Oslo


async def _book_johan(client: TestClient, seeded: Seeded, headers: dict[str, str]) -> str:
    """Books Johan's referral (Lurøy's nurse and health room) at START through the API; the booking's id."""
    queue = await (await client.get("/api/referrals")).json()
    johan = next(r for r in queue if r["patient_name"] == "Johan Pedersen")
    types = {t["code"]: t for t in await (await client.get("/api/consultation-types")).json()}
    slots = await (await client.get("/api/slots", params={
        "consultation_type_id": str(types["joint_consultation"]["id"]), "from": "2026-12-01", "to": "2026-12-02",
        "municipality_id": str(seeded.organisations["Lurøy kommune"]), "limit": "50"})).json()
    slot = next(s for s in slots if s["start"] == START)
    resp = await client.post("/api/bookings", headers=headers, json={
        "consultation_type_id": types["joint_consultation"]["id"], "start": slot["start"],
        "referral_id": johan["id"], "chosen": {p["key"]: p["resource_id"] for p in slot["participants"]}})
    assert resp.status == 201, await resp.text()
    return str((await resp.json())["id"])


async def test_the_page_says_when_in_plain_words_and_what_happened_to_the_invitations(
        client: TestClient, seeded: Seeded, clock: FixedClock) -> None:
    token = await login_as(client, "koordinator", clock)
    public_id = await _book_johan(client, seeded, api_headers(token))
    page = html.unescape(await (await client.get(f"/bookings/{public_id}?booked=1")).text())
    assert "tirsdag 1. desember 2026 kl. 11.30–12.00" in page
    assert "normaltid" not in page and "11:30:00" not in page
    assert "Invitasjonsversjon" not in page and "flyttet" not in page
    # No mail server in the test settings: the page says so instead of "on their way".
    assert "på vei" not in page
    assert "3 invitasjoner på e-post er ikke sendt: ingen e-postserver er satt opp." in page
    assert "1 SMS er ikke sendt: ingen SMS-tjeneste er satt opp." in page
    assert 'href="/outbox"' in page  # the coordinator can go and see them

    await client.post("/language", data={"csrf_token": token, "lang": "en"})
    page = html.unescape(await (await client.get(f"/bookings/{public_id}")).text())
    assert "Tuesday 1 December 2026, 11:30–12:00" in page
    assert "3 email invitations have not been sent: no mail server is set up." in page


async def test_a_move_is_counted_in_words(client: TestClient, seeded: Seeded, clock: FixedClock) -> None:
    headers = api_headers(await login_as(client, "koordinator", clock))
    public_id = await _book_johan(client, seeded, headers)
    resp = await client.post(f"/api/bookings/{public_id}/reschedule", headers=headers,
                             json={"start": "2026-12-01T12:00:00+00:00"})
    assert resp.status == 200, await resp.text()
    page = html.unescape(await (await client.get(f"/bookings/{public_id}")).text())
    assert "tirsdag 1. desember 2026 kl. 13.00–13.30" in page and "(flyttet én gang)" in page


async def test_only_those_taking_part_are_offered_the_call(client: TestClient, seeded: Seeded,
                                                           clock: FixedClock) -> None:
    token = await login_as(client, "koordinator", clock)
    public_id = await _book_johan(client, seeded, api_headers(token))
    page = html.unescape(await (await client.get(f"/bookings/{public_id}")).text())
    # The coordinator booked it but is not in it: the call would refuse them, so it is not offered.
    assert f'href="/consultations/{public_id}"' not in page
    assert "Gå til videokonsultasjonen" not in page
    assert "Du deltar ikke i denne konsultasjonen" in page and "Ola Johansen" in page
    await client.post("/logout", data={"csrf_token": token})

    await login_as(client, "sykepleier.luroy", clock)  # the nurse booked into it
    page = html.unescape(await (await client.get(f"/bookings/{public_id}")).text())
    assert f'href="/consultations/{public_id}"' in page and "Gå til videokonsultasjonen" in page
    assert "Du deltar ikke" not in page
    # ... and the call page agrees that the nurse may come in.
    assert (await client.get(f"/consultations/{public_id}")).status == 200


async def test_cancel_reason_empty_or_too_long_is_refused_and_the_text_kept(
        client: TestClient, seeded: Seeded, clock: FixedClock) -> None:
    token = await login_as(client, "koordinator", clock)
    public_id = await _book_johan(client, seeded, api_headers(token))

    resp = await client.post(f"/bookings/{public_id}/cancel", data={"csrf_token": token, "reason": "  "})
    page = html.unescape(await resp.text())
    assert resp.status == 422
    assert "Skriv hvorfor konsultasjonen avlyses." in page
    assert "Oppgi hvorfor du trenger innsyn" not in page

    long_reason = "Pasienten er innlagt på sykehus, og <familien> ønsker ny tid. " + "æøå " * 120
    assert len(long_reason.strip()) > 500
    resp = await client.post(f"/bookings/{public_id}/cancel", data={"csrf_token": token, "reason": long_reason})
    page = html.unescape(await resp.text())
    assert resp.status == 422
    assert "Begrunnelsen kan være høyst 500 tegn." in page
    assert f">{long_reason}</textarea>" in page  # every character as typed, nothing cut
    assert 'maxlength="500"' not in page  # a browser would cut a paste silently
    page = html.unescape(await (await client.get(f"/bookings/{public_id}")).text())
    assert "Booket" in page and "Avlyst" not in page

    reason = "Pasienten er innlagt. " + "ø" * 478
    resp = await client.post(f"/bookings/{public_id}/cancel", data={"csrf_token": token, "reason": reason},
                             allow_redirects=False)
    assert resp.status == 303
    page = html.unescape(await (await client.get(f"/bookings/{public_id}")).text())
    assert "Avlyst" in page and reason in page


async def test_the_api_refuses_a_too_long_cancel_reason_with_a_field_error(
        client: TestClient, seeded: Seeded, clock: FixedClock) -> None:
    headers = api_headers(await login_as(client, "koordinator", clock))
    public_id = await _book_johan(client, seeded, headers)
    resp = await client.post(f"/api/bookings/{public_id}/cancel", headers=headers, json={"reason": "x" * 501})
    assert resp.status == 422 and resp.content_type == "application/problem+json"
    errors = (await resp.json())["errors"]
    assert [(e["field"], e["code"]) for e in errors] == [("reason", "cancel_reason_too_long")]
    assert "500" in errors[0]["message"]
    resp = await client.post(f"/api/bookings/{public_id}/cancel", headers=headers, json={"reason": ""})
    assert resp.status == 422
    assert [e["code"] for e in (await resp.json())["errors"]] == ["cancel_reason_required"]
    booking = await (await client.get(f"/api/bookings/{public_id}")).json()
    assert booking["status"] == "booked"
