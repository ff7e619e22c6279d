"""The recording rules. No recording by default; a recording needs a stated purpose from an allowed
list, the consent of every participant present (withdrawable at any time), and a retention period
after which it is deleted. Every decision carries the reason, so it can be shown and audited.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta


class Purpose(enum.StrEnum):
    """Why a recording may be made; anything else is refused."""

    TEACHING = "teaching"  # with consent, for staff training
    DOCUMENTATION = "documentation"  # e.g. a wound shown on the examination camera, for the record
    PATIENT_REQUEST = "patient_request"  # the patient wants to see the conversation again


RETENTION: Mapping[Purpose, timedelta] = {
    Purpose.TEACHING: timedelta(days=90),
    Purpose.DOCUMENTATION: timedelta(days=30),  # long enough to move it into the record system
    Purpose.PATIENT_REQUEST: timedelta(days=14),
}


class Refusal(enum.StrEnum):
    NO_PURPOSE = "recording.no_purpose"
    UNKNOWN_PURPOSE = "recording.unknown_purpose"
    MISSING_CONSENT = "recording.missing_consent"
    NOBODY_PRESENT = "recording.nobody_present"
    NOT_STAFF = "recording.not_staff"


@dataclass(frozen=True)
class Consent:
    participant_id: str
    given_at: datetime
    withdrawn_at: datetime | None = None

    def active(self, at: datetime) -> bool:
        return self.given_at <= at and (self.withdrawn_at is None or at < self.withdrawn_at)


@dataclass(frozen=True)
class Decision:
    """Whether recording may run now; ``refusal`` and ``waiting_for`` say why not."""

    allowed: bool
    refusal: Refusal | None = None
    waiting_for: tuple[str, ...] = ()


def may_record(*, purpose: str | None, requested_by_staff: bool, present: Iterable[str],
               consents: Iterable[Consent], at: datetime) -> Decision:
    """May the room be recorded at ``at``? Re-evaluate on every roster or consent change.

    Everyone present must have an active consent, the recorder included in the roster shown to all
    (the roster rule lives in ``rooms``); one withdrawal stops the recording.
    """
    if not requested_by_staff:
        return Decision(False, Refusal.NOT_STAFF)
    if not purpose:
        return Decision(False, Refusal.NO_PURPOSE)
    try:
        Purpose(purpose)
    except ValueError:
        return Decision(False, Refusal.UNKNOWN_PURPOSE)
    people = sorted(set(present))
    if not people:
        return Decision(False, Refusal.NOBODY_PRESENT)
    consenting = {c.participant_id for c in consents if c.active(at)}
    missing = tuple(p for p in people if p not in consenting)
    if missing:
        return Decision(False, Refusal.MISSING_CONSENT, missing)
    return Decision(True)


def delete_after(purpose: Purpose, recorded_at: datetime) -> datetime:
    """When a recording made for ``purpose`` must be gone."""
    return recorded_at + RETENTION[purpose]


def due_for_deletion(recorded: Iterable[tuple[str, Purpose, datetime]], now: datetime) -> list[str]:
    """Ids of recordings whose retention has run out (the deletion job removes them and audits it)."""
    return [rid for rid, purpose, at in recorded if delete_after(purpose, at) <= now]
