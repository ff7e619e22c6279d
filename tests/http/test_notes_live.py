"""The note's own WebSocket: two editors see each other's presence and saves at once, only staff with access
get in, bad frames get error frames, and a save arriving after signing is kept as a draft amendment."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from server.app import create_app
from server.platform.clock import FixedClock
from server.platform.settings import Settings
from tests.conftest import Seeded
from tests.helpers import LoopbackSecureJar, api_headers, csrf_token, login_as
from tests.http.notes_documents import WHAT_MATTERS, created_note, note_document, seeded_booking

ORIGIN = {"Origin": "http://127.0.0.1"}
REASON = "oppfølging i kommunen"


async def recv_until(ws: aiohttp.ClientWebSocketResponse, check: Any) -> dict[str, Any]:
    """The first frame for which ``check`` is true (frames before it are skipped)."""
    async with asyncio.timeout(5):
        while True:
            msg = await ws.receive()
            assert msg.type is aiohttp.WSMsgType.TEXT, msg
            frame: dict[str, Any] = msg.json()
            if check(frame):
                return frame


def presence_of(name: str, **want: Any) -> Any:
    def check(frame: dict[str, Any]) -> bool:
        return frame["type"] == "presence" and any(
            e["name"] == name and all(e.get(k) == v for k, v in want.items()) for e in frame["editors"])
    return check


async def _doctor_and_nurse(aiohttp_client: Any, settings: Settings, clock: FixedClock, db: Any
                            ) -> tuple[TestClient, str, TestClient, str, str]:
    """The specialist and the Rødøy nurse logged in, each in their own browser, and Marit's consultation."""
    app = create_app(settings, clock=clock)
    doctor: TestClient = await aiohttp_client(app, cookie_jar=LoopbackSecureJar())
    nurse: TestClient = await aiohttp_client(doctor.server, cookie_jar=LoopbackSecureJar())
    d_token = await login_as(doctor, "lege", clock)
    n_token = await login_as(nurse, "sykepleier.rodoy", clock)
    return doctor, d_token, nurse, n_token, await seeded_booking(db)


@pytest.fixture
async def two(aiohttp_client: Any, settings: Settings, clock: FixedClock, seeded: Seeded, db: Any
              ) -> tuple[TestClient, str, TestClient, str, str]:
    """The specialist and the Rødøy nurse, each in their own browser, on the note of Marit's consultation."""
    doctor, d_token, nurse, n_token, booking = await _doctor_and_nurse(aiohttp_client, settings, clock, db)
    note_id: str = (await created_note(doctor, booking, d_token, REASON))["id"]
    return doctor, d_token, nurse, n_token, note_id


def socket_url(note_id: str, token: str) -> str:
    return f"/ws/notes/{note_id}?csrf={token}&reason={REASON}"


