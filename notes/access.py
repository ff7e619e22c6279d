"""Who may do what to a note: the access matrix, pure.

Staff taking part in the consultation, and clinical staff of an organisation with a care relation to
the patient, may read and export; specialists and nurses may also save, sign, amend and share.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from server.people.patients import CLINICAL_ROLES
from server.platform.actors import Actor
from server.platform.roles import Role

_WRITERS = (Role.SPECIALIST, Role.NURSE)
# Professions in the words the exports know (notes.headings), so "lege" prints as "Lege"/"Physician".
_ROLE_PROFESSION = {Role.SPECIALIST.value: "physician", Role.NURSE.value: "nurse"}
_SLUG = re.compile(r"[^a-z0-9_]+")


class NoteAction(StrEnum):
    """What someone can do to a note; every one of them is audited."""

    READ = "read"
    SAVE = "save"
    SIGN = "sign"
    AMEND = "amend"
    EXPORT = "export"
    SHARE = "share"


@dataclass(frozen=True)
class Relation:
    """How an actor stands to a consultation: taking part, and/or staff of the patient's organisations."""

    participant: bool
    organisation: bool

    @property
    def any(self) -> bool:
        """True when the actor has any tie to the consultation at all."""
        return self.participant or self.organisation


def allowed(actor: Actor, relation: Relation, action: NoteAction) -> bool:
    """Whether a staff ``actor`` with this ``relation`` may do ``action`` (pure: the access matrix)."""
    if not actor.is_staff or not relation.any:
        return False
    if action in (NoteAction.READ, NoteAction.EXPORT):
        return actor.has_role(*CLINICAL_ROLES)
    return actor.has_role(*_WRITERS)


def profession_of(role: str, profession: str) -> str:
    """The profession slug a staff member writes under (``physician``, ``nurse``, or their own in a slug)."""
    if role in _ROLE_PROFESSION:
        return _ROLE_PROFESSION[role]
    slug = _SLUG.sub("_", profession.lower().replace("æ", "ae").replace("ø", "o").replace("å", "a")).strip("_")
    return slug[:40] if slug and slug[0].isalpha() else role
