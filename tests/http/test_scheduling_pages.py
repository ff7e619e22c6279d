"""The coordinator's way from referral to booking, and what specialist and nurse then see."""

from __future__ import annotations

import re

import vobject
from aiohttp.test_utils import TestClient
from sqlalchemy import update

from scheduling.models import Resource
from server.platform.clock import FixedClock
from server.platform.db import Database
from tests.conftest import Seeded
from tests.helpers import login_as


async def _logout(client: TestClient, token: str) -> None:
    await client.post("/logout", data={"csrf_token": token})


async def _first_booking_on_the_day_list(client: TestClient) -> str:
    """The public id of the first booking on the specialist's day list of the demo consultation day."""
    page = await (await client.get("/day?date=2026-11-24")).text()
    booking = re.search(r'href="/bookings/([^"]+)"', page)
    assert booking, page
    return booking.group(1)


def _form_fields(html: str, index: int = 0) -> dict[str, str]:
    forms = re.findall(r'<form method="post" action="(/bookings[^"]*)">(.*?)</form>', html, re.S)
    action, body = forms[index]
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', body))
    fields["_action"] = action
    return fields


async def test_referral_to_booking_to_day_lists_and_feeds(client: TestClient, seeded: Seeded,
                                                          clock: FixedClock) -> None:
    token = await login_as(client, "koordinator", clock)
    resp = await client.get("/referrals")
    page = await resp.text()
    assert resp.status == 200
    assert "Henvisningskø" in page and "Johan Pedersen" in page
    referral = re.search(r'href="/referrals/([^"/]+)/slots"', page)
    assert referral
    # Johan lives in Lurøy: the joint consultation proposes Lurøy's nurse and health room.
    resp = await client.get(f"/referrals/{referral.group(1)}/slots")
    page = await resp.text()
    assert resp.status == 200, page
    assert "Tidligste tider da alle er ledige" in page
    assert "Ingrid Hansen" in page and "Ola Johansen" in page and "Helserom Lurøy" in page
    fields = _form_fields(page)
    action = fields.pop("_action")
    resp = await client.post(action, data=fields, allow_redirects=False)
    assert resp.status == 303, await resp.text()
    booking_url = resp.headers["Location"].split("?")[0]
    # A double click (same idempotency key) books nothing more and lands on the same booking.
    resp = await client.post(action, data=fields, allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"].split("?")[0] == booking_url
    page = await (await client.get(booking_url)).text()
    assert "Booket" in page and "Ola Johansen" in page
    # The referral left the queue.
    page = await (await client.get("/referrals")).text()
    assert referral.group(1) not in page
    outbox = await (await client.get("/outbox")).text()
    assert "ola.johansen@example.no" in outbox
    await _logout(client, token)

    # The nurse sees it in the day list of its day, with a join button.
    token = await login_as(client, "sykepleier.luroy", clock)
    start = fields["start"][:10]
    page = await (await client.get(f"/day?date={start}")).text()
    assert "Johan Pedersen" in page and "/consultations/" in page
    page = await (await client.get(f"/calendar?week={start}")).text()
    assert "Samkonsultasjon" in page or "konsultasjon" in page.lower()
    # ...and in a calendar feed it subscribes to.
    page = await (await client.post("/calendar/feeds", data={
        "csrf_token": token, "resource_id": re.search(r'name="resource_id" value="(\d+)"',
                                                      await (await client.get("/calendar/feeds")).text()).group(1),
        "label": "Min kalender"})).text()
    feed_url = re.search(r'<code class="feed-url">http://[^/]+(/feeds/[^<]+)</code>', page)
    assert feed_url
    await _logout(client, token)
    resp = await client.get(feed_url.group(1))
    assert resp.status == 200 and resp.content_type == "text/calendar"
    calendar = vobject.readOne(await resp.text())
    assert len(calendar.vevent_list) >= 1
    assert "Pedersen" not in await resp.text()  # no patient names in feeds


async def test_cancel_needs_a_reason_and_keeps_the_form(client: TestClient, seeded: Seeded,
                                                        clock: FixedClock) -> None:
    token = await login_as(client, "lege", clock)
    public_id = await _first_booking_on_the_day_list(client)
    resp = await client.post(f"/bookings/{public_id}/cancel", data={"csrf_token": token, "reason": ""})
    assert resp.status == 422
    assert "Skriv hvorfor konsultasjonen avlyses." in await resp.text()
    resp = await client.post(f"/bookings/{public_id}/cancel",
                             data={"csrf_token": token, "reason": "Pasienten er innlagt"}, allow_redirects=False)
    assert resp.status == 303
    page = await (await client.get(f"/bookings/{public_id}")).text()
    assert "Avlyst" in page and "Pasienten er innlagt" in page


async def test_an_arrived_booking_offers_cancelling_but_not_moving(client: TestClient, seeded: Seeded,
                                                                    clock: FixedClock) -> None:
    token = await login_as(client, "lege", clock)
    public_id = await _first_booking_on_the_day_list(client)
    booked = await (await client.get(f"/bookings/{public_id}")).text()
    assert f'href="/bookings/{public_id}/reschedule"' in booked and ">Kommet<" in booked
    resp = await client.post(f"/bookings/{public_id}/status", data={"csrf_token": token, "status": "arrived"},
                             allow_redirects=False)
    assert resp.status == 303
    arrived = await (await client.get(f"/bookings/{public_id}")).text()
    # The service refuses to move an arrived patient's consultation, so the page no longer offers it ...
    assert f'href="/bookings/{public_id}/reschedule"' not in arrived
    assert f'action="/bookings/{public_id}/cancel"' in arrived
    # ... and a stale link to the slot finder leads back to the booking instead of to times it cannot take.
    resp = await client.get(f"/bookings/{public_id}/reschedule", allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"] == f"/bookings/{public_id}"


async def test_unknown_feed_token_is_not_found(client: TestClient, seeded: Seeded) -> None:
    resp = await client.get("/feeds/not-a-token.ics")
    assert resp.status == 404


async def test_call_page_has_the_joint_note_beside_the_video(client: TestClient, seeded: Seeded,
                                                            clock: FixedClock) -> None:
    await login_as(client, "lege", clock)
    page = await (await client.get("/day?date=2026-11-24")).text()
    booking = re.search(r'href="/consultations/([^"]+)"', page)
    assert booking, page
    resp = await client.get(f"/consultations/{booking.group(1)}")
    page = await resp.text()
    assert resp.status == 200, page
    assert 'id="note-editor"' in page and "/static/notes/note-page.js" in page
    # The editor works at the consultation's address: the note need not exist yet (its first save creates it).
    assert f'"noteUrl": "/api/bookings/{booking.group(1)}/note"' in page


async def test_coordinator_sets_hours_closes_a_day_and_imports_a_calendar(client: TestClient, seeded: Seeded,
                                                                         clock: FixedClock) -> None:
    token = await login_as(client, "koordinator", clock)
    page = await (await client.get("/resources")).text()
    room = re.search(r'href="/resources/(\d+)">Helserom Rødøy', page)
    assert room, page
    rid = room.group(1)
    # A bad time keeps what was typed and says what is wrong, in Norwegian.
    resp = await client.post(f"/resources/{rid}/hours", data={"csrf_token": token, "day0": "8-nonsense"})
    assert resp.status == 422 and "Skriv tider som 08:00-15:30." in await resp.text()
    resp = await client.post(f"/resources/{rid}/hours", data={
        "csrf_token": token, "day0": "08:00-11:00, 12:00-15:30", "day1": "09:00-14:00"}, allow_redirects=False)
    assert resp.status == 303
    page = await (await client.get(f"/resources/{rid}")).text()
    assert 'value="08:00-11:00, 12:00-15:30"' in page and 'name="day2" type="text" value=""' in page
    resp = await client.post(f"/resources/{rid}/exceptions", data={
        "csrf_token": token, "day": "2026-11-26", "kind": "closed", "note": "Stengt for vedlikehold"},
        allow_redirects=False)
    assert resp.status == 303
    assert "Stengt for vedlikehold" in await (await client.get(f"/resources/{rid}")).text()
    ics = (b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:x@test\r\n"
           b"DTSTAMP:20261120T080000Z\r\nDTSTART:20261124T090000Z\r\nDTEND:20261124T100000Z\r\n"
           b"SUMMARY:Privat\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
    import aiohttp

    form = aiohttp.FormData()
    form.add_field("csrf_token", token)
    form.add_field("file", ics, filename="kalender.ics", content_type="text/calendar")
    resp = await client.post(f"/resources/{rid}/calendar/upload", data=form, allow_redirects=False)
    assert resp.status == 303, await resp.text()
    page = await (await client.get(f"/resources/{rid}")).text()
    assert "Opplastet fil" in page and "Privat" not in page
    form = aiohttp.FormData()
    form.add_field("csrf_token", token)
    form.add_field("file", b"not a calendar", filename="x.ics", content_type="text/calendar")
    resp = await client.post(f"/resources/{rid}/calendar/upload", data=form)
    assert resp.status == 422


async def test_nurses_cannot_change_resources(client: TestClient, seeded: Seeded, clock: FixedClock) -> None:
    token = await login_as(client, "sykepleier.rodoy", clock)
    assert (await client.get("/resources")).status == 403
    resp = await client.post("/resources/1/hours", data={"csrf_token": token, "day0": "08:00-09:00"})
    assert resp.status == 403


async def test_the_calendar_of_a_trust_with_nobody_bookable_says_so(client: TestClient, seeded: Seeded,
                                                                   clock: FixedClock, db: Database) -> None:
    # A new trust has set up no bookable person or room yet; the coordinator has no calendar of their own.
    async with db.session() as session:
        await session.execute(update(Resource).values(active=False))
    await login_as(client, "koordinator", clock)
    resp = await client.get("/calendar")
    assert resp.status == 200, await resp.text()
    assert "Ingen personer eller helserom kan bookes ennå" in await resp.text()
