"""Finding 10 (metrics): /metrics is for the operator's scraper, not for everyone.

Before, anyone could read ``/metrics``: how many logins failed on which route and when. Now it
answers a scraper that sends ``SAMKONSULT_METRICS_TOKEN`` as a bearer token, or, when no token is set,
only requests made on this machine that no proxy forwarded; everyone else gets 404 (no token set) or
401 (a token set). The requests come from real addresses: loopback, and where the machine has one, an
address of its own network interface, to which the app is then bound.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import replace

import pytest
from aiohttp.test_utils import TestClient

from server.app import create_app
from server.platform.clock import FixedClock
from server.platform.settings import Settings
from tests.helpers import LoopbackSecureJar

TOKEN = "metrics-token-for-the-tests-0123456789"
METRICS_TEXT = "samkonsult_http_requests"
FORWARDED = ({"X-Forwarded-For": "198.51.100.7"}, {"Forwarded": "for=198.51.100.7"},
             {"X-Real-IP": "198.51.100.7"})


def _network_address() -> str | None:
    """This machine's address on the way to other machines (a UDP 'connect' sends nothing), or None."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))
        except OSError:
            return None
        address = str(probe.getsockname()[0])
    return None if ipaddress.ip_address(address).is_loopback else address


async def _client(aiohttp_client, settings: Settings, clock: FixedClock, *,  # type: ignore[no-untyped-def]
                  host: str = "127.0.0.1") -> TestClient:
    app = create_app(settings, clock=clock)
    return await aiohttp_client(app, cookie_jar=LoopbackSecureJar(), server_kwargs={"host": host})


async def test_a_scraper_on_this_machine_reads_the_metrics(client: TestClient) -> None:
    await client.get("/login")
    resp = await client.get("/metrics")
    assert resp.status == 200
    assert 'samkonsult_http_requests_total{method="GET",route="/login",status="200"}' in await resp.text()
    assert resp.headers["Cache-Control"] == "no-store"  # no cache in between keeps a copy


async def test_another_machine_gets_not_found(aiohttp_client, settings: Settings,  # type: ignore[no-untyped-def]
                                              clock: FixedClock) -> None:
    address = _network_address()
    if address is None:
        pytest.skip("this machine has no network address besides loopback")
    client = await _client(aiohttp_client, settings, clock, host=address)
    resp = await client.get("/metrics")
    assert resp.status == 404
    assert METRICS_TEXT not in await resp.text()


@pytest.mark.parametrize("trusted_proxies", [(), ("127.0.0.1",)])
async def test_what_a_proxy_on_this_machine_forwards_gets_not_found(
        aiohttp_client, settings: Settings, clock: FixedClock,  # type: ignore[no-untyped-def]
        trusted_proxies: tuple[str, ...]) -> None:
    # A reverse proxy on the same machine connects from loopback; the internet must not reach /metrics
    # through it, whether or not it is named a trusted proxy.
    client = await _client(aiohttp_client, replace(settings, trusted_proxies=trusted_proxies), clock)
    for headers in FORWARDED:
        resp = await client.get("/metrics", headers=headers)
        assert resp.status == 404, headers
        assert METRICS_TEXT not in await resp.text()


async def test_with_a_token_only_the_token_reads_the_metrics(aiohttp_client, settings: Settings,  # type: ignore[no-untyped-def]
                                                             clock: FixedClock) -> None:
    client = await _client(aiohttp_client, replace(settings, metrics_token=TOKEN), clock)
    for headers in ({}, {"Authorization": "Bearer wrong-token-0123456789"}, {"Authorization": f"Basic {TOKEN}"},
                    {"Authorization": f"Bearer {TOKEN}x"}):
        resp = await client.get("/metrics", headers=headers)  # even from this machine
        assert resp.status == 401, headers
        assert resp.headers["WWW-Authenticate"].startswith("Bearer")
        assert METRICS_TEXT not in await resp.text()
    # Through a proxy, from anywhere, the token is what counts.
    resp = await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}", **FORWARDED[0]})
    assert resp.status == 200
    assert METRICS_TEXT in await resp.text()


async def test_with_a_token_another_machine_reads_the_metrics(aiohttp_client, settings: Settings,  # type: ignore[no-untyped-def]
                                                              clock: FixedClock) -> None:
    address = _network_address()
    if address is None:
        pytest.skip("this machine has no network address besides loopback")
    client = await _client(aiohttp_client, replace(settings, metrics_token=TOKEN), clock, host=address)
    assert (await client.get("/metrics")).status == 401
    assert (await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})).status == 200
