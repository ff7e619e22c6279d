"""The recordings policy as the live rooms ask for it (``rooms.recording_consent.RecordingRules``).

Glue of the composition root: ``rooms`` may not import ``recordings_policy``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime

from recordings_policy.rules import RETENTION, Consent, Purpose, may_record
from rooms.recording_consent import RuleDecision


class PolicyRecordingRules:
    """``RecordingRules`` backed by :mod:`recordings_policy.rules`."""

    def retention_days(self, purpose: str) -> int | None:
        try:
            return RETENTION[Purpose(purpose)].days
        except ValueError:
            return None

    def may_record(self, *, purpose: str, requested_by_staff: bool, present: Collection[str],
                   agreed: Mapping[str, datetime], at: datetime) -> RuleDecision:
        decision = may_record(purpose=purpose, requested_by_staff=requested_by_staff, present=present,
                              consents=[Consent(pid, given_at) for pid, given_at in agreed.items()], at=at)
        return RuleDecision(decision.allowed, decision.refusal.value if decision.refusal else None,
                            decision.waiting_for)
