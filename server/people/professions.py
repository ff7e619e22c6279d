"""The professions staff have in the joint-consultation teams (PSHT), stored as codes.

Pages word them through ``web.labels.profession_label``; the free text of older installations is read
into a code by :func:`profession_from_text` (the migration and the CSV import use it)."""

from __future__ import annotations

import enum


class Profession(enum.StrEnum):
    DOCTOR = "doctor"
    NURSE = "nurse"
    PHYSIOTHERAPIST = "physiotherapist"
    OCCUPATIONAL_THERAPIST = "occupational_therapist"
    PHARMACIST = "pharmacist"
    PATIENT_COORDINATOR = "patient_coordinator"
    HEALTH_SECRETARY = "health_secretary"


# What people have typed for each profession, in bokmål, nynorsk and English, lower case.
_WORDS: dict[str, Profession] = {
    "lege": Profession.DOCTOR, "overlege": Profession.DOCTOR, "spesialist": Profession.DOCTOR,
    "legespesialist": Profession.DOCTOR, "geriater": Profession.DOCTOR, "fastlege": Profession.DOCTOR,
    "doctor": Profession.DOCTOR, "physician": Profession.DOCTOR,
    "sykepleier": Profession.NURSE, "sjukepleiar": Profession.NURSE, "spesialsykepleier": Profession.NURSE,
    "hjemmesykepleier": Profession.NURSE, "nurse": Profession.NURSE,
    "fysioterapeut": Profession.PHYSIOTHERAPIST, "physiotherapist": Profession.PHYSIOTHERAPIST,
    "ergoterapeut": Profession.OCCUPATIONAL_THERAPIST, "occupational therapist": Profession.OCCUPATIONAL_THERAPIST,
    "farmasøyt": Profession.PHARMACIST, "farmasøt": Profession.PHARMACIST, "pharmacist": Profession.PHARMACIST,
    "pasientkoordinator": Profession.PATIENT_COORDINATOR, "koordinator": Profession.PATIENT_COORDINATOR,
    "patient coordinator": Profession.PATIENT_COORDINATOR,
    "helsesekretær": Profession.HEALTH_SECRETARY, "helsesekretar": Profession.HEALTH_SECRETARY,
    "health secretary": Profession.HEALTH_SECRETARY,
}


def profession_from_text(text: str) -> Profession | None:
    """The profession a code or a typed word names ("Lege", "sykepleier", "nurse"); None when unknown."""
    word = " ".join(text.strip().lower().replace("_", " ").split())
    if not word:
        return None
    for member in Profession:
        if word == member.value.replace("_", " "):
            return member
    return _WORDS.get(word)


def profession_code(text: str) -> str | None:
    """A stored profession from form or file input: the code, "" for none, None when it is not one of ours."""
    if not text.strip():
        return ""
    found = profession_from_text(text)
    return found.value if found is not None else None
