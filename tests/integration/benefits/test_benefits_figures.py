"""Every figure of the benefits report, worked out by hand from the small world in ``fixture.py``.

Period 2026-03-01 .. 2026-04-30. Held (completed) consultations in it: Øyvær a1..a8, a12, in1 (10),
Lurfjord b1..b5 (5): 15. Not held: a9 and b6 cancelled, a10 no-show, a11 upcoming (in April).
out1 (28 Feb, 23:30) and out2 (1 May, 00:30) fall outside, though in UTC out2 is 30 April.
"""

from __future__ import annotations

from datetime import date

import pytest

from scheduling.benefits import periods
from scheduling.benefits.report import BenefitsReport, Count, Filters, Period
from scheduling.benefits.service import BenefitsService
from scheduling.benefits.settings import BenefitSettingsService
from scheduling.models import AdmissionAvoided, FollowUp, Urgency
from server.platform.audit import AuditLog
from server.platform.clock import FixedClock
from server.platform.db import Database
from server.platform.errors import PermissionDenied, ValidationFailed
from tests.integration.benefits.fixture import NOW, BenefitsWorld, build

PERIOD = Period(date(2026, 3, 1), date(2026, 4, 30))


@pytest.fixture
async def world(db: Database) -> BenefitsWorld:
    return await build(db)


async def _report(db: Database, world: BenefitsWorld, filters: Filters | None = None,
                  period: Period = PERIOD) -> BenefitsReport:
    clock = FixedClock(NOW)
    async with db.session() as session:
        return await BenefitsService(clock, AuditLog(clock)).report(session, world.leader, period, filters)


def _exact(count: Count) -> int:
    return count.exact_for_computation()


async def test_totals_by_hand(db: Database, world: BenefitsWorld) -> None:
    t = (await _report(db, world)).totals
    assert (t.consultations.value, t.held.value) == (13 + 6, 10 + 5)
    # cancelled a9, b6; no-show a10; upcoming a11: all under five, so shown as "<5"
    assert [c.display() for c in (t.cancelled, t.no_show, t.upcoming)] == ["<5", "<5", "<5"]
    assert (_exact(t.cancelled), _exact(t.no_show), _exact(t.upcoming)) == (2, 1, 1)
    assert t.held_at_home.value == 5  # b1..b5
    # video share: held / (held + cancelled + no-show) = 15 / 18
    assert t.video_share.value == pytest.approx(15 / 18)
    assert t.video_share.target == 0.8 and t.video_share.meets_target is True
    assert t.home_share.value == pytest.approx(5 / 15) and t.home_share.meets_target is True  # target 0.3
    # trips: 15 patients + escorts (a1, a2, a4) + nurses (a3, a4, b1)
    assert t.trips_avoided.value == 15 + 3 + 3
    assert t.patient_trips_avoided.value == 15
    assert t.escort_trips_avoided.display() == "<5" and t.nurse_trips_avoided.display() == "<5"
    # one-way km of the patients: Øyvær->Nordvik 80 for a1-a4, a6-a8, a12, in1 (9), Øyvær->Sørhavn 200 for a5
    # (the referral names Sørhavn), Lurfjord->Nordvik 60 for b1-b4, nothing for b5 (no Lurfjord->Sørhavn row):
    # 720 + 200 + 240 = 1160
    # escorts 3 x 80 = 240; nurses a3 80 + a4 80 + b1 60 = 220; round trips: 2 x (1160+240+220) = 3240
    assert t.km_avoided.value == pytest.approx(3240.0)
    # one-way minutes: patients 9 x 150 + 300 + 4 x 90 + b5's own 5 h round trip / 2 (150) = 2160,
    # escorts 3 x 150 = 450, nurses 150 + 150 + 90 = 390; hours 2 x 3000 / 60 = 100
    assert t.travel_hours_avoided.value == pytest.approx(100.0)
    # cost: NOK 3.00 x the patients' round-trip km (escorts travel with them: not counted) = 3 x 2 x 1160
    assert t.travel_cost_avoided_nok.value == pytest.approx(6960)
    assert t.co2_avoided_kg.value == pytest.approx(3240 * 0.12)  # 388.8
    assert t.staff_hours_avoided.value == pytest.approx(2 * 390 / 60)  # 13.0
    assert t.held_without_travel_data.display() == "<5" and _exact(t.held_without_travel_data) == 1


