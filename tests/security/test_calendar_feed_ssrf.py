"""Server-side request forgery through calendar feed addresses (security finding 1).

A coordinator types a feed address and the server fetches it. The attacks: point it at the server's
own /metrics on loopback, at the private network, at the cloud metadata address, at IPv6 loopback,
at an allowed host that redirects to loopback, at a name that resolves to loopback, and put a password
in the address. Each must be refused before any connection is made to the target, show nothing of
what an internal service would answer, and keep no password. A trust's own internal calendar server,
named in the allow-list setting, still gets its busy times imported.

The "internal service" is a real HTTP server on 127.0.0.1 started by the test; it counts every
request, so "refused before any connection" is checked, not assumed.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from datetime import timedelta

import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from scheduling.calendar_fetch import MAX_REDIRECTS, CalendarFetchError, fetch_calendar
from scheduling.feed_addresses import FeedAddressPolicy
from scheduling.models import CalendarSource, CalendarSourceKind, ImportedBusyInterval, Resource
from server.app import create_app
from server.platform.appkeys import DATABASE
from server.platform.clock import FixedClock
from server.platform.db import Database
from server.platform.settings import Settings
from tests.conftest import Seeded
from tests.helpers import LoopbackSecureJar, api_headers, login_as
from web.appkeys import SCHEDULING

METRICS_MARKER = "samkonsult_http_requests_total"
METRICS = f"# HELP {METRICS_MARKER} Requests by route\n# TYPE {METRICS_MARKER} counter\n".encode()
PASSWORD = "Hemmelig-passord-42"  # the secret the attack tries to have stored and shown
BUSY_ICS = b"""BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//test//EN\r
BEGIN:VEVENT\r
UID:busy-1\r
DTSTAMP:20261101T000000Z\r
DTSTART;TZID=Europe/Oslo:20261202T080000\r
DTEND;TZID=Europe/Oslo:20261202T120000\r
SUMMARY:Poliklinikk\r
END:VEVENT\r
END:VCALENDAR\r
"""
REFUSED = "Denne adressen er ikke tillatt"
CREDENTIALS = "Adressen kan ikke inneholde brukernavn eller passord."


@dataclass
class InternalServer:
    """The loopback HTTP server standing in for an internal service and a trust's calendar server."""

    server: TestServer
    hits: list[str] = field(default_factory=list)

    @property
    def port(self) -> int:
        port = self.server.port
        assert port is not None
        return port

    def url(self, host: str, path: str) -> str:
        return f"http://{host}:{self.port}{path}"


@pytest.fixture
async def internal() -> AsyncIterator[InternalServer]:
    app = web.Application()
    box: list[InternalServer] = []

    async def metrics(request: web.Request) -> web.Response:
        box[0].hits.append(request.path)
        return web.Response(body=METRICS, content_type="text/plain")

    async def calendar(request: web.Request) -> web.Response:
        box[0].hits.append(request.path)
        return web.Response(body=BUSY_ICS, content_type="text/calendar")

    async def to_loopback(request: web.Request) -> web.Response:
        box[0].hits.append(request.path)
        raise web.HTTPFound(box[0].url("127.0.0.1", "/metrics"))

    async def to_calendar(request: web.Request) -> web.Response:
        box[0].hits.append(request.path)
        raise web.HTTPFound("/cal.ics")

    async def loop(request: web.Request) -> web.Response:
        box[0].hits.append(request.path)
        raise web.HTTPFound("/loop")

    app.router.add_get("/loop", loop)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/cal.ics", calendar)
    app.router.add_get("/redirect-to-loopback", to_loopback)
    app.router.add_get("/redirect-to-calendar", to_calendar)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    box.append(InternalServer(server))
    yield box[0]
    await server.close()


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # The trust's own calendar server is "localhost" by name: the name is allowed, while the
    # addresses 127.0.0.1 and ::1 typed as such are not on the list and stay refused.
    return replace(settings, calendar_feed_allowed_hosts=("localhost",))


async def _resource_id(db: Database) -> int:
    async with db.session() as session:
        return int((await session.execute(select(Resource.id).where(Resource.name == "Ingrid Hansen"))).scalar_one())


async def _refresh(client: TestClient) -> None:
    app = client.server.app
    await app[SCHEDULING].calendars.refresh_feeds(app[DATABASE], older_than=timedelta(0))


async def _stored_urls(db: Database) -> list[str]:
    async with db.session() as session:
        return list((await session.execute(select(CalendarSource.url))).scalars())


@pytest.mark.parametrize("host", ["127.0.0.1", "10.0.0.5", "169.254.169.254", "[::1]", "[::ffff:127.0.0.1]",
                                  "100.64.0.1", "[fd00::1]", "0.0.0.0"])
