"""The benefits report page and its downloads over HTTP: for team leaders and administrators only, in
bokmål, every output with small counts written "<5", and each view or download audited once."""

from __future__ import annotations

import csv
import io
import re
import zipfile
import zlib

from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from server.platform.audit_models import AuditEntry
from server.platform.clock import FixedClock
from server.platform.db import Database
from tests.conftest import Seeded
from tests.helpers import login_as
from tests.http.readable_text import problems
from tests.integration.benefits.fixture import build as benefits_world

URL = "/reports/benefits?period=custom&from=2026-06-01&to=2026-11-30"


async def _audit_rows(db: Database) -> int:
    async with db.session() as session:
        return int((await session.execute(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.object_type == "benefits_report"))).scalar_one())


async def test_team_leader_reads_the_report_in_bokmal(client: TestClient, seeded: Seeded, clock: FixedClock,
                                                       db: Database) -> None:
    await login_as(client, "leder", clock)
    before = await _audit_rows(db)
    resp = await client.get(URL)
    html = await resp.text()
    assert resp.status == 200, html
    assert 'href="/reports/benefits"' in html  # in the team leader's menu
    assert "Gevinster av samkonsultasjonene" in html and "Nøkkeltall" in html
    assert html.count('role="img"') == 5 and "<script" not in html.split("<main", 1)[1].split("</main>")[0]
    assert "<style" not in html  # the charts' style is a stylesheet of our own (CSP: style-src 'self')
    assert "&lt;5" in html  # the demo's few consultations are small cells
    assert not problems(html)
    assert await _audit_rows(db) == before + 1


async def test_a_nurse_is_refused(client: TestClient, seeded: Seeded, clock: FixedClock) -> None:
    await login_as(client, "sykepleier.rodoy", clock)
    assert (await client.get(URL)).status == 403
    assert (await client.get(URL + "&format=csv")).status == 403


async def test_downloads_parse_and_hide_small_cells(client: TestClient, seeded: Seeded, clock: FixedClock,
                                                    db: Database) -> None:
    await login_as(client, "leder", clock)
    before = await _audit_rows(db)
    resp = await client.get(URL + "&format=csv")
    assert resp.status == 200 and resp.content_type == "text/csv"
    assert 'filename="gevinster-2026-06-01-2026-11-30.csv"' in resp.headers["Content-Disposition"]
    data = await resp.read()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    held = next(r for r in rows if r and r[0] == "Samkonsultasjoner holdt")
    assert held[1] == "<5" or int(held[1]) >= 5
    for row in rows:  # no count from 1 to 4 anywhere: a count is "<5" or at least 5
        for value in row[1:]:
            assert not re.fullmatch(r"[1-4]", value), row

    resp = await client.get(URL + "&format=xlsx")
    assert resp.status == 200
    with zipfile.ZipFile(io.BytesIO(await resp.read())) as book:
        assert "&lt;5" in book.read("xl/sharedStrings.xml").decode()

    resp = await client.get(URL + "&format=pdf")
    assert resp.status == 200 and resp.content_type == "application/pdf"
    assert (await resp.read()).startswith(b"%PDF")
    assert await _audit_rows(db) == before + 3  # each download once


async def test_a_wrong_period_is_told_and_what_was_typed_kept(client: TestClient, seeded: Seeded,
                                                              clock: FixedClock, db: Database) -> None:
    await login_as(client, "admin", clock)
    before = await _audit_rows(db)
    resp = await client.get("/reports/benefits?period=custom&from=2026-11-30&to=2026-06-01&municipality=")
    html = await resp.text()
    assert resp.status == 422
    assert "Sluttdatoen er før startdatoen." in html or "før" in html
    assert 'value="2026-11-30"' in html and 'value="2026-06-01"' in html
    resp = await client.get("/reports/benefits?period=month&month=2026-13")
    assert resp.status == 422 and "Velg en måned." in await resp.text()
    resp = await client.get("/reports/benefits?period=year&year=1999")  # before any report can start
    html = await resp.text()
    assert resp.status == 422 and '<p class="field-error" id="e-year">Velg ett av alternativene.</p>' in html
    resp = await client.get("/reports/benefits?from=2020-01-01&to=2026-06-01&municipality=abc")
    html = await resp.text()
    assert resp.status == 422 and "fem år" in html and 'id="e-municipality"' in html
    assert await _audit_rows(db) == before  # nothing was shown, nothing audited