async def test_by_municipality_by_hand(db: Database, world: BenefitsWorld) -> None:
    report = await _report(db, world)
    rows = {r.id: r for r in report.by_municipality}
    assert set(rows) == {world.oyvaer, world.lurfjord}
    a, b = rows[world.oyvaer].figures, rows[world.lurfjord].figures
    assert rows[world.lurfjord].name == "Lurfjord kommune"
    assert (a.consultations.value, a.held.value) == (13, 10)
    assert a.trips_avoided.value == 10 + 3 + 2  # escorts a1 a2 a4, nurses a3 a4
    assert a.km_avoided.value == pytest.approx(2 * (920 + 240 + 160))  # 2640
    assert a.travel_hours_avoided.value == pytest.approx(2 * (1650 + 450 + 300) / 60)  # 80
    assert a.travel_cost_avoided_nok.value == pytest.approx(3 * 2 * 920)  # 5520
    assert a.co2_avoided_kg.value == pytest.approx(2640 * 0.12)
    assert a.staff_hours_avoided.value == pytest.approx(2 * 300 / 60)  # 10
    assert a.held_at_home.display() == "<5"
    assert (b.consultations.value, b.held.value, b.held_at_home.value) == (6, 5, 5)
    assert b.trips_avoided.value == 5 + 0 + 1  # nurse b1
    assert b.km_avoided.value == pytest.approx(2 * (240 + 60))  # 600
    assert b.travel_hours_avoided.value == pytest.approx(2 * (510 + 90) / 60)  # 20
    assert b.travel_cost_avoided_nok.value == pytest.approx(3 * 2 * 240)  # 1440
    assert b.staff_hours_avoided.value == pytest.approx(3.0)


async def test_small_cells_hide_their_neighbour_in_a_breakdown(db: Database, world: BenefitsWorld) -> None:
    """Types: the room type held 12 (a1-a8, a12, in1, b4, b5), the home type 3 (b1-b3). The 3 is hidden,
    and so is the 12, else the total 15 minus 12 would give the 3 away."""
    rows = {r.id: r for r in (await _report(db, world)).by_consultation_type}
    home, room = rows[world.type_home].figures, rows[world.type_room].figures
    assert _exact(home.held) == 3 and _exact(room.held) == 12
    assert home.held.display() == "<5" and room.held.display() == ":"
    for figures in (home, room):
        assert figures.km_avoided.value is None and figures.video_share.value is None
        assert figures.trips_avoided.value is None
    assert home.km_avoided.display() == "<5" and room.km_avoided.display() == ":"
    assert rows[world.type_room].name_en == "Joint consultation"


async def test_department_and_months(db: Database, world: BenefitsWorld) -> None:
    report = await _report(db, world)
    [dept] = report.by_department
    assert dept.id == world.department and dept.name == "Geriatri, Fjordsykehuset Nordvik"
    assert dept.figures.held.value == 15
    march, april = report.months
    assert (march.month, april.month) == (date(2026, 3, 1), date(2026, 4, 1))
    # in1 (1 March 00:15) and a12 (31 March 23:30) are March; a11 (1 April 00:30) is April
    assert march.figures.held.value == 15
    # March had 18 consultations, April 1: with the total of 19 shown, March's 18 would give April's 1 away
    assert _exact(march.figures.consultations) == 18 and march.figures.consultations.display() == ":"
    assert march.figures.km_avoided.value == pytest.approx(3240.0)
    assert _exact(april.figures.consultations) == 1 and _exact(april.figures.upcoming) == 1
    assert april.figures.consultations.display() == "<5"


async def test_response_times_by_hand(db: Database, world: BenefitsWorld) -> None:
    times = {r.urgency: r for r in (await _report(db, world)).response_times}
    week = times[Urgency.WEEK]
    # received -> booked, hours: a6 1, a5 4, a2 6, a1 24, a3 24, a4 24 -> median (6+24)/2, p90 at rank 4.5
    assert week.consultations.value == 6
    assert week.received_to_booked_median.value == pytest.approx(15.0)
    assert week.received_to_booked_p90.value == pytest.approx(24.0)
    # received -> held, hours: a4 50, a1 74, a5 146, a2 164, a3 166, a6 362
    assert week.received_to_held_median.value == pytest.approx((146 + 164) / 2)
    assert week.received_to_held_p90.value == pytest.approx(166 + (362 - 166) * 0.5)
    assert week.target_days == 7.0
    assert week.within_target.value == pytest.approx(5 / 6)  # all but a6 within 168 h
    day, four = times[Urgency.DAY], times[Urgency.FOUR_WEEKS]
    assert day.consultations.display() == "<5" and day.received_to_held_median.value is None
    assert four.within_target.value is None and four.within_target.display() == "<5"


async def test_outcomes_by_hand(db: Database, world: BenefitsWorld) -> None:
    outcomes = (await _report(db, world)).outcomes
    # recorded for a1-a8 (a9's is on a cancelled consultation and does not count)
    assert outcomes.held.value == 15 and outcomes.recorded.value == 8
    assert outcomes.admission_avoided[AdmissionAvoided.YES].value == 6  # a1 a2 a5 a6 a7 a8
    assert _exact(outcomes.admission_avoided[AdmissionAvoided.NO]) == 1
    assert _exact(outcomes.admission_avoided[AdmissionAvoided.UNCERTAIN]) == 1
    assert outcomes.follow_up[FollowUp.HOME_CARE].value == 5  # a1 a5 a6 a7 a8
    assert [_exact(outcomes.follow_up[f]) for f in (FollowUp.GP, FollowUp.OUTPATIENT, FollowUp.ADMISSION)] == [
        2, 2, 1]
    assert outcomes.follow_up[FollowUp.GP].display() == "<5"


