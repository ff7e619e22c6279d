"""Making a join code on the booking page and sending it on: who may, bokmål field errors that keep
what was typed, the outbox's truthful state, an audit trail without the code, and the same through
the API as problem+json."""

from __future__ import annotations

import html
import re
from datetime import timedelta

from aiohttp.test_utils import TestClient
from sqlalchemy import select

from scheduling.models import OutboxMessage
from server.platform.audit_models import AuditEntry
from server.platform.clock import FixedClock
from server.platform.db import Database
from tests.conftest import Seeded
from tests.helpers import api_headers, login_as
from tests.http.test_booking_page import _book_johan

CODE = re.compile(r"[2-9A-HJKMNP-Z]{4}(?:-[2-9A-HJKMNP-Z]{4}){3}")


async def _nurse_on_johans_booking(client: TestClient, seeded: Seeded, clock: FixedClock) -> tuple[str, str]:
    """Johan's consultation booked by the coordinator; the booked nurse logged in. (booking id, CSRF token)"""
    token = await login_as(client, "koordinator", clock)
    public_id = await _book_johan(client, seeded, api_headers(token))
    await client.post("/logout", data={"csrf_token": token})
    return public_id, await login_as(client, "sykepleier.luroy", clock)


async def _make_code(client: TestClient, public_id: str, token: str, name: str = "Kari Nordmann") -> str:
    resp = await client.post(f"/bookings/{public_id}/join-codes",
                             data={"csrf_token": token, "name": name, "role": "relative"})
    page = html.unescape(await resp.text())
    assert resp.status == 200, page
    match = CODE.search(page)
    assert match, "no code on the page"
    return match.group(0)


async def test_only_staff_booked_into_it_may_invite(client: TestClient, seeded: Seeded, clock: FixedClock) -> None:
    token = await login_as(client, "koordinator", clock)
    public_id = await _book_johan(client, seeded, api_headers(token))
    page = html.unescape(await (await client.get(f"/bookings/{public_id}")).text())
    assert "Inviter noen" not in page  # the coordinator booked it but takes no part: the call would refuse
    # Not in the call: answered as the call answers anyone not in it, as for a consultation that does not exist.
    resp = await client.post(f"/bookings/{public_id}/join-codes",
                             data={"csrf_token": token, "name": "Kari", "role": "relative"})
    assert resp.status == 404
    resp = await client.post(f"/api/bookings/{public_id}/join-codes", headers=api_headers(token),
                             json={"name": "Kari", "role": "relative"})
    assert resp.status == 404 and resp.content_type == "application/problem+json"
    await client.post("/logout", data={"csrf_token": token})

    token = await login_as(client, "sykepleier.luroy", clock)
    page = html.unescape(await (await client.get(f"/bookings/{public_id}")).text())
    assert "Inviter noen" in page and "Navnet på den du inviterer" in page


async def test_a_code_is_made_shown_once_with_its_plain_link_and_audited_without_it(
        client: TestClient, seeded: Seeded, clock: FixedClock, db: Database) -> None:
    public_id, token = await _nurse_on_johans_booking(client, seeded, clock)
    resp = await client.post(f"/bookings/{public_id}/join-codes",
                             data={"csrf_token": token, "name": "Kari Nordmann", "role": "relative"})
    page = html.unescape(await resp.text())
    code = CODE.search(page)
    assert code is not None
    assert "Kode for Kari Nordmann" in page
    assert 'href="http://127.0.0.1/join"' in page  # the plain /join: the code alone finds the room
    assert "Kopier kode og lenke" in page
    # 1 December 11.30-12.00 in Oslo; a code works from half an hour before until half an hour after
    assert "Koden virker fra tirsdag 1. desember kl. 11.00 til kl. 12.30, én gang." in page
    async with db.session() as session:
        rows = (await session.execute(
            select(AuditEntry).where(AuditEntry.action == "join_code_issued"))).scalars().all()
    assert [r.reason for r in rows] == ["relative: Kari Nordmann"]
    assert all(code.group(0) not in (r.reason or "") for r in rows)