def _pdf_text(data: bytes) -> str:
    """The text the PDF prints (fpdf2's core font writes it as Latin-1 strings in its page streams)."""
    text = ""
    for stream in re.findall(rb"stream\r?\n(.*?)endstream", data, re.S):
        try:
            text += zlib.decompress(stream).decode("latin-1")
        except zlib.error:
            continue
    return text


async def test_the_page_and_every_download_show_the_figures_worked_out_by_hand(
        client: TestClient, seeded: Seeded, clock: FixedClock, db: Database) -> None:
    """The benefits fixture's March and April 2026 (its figures are worked out by hand in
    tests/integration/benefits): Øyvær 10 held and 2 640 km, Lurfjord 5 held and 600 km; the two consultation
    types hold 12 and 3, so both are hidden (the 3 as "<5", the 12 as ":", since it would give the 3 away)."""
    await benefits_world(db)
    await login_as(client, "leder", clock)
    url = "/reports/benefits?period=custom&from=2026-03-01&to=2026-04-30"
    html = (await (await client.get(url)).text()).replace("\xa0", " ")
    assert "3 240" in html and "Kilometer spart" in html  # 2 x (1160 + 240 + 220) person-kilometres
    assert "Øyvær kommune" in html and "Lurfjord kommune" in html
    # Øyvær's 10 held are drawn; its 2 cancelled and 1 no-show are not, and its label says so
    assert '<desc class="value">10</desc>' in html and "Øyvær kommune (&lt;5)" in html

    rows = list(csv.reader(io.StringIO((await (await client.get(url + "&format=csv")).read()).decode("utf-8-sig")),
                           delimiter=";"))
    by_label = {r[0]: r[1:] for r in rows if r}
    assert by_label["Kilometer spart"][:2] == ["3240", "km"]
    assert by_label["Reisetimer spart"][0] == "100,0"
    assert by_label["Reisekostnader spart"][0] == "6960"
    # 13 hours of two nurses' trips: hidden with the trips they would give away
    assert by_label["Timer ansatte slapp å reise"][0] == "<5"
    assert by_label["Øyvær kommune"][0] == "10" and by_label["Øyvær kommune"][5] == "2640"
    assert by_label["Lurfjord kommune"][0] == "5" and by_label["Lurfjord kommune"][5] == "600"
    # the home type's 3 are "<5"; the room type's 12 are ":", hidden so that 15 - 12 does not give the 3 away
    room, home = by_label["Samkonsultasjon i helserom"], by_label["Samkonsultasjon hjemme"]
    assert (room[0], room[5], home[0], home[5]) == (":", ":", "<5", "<5")
    assert set(room) <= {":", "<5"} and set(home) == {"<5"}

    with zipfile.ZipFile(io.BytesIO(await (await client.get(url + "&format=xlsx")).read())) as book:
        sheets = "".join(book.read(n).decode() for n in book.namelist() if n.startswith("xl/worksheets/"))
    assert "<v>3240</v>" in sheets and "<v>2640</v>" in sheets and "<v>600</v>" in sheets

    text = _pdf_text(await (await client.get(url + "&format=pdf")).read()).replace("\xa0", " ")
    assert "(3 240 km)" in text and "(Øyvær kommune)" in text and "(Lurfjord kommune)" in text
    assert "(Samkonsultasjon i helserom)" in text and "(:)" in text


async def test_each_kind_of_period(client: TestClient, seeded: Seeded, clock: FixedClock) -> None:
    """It opens on the last six whole months (the clock says 23 November 2026); a month, a quarter and a year
    are the calendar's, and the downloads are named after the period."""
    await login_as(client, "leder", clock)
    cases = {
        "": "1. mai 2026 til 31. oktober 2026",
        "?period=month&month=2026-02": "februar 2026",
        "?period=quarter&quarter=2026-Q2": "2. kvartal 2026",
        "?period=year&year=2025": "2025",
    }
    for query, heading in cases.items():
        html = await (await client.get("/reports/benefits" + query)).text()
        assert f'<h2 id="period-title">{heading}</h2>' in html, (query, html)
    resp = await client.get("/reports/benefits?period=quarter&quarter=2026-Q2&format=xlsx")
    assert 'filename="gevinster-2026-04-01-2026-06-30.xlsx"' in resp.headers["Content-Disposition"]
    resp = await client.get("/reports/benefits?period=year&year=2025&format=docx")
    assert resp.status == 422 and "Velg ett av alternativene." in await resp.text()
