"""A new health trust, from an empty database to a held consultation, through the pages only.

The first administrator is created from the console, as the README says; everything after that is done in
the browser by the people whose work it is: the administrator sets up the department, a municipality with
a health room and its equipment, a specialist and a nurse made bookable with their hours, a coordinator,
and a 15-minute consultation type bookable ten minutes ahead. The coordinator registers the patient, writes
the referral and books the first time offered. The specialist and the nurse join from their day lists, the
patient's daughter with the code she was given, and the three see and hear each other.

The server runs outside demo mode (no demo data, secrets of its own), the way a trust runs it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from datetime import date

import pytest
import pytest_asyncio
from playwright.async_api import Browser, Page, expect

from server.people.national_id import first_synthetic_id
from tests.browser.call_steps import DESKTOP, PHONE, expect_state, guest_waits, make_code, person
from tests.browser.support import TotpSecrets, assert_accessible, log_in, path_of
from tests.browser.test_call_consultation import _decodes, _pid
from tests.serverproc import ROOT, Server, free_port, run_cli, server_env, serving

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]

ADMIN = ("Hanne Nordvik", "hanne.nordvik", "hanne.nordvik@helgelandssykehuset.example.no")
ADMIN_PASSWORD = "fjellvann-og-fyr-2027"
FIRST_PASSWORD = "første-passord-2027"  # what the administrator gives each new person
HOSPITAL = "Helgelandssykehuset"
DEPARTMENT = "Medisinsk avdeling"
MUNICIPALITY = "Rødøy kommune"
ROOM = "Helserom Rødøy"
ALL_DAY = "00:00-23:59"  # any hour of any day: the test may run at night
WEEKDAYS = ("Mandag", "Tirsdag", "Onsdag", "Torsdag", "Fredag", "Lørdag", "Søndag")
TYPE_NAME = "Kort samkonsultasjon"
PATIENT = ("Ragnhild", "Strand")


@pytest.fixture(scope="module")
def empty_trust(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A migrated, empty database served outside demo mode, with its first administrator from the console."""
    tmp = tmp_path_factory.mktemp("empty-trust")
    port = free_port()
    # The trust lets people in half an hour ahead: the first time offered (ten minutes' notice, on the
    # quarter hour) then always has its room open, whatever the clock says when the test runs.
    env = server_env(tmp, port, SAMKONSULT_DEMO_MODE="false", SAMKONSULT_SESSION_SECRET=os.urandom(24).hex(),
                     SAMKONSULT_TOTP_ENCRYPTION_KEY=os.urandom(24).hex(), SAMKONSULT_AUDIT_KEY=os.urandom(24).hex(),
                     SAMKONSULT_ROOM_OPENS_MINUTES_BEFORE="30")
    run_cli(env, "migrate")
    name, username, email = ADMIN
    created = subprocess.run(
        [sys.executable, "-m", "server.cli", "create-admin", "--name", name, "--username", username,
         "--email", email, "--organisation", HOSPITAL],
        cwd=ROOT, env=env, input=ADMIN_PASSWORD + "\n", capture_output=True, text=True, timeout=120, check=False)
    assert created.returncode == 0, created.stderr
    log_path = tmp / f"serve-{port}.log"
    with serving(env, log_path):
        yield Server(env["SAMKONSULT_PUBLIC_URL"], log_path, env)


@pytest_asyncio.fixture(loop_scope="session")
async def secrets() -> AsyncIterator[TotpSecrets]:
    yield TotpSecrets()


async def choose(page: Page, label: str, containing: str) -> None:
    """Pick the option of the select labelled ``label`` whose text contains ``containing``."""
    select = page.get_by_label(label, exact=True)
    texts = await select.locator("option").all_inner_texts()
    matching = [t for t in texts if containing in t]
    assert len(matching) == 1, f"{label}: {texts}"
    await select.select_option(label=matching[0])


async def no_field_errors(page: Page) -> None:
    errors = await page.locator(".field-error, .form-error").all_inner_texts()
    assert not errors, f"{path_of(page)}: {errors}"


async def fill_week(page: Page, hours: str) -> None:
    for day in WEEKDAYS:
        await page.get_by_label(re.compile(f"^{day}$", re.IGNORECASE)).fill(hours)