async def test_a_bad_name_is_refused_in_bokmal_and_what_was_typed_is_kept(
        client: TestClient, seeded: Seeded, clock: FixedClock) -> None:
    public_id, token = await _nurse_on_johans_booking(client, seeded, clock)
    resp = await client.post(f"/bookings/{public_id}/join-codes",
                             data={"csrf_token": token, "name": "   ", "role": "interpreter"})
    page = html.unescape(await resp.text())
    assert resp.status == 422
    assert "Dette feltet må fylles ut." in page
    assert '<option value="interpreter" selected>' in page
    assert CODE.search(page) is None

    long_name = "Kari " + "Nordmann-" * 12
    resp = await client.post(f"/bookings/{public_id}/join-codes",
                             data={"csrf_token": token, "name": long_name, "role": "relative"})
    page = html.unescape(await resp.text())
    assert resp.status == 422
    assert "Navnet kan være høyst 100 tegn." in page
    assert f'value="{long_name}"' in page  # every character as typed


async def test_a_wrong_number_is_refused_and_the_number_and_code_kept(
        client: TestClient, seeded: Seeded, clock: FixedClock, db: Database) -> None:
    public_id, token = await _nurse_on_johans_booking(client, seeded, clock)
    code = await _make_code(client, public_id, token)
    for wrong in ("+47 812 34 567", "912 34 56", "+46 912 34 567", "nine one two"):
        resp = await client.post(f"/bookings/{public_id}/join-codes/send", data={
            "csrf_token": token, "code": code, "name": "Kari Nordmann", "phone": wrong, "email": "",
            "language": "nb", "channel": "sms"})
        page = html.unescape(await resp.text())
        assert resp.status == 422, wrong
        assert "Skriv et norsk mobilnummer: 8 sifre som begynner med 4 eller 9" in page
        assert f'value="{wrong}"' in page and code in page and "Kode for Kari Nordmann" in page
    resp = await client.post(f"/bookings/{public_id}/join-codes/send", data={
        "csrf_token": token, "code": code, "name": "Kari Nordmann", "phone": "", "email": "kari@",
        "language": "en", "channel": "email"})
    page = html.unescape(await resp.text())
    assert resp.status == 422 and "Skriv en gyldig e-postadresse." in page and 'value="kari@"' in page
    assert '<option value="en" selected>' in page
    async with db.session() as session:
        queued = select(OutboxMessage).where(OutboxMessage.purpose == "join_code")
        assert (await session.execute(queued)).first() is None


async def test_an_sms_without_a_gateway_is_queued_and_the_page_says_it_is_not_sent(
        client: TestClient, seeded: Seeded, clock: FixedClock, db: Database) -> None:
    public_id, token = await _nurse_on_johans_booking(client, seeded, clock)
    code = await _make_code(client, public_id, token)
    resp = await client.post(f"/bookings/{public_id}/join-codes/send", data={
        "csrf_token": token, "code": code, "name": "Kari Nordmann", "phone": "+47 912 34 567", "email": "",
        "language": "nb", "channel": "sms"})
    page = html.unescape(await resp.text())
    assert resp.status == 200
    assert "Ikke sendt: ingen SMS-tjeneste er satt opp." in page
    assert "lagt i kø" not in page  # nobody could send it: it is not said to be on its way
    async with db.session() as session:
        message = (await session.execute(
            select(OutboxMessage).where(OutboxMessage.purpose == "join_code"))).scalar_one()
        audit = (await session.execute(select(AuditEntry).where(AuditEntry.action == "join_code_sent"))).scalar_one()
    assert message.recipient == "+4791234567"
    assert code in message.body and "http://127.0.0.1/join" in message.body
    assert "Johan" not in message.body and "Pedersen" not in message.body and "Lurøy" not in message.body
    assert audit.reason == "sms: +47 *** ** 567" and code not in (audit.reason or "")

    # Staff reading the outbox see that a code went out, not the code.
    await client.post("/logout", data={"csrf_token": token})
    await login_as(client, "koordinator", clock)
    outbox = html.unescape(await (await client.get("/outbox")).text())
    assert "+4791234567" in outbox and code not in outbox


