"""The rates and targets of the benefits report: one row, editable by administrators, defaults when unset.

Defaults and where they come from (named on the report page as well):

- Patient travel cost: the standard rate per kilometre of the patient travel scheme, NOK 3.00 per km
  (pasientreiseforskriften § 21 first paragraph, in force from 1 January 2024; pasientreiser.no).
- Escort: when a patient travels with an escort, either of them is paid the standard rate, not both
  (same paragraph, unless scheduled public transport is documented), so by default an escort's trip adds
  kilometres, hours and CO2 but no extra cost. ``escort_cost_counted`` counts it at the same rate.
- CO2: 0.12 kg per person-kilometre, a rounded average of the Norwegian passenger car fleet in use
  (Statistics Norway, emissions from road traffic). Ferries, boats and planes emit more per km; a trust
  with its own figure sets it.
- Targets: a share of booked consultations held by video of 80 % and a share held with the patient at
  home of 30 % (HMR Nær: 30 % of treatment and follow-up at home by 2030); response within 1, 7 and 28
  days for the urgencies "within a day", "within a week" and "within four weeks" (the referral queue's
  own due times).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Integer
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from scheduling.benefits.access import REPORT_ROLES, SETTINGS_ROLES, require
from scheduling.benefits.report import SettingsUsed
from scheduling.models import Urgency
from server.platform.actors import Actor
from server.platform.audit import AuditLog
from server.platform.clock import Clock
from server.platform.errors import ValidationFailed
from server.platform.model_base import Base

__all__ = [
    "DEFAULTS",
    "SETTINGS_ROLES",
    "BenefitSettings",
    "BenefitSettingsRow",
    "BenefitSettingsService",
    "read_settings",
]

COST_PER_KM_SOURCE = "Pasientreiseforskriften § 21 (standard rate from 1 January 2024), pasientreiser.no"
CO2_SOURCE = "Statistics Norway (SSB), emissions from road traffic: rounded passenger car fleet average"
_ROW_ID = 1


class BenefitSettingsRow(Base):
    """The one row of settings (id 1); absent until an administrator saves them."""

    __tablename__ = "sched_benefit_settings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cost_per_km_nok: Mapped[float] = mapped_column(Float)
    escort_cost_counted: Mapped[bool] = mapped_column(Boolean)
    co2_kg_per_km: Mapped[float] = mapped_column(Float)
    video_share_target: Mapped[float] = mapped_column(Float)
    home_share_target: Mapped[float] = mapped_column(Float)
    target_days_day: Mapped[float] = mapped_column(Float)
    target_days_week: Mapped[float] = mapped_column(Float)
    target_days_four_weeks: Mapped[float] = mapped_column(Float)
    updated_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime]


@dataclass(frozen=True)
class BenefitSettings:
    """The values; ``updated_at`` None while the defaults are in force."""

    cost_per_km_nok: float = 3.00
    escort_cost_counted: bool = False
    co2_kg_per_km: float = 0.12
    video_share_target: float = 0.80
    home_share_target: float = 0.30
    target_days_day: float = 1.0
    target_days_week: float = 7.0
    target_days_four_weeks: float = 28.0
    updated_at: datetime | None = None

    def target_days(self) -> dict[Urgency, float]:
        return {Urgency.DAY: self.target_days_day, Urgency.WEEK: self.target_days_week,
                Urgency.FOUR_WEEKS: self.target_days_four_weeks}

    def used(self) -> SettingsUsed:
        return SettingsUsed(
            cost_per_km_nok=self.cost_per_km_nok, cost_per_km_source=COST_PER_KM_SOURCE,
            escort_cost_counted=self.escort_cost_counted, co2_kg_per_km=self.co2_kg_per_km, co2_source=CO2_SOURCE,
            video_share_target=self.video_share_target, home_share_target=self.home_share_target,
            target_days=self.target_days())

    def as_json(self) -> dict[str, Any]:
        return {
            "cost_per_km_nok": self.cost_per_km_nok, "escort_cost_counted": self.escort_cost_counted,
            "co2_kg_per_km": self.co2_kg_per_km, "video_share_target": self.video_share_target,
            "home_share_target": self.home_share_target, "target_days_day": self.target_days_day,
            "target_days_week": self.target_days_week, "target_days_four_weeks": self.target_days_four_weeks,
            "updated_at": None if self.updated_at is None else self.updated_at.isoformat(),
            "sources": {"cost_per_km_nok": COST_PER_KM_SOURCE, "co2_kg_per_km": CO2_SOURCE},
        }


DEFAULTS = BenefitSettings()

# the accepted range of each number, inclusive: wide enough for any real rate, narrow enough to catch a
# slip of the keyboard (30 kroner per km, a target of 80 instead of 0.8)
RANGES: dict[str, tuple[float, float]] = {
    "cost_per_km_nok": (0.0, 100.0),
    "co2_kg_per_km": (0.0, 10.0),
    "video_share_target": (0.0, 1.0),
    "home_share_target": (0.0, 1.0),
    "target_days_day": (0.04, 365.0),
    "target_days_week": (0.04, 365.0),
    "target_days_four_weeks": (0.04, 365.0),
}
EDITABLE = (*RANGES, "escort_cost_counted")


async def read_settings(session: AsyncSession) -> BenefitSettings:
    """The settings in force: the saved row, or the defaults."""
    row = await session.get(BenefitSettingsRow, _ROW_ID)
    if row is None:
        return DEFAULTS
    return BenefitSettings(**{f.name: getattr(row, f.name) for f in fields(BenefitSettings)})


def check_changes(changes: dict[str, object]) -> dict[str, float | bool]:
    """The changes as typed values; every problem at once as field codes (``unknown_field``,
    ``not_a_number``, ``out_of_range``, ``not_a_boolean``)."""
    problems: dict[str, str] = {}
    clean: dict[str, float | bool] = {}
    for name, value in changes.items():
        if name not in EDITABLE:
            problems[name] = "unknown_field"
        elif name == "escort_cost_counted":
            if isinstance(value, bool):
                clean[name] = value
            else:
                problems[name] = "not_a_boolean"
        elif isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            problems[name] = "not_a_number"
        else:
            low, high = RANGES[name]
            if not low <= float(value) <= high:
                problems[name] = "out_of_range"
            else:
                clean[name] = float(value)
    if problems:
        raise ValidationFailed("the benefit settings could not be saved", problems)
    return clean


class BenefitSettingsService:
    """Reads and changes the report's settings; changing them is for administrators and audited."""

    def __init__(self, clock: Clock, audit: AuditLog) -> None:
        self._clock = clock
        self._audit = audit

    async def get(self, session: AsyncSession, actor: Actor) -> BenefitSettings:
        """The settings in force, for team leaders (who see what their figures rest on) and administrators."""
        require(actor, *REPORT_ROLES, what="read the benefit settings")
        return await read_settings(session)

    async def update(self, session: AsyncSession, actor: Actor, changes: dict[str, object]) -> BenefitSettings:
        """Apply ``changes`` (any of the editable fields; the rest keep their value) and return the result."""
        require(actor, *SETTINGS_ROLES, what="change the benefit settings")
        clean = check_changes(changes)
        now = self._clock.now()
        merged = replace(await read_settings(session), **clean, updated_at=now)  # type: ignore[arg-type]
        row = await session.get(BenefitSettingsRow, _ROW_ID)
        if row is None:
            row = BenefitSettingsRow(id=_ROW_ID, updated_at=now)
            session.add(row)
        for name in RANGES:
            setattr(row, name, getattr(merged, name))
        row.escort_cost_counted = merged.escort_cost_counted
        row.updated_by_user_id = actor.user_id
        row.updated_at = now
        await session.flush()
        await self._audit.record(session, actor, action="update", object_type="benefit_settings",
                                 object_id=_ROW_ID)
        return merged

