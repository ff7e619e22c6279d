"""Consent to record a live consultation: the proposal, each participant's agreement, what is recorded.

Pure state, no media and no storage. ``LiveRoom`` keeps one ``RecordingConsent`` and asks it, after
every roster or consent change, what the media should do (:meth:`RecordingConsent.plan`). Whether a
recording may start is the recordings policy's rule (``recordings_policy.may_record``), which ``rooms``
may not import: it is asked through :class:`RecordingRules`, which the composition root implements.

The rules of the room:

* only admitted staff propose, with a purpose from the policy's list; the proposal states its retention;
* proposing is the proposer's own agreement; everyone else admitted must actively agree on their own
  page; until everyone present has, nothing is recorded;
* anyone may withdraw (or decline) at any moment: the recording stops at once for everyone and the
  proposal ends; a new one must be made and agreed again;
* someone admitted while recording is asked: the recording goes on for those who agreed, and their
  tracks are not recorded until they agree; someone who leaves is no longer recorded, and their agreement
  goes with their seat (back in the room, they are asked again).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from rooms.errors import Forbidden, RoomError
from rooms.recording_tap import RecordingOrder
from rooms.roster import Identity, ParticipantId

RECORDER_NAME = "Opptaker"
"""How the recorder is shown among the participants while it records."""


class RecordingRefused(RoomError):
    """The recording cannot be proposed (unknown purpose, not staff, one already proposed)."""

    code = "recording_refused"

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class NoRecordingProposed(RoomError):
    code = "no_recording_proposed"


class RecordingUnavailable(RoomError):
    code = "recording_unavailable"


@dataclass(frozen=True)
class RuleDecision:
    allowed: bool
    refusal: str | None = None
    waiting_for: tuple[str, ...] = ()


class RecordingRules(Protocol):
    """The recordings policy as the room needs it (implemented in the composition root)."""

    def retention_days(self, purpose: str) -> int | None:
        """How long a recording for ``purpose`` is kept; ``None`` for a purpose not on the list."""

    def may_record(self, *, purpose: str, requested_by_staff: bool, present: Collection[str],
                   agreed: Mapping[str, datetime], at: datetime) -> RuleDecision:
        """May the room be recorded now, with these people present and these agreements?"""


class RecordingKeeper(Protocol):
    """Where recordings are kept (a row, a data key, a place on disk): the composition root's store."""

    async def begin(self, *, booking_id: str, purpose: str, proposed_by: Identity,
                    started_by: Identity) -> RecordingOrder:
        """A new recording of the booking: its row written and audited, the order for the media."""

    async def finish(self, recording_id: str, *, reason: str) -> None:
        """The recording ended (``reason``: withdrawn, ended, disk_full, write_error, media_lost, ...)."""


@dataclass(frozen=True)
class Proposal:
    purpose: str
    retention_days: int
    proposed_by: ParticipantId
    proposed_by_name: str
    proposed_at: datetime


@dataclass(frozen=True)
class RecordingStatus:
    """To everyone admitted: where recording stands (sent on every change, and to each who joins).

    ``state`` is ``none``, ``proposed`` (waiting for agreement) or ``recording``. ``recorder_name`` is
    set while recording: the recorder is shown like a participant, never hidden. ``ended_reason`` says
    why the last proposal or recording ended (``withdrawn``, ``declined``, ``disk_full`` ...), once;
    ``kept_days`` then says, if something had been recorded, how long the policy keeps it.
    """

    state: str
    purpose: str | None = None
    retention_days: int | None = None
    proposed_by: str | None = None
    proposed_by_name: str | None = None
    agreed: tuple[str, ...] = ()
    waiting_for: tuple[str, ...] = ()
    recorded: tuple[str, ...] = ()
    recorder_name: str | None = None
    started_at: datetime | None = None
    ended_reason: str | None = None
    kept_days: int | None = None


@dataclass(frozen=True)
class Plan:
    """What the media should do now: start (with whom), record these, or stop."""

    start: bool = False
    stop: bool = False
    recorded: frozenset[str] = frozenset()


@dataclass
class RecordingConsent:
    """The consent state of one live room."""

    proposal: Proposal | None = None
    agreed: dict[str, datetime] = field(default_factory=dict)
    recording_id: str | None = None
    started_at: datetime | None = None
    recorded: frozenset[str] = frozenset()

    def propose(self, rules: RecordingRules, proposer: ParticipantId, identity: Identity, purpose: str,
                at: datetime) -> None:
        if not identity.role.is_staff:
            raise Forbidden("only staff may propose a recording")
        if self.proposal is not None:
            raise RecordingRefused("a recording is already proposed", reason="recording.already_proposed")
        days = rules.retention_days(purpose)
        if days is None:
            raise RecordingRefused("not a purpose a recording may be made for", reason="recording.unknown_purpose")
        self.proposal = Proposal(purpose, days, proposer, identity.display_name, at)
        self.agreed = {str(proposer): at}

    def agree(self, participant: ParticipantId, at: datetime) -> None:
        if self.proposal is None:
            raise NoRecordingProposed("no recording is proposed")
        self.agreed.setdefault(str(participant), at)

    def end(self) -> None:
        """Withdrawn, declined, failed or the room closed: nothing more is recorded on this proposal."""
        self.proposal = None
        self.agreed = {}
        self.recording_id = None
        self.started_at = None
        self.recorded = frozenset()

    def forget_absent(self, present: Collection[str]) -> None:
        """Agreements go with the seat: someone who left is asked again when they come back."""
        for pid in [p for p in self.agreed if p not in present]:
            del self.agreed[pid]

    def plan(self, rules: RecordingRules, present: Collection[str], at: datetime) -> Plan:
        """What the media should do, given who is present now."""
        proposal = self.proposal
        if proposal is None:
            return Plan(stop=self.recording_id is not None)
        recordable = frozenset(p for p in present if p in self.agreed)
        if self.recording_id is None:
            decision = rules.may_record(purpose=proposal.purpose, requested_by_staff=True, present=present,
                                        agreed=self.agreed, at=at)
            return Plan(start=True, recorded=recordable) if decision.allowed else Plan()
        # Recording: newcomers who have not agreed are left out until they do (so the policy is asked
        # about those recorded); nobody left, or the policy says no: stop.
        if not recordable:
            return Plan(stop=True)
        decision = rules.may_record(purpose=proposal.purpose, requested_by_staff=True, present=recordable,
                                    agreed=self.agreed, at=at)
        return Plan(recorded=recordable) if decision.allowed else Plan(stop=True)

    def status(self, present: Collection[str], ended_reason: str | None = None,
               kept_days: int | None = None) -> RecordingStatus:
        proposal = self.proposal
        if proposal is None:
            return RecordingStatus("none", ended_reason=ended_reason, kept_days=kept_days)
        recording = self.recording_id is not None
        return RecordingStatus(
            "recording" if recording else "proposed",
            purpose=proposal.purpose,
            retention_days=proposal.retention_days,
            proposed_by=str(proposal.proposed_by),
            proposed_by_name=proposal.proposed_by_name,
            agreed=tuple(sorted(p for p in self.agreed if p in present)),
            waiting_for=tuple(sorted(p for p in present if p not in self.agreed)),
            recorded=tuple(sorted(self.recorded)) if recording else (),
            recorder_name=RECORDER_NAME if recording else None,
            started_at=self.started_at,
            ended_reason=ended_reason,
        )
