"""The reason codes the audit log stores, and the contexts an access is explained by.

A row's ``reason`` is either what a person stated (typed, or picked from a list in their language) or
one of these codes, written by a service that reads patient data as part of something larger: a day
list, the patient list, the live consultation. The codes are stored as they are, in English, and
never shown: every reader sees the label the catalogue gives them (``web/labels.py``). The values are
the strings that have always been stored, so old rows keep their meaning.
"""

from __future__ import annotations

from enum import StrEnum


class AuditReason(StrEnum):
    """Why patient data was read, when a service (not a person) says so."""

    # Written by services as the reason of a row.
    PATIENT_LIST = "patient list"
    REFERRAL_QUEUE = "referral queue"
    DAY_LIST = "day list"
    CALENDAR = "calendar"
    SHARED_SUMMARY = "shared summary"
    CONSULTATION_PARTICIPANT = "consultation participant"
    READING_FROM_CALL = "reading from the call"
    DEMO_DATA = "demo data"
    IDEMPOTENT_REPLAY = "idempotent replay"
    PATIENT_OWN_ACCESS_LOG = "patient's own access log"
    PATIENT_ACCESS_REQUEST = "access request from the patient"
    AUDIT_REVIEW = "audit review"
    # Never stored: the context a row without a stated reason is explained by (see ``context_reason``).
    CONSULTATION = "consultation"
    SCHEDULING = "scheduling"
    NOT_STATED = "not stated"


_CONTEXT_BY_OBJECT = {
    # Rows of the live consultation (joined, chat, readings, admitted ...) carry a participant or a
    # reading in their reason column, not a reason: the consultation itself is why.
    "consultation": AuditReason.CONSULTATION,
    "booking": AuditReason.SCHEDULING,
    "referral": AuditReason.SCHEDULING,
}

_DERIVED = frozenset({AuditReason.CONSULTATION, AuditReason.SCHEDULING, AuditReason.NOT_STATED})
_STORED = frozenset(AuditReason) - _DERIVED


def context_reason(object_type: str, reason: str) -> AuditReason | None:
    """The code that explains a row, or None when the row carries a reason a person stated.

    A stored code is returned as itself; a live-consultation row is explained by the consultation
    whatever its reason column holds (a participant's role and name, a reading's kind); a row with no
    reason by the kind of object it touched, else as "not stated".
    """
    if object_type in _CONTEXT_BY_OBJECT and (object_type == "consultation" or not reason.strip()):
        return _CONTEXT_BY_OBJECT[object_type]
    if reason in _STORED:
        return AuditReason(reason)
    if not reason.strip():
        return AuditReason.NOT_STATED
    return None