async def set_up_the_trust(admin: Page) -> None:
    """What the administrator does: organisations, the room and its equipment, people, the type."""
    nav = admin.get_by_role("navigation", name="Hovedmeny")

    # The hospital the console made gets its department; the municipality is new, with its centre.
    await nav.get_by_role("link", name="Organisasjoner").click()
    await admin.get_by_role("link", name=HOSPITAL).click()
    await admin.get_by_label("Ny avdeling").fill(DEPARTMENT)
    await admin.get_by_role("button", name="Legg til avdeling").click()
    await expect(admin.locator("main")).to_contain_text(DEPARTMENT)
    await nav.get_by_role("link", name="Organisasjoner").click()
    await admin.get_by_label("Navn", exact=True).fill(MUNICIPALITY)
    await admin.get_by_label("Type").select_option(label="Kommune")
    await admin.get_by_label("Kode (kommunenummer eller organisasjonsnummer)").fill("1836")
    await admin.get_by_role("button", name="Opprett organisasjon").click()
    await no_field_errors(admin)
    await admin.get_by_role("link", name=MUNICIPALITY).click()
    await admin.get_by_label("Adresse").fill("Vågaholmen 1, 8186 Tjong")
    await admin.get_by_label("Sentrum (stedet reisen måles fra)").fill("Vågaholmen")
    await admin.get_by_role("button", name="Lagre endringene").click()
    await expect(admin.get_by_role("status")).to_have_text("Endringene er lagret.")

    # A health room with a camera built in and hours every day, then a mobile ECG kept in it.
    await admin.goto("/resources/new/room")
    await admin.get_by_label("Navn på helserommet").fill(ROOM)
    await admin.get_by_label("Kommune").select_option(label=MUNICIPALITY)
    await admin.get_by_label("Adresse", exact=True).fill("Vågaholmen 1, 8186 Tjong")
    await admin.get_by_label("Undersøkelseskamera").check()
    await fill_week(admin, ALL_DAY)
    await admin.get_by_role("button", name="Opprett helserom").click()
    await no_field_errors(admin)
    await expect(admin.get_by_role("heading", level=1)).to_contain_text(ROOM)
    await admin.goto("/resources/new/equipment")
    await admin.get_by_label("Type utstyr").select_option(label="EKG")
    await admin.get_by_label("Navn eller merking (valgfritt)").fill("EKG Rødøy 1")
    await admin.get_by_label("Står i helserom (valgfritt)").select_option(label=ROOM)
    await admin.get_by_role("button", name="Legg til utstyr").click()
    await no_field_errors(admin)
    await admin.goto("/resources")
    await expect(admin.locator("main")).to_contain_text("EKG Rødøy 1")

    # The people: a specialist of the department, a nurse of the municipality, a coordinator.
    for display, username, role, organisation, department, profession in (
            ("Ingrid Hansen", "ingrid.hansen", "Spesialist", HOSPITAL, DEPARTMENT, "Lege"),
            ("Kari Nilsen", "kari.nilsen", "Sykepleier", MUNICIPALITY, None, "Sykepleier"),
            ("Ola Berg", "ola.berg", "Koordinator", HOSPITAL, None, "Pasientkoordinator")):
        await nav.get_by_role("link", name="Brukere").click()
        await admin.get_by_label("Navn", exact=True).fill(display)
        await admin.get_by_label("Brukernavn").fill(username)
        await admin.get_by_label("Første passord (minst 10 tegn)").fill(FIRST_PASSWORD)
        await admin.get_by_label("Rolle").select_option(label=role)
        await admin.get_by_label("Organisasjon", exact=True).select_option(label=organisation)
        if department:
            await admin.get_by_label("Avdeling (valgfritt)").select_option(label=f"{department} ({organisation})")
        await admin.get_by_label("Yrke").select_option(label=profession)
        await admin.get_by_role("button", name="Opprett bruker").click()
        await expect(admin.get_by_role("status")).to_contain_text("Brukeren er opprettet")

    # The specialist and the nurse made bookable, with their hours, one step each.
    for display in ("Ingrid Hansen", "Kari Nilsen"):
        await admin.goto("/resources/new/person")
        await choose(admin, "Ansatt", display)
        await fill_week(admin, ALL_DAY)
        await assert_accessible(admin)
        await admin.get_by_role("button", name="Gjør bookbar").click()
        await no_field_errors(admin)
        await expect(admin.get_by_role("heading", level=1)).to_contain_text(display)

    # Fifteen minutes, bookable ten minutes ahead: the specialist, the nurse and a room with a camera.
    await admin.goto("/consultation-types/new")
    await admin.get_by_label("Navn på norsk").fill(TYPE_NAME)
    await admin.get_by_label("Navn på engelsk").fill("Short joint consultation")
    await admin.get_by_label("Varighet i minutter").fill("15")
    await admin.get_by_label("Varsel i minutter (hvor tidligst den kan bookes)").fill("10")
    await admin.get_by_label("Pause før, i minutter").fill("0")
    await admin.get_by_label("Pause etter, i minutter").fill("0")
    await admin.get_by_label("En spesialist fra avdelingen").check()
    await choose(admin, "Avdeling", DEPARTMENT)
    await admin.get_by_label("En sykepleier i pasientens kommune").check()
    await admin.get_by_label("Et helserom i pasientens kommune").check()
    await admin.locator("fieldset fieldset").get_by_label("Undersøkelseskamera").check()
    await admin.get_by_role("button", name="Opprett konsultasjonstype").click()
    await no_field_errors(admin)
    await admin.goto("/consultation-types")
    await expect(admin.locator("main")).to_contain_text(TYPE_NAME)


