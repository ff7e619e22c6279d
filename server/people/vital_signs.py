"""Vital signs: the one model of a reading's kind, unit and plausible range.

Both the live call (``rooms``) and the consultation note (``notes``) use it, and the web layer hands it
to the note editor as data, so a kind, a unit or a bound has exactly one home. Units are kept as UCUM
codes (what the note stores and exports); ``unit`` is how the same unit reads on screen. Labels are
English message ids that the web layer translates (the catalogue carries the Norwegian text).

This module imports nothing of ours: it sits below every domain.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType


def N_(message: str) -> str:
    """Marks a message id for the catalogue (extracted by Babel) without translating it."""
    return message


class VitalSign(StrEnum):
    """The kinds of reading. The values are the codes stored in notes and sent to the editor."""

    BLOOD_PRESSURE = "blood_pressure"
    SPO2 = "spo2"
    PULSE = "pulse"
    TEMPERATURE = "temperature"
    BODY_WEIGHT = "body_weight"
    OTHER = "other"
    """Anything the model has no rule for: a note names it in free text; a call cannot share it."""


@dataclass(frozen=True)
class VitalSignSpec:
    """How one kind of reading is recorded, shown and checked.

    The bounds are "plausible for a living patient", not clinical alarms: they catch typos (a weight of
    7000) without refusing a worrying but real value. For blood pressure they hold for both pressures.
    """

    kind: VitalSign
    ucum: str
    """The UCUM code of the unit: what is stored and exported."""
    unit: str
    """The same unit as people read it on screen."""
    label: str
    """A message id (English) for the kind's name; the web layer translates it."""
    low: Decimal
    high: Decimal
    integer: bool
    """Whole numbers only (a pulse of 72.5 is a typo)."""

    @property
    def paired(self) -> bool:
        """Whether the reading has two values (systolic and diastolic blood pressure)."""
        return self.kind is VitalSign.BLOOD_PRESSURE


def _spec(kind: VitalSign, ucum: str, unit: str, label: str, low: str, high: str, *, integer: bool) -> VitalSignSpec:
    return VitalSignSpec(kind, ucum, unit, label, Decimal(low), Decimal(high), integer)


VITAL_SIGNS: Mapping[VitalSign, VitalSignSpec] = MappingProxyType(
    {
        spec.kind: spec
        for spec in (
            _spec(VitalSign.BLOOD_PRESSURE, "mm[Hg]", "mmHg", N_("Blood pressure"), "30", "300", integer=True),
            _spec(VitalSign.SPO2, "%", "%", N_("Oxygen saturation (SpO2)"), "50", "100", integer=True),
            _spec(VitalSign.PULSE, "/min", "/min", N_("Pulse"), "20", "250", integer=True),
            _spec(VitalSign.TEMPERATURE, "Cel", "°C", N_("Temperature"), "30", "45", integer=False),
            _spec(VitalSign.BODY_WEIGHT, "kg", "kg", N_("Weight"), "0.3", "400", integer=False),
        )
    }
)
"""Every kind with a rule, in the order they are offered on screen. ``OTHER`` has none."""

UCUM_UNITS: Mapping[VitalSign, str] = MappingProxyType({kind: spec.ucum for kind, spec in VITAL_SIGNS.items()})
"""The UCUM code each kind with a rule must be recorded in, so exports never guess a conversion."""

_SCREEN_UNITS = {spec.ucum: spec.unit for spec in VITAL_SIGNS.values()}


def screen_unit(ucum: str) -> str:
    """How a UCUM code reads on screen (``mm[Hg]`` → ``mmHg``); a code we do not know is shown as written."""
    return _SCREEN_UNITS.get(ucum, ucum)


class ImplausibleReading(ValueError):
    """A value outside what the kind's rule allows; ``str()`` says why in English."""


def check_value(kind: VitalSign, value: Decimal, diastolic: Decimal | None = None, *, name: str = "") -> None:
    """Refuse a value that cannot be a real reading of this kind (``name``: the kind as messages call it).

    :raises ImplausibleReading: not finite, not whole where it must be, outside the bounds, or a blood
        pressure whose diastolic is missing or not below the systolic.
    """
    spec = VITAL_SIGNS.get(kind)
    name = name or kind.value
    if spec is None:
        raise ImplausibleReading(f"{name} has no rule")
    if spec.paired:
        if diastolic is None:
            raise ImplausibleReading("blood pressure needs the diastolic pressure")
        _check_whole(name, value, spec)
        _check_whole(name, diastolic, spec)
        if not (spec.low <= diastolic < value <= spec.high):
            raise ImplausibleReading("blood pressure out of range")
        return
    if diastolic is not None:
        raise ImplausibleReading("only blood pressure has a diastolic value")
    _check_whole(name, value, spec)
    if not spec.low <= value <= spec.high:
        raise ImplausibleReading(f"{name} must be between {spec.low:f} and {spec.high:f} {spec.unit}")


def _check_whole(name: str, value: Decimal, spec: VitalSignSpec) -> None:
    if not value.is_finite():
        raise ImplausibleReading(f"{name} must be a number")
    if spec.integer and value != value.to_integral_value():
        raise ImplausibleReading(f"{name} must be a whole number")
