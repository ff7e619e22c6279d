"""Recording is refused by default and allowed only with a purpose and everyone's active consent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from recordings_policy.rules import Consent, Purpose, Refusal, delete_after, due_for_deletion, may_record

T0 = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


def test_no_recording_without_purpose_or_by_a_guest() -> None:
    assert may_record(purpose=None, requested_by_staff=True, present=["a"], consents=[], at=T0).refusal \
        is Refusal.NO_PURPOSE
    assert may_record(purpose="fun", requested_by_staff=True, present=["a"], consents=[], at=T0).refusal \
        is Refusal.UNKNOWN_PURPOSE
    assert may_record(purpose="teaching", requested_by_staff=False, present=["a"], consents=[], at=T0).refusal \
        is Refusal.NOT_STAFF


def test_everyone_present_must_consent() -> None:
    consents = [Consent("lege", T0), Consent("pasient", T0)]
    decision = may_record(purpose="documentation", requested_by_staff=True,
                          present=["lege", "pasient", "datter"], consents=consents, at=T0)
    assert not decision.allowed and decision.waiting_for == ("datter",)
    consents.append(Consent("datter", T0))
    assert may_record(purpose="documentation", requested_by_staff=True,
                      present=["lege", "pasient", "datter"], consents=consents, at=T0).allowed


def test_a_withdrawn_consent_stops_recording() -> None:
    consents = [Consent("lege", T0), Consent("pasient", T0, withdrawn_at=T0 + timedelta(minutes=5))]
    args = {"purpose": "teaching", "requested_by_staff": True, "present": ["lege", "pasient"], "consents": consents}
    assert may_record(**args, at=T0 + timedelta(minutes=1)).allowed  # type: ignore[arg-type]
    assert not may_record(**args, at=T0 + timedelta(minutes=5)).allowed  # type: ignore[arg-type]


def test_retention_and_deletion() -> None:
    assert delete_after(Purpose.DOCUMENTATION, T0) == T0 + timedelta(days=30)
    recorded = [("r1", Purpose.PATIENT_REQUEST, T0), ("r2", Purpose.TEACHING, T0)]
    assert due_for_deletion(recorded, T0 + timedelta(days=15)) == ["r1"]
    assert due_for_deletion(recorded, T0 + timedelta(days=91)) == ["r1", "r2"]
