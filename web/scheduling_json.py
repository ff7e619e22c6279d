"""How scheduling's views look in the JSON API (the shapes the OpenAPI document describes)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from scheduling.services.views import (
    BookingView,
    ConsultationTypeView,
    OutcomeView,
    QueueEntry,
    ReferralView,
    ResourceView,
    SlotView,
)


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def type_json(t: ConsultationTypeView) -> dict[str, Any]:
    return {
        "id": t.id, "code": t.code, "name": t.name, "name_en": t.name_en,
        "duration_minutes": int(t.duration.total_seconds() // 60),
        "buffer_before_minutes": int(t.buffer_before.total_seconds() // 60),
        "buffer_after_minutes": int(t.buffer_after.total_seconds() // 60),
        "min_notice_minutes": int(t.min_notice.total_seconds() // 60),
        "requirements": [{"key": r.key, "kind": r.kind.value, "resource_id": r.resource_id,
                          "department_id": r.department_id, "equipment": list(r.equipment_codes),
                          "profession": r.profession}
                         for r in t.requirements],
    }


def resource_json(r: ResourceView) -> dict[str, Any]:
    return {"id": r.id, "kind": r.kind.value, "name": r.name, "organisation_id": r.organisation_id,
            "profession": r.profession, "address": r.address, "latitude": r.latitude, "longitude": r.longitude,
            "municipality_id": r.municipality_id, "equipment": list(r.equipment_codes), "email": r.email,
            "user_id": r.user_id, "department_id": r.department_id, "room_id": r.located_in_id, "active": r.active}


def referral_json(r: ReferralView) -> dict[str, Any]:
    return {
        "id": r.public_id, "patient_id": r.patient_public_id, "patient_name": r.patient_name, "reason": r.reason,
        "urgency": r.urgency.value, "what_matters": r.what_matters, "wished_participants": r.wished_participants,
        "consultation_type_id": r.consultation_type_id, "referred_by": r.referred_by_name,
        "referring_organisation": r.referring_organisation_name, "otherwise_hospital": r.otherwise_hospital,
        "travel_hours": r.travel_hours, "status": r.status.value, "created_at": r.created_at.isoformat(),
        "responded_at": _iso(r.responded_at), "due_at": r.due_at.isoformat(),
        "response_minutes": None if r.response_time is None else int(r.response_time.total_seconds() // 60),
        "escort_needed": r.escort_needed, "nurse_would_travel": r.nurse_would_travel,
    }


def queue_json(e: QueueEntry) -> dict[str, Any]:
    return {**referral_json(e.referral), "waited_minutes": int(e.waited.total_seconds() // 60),
            "overdue": e.overdue}


def slot_json(s: SlotView) -> dict[str, Any]:
    return {"start": s.start.isoformat(), "end": s.end.isoformat(),
            "participants": [{"key": p.requirement_key, "resource_id": p.resource_id, "name": p.name,
                              "kind": p.kind.value} for p in s.participants]}


def booking_json(b: BookingView) -> dict[str, Any]:
    return {
        "id": b.public_id, "status": b.status.value, "start": b.start.isoformat(), "end": b.end.isoformat(),
        "consultation_type_id": b.consultation_type_id, "consultation_type": b.consultation_type_name,
        "patient_id": b.patient_public_id, "patient_name": b.patient_name, "referral_id": b.referral_public_id,
        "patient_at_home": b.patient_at_home, "sequence": b.sequence, "cancel_reason": b.cancel_reason,
        "participants": [{"key": p.requirement_key, "resource_id": p.resource_id, "name": p.name,
                          "kind": p.kind.value} for p in b.participants],
        "outcome": outcome_json(b.outcome) if b.outcome is not None else None,
    }


def outcome_json(o: OutcomeView) -> dict[str, Any]:
    return {"admission_avoided": o.admission_avoided.value, "follow_up": [f.value for f in o.follow_up],
            "recorded_by": o.recorded_by_name, "recorded_at": o.recorded_at.isoformat()}