async def book_as_the_coordinator(coordinator: Page) -> str:
    """Register the patient, write the referral, book the first time offered; returns the booking's id."""
    await coordinator.goto("/patients/new")
    await coordinator.get_by_label("Fornavn").fill(PATIENT[0])
    await coordinator.get_by_label("Etternavn").fill(PATIENT[1])
    await coordinator.get_by_label("Fødselsnummer (11 siffer)").fill(first_synthetic_id(date(1941, 3, 14)))
    await coordinator.get_by_label("Bostedskommune").select_option(label=MUNICIPALITY)
    await coordinator.get_by_role("button", name="Registrer").click()
    await no_field_errors(coordinator)

    await coordinator.goto("/referrals/new")
    await choose(coordinator, "Pasient", PATIENT[1])
    await coordinator.get_by_label("Grunn til konsultasjonen").fill("Svimmel og falt to ganger; se på medisinene.")
    await choose(coordinator, "Type konsultasjon", TYPE_NAME)
    await coordinator.get_by_role("button", name="Send henvisning").click()
    await no_field_errors(coordinator)

    await coordinator.goto("/referrals")
    await coordinator.get_by_role("row", name=re.compile(PATIENT[1])).get_by_role("link", name="Finn tid").click()
    await expect(coordinator.get_by_role("heading", level=1)).to_have_text("Finn tid")
    await assert_accessible(coordinator)
    # The first time offered is at least ten minutes ahead: its room opens fifteen minutes before.
    await coordinator.get_by_role("button", name=re.compile(r"^Book ")).first.click()
    await expect(coordinator).to_have_url(re.compile(r"/bookings/[A-Za-z0-9_-]+\?booked=1$"))
    await expect(coordinator.locator("main")).to_contain_text(TYPE_NAME)
    return path_of(coordinator).rsplit("/", 1)[1]


async def joins_from_the_day_list(page: Page, username: str, secrets: TotpSecrets) -> None:
    await log_in(page, username, secrets, password=FIRST_PASSWORD)
    await page.goto("/day")
    await page.get_by_role("link", name=re.compile(f"^Bli med {PATIENT[0]} {PATIENT[1]}")).click()
    await page.get_by_role("button", name="Bli med i konsultasjonen").click()
    await expect_state(page, "incall", "incall")


async def test_a_trust_sets_up_from_empty_and_holds_its_first_consultation(
        browser: Browser, empty_trust: Server, secrets: TotpSecrets) -> None:
    base = empty_trust.base_url
    async with person(browser, base, DESKTOP) as admin:
        await log_in(admin, ADMIN[1], secrets, password=ADMIN_PASSWORD)
        await set_up_the_trust(admin)

    async with person(browser, base, DESKTOP) as coordinator:
        await log_in(coordinator, "ola.berg", secrets, password=FIRST_PASSWORD)
        await book_as_the_coordinator(coordinator)

    async with person(browser, base, DESKTOP) as specialist, person(browser, base, DESKTOP) as nurse, \
            person(browser, base, PHONE) as daughter:
        await joins_from_the_day_list(specialist, "ingrid.hansen", secrets)
        await joins_from_the_day_list(nurse, "kari.nilsen", secrets)
        await guest_waits(daughter, await make_code(specialist, "Silje Strand"))
        await specialist.get_by_role("button", name="Slipp inn Silje Strand").click()
        await expect_state(daughter, "incall", "incall")
        # Each of the three decodes video from the other two.
        people = [specialist, nurse, daughter]
        ids = [await _pid(page) for page in people]
        for page, me in zip(people, ids, strict=True):
            await _decodes(page, [pid for pid in ids if pid != me])
        await assert_accessible(nurse)
