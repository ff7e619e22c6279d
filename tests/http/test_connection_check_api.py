"""The device check's page and JSON API over HTTP: no login needed, bad input is a clear problem+json."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest
from aiohttp.test_utils import TestClient

from server.platform.clock import FixedClock
from server.platform.settings import Settings
from tests.conftest import Seeded
from tests.helpers import api_headers, csrf_token, login_as

API = "/api/connection-checks"


async def test_the_page_needs_no_login_and_speaks_bokmal(client: TestClient) -> None:
    resp = await client.get("/check?from=join")
    assert resp.status == 200
    text = await resp.text()
    assert "Sjekk utstyr og nettverk" in text and "Start sjekken" in text
    assert 'href="/join"' in text  # the way back for a guest who came from the join page
    join = await (await client.get("/join")).text()
    assert 'href="/check?from=join"' in join


async def test_the_day_list_links_to_the_check(client: TestClient, seeded: Seeded, clock: FixedClock) -> None:
    await login_as(client, "koordinator", clock)
    resp = await client.get("/day")
    assert resp.status == 200
    assert 'href="/check"' in await resp.text()


async def test_bad_input_gets_problem_json(client: TestClient) -> None:
    token = await csrf_token(client, "/check")
    headers = api_headers(token)

    async def problem(resp_status: int, call: Callable[[], object]) -> dict[str, object]:
        resp = await call()  # type: ignore[misc]
        assert resp.status == resp_status, await resp.text()
        assert resp.content_type == "application/problem+json"
        body: dict[str, object] = await resp.json()
        assert body["status"] == resp_status and body["title"] and body["code"]
        return body

    not_json = {**headers, "Content-Type": "application/json"}
    await problem(422, lambda: client.post(API, data="not json", headers=not_json))
    unknown = await problem(422, lambda: client.post(API, json={"camera": True}, headers=headers))
    errors = unknown["errors"]
    assert [(e["field"], e["code"]) for e in errors] == [("camera", "unknown_field")]  # type: ignore[union-attr]
    refused = await problem(403, lambda: client.post(API, json={}))  # no CSRF token
    assert refused["code"] == "csrf_failed"

    resp = await client.post(API, json={}, headers=headers)
    assert resp.status == 201
    started = await resp.json()
    check = started["id"]
    assert started["ice_servers"] == [] and started["time_limit_seconds"] == 30
    assert resp.headers["Location"] == f"{API}/{check}"

    missing = await problem(422, lambda: client.post(f"{API}/{check}/offer", json={"type": "offer"}, headers=headers))
    assert {e["field"]: e["code"] for e in missing["errors"]} == {"sdp": "required"}  # type: ignore[union-attr]
    wrong = await problem(422, lambda: client.post(f"{API}/{check}/offer", json={"type": "answer", "sdp": "v=0"},
                                                   headers=headers))
    assert "type" in {e["field"] for e in wrong["errors"]}  # type: ignore[union-attr]
    garbage = await problem(422, lambda: client.post(f"{API}/{check}/offer", json={"type": "offer", "sdp": "hello"},
                                                     headers=headers))
    assert [e["field"] for e in garbage["errors"]] == ["sdp"]  # type: ignore[union-attr]
    huge = await problem(422, lambda: client.post(f"{API}/{check}/offer", json={"type": "offer", "sdp": "v" * 20_001},
                                                  headers=headers))
    assert {e["field"]: e["code"] for e in huge["errors"]} == {"sdp": "too_long"}  # type: ignore[union-attr]
    await problem(422, lambda: client.post(f"{API}/{'x' * 65}/offer", json={"type": "offer", "sdp": "v=0"},
                                           headers=headers))

    resp = await client.delete(f"{API}/{check}", headers=headers)
    assert resp.status == 200 and await resp.json() == {"id": check, "stopped": True}
    resp = await client.delete(f"{API}/{check}", headers=headers)  # stopping twice is fine
    assert resp.status == 200
    gone = await problem(404, lambda: client.post(f"{API}/{check}/offer", json={"type": "offer", "sdp": "v=0"},
                                                  headers=headers))
    assert gone["code"] == "check_not_found"


async def test_one_client_is_rate_limited(client: TestClient) -> None:
    token = await csrf_token(client, "/check")
    for _ in range(6):
        resp = await client.post(API, json={}, headers=api_headers(token))
        assert resp.status == 201
        await client.delete(f"{API}/{(await resp.json())['id']}", headers=api_headers(token))
    resp = await client.post(API, json={}, headers=api_headers(token))
    assert resp.status == 429 and resp.content_type == "application/problem+json"
    assert int(resp.headers["Retry-After"]) > 0
    assert (await resp.json())["code"] == "rate_limited"


@pytest.fixture
def settings_with_turn(settings: Settings) -> Settings:
    return dataclasses.replace(settings, ice_servers=("stun:stun.example.org:3478", "turn:turn.example.org:3478"),
                               turn_secret="turn-shared-secret")


async def test_the_check_uses_the_calls_ice_servers_with_short_lived_turn_credentials(
    aiohttp_client, settings_with_turn: Settings, clock  # type: ignore[no-untyped-def]
) -> None:
    from server.app import create_app
    from tests.conftest import LoopbackSecureJar

    client = await aiohttp_client(create_app(settings_with_turn, clock=clock), cookie_jar=LoopbackSecureJar())
    token = await csrf_token(client, "/check")
    resp = await client.post(API, json={}, headers=api_headers(token))
    assert resp.status == 201
    servers = (await resp.json())["ice_servers"]
    assert servers[0] == {"urls": ["stun:stun.example.org:3478"]}
    turn = servers[1]
    assert turn["urls"] == ["turn:turn.example.org:3478"] and turn["credential"]
    expiry = int(turn["username"].split(":")[0])
    assert 0 < expiry - int(clock.now().timestamp()) <= 600
