"""The words scheduling pages show for urgencies, booking statuses and requirement keys."""

from __future__ import annotations

from typing import Any

from scheduling.models import BookingStatus, Urgency
from web.i18n import current_language
from web.messages import N_

URGENCY_LABELS = {
    Urgency.DAY: N_("Within a day"),
    Urgency.WEEK: N_("Within a week"),
    Urgency.FOUR_WEEKS: N_("Within four weeks"),
}
STATUS_LABELS = {
    BookingStatus.BOOKED: N_("Booked"),
    BookingStatus.ARRIVED: N_("Arrived"),
    BookingStatus.IN_PROGRESS: N_("In progress"),
    BookingStatus.COMPLETED: N_("Completed"),
    BookingStatus.CANCELLED: N_("Cancelled"),
    BookingStatus.NO_SHOW: N_("Did not come"),
}
REQUIREMENT_LABELS = {
    "specialist": N_("Specialist"),
    "nurse": N_("Nurse"),
    "room": N_("Health room"),
    "health_room": N_("Health room"),
}


def page_context(extra: dict[str, Any]) -> dict[str, Any]:
    """The labels every scheduling page uses, plus the page's own values."""
    base: dict[str, Any] = {
        "urgency_labels": URGENCY_LABELS, "status_labels": STATUS_LABELS,
        "requirement_labels": REQUIREMENT_LABELS, "english": current_language() == "en",
    }
    base.update(extra)
    return base