async def test_the_api_sends_a_code_and_refuses_bad_input_as_problems(
        client: TestClient, seeded: Seeded, clock: FixedClock) -> None:
    public_id, token = await _nurse_on_johans_booking(client, seeded, clock)
    headers = api_headers(token)
    resp = await client.post(f"/api/bookings/{public_id}/join-codes", headers=headers,
                             json={"name": "Interpreter Ali", "role": "interpreter"})
    assert resp.status == 201, await resp.text()
    made = await resp.json()
    assert CODE.fullmatch(made["code"]) and made["join_url"] == "http://127.0.0.1/join"
    code = made["code"]

    async def send(body: dict[str, object], booking: str = public_id) -> tuple[int, dict[str, object]]:
        r = await client.post(f"/api/bookings/{booking}/join-codes/send", headers=headers, json=body)
        return r.status, await r.json()

    status, problem = await send({"code": code, "channel": "sms", "to": "12345678"})
    assert status == 422 and problem["errors"] == [{"field": "to", "code": "mobile_invalid", "message": (
        "Skriv et norsk mobilnummer: 8 sifre som begynner med 4 eller 9, med eller uten +47 foran.")}]
    status, problem = await send({"code": code, "channel": "email", "to": "not an address"})
    assert status == 422 and [e["code"] for e in problem["errors"]] == ["email_invalid"]  # type: ignore[union-attr]
    status, problem = await send({"code": code, "channel": "fax", "to": "x"})
    assert status == 422 and [e["field"] for e in problem["errors"]] == ["channel"]  # type: ignore[union-attr]
    status, problem = await send({"code": "ABCD-EFGH-JKMN-PQRS", "channel": "sms", "to": "41234567"})
    assert status == 422 and [e["code"] for e in problem["errors"]] == ["join_code_not_for_booking"]  # type: ignore[union-attr]
    status, problem = await send({"code": code, "channel": "sms", "to": "41234567"}, booking="no-such-booking")
    assert status == 404 and problem["code"] == "not_found"

    status, answer = await send({"code": code.lower().replace("-", " "), "channel": "email",
                                 "to": " tolk@example.no ", "language": "en"})
    assert status == 202 and answer["to"] == "t***@example.no" and answer["state"] == "no_gateway"
    state = await (await client.get(
        f"/api/bookings/{public_id}/join-codes/messages/{answer['message_id']}")).json()
    assert state == {"message_id": answer["message_id"], "state": "no_gateway"}

    clock.advance(timedelta(days=9))  # well past the consultation: the code has expired
    headers.update(api_headers(await login_as(client, "sykepleier.luroy", clock)))  # the session expired too
    status, problem = await send({"code": code, "channel": "sms", "to": "41234567"})
    assert status == 422 and [e["code"] for e in problem["errors"]] == ["code_expired_make_new"]  # type: ignore[union-attr]


async def test_the_openapi_document_describes_the_join_code_operations(client: TestClient) -> None:
    doc = await (await client.get("/api/openapi.json")).json()
    send = doc["paths"]["/api/bookings/{public_id}/join-codes/send"]["post"]
    assert send["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("JoinCodeSendInput")
    assert "202" in send["responses"] and "422" in send["responses"]
    assert doc["components"]["schemas"]["JoinCodeSendInput"]["properties"]["channel"]["enum"] == ["sms", "email"]
    assert "/api/bookings/{public_id}/join-codes" in doc["paths"]