async def test_an_internal_address_is_refused_when_added(
        client: TestClient, seeded: Seeded, clock: FixedClock, db: Database, internal: InternalServer,
        host: str) -> None:
    token = await login_as(client, "koordinator", clock)
    rid = await _resource_id(db)
    url = internal.url(host, "/metrics")
    resp = await client.post(f"/resources/{rid}/calendar/feed", data={"csrf_token": token, "url": url},
                             allow_redirects=False)
    page = await resp.text()
    assert resp.status == 422
    assert REFUSED in page
    assert f'value="{url}"' in page  # what was typed is kept in the form (it holds no secret)
    api = await client.post(f"/api/resources/{rid}/calendar-sources", json={"url": url},
                            headers=api_headers(token))
    problem = await api.json()
    assert api.status == 422 and api.content_type == "application/problem+json"
    assert problem["errors"][0]["message"].startswith(REFUSED)
    assert await _stored_urls(db) == [] and internal.hits == []


async def test_a_feed_stored_before_the_check_is_refused_on_fetch_and_nothing_is_echoed(
        client: TestClient, seeded: Seeded, clock: FixedClock, db: Database, internal: InternalServer) -> None:
    """Addresses stored before the check (or by another route into the database) are checked again on
    every fetch: the refusal is in the fetch itself, not only in the form."""
    rid = await _resource_id(db)
    async with db.session() as session:
        for host in ("127.0.0.1", "[::1]"):
            session.add(CalendarSource(resource_id=rid, kind=CalendarSourceKind.FEED, active=True, last_error="",
                                       occurrences=0, created_at=clock.now(), url=internal.url(host, "/metrics")))
        session.add(CalendarSource(resource_id=rid, kind=CalendarSourceKind.FEED, active=True, last_error="",
                                   occurrences=0, created_at=clock.now(),
                                   url=internal.url(f"ola:{PASSWORD}@localhost", "/cal.ics")))
    await _refresh(client)
    assert internal.hits == []
    async with db.session() as session:
        errors = list((await session.execute(select(CalendarSource.last_error).order_by(CalendarSource.id))).scalars())
    assert [e.split(":", 1)[0] for e in errors] == ["calendar.fetch_refused", "calendar.fetch_refused",
                                                    "calendar.fetch_credentials"]
    await login_as(client, "koordinator", clock)
    page = await (await client.get(f"/resources/{rid}")).text()
    assert page.count(REFUSED) == 2 and CREDENTIALS in page
    assert METRICS_MARKER not in page and PASSWORD not in page and "ola:" not in page


async def test_an_allowed_host_that_redirects_to_loopback_is_refused_at_the_redirect(
        client: TestClient, seeded: Seeded, clock: FixedClock, db: Database, internal: InternalServer) -> None:
    token = await login_as(client, "koordinator", clock)
    rid = await _resource_id(db)
    resp = await client.post(f"/resources/{rid}/calendar/feed", allow_redirects=False, data={
        "csrf_token": token, "url": internal.url("localhost", "/redirect-to-loopback")})
    assert resp.status == 303
    await _refresh(client)
    # the first hop (allowed by name) was asked; the redirect's target, loopback by address, never was
    assert internal.hits == ["/redirect-to-loopback"]
    async with db.session() as session:
        source = (await session.execute(select(CalendarSource))).scalar_one()
    assert source.last_error.startswith("calendar.fetch_refused:") and source.last_good_import_at is None
    page = await (await client.get(f"/resources/{rid}")).text()
    assert REFUSED in page and METRICS_MARKER not in page


async def test_a_password_in_the_address_is_refused_and_never_stored_or_shown(
        client: TestClient, seeded: Seeded, clock: FixedClock, db: Database, internal: InternalServer) -> None:
    token = await login_as(client, "koordinator", clock)
    rid = await _resource_id(db)
    url = internal.url(f"ola:{PASSWORD}@localhost", "/cal.ics")
    resp = await client.post(f"/resources/{rid}/calendar/feed", data={"csrf_token": token, "url": url},
                             allow_redirects=False)
    page = await resp.text()
    assert resp.status == 422 and CREDENTIALS in page
    assert PASSWORD not in page and "ola:" not in page
    assert f'value="{internal.url("localhost", "/cal.ics")}"' in page  # the rest of what was typed stays
    api = await client.post(f"/api/resources/{rid}/calendar-sources", json={"url": url},
                            headers=api_headers(token))
    assert api.status == 422 and PASSWORD not in await api.text()
    assert (await api.json())["errors"][0]["message"] == CREDENTIALS
    assert await _stored_urls(db) == [] and internal.hits == []