async def test_two_editors_see_presence_and_each_others_saves(two: Any) -> None:
    doctor, d_token, nurse, n_token, note_id = two
    d_ws = await doctor.ws_connect(socket_url(note_id, d_token), headers=ORIGIN)
    hello = await recv_until(d_ws, lambda f: f["type"] == "hello")
    assert hello["editor"] and hello["consultation"]
    n_ws = await nurse.ws_connect(socket_url(note_id, n_token), headers=ORIGIN)
    # Each sees the other arrive, with name and profession.
    await recv_until(d_ws, presence_of("Kari Nilsen", profession="nurse", may_write=True))
    await recv_until(n_ws, presence_of("Ingrid Hansen", profession="physician"))

    # The nurse starts typing in her own part: the doctor is told where and that she types.
    await n_ws.send_json({"type": "presence", "part": "profession_text[nurse]", "typing": True, "unsaved": True})
    await recv_until(d_ws, presence_of("Kari Nilsen", part="profession_text[nurse]", typing=True, unsaved=True))

    # The doctor saves: the nurse is told at once which version and parts, and by whom (no text).
    resp = await doctor.put(f"/api/notes/{note_id}?reason={REASON}", headers=api_headers(d_token),
                            json={"based_on": 1, "content": note_document(what_matters=WHAT_MATTERS)})
    assert resp.status == 200, await resp.text()
    changed = await recv_until(n_ws, lambda f: f["type"] == "changed")
    assert changed == {"type": "changed", "kind": "saved", "version": 2, "parts": ["what_matters"],
                       "by": {"id": changed["by"]["id"], "name": "Ingrid Hansen", "profession": "physician"}}
    assert "Å bo hjemme" not in str(changed)

    # The doctor signs while the nurse still has unsaved text: her later save becomes her draft amendment.
    resp = await doctor.post(f"/api/notes/{note_id}/sign?reason={REASON}", headers=api_headers(d_token))
    assert resp.status == 200, await resp.text()
    assert (await recv_until(n_ws, lambda f: f["type"] == "changed"))["kind"] == "signed"
    mine = note_document(what_matters=WHAT_MATTERS,
                         profession_texts=[{"profession": "nurse", "text": "Sår på leggen, skiftes daglig."}])
    resp = await nurse.put(f"/api/notes/{note_id}?reason={REASON}", headers=api_headers(n_token),
                           json={"based_on": 2, "content": mine})
    body = await resp.json()
    assert resp.status == 200 and body["after_signing"] == ["profession_text[nurse]"] and not body["saved"]
    [draft] = body["note"]["drafts"]
    assert draft["after_signing"] and draft["content"] == "Sår på leggen, skiftes daglig."
    assert draft["amends"] == "profession_texts"  # the signed note has no nurse's text to amend
    assert body["note"]["content"]["profession_texts"] == []  # the signed content is untouched

    # She goes on writing: the draft keeps it; signing it as an amendment settles the draft.
    resp = await nurse.put(f"/api/notes/{note_id}/amendment-drafts?reason={REASON}", headers=api_headers(n_token),
                           json={"part": "profession_text[nurse]", "text": "Sår på leggen, skiftes daglig. Feber."})
    assert resp.status == 200 and (await resp.json())["drafts"][0]["content"].endswith("Feber.")
    resp = await nurse.post(f"/api/notes/{note_id}/amendments?reason={REASON}", headers=api_headers(n_token),
                            json={"part": "profession_texts", "text": "Sår på leggen, skiftes daglig. Feber.",
                                  "draft": "profession_text[nurse]"})
    assert resp.status == 201
    after = await resp.json()
    assert after["drafts"] == [] and after["amendments"][0]["text"].endswith("Feber.")
    # The doctor was told of her own save and signature too (her other tabs need them), then of the amendment.
    await recv_until(d_ws, lambda f: f["type"] == "changed" and f["kind"] == "amended")

    # The nurse leaves: the doctor sees her go.
    await n_ws.close()
    await recv_until(d_ws, lambda f: f["type"] == "presence" and [e["name"] for e in f["editors"]] == ["Ingrid Hansen"])
    await d_ws.close()


