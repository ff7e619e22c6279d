"""Reading the set-up forms and JSON bodies (weekly hours, consultation types) into service inputs, with
the field codes of what could not be read; shared by the pages and the API."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import time
from typing import Any

from scheduling.models import RequirementKind
from scheduling.services.views import ConsultationTypeInput, HoursInput, RequirementInput
from web.forms import MAX_ID, parse_id


def week_from_form(form: Mapping[str, str]) -> tuple[list[HoursInput], dict[str, str]]:
    """Fields ``day0``..``day6``: "08:00-15:30", several ranges separated by commas, empty = closed."""
    hours: list[HoursInput] = []
    errors: dict[str, str] = {}
    for day in range(7):
        raw = form.get(f"day{day}", "").replace("–", "-")
        for part in filter(None, (p.strip() for p in raw.split(","))):
            start, _, end = part.partition("-")
            try:
                hours.append(HoursInput(day, time.fromisoformat(start.strip()), time.fromisoformat(end.strip())))
            except ValueError:
                errors[f"day{day}"] = "hours_format"
    return hours, errors


def week_as_form(hours: list[HoursInput]) -> dict[str, str]:
    """Weekly hours as the form's ``day0``..``day6`` values."""
    out: dict[str, list[str]] = {}
    for h in hours:
        out.setdefault(f"day{h.weekday}", []).append(f"{h.start:%H:%M}-{h.end:%H:%M}")
    return {k: ", ".join(v) for k, v in out.items()}


def minutes(raw: str, field: str, errors: dict[str, str]) -> int:
    text = raw.strip()
    if not text.isascii() or not text.isdigit() or len(text) > 6:
        errors[field] = "minutes_format"
        return 0
    return int(text)


def type_from_form(form: Mapping[str, str], equipment: list[str]) -> tuple[ConsultationTypeInput, dict[str, str]]:
    """The consultation type form: names, minutes, and who takes part, each a checkbox with its detail
    (the department of the specialist, a named person, the room's equipment)."""
    errors: dict[str, str] = {}
    numbers = {f: minutes(form.get(f, ""), f, errors) for f in (
        "duration_minutes", "buffer_before_minutes", "buffer_after_minutes", "min_notice_minutes")}
    requirements: list[RequirementInput] = []
    if form.get("need_specialist"):
        department = parse_id(form.get("department_id", ""))
        if department is None:
            errors["department_id"] = "unknown_department"
        requirements.append(RequirementInput("specialist", RequirementKind.DEPARTMENT_SPECIALIST,
                                             department_id=department))
    if form.get("need_person"):
        person = parse_id(form.get("person_id", ""))
        if person is None:
            errors["person_id"] = "unknown_resource"
        requirements.append(RequirementInput("person", RequirementKind.NAMED_PERSON, resource_id=person))
    if form.get("need_nurse"):
        requirements.append(RequirementInput("nurse", RequirementKind.MUNICIPALITY_NURSE))
    if form.get("need_profession"):
        profession = form.get("profession", "")
        if not profession:
            errors["profession"] = "unknown_profession"
        # The part is named by the profession ("physiotherapist"), unless another part has that name.
        key = profession or "profession"
        if key in {r.key for r in requirements}:
            key = f"{key}_profession"
        requirements.append(RequirementInput(key, RequirementKind.PROFESSION, profession=profession,
                                             department_id=parse_id(form.get("profession_department_id", ""))))
    if form.get("need_room"):
        requirements.append(RequirementInput("room", RequirementKind.HEALTH_ROOM,
                                             equipment_codes=tuple(equipment)))
    if form.get("patient_at_home"):
        requirements.append(RequirementInput("patient", RequirementKind.PATIENT_HOME))
    if not requirements:
        errors["requirements"] = "requirements_empty"
    return ConsultationTypeInput(
        code="", name=form.get("name", ""), name_en=form.get("name_en", ""), requirements=tuple(requirements),
        **numbers), errors


def requirements_from_json(raw: Any, errors: dict[str, str]) -> tuple[RequirementInput, ...]:
    """``[{"key": "specialist", "kind": "department_specialist", "department_id": 1}, ...]``."""
    if not isinstance(raw, list) or not 1 <= len(raw) <= 10:
        errors["requirements"] = "invalid_choice"
        return ()
    out: list[RequirementInput] = []
    for i, item in enumerate(raw):
        where = f"requirements[{i}]"
        if not isinstance(item, dict) or set(item) - {"key", "kind", "resource_id", "department_id", "equipment",
                                                      "profession"}:
            errors[where] = "unknown_field"
            continue
        key, kind_raw, codes = item.get("key"), item.get("kind"), item.get("equipment", [])
        try:
            kind = RequirementKind(str(kind_raw))
        except ValueError:
            errors[f"{where}.kind"] = "invalid_choice"
            continue
        ids: dict[str, int | None] = {}
        for field in ("resource_id", "department_id"):
            value = item.get(field)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                      or not 0 < value <= MAX_ID):
                errors[f"{where}.{field}"] = "invalid_choice"
                value = None
            ids[field] = value
        if not isinstance(key, str) or not key or len(key) > 40:
            errors[f"{where}.key"] = "invalid_choice"
            continue
        if not isinstance(codes, list) or not all(isinstance(c, str) and len(c) <= 60 for c in codes):
            errors[f"{where}.equipment"] = "invalid_choice"
            codes = []
        profession = item.get("profession", "")
        if not isinstance(profession, str) or len(profession) > 40:
            errors[f"{where}.profession"] = "invalid_choice"
            profession = ""
        out.append(RequirementInput(key, kind, resource_id=ids["resource_id"], department_id=ids["department_id"],
                                    equipment_codes=tuple(codes), profession=profession))
    return tuple(out)
