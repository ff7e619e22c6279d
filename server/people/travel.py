"""Travel from a municipality to a hospital: the trip a joint consultation by video saves the patient.

The benefits report reads these rows; the pages and the API write them through ``OrganisationSetup``."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from server.platform.errors import ValidationFailed


class Transport(enum.StrEnum):
    """How people from the municipality usually get to the hospital."""

    CAR = "car"
    BUS = "bus"
    EXPRESS_BOAT = "express_boat"
    PLANE = "plane"
    TRAIN = "train"
    PATIENT_TRANSPORT = "patient_transport"


MAX_DISTANCE_KM = 5000.0
MAX_MINUTES = 48 * 60


@dataclass(frozen=True)
class TravelInput:
    """One way, from the municipality's centre to the hospital."""

    distance_km: float
    travel_minutes: int
    transport: Transport
    ferry: bool
    ferry_minutes: int | None


_HOURS_MINUTES = re.compile(r"^(\d{1,2})[:.](\d{2})$")


def _minutes(raw: str) -> int | None:
    """Whole minutes from "150" or "2:30" / "2.30" (hours and minutes); None when unreadable."""
    text = raw.strip()
    if text.isascii() and text.isdigit() and len(text) <= 5:
        return int(text)
    match = _HOURS_MINUTES.match(text)
    if match and int(match.group(2)) < 60:
        return int(match.group(1)) * 60 + int(match.group(2))
    return None


def _distance(raw: str) -> float | None:
    text = raw.strip().replace(",", ".").replace(" ", "")
    if not text or len(text) > 10 or not text.replace(".", "", 1).isdigit() or not text.isascii():
        return None
    return float(text)


def read_travel(*, distance_km: str, travel_minutes: str, transport: str, ferry: bool,
                ferry_minutes: str) -> TravelInput:
    """Travel as people type it (comma decimals, "2:30"); every problem at once as field codes."""
    fields: dict[str, str] = {}
    distance = _distance(distance_km)
    if not distance_km.strip():
        fields["distance_km"] = "required"
    elif distance is None or not 0 < distance <= MAX_DISTANCE_KM:
        fields["distance_km"] = "distance_invalid"
    minutes = _minutes(travel_minutes)
    if not travel_minutes.strip():
        fields["travel_minutes"] = "required"
    elif minutes is None or not 0 < minutes <= MAX_MINUTES:
        fields["travel_minutes"] = "minutes_invalid"
    try:
        how = Transport(transport)
    except ValueError:
        fields["transport"] = "required" if not transport else "invalid_choice"
    ferry_time: int | None = None
    if ferry:
        ferry_time = _minutes(ferry_minutes) if ferry_minutes.strip() else None
        if not ferry_minutes.strip():
            fields["ferry_minutes"] = "ferry_minutes_required"
        elif ferry_time is None or not 0 < ferry_time <= MAX_MINUTES:
            fields["ferry_minutes"] = "minutes_invalid"
        elif minutes is not None and ferry_time > minutes:
            fields["ferry_minutes"] = "ferry_longer_than_trip"
    elif ferry_minutes.strip():
        fields["ferry_minutes"] = "ferry_minutes_without_ferry"
    if fields:
        raise ValidationFailed("the travel could not be saved", fields)
    assert distance is not None and minutes is not None
    return TravelInput(distance_km=round(distance, 1), travel_minutes=minutes, transport=how, ferry=ferry,
                       ferry_minutes=ferry_time)