async def test_editors_meet_before_the_note_exists_and_hear_of_the_first_save(
        aiohttp_client: Any, settings: Settings, clock: FixedClock, seeded: Seeded, db: Any) -> None:
    """The live channel is the consultation's: opening the note creates nothing, yet both editors are there."""
    doctor, d_token, nurse, n_token, booking = await _doctor_and_nurse(aiohttp_client, settings, clock, db)
    empty = await (await nurse.get(f"/api/bookings/{booking}/note?reason={REASON}")).json()
    assert empty["id"] is None and empty["version"] == 0

    def url(token: str) -> str:
        return f"/ws/consultations/{booking}/note?csrf={token}&reason={REASON}"

    d_ws = await doctor.ws_connect(url(d_token), headers=ORIGIN)
    assert (await recv_until(d_ws, lambda f: f["type"] == "hello"))["consultation"] == booking
    n_ws = await nurse.ws_connect(url(n_token), headers=ORIGIN)
    await recv_until(d_ws, presence_of("Kari Nilsen", profession="nurse", may_write=True))

    # The doctor's first save creates the note; the nurse hears of it as of any save, and reads it.
    resp = await doctor.put(f"/api/bookings/{booking}/note?reason={REASON}", headers=api_headers(d_token),
                            json={"based_on": 0, "content": note_document(what_matters=WHAT_MATTERS)})
    assert resp.status == 200, await resp.text()
    note = (await resp.json())["note"]
    assert note["id"] and note["version"] == 2
    changed = await recv_until(n_ws, lambda f: f["type"] == "changed")
    assert changed["version"] == 2 and changed["parts"] == ["what_matters"]
    # Her own first save, made from the empty note too, merges with his: nothing of his is lost.
    resp = await nurse.put(f"/api/bookings/{booking}/note?reason={REASON}", headers=api_headers(n_token),
                           json={"based_on": 0, "content": note_document(
                               profession_texts=[{"profession": "nurse", "text": "Sår på legg"}])})
    assert resp.status == 200, await resp.text()
    body = await resp.json()
    assert body["note"]["id"] == note["id"] and body["version"] == 3
    assert body["note"]["content"]["what_matters"] == WHAT_MATTERS
    # The note's own address joins the same channel.
    o_ws = await doctor.ws_connect(socket_url(note["id"], d_token), headers=ORIGIN)
    assert (await recv_until(o_ws, lambda f: f["type"] == "hello"))["consultation"] == booking
    for ws in (o_ws, n_ws, d_ws):
        await ws.close()


async def test_bad_frames_get_error_frames_and_the_socket_goes_on(two: Any) -> None:
    doctor, d_token, _nurse, _n_token, note_id = two
    ws = await doctor.ws_connect(socket_url(note_id, d_token), headers=ORIGIN)
    for frame, code in (('{"type": "presence", "type": "x"}', "bad_json"), ("[1]", "bad_message"),
                        ('{"type": "shout"}', "unknown_type"),
                        ('{"type": "presence", "part": "kitchen", "typing": true}', "bad_part"),
                        ('{"type": "presence", "typing": "yes"}', "bad_message")):
        await ws.send_str(frame)
        assert (await recv_until(ws, lambda f: f["type"] == "error"))["code"] == code
    await ws.send_json({"type": "ping"})
    await recv_until(ws, lambda f: f["type"] == "pong")
    await ws.close()


async def test_only_staff_with_access_same_origin_and_token_get_a_socket(
        two: Any, aiohttp_client: Any, clock: FixedClock) -> None:
    doctor, d_token, _nurse, _n_token, note_id = two
    for url, headers in ((socket_url(note_id, d_token), {"Origin": "https://evil.example"}),
                         (socket_url(note_id, d_token), {}),
                         (f"/ws/notes/{note_id}?csrf=wrong&reason={REASON}", ORIGIN),
                         (socket_url("no-such-note", d_token), ORIGIN)):
        with pytest.raises(aiohttp.WSServerHandshakeError):
            await doctor.ws_connect(url, headers=headers)
    # Nurse of another municipality: the same "not found" as for a note that does not exist.
    other: TestClient = await aiohttp_client(doctor.server, cookie_jar=LoopbackSecureJar())
    token = await login_as(other, "sykepleier.luroy", clock)
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await other.ws_connect(socket_url(note_id, token), headers=ORIGIN)
    assert refused.value.status == 404
    # Not logged in at all.
    anonymous: TestClient = await aiohttp_client(doctor.server, cookie_jar=LoopbackSecureJar())
    with pytest.raises(aiohttp.WSServerHandshakeError):
        await anonymous.ws_connect(socket_url(note_id, await csrf_token(anonymous)), headers=ORIGIN)
