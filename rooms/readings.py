"""A reading shared in the call: the call's words for the vital signs of :mod:`server.people.vital_signs`.

Kinds, units and bounds come from that one model. What is the call's own is the shape on the wire:
blood pressure travels as ``"120/80"``, every other kind as a JSON number in the kind's screen unit,
and version 1 of the call protocol says ``weight`` where the model says ``body_weight``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType

from rooms.errors import InvalidReading
from server.people.vital_signs import VITAL_SIGNS, ImplausibleReading, VitalSign, VitalSignSpec, check_value


class ReadingName(StrEnum):
    """The measurements a nurse can share during the consultation, as the call protocol names them."""

    BLOOD_PRESSURE = "blood_pressure"
    SPO2 = "spo2"
    PULSE = "pulse"
    TEMPERATURE = "temperature"
    WEIGHT = "weight"

    @property
    def vital_sign(self) -> VitalSign:
        """The kind in the model's terms."""
        return VitalSign.BODY_WEIGHT if self is ReadingName.WEIGHT else VitalSign(self.value)


ReadingValue = str | int | float

READING_RULES: Mapping[ReadingName, VitalSignSpec] = MappingProxyType(
    {name: VITAL_SIGNS[name.vital_sign] for name in ReadingName}
)
"""The model's rule for each name the call uses (``unit`` is the one the call sends)."""

_BLOOD_PRESSURE = re.compile(r"([0-9]{2,3})/([0-9]{2,3})")


@dataclass(frozen=True)
class Reading:
    """One measurement: blood pressure as ``"120/80"``, every other kind as a number in its screen unit."""

    name: ReadingName
    value: ReadingValue
    taken_at: datetime

    def __post_init__(self) -> None:
        if self.taken_at.tzinfo is None or self.taken_at.utcoffset() is None:
            raise InvalidReading("taken_at needs a time zone")
        value, diastolic = self._parse()
        try:
            check_value(self.kind, value, diastolic, name=self.name.value)
        except ImplausibleReading as exc:
            raise InvalidReading(str(exc)) from None

    @property
    def kind(self) -> VitalSign:
        """What was measured, in the model's terms."""
        return self.name.vital_sign

    @property
    def unit(self) -> str:
        """The unit as shown (and sent) in the call, e.g. ``mmHg``."""
        return READING_RULES[self.name].unit

    @property
    def ucum(self) -> str:
        """The unit as a UCUM code, e.g. ``mm[Hg]``: what a note records."""
        return READING_RULES[self.name].ucum

    def measurement(self) -> tuple[Decimal, Decimal | None]:
        """The value as decimals: the systolic and diastolic pressure, or the value and None."""
        return self._parse()

    def _parse(self) -> tuple[Decimal, Decimal | None]:
        if self.name is ReadingName.BLOOD_PRESSURE:
            match = _BLOOD_PRESSURE.fullmatch(self.value) if isinstance(self.value, str) else None
            if match is None:
                raise InvalidReading('blood pressure must look like "120/80"')
            return Decimal(match[1]), Decimal(match[2])
        # The wire shape: a JSON number (bool is an int in Python but never a measurement), and an integer
        # where the kind is counted in whole units, so 97.0 is refused like 97.5.
        if isinstance(self.value, bool) or not isinstance(self.value, int | float):
            raise InvalidReading(f"{self.name} must be a number")
        if READING_RULES[self.name].integer and not isinstance(self.value, int):
            raise InvalidReading(f"{self.name} must be a whole number")
        return Decimal(str(self.value)), None
