"""What followed a held consultation: the rules for recording it, with no database and no HTTP.

Staff say, when they complete a consultation, whether it spared the patient an admission (yes, no or
uncertain) and who follows the patient up (home care, the GP, the outpatient clinic, or an admission).
The benefits report counts these answers; nothing else reads them.

Input arrives as text from a form or JSON; :func:`read_outcome` turns it into an :class:`OutcomeInput`
or refuses it with every problem at once, as field codes, so the page and the API refuse alike.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from scheduling.models import AdmissionAvoided, FollowUp
from server.platform.errors import ValidationFailed


@dataclass(frozen=True)
class OutcomeInput:
    """An outcome as staff give it; ``follow_up`` in the order of :class:`FollowUp`, without repeats."""

    admission_avoided: AdmissionAvoided
    follow_up: tuple[FollowUp, ...] = ()


def read_outcome(admission_avoided: object, follow_up: object) -> OutcomeInput:
    """Check an outcome from outside: ``admission_avoided`` one of yes/no/uncertain, ``follow_up`` a
    list of follow-up codes (may be empty: nobody needs to follow the patient up).

    Raises ``ValidationFailed`` with field codes: ``admission_avoided`` ``required`` or
    ``invalid_choice``; ``follow_up`` ``invalid_choice`` or ``duplicate``; and ``follow_up`` ``outcome_contradiction``
    when the patient was admitted after all but the admission is said to be avoided.
    """
    fields: dict[str, str] = {}
    admission: AdmissionAvoided | None = None
    if admission_avoided is None or admission_avoided == "":
        fields["admission_avoided"] = "required"
    elif not isinstance(admission_avoided, str):
        fields["admission_avoided"] = "invalid_choice"
    else:
        try:
            admission = AdmissionAvoided(admission_avoided)
        except ValueError:
            fields["admission_avoided"] = "invalid_choice"
    chosen: set[FollowUp] = set()
    if follow_up is None:
        follow_up = []
    if not isinstance(follow_up, list | tuple) or not all(isinstance(code, str) for code in follow_up):
        fields["follow_up"] = "invalid_choice"
    else:
        for code in follow_up:
            try:
                item = FollowUp(code)
            except ValueError:
                fields["follow_up"] = "invalid_choice"
                continue
            if item in chosen:
                fields["follow_up"] = "duplicate"  # said twice: a client's mistake, not a stronger answer
            chosen.add(item)
    if admission is AdmissionAvoided.YES and FollowUp.ADMISSION in chosen and "follow_up" not in fields:
        # "spared an admission" and "admitted" cannot both be true; which one is meant only staff know
        fields["follow_up"] = "outcome_contradiction"
    if fields or admission is None:
        raise ValidationFailed("the outcome could not be recorded", fields)
    return OutcomeInput(admission, ordered_follow_up(chosen))


def ordered_follow_up(codes: Iterable[FollowUp]) -> tuple[FollowUp, ...]:
    """The codes in the order of the enum, each once: the one stored order."""
    chosen = set(codes)
    return tuple(f for f in FollowUp if f in chosen)


def encode_follow_up(codes: Iterable[FollowUp]) -> str:
    """The column's form: comma-separated codes in the order of the enum."""
    return ",".join(f.value for f in ordered_follow_up(codes))


def decode_follow_up(stored: str) -> tuple[FollowUp, ...]:
    """The column's codes back as enum members; an unknown code (none is ever written) is left out."""
    known = {f.value: f for f in FollowUp}
    return ordered_follow_up(known[c] for c in stored.split(",") if c in known)


def may_record(*, takes_part: bool, coordinator: bool) -> bool:
    """Whether someone may record or change what followed a held consultation: they took part in it
    (they know what followed) or coordinate (they tidy up for colleagues)."""
    return takes_part or coordinator
