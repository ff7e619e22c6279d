"""The words scheduling pages show for urgencies, booking statuses and requirement keys."""

from __future__ import annotations

from typing import Any

from scheduling.models import AdmissionAvoided, BookingStatus, FollowUp, Urgency
from web.i18n import gettext as _
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
ADMISSION_LABELS = {
    AdmissionAvoided.YES: N_("Yes, an admission was avoided"),
    AdmissionAvoided.NO: N_("No"),
    AdmissionAvoided.UNCERTAIN: N_("Uncertain"),
}
FOLLOW_UP_LABELS = {
    FollowUp.HOME_CARE: N_("Home care"),
    FollowUp.GP: N_("GP"),
    FollowUp.OUTPATIENT: N_("Outpatient clinic"),
    FollowUp.ADMISSION: N_("Admission to hospital"),
}
REQUIREMENT_LABELS = {
    "specialist": N_("Specialist"),
    "nurse": N_("Nurse"),
    "room": N_("Health room"),
    "health_room": N_("Health room"),
    "patient": N_("Patient at home"),
    "doctor": N_("Doctor"),
    "patient_coordinator": N_("Patient coordinator"),
    "health_secretary": N_("Health secretary"),
    "pharmacist": N_("Pharmacist"),
    "physiotherapist": N_("Physiotherapist"),
    "occupational_therapist": N_("Occupational therapist"),
    "gp": N_("GP"),
    "interpreter": N_("Interpreter"),
}


def requirement_label(key: str) -> str:
    """The part someone plays in a consultation, from the key its kind of consultation gives it; a key
    with no words here (a kind made later) still reads as words, not as an identifier."""
    if key in REQUIREMENT_LABELS:
        return _(REQUIREMENT_LABELS[key])
    return key.replace("_", " ").capitalize()


def page_context(extra: dict[str, Any]) -> dict[str, Any]:
    """The labels every scheduling page uses, plus the page's own values."""
    base: dict[str, Any] = {
        "urgency_labels": URGENCY_LABELS, "status_labels": STATUS_LABELS,
        "requirement_labels": REQUIREMENT_LABELS, "admission_labels": ADMISSION_LABELS,
        "follow_up_labels": FOLLOW_UP_LABELS,
    }
    base.update(extra)
    return base