async def test_filters_narrow_every_figure(db: Database, world: BenefitsWorld) -> None:
    only_lurfjord = await _report(db, world, Filters(municipality_id=world.lurfjord))
    assert only_lurfjord.totals.held.value == 5 and only_lurfjord.totals.km_avoided.value == pytest.approx(600)
    assert only_lurfjord.filters.municipality_name == "Lurfjord kommune"
    [row] = only_lurfjord.by_municipality
    assert row.id == world.lurfjord
    room_type = await _report(db, world, Filters(consultation_type_id=world.type_room))
    assert room_type.totals.held.value == 12
    # 10 in Øyvær with 2640 km, b4 and b5 in Lurfjord: 2 x 60 (b5 has no travel row)
    assert room_type.totals.km_avoided.value == pytest.approx(2640 + 120)
    by_dept = await _report(db, world, Filters(department_id=world.department))
    assert by_dept.totals.held.value == 15
    with pytest.raises(ValidationFailed) as error:
        await _report(db, world, Filters(municipality_id=world.hospital_nordvik, consultation_type_id=99999))
    assert error.value.fields == {"municipality": "unknown_municipality",
                                  "consultation_type": "unknown_consultation_type"}


async def test_settings_change_the_figures(db: Database, world: BenefitsWorld) -> None:
    clock = FixedClock(NOW)
    async with db.session() as session:
        with pytest.raises(PermissionDenied):
            await BenefitSettingsService(clock, AuditLog(clock)).update(session, world.leader, {})
        saved = await BenefitSettingsService(clock, AuditLog(clock)).update(
            session, world.admin, {"cost_per_km_nok": 2.5, "escort_cost_counted": True, "co2_kg_per_km": 0.2,
                                   "target_days_week": 6.0})
    assert saved.cost_per_km_nok == 2.5 and saved.updated_at == NOW and saved.video_share_target == 0.8
    t = (await _report(db, world)).totals
    assert t.travel_cost_avoided_nok.value == pytest.approx(2.5 * 2 * (1160 + 240))  # escorts counted now
    assert t.co2_avoided_kg.value == pytest.approx(3240 * 0.2)
    week = next(r for r in (await _report(db, world)).response_times if r.urgency is Urgency.WEEK)
    assert _exact(week.consultations) == 6 and week.within_target.value is None  # 2 of 6 within 144 h: hidden


async def test_settings_refuse_bad_values_all_at_once(db: Database, world: BenefitsWorld) -> None:
    clock = FixedClock(NOW)
    async with db.session() as session:
        with pytest.raises(ValidationFailed) as error:
            await BenefitSettingsService(clock, AuditLog(clock)).update(
                session, world.admin, {"cost_per_km_nok": -1, "co2_kg_per_km": "0,12", "video_share_target": 80,
                                       "escort_cost_counted": "yes", "colour": 1})
    assert error.value.fields == {"cost_per_km_nok": "out_of_range", "co2_kg_per_km": "not_a_number",
                                  "video_share_target": "out_of_range", "escort_cost_counted": "not_a_boolean",
                                  "colour": "unknown_field"}


async def test_only_leaders_and_admins(db: Database, world: BenefitsWorld) -> None:
    clock = FixedClock(NOW)
    async with db.session() as session:
        with pytest.raises(PermissionDenied):
            await BenefitsService(clock, AuditLog(clock)).report(session, world.nurse, PERIOD)


def test_periods() -> None:
    assert periods.containing(periods.PeriodKind.QUARTER, date(2026, 11, 5)) == Period(
        date(2026, 10, 1), date(2026, 12, 31), periods.PeriodKind.QUARTER)
    assert periods.containing(periods.PeriodKind.MONTH, date(2028, 2, 10)).last_day == date(2028, 2, 29)
    with pytest.raises(ValidationFailed):
        periods.custom(date(2026, 3, 2), date(2026, 3, 1))
    with pytest.raises(ValidationFailed):
        periods.custom(date(2020, 1, 1), date(2026, 1, 1))


async def test_a_period_with_nothing_in_it(db: Database, world: BenefitsWorld) -> None:
    report = await _report(db, world, period=periods.containing(periods.PeriodKind.YEAR, date(2025, 6, 1)))
    assert len(report.months) == 12 and report.by_municipality == () and report.by_department == ()
    assert report.totals.held.display() == "<5" and report.totals.km_avoided.value is None
    assert report.totals.video_share.value is None and report.totals.video_share.meets_target is None
    assert all(r.received_to_held_median.value is None for r in report.response_times)
    assert report.as_json()["totals"]["held"] == {"value": None, "suppressed": True, "below_limit": True}