async def test_a_non_calendar_answer_is_never_echoed(
        client: TestClient, seeded: Seeded, clock: FixedClock, db: Database, internal: InternalServer) -> None:
    """Even from an allowed host, what came back is never shown or stored: only that it is not a calendar."""
    token = await login_as(client, "koordinator", clock)
    rid = await _resource_id(db)
    await client.post(f"/api/resources/{rid}/calendar-sources", json={"url": internal.url("localhost", "/metrics")},
                      headers=api_headers(token))
    await _refresh(client)
    assert internal.hits == ["/metrics"]
    async with db.session() as session:
        source = (await session.execute(select(CalendarSource))).scalar_one()
    assert source.last_error.startswith("calendar.invalid:") and METRICS_MARKER not in source.last_error
    page = await (await client.get(f"/resources/{rid}")).text()
    assert "Adressen ga ikke en kalender vi kan lese" in page and METRICS_MARKER not in page


async def test_the_trusts_own_calendar_server_on_the_allow_list_is_imported(
        client: TestClient, seeded: Seeded, clock: FixedClock, db: Database, internal: InternalServer) -> None:
    token = await login_as(client, "koordinator", clock)
    rid = await _resource_id(db)
    # through a redirect on the same allowed host, as calendar servers often answer
    resp = await client.post(f"/api/resources/{rid}/calendar-sources", headers=api_headers(token),
                             json={"url": internal.url("localhost", "/redirect-to-calendar")})
    assert resp.status == 201, await resp.text()
    await _refresh(client)
    assert internal.hits == ["/redirect-to-calendar", "/cal.ics"]
    async with db.session() as session:
        source = (await session.execute(select(CalendarSource))).scalar_one()
        busy = (await session.execute(select(ImportedBusyInterval))).scalars().all()
    assert source.last_error == "" and source.last_good_import_at is not None
    assert [(b.resource_id, b.end - b.start) for b in busy] == [(rid, timedelta(hours=4))]


async def test_without_the_allow_list_the_same_server_is_refused(
        aiohttp_client, settings: Settings, seeded: Seeded, clock: FixedClock, db: Database,  # type: ignore[no-untyped-def]
        internal: InternalServer) -> None:
    client: TestClient = await aiohttp_client(create_app(replace(settings, calendar_feed_allowed_hosts=()),
                                                         clock=clock), cookie_jar=LoopbackSecureJar())
    token = await login_as(client, "koordinator", clock)
    rid = await _resource_id(db)
    resp = await client.post(f"/api/resources/{rid}/calendar-sources", headers=api_headers(token),
                             json={"url": internal.url("localhost", "/cal.ics")})
    assert resp.status == 422 and (await resp.json())["errors"][0]["message"].startswith(REFUSED)
    assert internal.hits == []


class _FakeDns(AbstractResolver):
    """A name server that answers every name with one address (a rebinding or misconfigured DNS)."""

    def __init__(self, address: str) -> None:
        self._address = address

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        return [ResolveResult(hostname=host, host=self._address, port=port, family=socket.AF_INET, proto=0,
                              flags=socket.AI_NUMERICHOST)]

    async def close(self) -> None:
        return None


async def test_a_public_looking_name_that_resolves_to_loopback_is_refused(internal: InternalServer) -> None:
    """The name's addresses are checked where the connection is made: a public-looking name whose DNS
    answer is 127.0.0.1 is refused, and no request reaches the loopback server."""
    url = f"http://kalender.example-helse.no:{internal.port}/metrics"
    with pytest.raises(CalendarFetchError) as refused:
        await fetch_calendar(url, resolver=_FakeDns("127.0.0.1"))
    assert refused.value.code == "calendar.fetch_refused" and internal.hits == []
    # the same name, allowed by the trust, connects to exactly that checked address
    allowed = FeedAddressPolicy.from_entries(["kalender.example-helse.no"])
    body = await fetch_calendar(url.replace("/metrics", "/cal.ics"), policy=allowed, resolver=_FakeDns("127.0.0.1"))
    assert body == BUSY_ICS and internal.hits == ["/cal.ics"]
    # an allowed network works the same way for a name that resolves into it
    network = FeedAddressPolicy.from_entries(["127.0.0.0/8"])
    assert await fetch_calendar(url.replace("/metrics", "/cal.ics"), policy=network,
                                resolver=_FakeDns("127.0.0.1")) == BUSY_ICS


async def test_redirects_are_followed_only_a_few_times(internal: InternalServer) -> None:
    policy = FeedAddressPolicy.from_entries(["localhost"])
    with pytest.raises(CalendarFetchError) as failed:
        await fetch_calendar(internal.url("localhost", "/loop"), policy=policy)
    assert failed.value.code == "calendar.fetch_unreachable"
    assert internal.hits == ["/loop"] * (MAX_REDIRECTS + 1)
