"""The audit log page: the chain checked, entries in words, filtered by patient, user, action and date,
a page at a time; what it shows of a patient is in that patient's own access report."""

from __future__ import annotations

import re

from aiohttp.test_utils import TestClient
from sqlalchemy import select

from server.people.access_report import OBJECT_TYPE
from server.people.models import Patient, User
from server.platform.audit_models import AuditEntry
from server.platform.audit_reasons import AuditReason
from server.platform.clock import FixedClock
from server.platform.db import Database
from tests.conftest import Seeded
from tests.helpers import login_as
from tests.http.readable_text import problems
from tests.volume_data import add_volume

_ROW = re.compile(r"<tr>\s*<td>(.*?)</tr>", re.S)


def _rows(html: str) -> list[str]:
    body = html.split('class="audit-table"', 1)
    return _ROW.findall(body[1]) if len(body) == 2 else []


async def _johan(db: Database) -> Patient:
    async with db.session() as session:
        return (await session.execute(select(Patient).where(Patient.given_name == "Johan"))).scalar_one()


async def test_entries_in_words_newest_first_and_the_chain_checked(client: TestClient, seeded: Seeded,
                                                                     clock: FixedClock) -> None:
    await login_as(client, "koordinator", clock)
    await client.get("/referrals")  # the queue's rows: Johan and the others, "saw in a list"
    await login_as(client, "admin", clock)
    resp = await client.get("/admin/audit")
    html = await resp.text()
    assert resp.status == 200
    assert "Revisjonsloggen er hel." in html
    rows = _rows(html)
    assert rows, html
    # newest first: the admin's own login leads
    assert "Administrator" in rows[0] or "administrator" in rows[0]
    assert "logget inn" in rows[0]
    assert any("så i en liste" in r and "Johan Pedersen" in r and "henvisningskø" in r for r in rows), rows
    assert not problems(html)


async def test_filtered_by_patient_lists_only_their_rows_and_the_review_is_in_their_report(
        client: TestClient, db: Database, seeded: Seeded, clock: FixedClock) -> None:
    johan = await _johan(db)
    await login_as(client, "koordinator", clock)
    await client.get("/referrals")
    await login_as(client, "admin", clock)
    html = await (await client.get("/admin/audit", params={"patient": johan.national_id})).text()
    rows = _rows(html)
    assert rows and all("Johan Pedersen" in r for r in rows)
    assert not any(johan.national_id in r for r in rows), "the number is shown masked"
    assert johan.national_id[:6] in html
    async with db.session() as session:
        expected = len((await session.execute(
            select(AuditEntry.seq).where(AuditEntry.patient_id == johan.id))).all())
        review = (await session.execute(
            select(AuditEntry).where(AuditEntry.patient_id == johan.id, AuditEntry.object_type == OBJECT_TYPE)
            .order_by(AuditEntry.seq.desc()))).scalars().first()
    assert review is not None and review.reason == AuditReason.AUDIT_REVIEW and review.role == "admin"
    # every row of Johan's before this view was listed (fewer than a page)
    assert len(rows) == expected - 1
    # an unknown number says so, in the admin's language
    resp = await client.get("/admin/audit", params={"patient": "01010112345"})
    assert resp.status == 422
    assert "Ingen pasient har dette fødselsnummeret" in await resp.text()


async def test_filtered_by_user_action_and_date(client: TestClient, db: Database, seeded: Seeded,
                                               clock: FixedClock) -> None:
    await login_as(client, "koordinator", clock)
    await client.get("/referrals")
    await login_as(client, "admin", clock)
    async with db.session() as session:
        coordinator = (await session.execute(select(User).where(User.username == "koordinator"))).scalar_one()
    html = await (await client.get("/admin/audit", params={"user": str(coordinator.id), "action": "list"})).text()
    rows = _rows(html)
    assert rows and all(coordinator.display_name in r and "så i en liste" in r for r in rows)
    html = await (await client.get("/admin/audit", params={"action": "login"})).text()
    assert all("logget inn" in r for r in _rows(html))
    html = await (await client.get("/admin/audit", params={"from": "2030-01-01"})).text()
    assert "Ingen oppføringer passer med filteret." in html
    day = clock.now().date().isoformat()
    html = await (await client.get("/admin/audit", params={"from": day, "to": day, "action": "login"})).text()
    assert len(_rows(html)) == 2  # the coordinator's and the admin's login today
    resp = await client.get("/admin/audit", params={"from": "2026-12-01", "to": "2026-11-01"})
    assert resp.status == 422 and "Sluttdatoen er før startdatoen." in await resp.text()
    resp = await client.get("/admin/audit", params={"from": "1. desember"})
    assert resp.status == 422 and "ÅÅÅÅ-MM-DD" in await resp.text()


async def test_a_page_at_a_time(client: TestClient, db: Database, seeded: Seeded, clock: FixedClock) -> None:
    await add_volume(db, clock, bookings=0, referrals=70, patients=70)
    await login_as(client, "koordinator", clock)
    await client.get("/referrals")  # a row for each of the 70 patients in the queue
    await login_as(client, "admin", clock)
    first = await (await client.get("/admin/audit")).text()
    assert "viser 1 til 50, nyeste først" in first
    assert "Eldre oppføringer" in first and "Nyeste oppføringer" not in first
    older = re.search(r'href="(/admin/audit\?before=\d+)"', first)
    assert older
    second = await (await client.get(older.group(1))).text()
    # the first page's own review rows are newer than both pages: they shift which rows come next not
    # at all, only the count of newer ones
    position = re.search(r"viser (\d+) til", second)
    assert position and int(position.group(1)) > 50 and "Nyeste oppføringer" in second
    assert not set(_rows(first)) & set(_rows(second))
    assert len(_rows(first)) == 50


async def test_only_administrators(client: TestClient, seeded: Seeded, clock: FixedClock) -> None:
    await login_as(client, "koordinator", clock)
    resp = await client.get("/admin/audit")
    assert resp.status == 403
