"""A join code delivered for real: by e-mail to an aiosmtpd server and by SMS to an HTTP gateway (a local
aiohttp server standing in for the SMS provider), through the outbox and its retries."""

from __future__ import annotations

import email
from collections.abc import AsyncIterator, Iterator
from email.message import Message
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from aiosmtpd.controller import Controller
from sqlalchemy import select

from scheduling.models import OutboxMessage, OutboxStatus
from scheduling.outbox import OutboxDispatcher, SmtpEmailSender, SmtpSettings
from server.platform.clock import FixedClock
from server.platform.db import Database
from server.platform.settings import Settings
from server.sms_gateway import HttpSmsSender, SmsGatewaySettings
from tests.conftest import SECRET, Seeded
from tests.helpers import api_headers, login_as
from tests.http.test_booking_page import _book_johan
from tests.integration.scheduling.test_sched_invites import free_port

TOKEN = "gateway-token-for-tests"
# What this test's SMTP server and SMS gateway received, so the booking's own invitations can be forgotten.
_SINKS: dict[str, Inbox | Gateway] = {}


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], Message]] = []

    def clear(self) -> None:
        self.messages.clear()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((list(envelope.rcpt_tos), email.message_from_bytes(envelope.content)))
        return "250 OK"


class Gateway:
    """An SMS provider's HTTP API: checks the bearer token, keeps what it was sent; can be made to fail."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.failures_left = 0

    def clear(self) -> None:
        self.received.clear()

    async def handle(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return web.json_response({"error": "unauthorised"}, status=401)
        if self.failures_left:
            self.failures_left -= 1
            return web.json_response({"error": "busy"}, status=503)
        self.received.append(await request.json())
        return web.json_response({"id": f"sms-{len(self.received)}"}, status=202)


@pytest.fixture
def smtp_port() -> int:
    return free_port()


@pytest.fixture
def inbox(smtp_port: int) -> Iterator[Inbox]:
    box = Inbox()
    _SINKS["inbox"] = box
    controller = Controller(box, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    yield box
    controller.stop()


@pytest.fixture
async def gateway() -> AsyncIterator[tuple[Gateway, str]]:
    fake = Gateway()
    _SINKS["gateway"] = fake
    app = web.Application()
    app.router.add_post("/sms", fake.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield fake, str(server.make_url("/sms"))
    await server.close()


@pytest.fixture
def settings(database_url: str, smtp_port: int, inbox: Inbox, gateway: tuple[Gateway, str]) -> Settings:
    return Settings(database_url=database_url, session_secret=SECRET,
                    totp_encryption_key="test-totp-key-0123456789abcdef", public_url="https://samkonsult.example.no",
                    background_jobs=False, smtp_host="127.0.0.1", smtp_port=smtp_port,
                    smtp_sender="samkonsult@example.no", sms_gateway_url=gateway[1], sms_gateway_token=TOKEN,
                    service_name="Helgelandssykehuset")


def _dispatcher(db: Database, clock: FixedClock, settings: Settings) -> OutboxDispatcher:
    smtp = SmtpEmailSender(SmtpSettings(host="127.0.0.1", port=settings.smtp_port, sender=settings.smtp_sender),
                           clock)
    sms = HttpSmsSender(SmsGatewaySettings(url=settings.sms_gateway_url, token=settings.sms_gateway_token))
    return OutboxDispatcher(db, clock, email=smtp, sms=sms, max_attempts=3)


async def _code(client: TestClient, seeded: Seeded, clock: FixedClock, db: Database,
                settings: Settings) -> tuple[str, dict[str, str], str]:
    """Johan's consultation booked, its invitations delivered (and forgotten), and a code made by the
    booked nurse: (booking id, her API headers, the code)."""
    token = await login_as(client, "koordinator", clock)
    public_id = await _book_johan(client, seeded, api_headers(token))
    await _dispatcher(db, clock, settings).dispatch_due()  # the booking's own invitations go first
    for sink in (_SINKS.get("inbox"), _SINKS.get("gateway")):
        if sink is not None:
            sink.clear()
    await client.post("/logout", data={"csrf_token": token})
    headers = api_headers(await login_as(client, "sykepleier.luroy", clock))
    made = await (await client.post(f"/api/bookings/{public_id}/join-codes", headers=headers,
                                    json={"name": "Kari Nordmann", "role": "relative"})).json()
    return public_id, headers, made["code"]


async def test_an_emailed_code_arrives_with_the_join_link_and_no_patient_name(
        client: TestClient, seeded: Seeded, clock: FixedClock, db: Database, settings: Settings,
        inbox: Inbox) -> None:
    public_id, headers, code = await _code(client, seeded, clock, db, settings)
    resp = await client.post(f"/api/bookings/{public_id}/join-codes/send", headers=headers,
                             json={"code": code, "channel": "email", "to": "kari@eksempel.no"})
    answer = await resp.json()
    assert resp.status == 202 and answer["state"] == "queued"  # a mail server is set up: on its way

    report = await _dispatcher(db, clock, settings).dispatch_due()
    assert report.sent == 1
    [(recipients, message)] = inbox.messages
    assert recipients == ["kari@eksempel.no"]
    body = message.get_payload(decode=True).decode("utf-8")  # type: ignore[union-attr]
    assert "https://samkonsult.example.no/join" in body and code in body
    assert "Helgelandssykehuset" in body and "kl. 11.00" in body
    everything = str(message["Subject"]) + body
    for health_data in ("Johan", "Pedersen", "Lurøy", "Samkonsultasjon", "samkonsultasjon"):
        assert health_data not in everything
    state = await (await client.get(f"/api/bookings/{public_id}/join-codes/messages/{answer['message_id']}")).json()
    assert state["state"] == "sent"
    async with db.session() as session:
        row = await session.get(OutboxMessage, answer["message_id"])
        assert row is not None and code not in row.body  # delivered: the stored copy no longer holds it


async def test_an_sms_goes_to_the_gateway_after_it_recovers(
        client: TestClient, seeded: Seeded, clock: FixedClock, db: Database, settings: Settings,
        gateway: tuple[Gateway, str]) -> None:
    fake, _url = gateway
    public_id, headers, code = await _code(client, seeded, clock, db, settings)
    resp = await client.post(f"/api/bookings/{public_id}/join-codes/send", headers=headers,
                             json={"code": code, "channel": "sms", "to": "+47 912 34 567", "language": "en"})
    answer = await resp.json()
    assert resp.status == 202 and answer == {"message_id": answer["message_id"], "channel": "sms",
                                             "to": "+47 *** ** 567", "state": "queued"}

    fake.failures_left = 1
    dispatcher = _dispatcher(db, clock, settings)
    assert (await dispatcher.dispatch_due()).retried == 1
    async with db.session() as session:
        row = await session.get(OutboxMessage, answer["message_id"])
        assert row is not None and row.status is OutboxStatus.PENDING and "503" in row.last_error
        assert row.next_attempt_at > clock.now()  # backed off, not hammering the gateway

    clock.advance(dispatcher.backoff(1))
    assert (await dispatcher.dispatch_due()).sent == 1
    [sms] = fake.received
    assert sms["to"] == "+4791234567" and sms["from"] == "Samkonsult"
    assert sms["message"].startswith("Helgelandssykehuset: You are invited to a video consultation.")
    assert "https://samkonsult.example.no/join" in sms["message"] and code in sms["message"]
    assert "Johan" not in sms["message"] and "Pedersen" not in sms["message"]
    async with db.session() as session:
        rows = (await session.execute(select(OutboxMessage).where(OutboxMessage.purpose == "join_code"))).scalars()
        assert [(r.status, code in r.body) for r in rows] == [(OutboxStatus.SENT, False)]


async def test_a_gateway_that_refuses_the_token_is_retried_and_then_reported_failed(
        client: TestClient, seeded: Seeded, clock: FixedClock, db: Database, settings: Settings) -> None:
    public_id, headers, code = await _code(client, seeded, clock, db, settings)
    resp = await client.post(f"/api/bookings/{public_id}/join-codes/send", headers=headers,
                             json={"code": code, "channel": "sms", "to": "41234567"})
    message_id = (await resp.json())["message_id"]
    wrong = HttpSmsSender(SmsGatewaySettings(url=settings.sms_gateway_url, token="wrong"))
    dispatcher = OutboxDispatcher(db, clock, email=None, sms=wrong, max_attempts=2)
    await dispatcher.dispatch_due()
    clock.advance(dispatcher.backoff(1))
    assert (await dispatcher.dispatch_due()).failed == 1
    state = await (await client.get(f"/api/bookings/{public_id}/join-codes/messages/{message_id}")).json()
    assert state["state"] == "failed"
