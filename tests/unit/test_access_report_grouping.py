"""The access report's pure parts: grouping audit rows into lines, periods, masking, reason codes and labels."""

from __future__ import annotations

import ast
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from server.people.access_report import (
    AccessGroup,
    Accessor,
    LoggedAccess,
    group_accesses,
    mask_national_id,
    months_back,
    period_of,
)
from server.platform.audit_reasons import AuditReason, context_reason
from server.platform.errors import ValidationFailed
from web import i18n
from web.labels import has_labels, reason_label, stated_reason_label
from web.pages_access_report import line_of

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)  # 10.00 in Oslo


def _row(at: datetime, *, actor: str = "user:7", name: str = "Ingrid Hansen", kind: str = "staff",
         role: str = "specialist", org: str = "Helgelandssykehuset", obj: str = "note", action: str = "read",
         reason: str = "Planlagt samkonsultasjon") -> LoggedAccess:
    return LoggedAccess(at, kind, actor, name, role, org, obj, action, reason)


def test_one_persons_close_accesses_for_one_reason_make_one_line() -> None:
    rows = [_row(T0 + timedelta(minutes=40), action="save"), _row(T0 + timedelta(minutes=20)), _row(T0)]
    days = group_accesses(rows, {"user:7": "lege"})
    assert len(days) == 1 and len(days[0].groups) == 1
    line = days[0].groups[0]
    assert (line.first_at, line.last_at, line.count) == (T0, T0 + timedelta(minutes=40), 3)
    assert line.actions == (("read", 2), ("save", 1))  # in the order they happened
    assert line.who == Accessor("staff", "Ingrid Hansen", "specialist", "lege", "Helgelandssykehuset")
    assert line.reason is None and line.stated_reason == "Planlagt samkonsultasjon"


def test_a_gap_another_reason_person_or_object_starts_a_new_line_newest_first() -> None:
    rows = [
        _row(T0 + timedelta(hours=5)),  # more than an hour after the one before: a line of its own
        _row(T0 + timedelta(minutes=30), reason="Pågående behandling"),
        _row(T0 + timedelta(minutes=20), actor="user:8", name="Kari Nilsen", role="nurse", org="Rødøy kommune"),
        _row(T0 + timedelta(minutes=10), obj="booking", action="list", reason="day list"),
        _row(T0),
    ]
    groups = group_accesses(rows)[0].groups
    assert [g.last_at for g in groups] == sorted((g.last_at for g in groups), reverse=True)
    assert len(groups) == 5
    assert groups[3].reason is AuditReason.DAY_LIST and groups[3].object_type == "booking"


def test_days_are_oslo_days_newest_first() -> None:
    # 23.30 UTC on 10 March is 00.30 on 11 March in Oslo: a day of its own, though only 40 minutes apart.
    late = datetime(2026, 3, 10, 23, 30, tzinfo=UTC)
    days = group_accesses([_row(late), _row(late - timedelta(minutes=40))])
    assert [d.day.isoformat() for d in days] == ["2026-03-11", "2026-03-10"]


def test_consultation_rows_are_explained_by_the_consultation_not_their_reason_column() -> None:
    rows = [
        _row(T0 + timedelta(minutes=3), obj="consultation", action="admitted", reason="relative: Kari Nordmann"),
        _row(T0 + timedelta(minutes=2), obj="consultation", action="reading_posted", reason="blood_pressure"),
        _row(T0 + timedelta(minutes=1), obj="consultation", action="chat_posted", reason=""),
        _row(T0, obj="consultation", action="joined", reason=""),
    ]
    (line,) = group_accesses(rows)[0].groups
    assert line.reason is AuditReason.CONSULTATION and line.stated_reason == ""
    assert [a for a, _ in line.actions] == ["joined", "chat_posted", "reading_posted", "admitted"]


def test_context_reasons() -> None:
    assert context_reason("booking", "") is AuditReason.SCHEDULING
    assert context_reason("booking", "day list") is AuditReason.DAY_LIST
    assert context_reason("patient", "patient list") is AuditReason.PATIENT_LIST
    assert context_reason("patient", "") is AuditReason.NOT_STATED
    assert context_reason("patient", "Oppfølging etter utskrivning") is None
    assert context_reason("consultation", "interpreter: Ali") is AuditReason.CONSULTATION


def test_periods_go_back_whole_calendar_months_in_oslo_time() -> None:
    now = datetime(2026, 3, 31, 10, 0, tzinfo=UTC)  # 12.00 summer time in Oslo
    assert months_back(now, 1) == datetime(2026, 2, 28, 11, 0, tzinfo=UTC)  # 12.00 winter time
    assert months_back(now, 12) == datetime(2025, 3, 31, 10, 0, tzinfo=UTC)
    period = period_of(now)
    assert period.months == 12 and period.end == now
    with pytest.raises(ValidationFailed):
        period_of(now, 7)


def test_national_id_shows_only_the_birth_date() -> None:
    assert mask_national_id("21065112345") == "210651 *****"


def test_every_reason_code_has_words_in_both_languages() -> None:
    assert has_labels(reasons=tuple(AuditReason))
    for lang in i18n.LANGUAGES:
        i18n.set_language(lang)
        for code in AuditReason:
            label = reason_label(code)
            assert label and (lang == "en" or label != code.value or code is AuditReason.CONSULTATION), code
    i18n.set_language("nb")
    assert reason_label(AuditReason.DAY_LIST) == "dagsliste"
    assert reason_label(AuditReason.PATIENT_LIST) == "pasientliste"


def test_a_reason_picked_in_one_language_reads_in_the_readers() -> None:
    i18n.set_language("en")
    try:
        assert stated_reason_label("Planlagt samkonsultasjon") == "Planned joint consultation"
        assert stated_reason_label("Vondt i kneet etter fall") == "Vondt i kneet etter fall"  # as typed
    finally:
        i18n.set_language("nb")
    assert stated_reason_label("Ongoing treatment") == "Pågående behandling"


def test_a_line_in_plain_words_carries_no_code_or_id() -> None:
    i18n.set_language("nb")
    group = AccessGroup(T0, T0 + timedelta(minutes=30), Accessor("staff", "Ingrid Hansen", "specialist", "lege",
                                                                  "Helgelandssykehuset"),
                        "note", (("read", 3), ("sign", 1)), AuditReason.CONSULTATION_PARTICIPANT)
    line = line_of(group)
    assert line.when == "kl. 10.00–10.30"
    assert (line.who, line.role, line.organisation) == ("Ingrid Hansen", "lege", "Helgelandssykehuset")
    assert line.what == "Samkonsultasjonsnotat: leste (3 ganger), signerte"
    assert line.why == "Deltar i konsultasjonen"
    guest = AccessGroup(T0, T0, Accessor("guest", "Kari Nordmann", "relative", "", ""), "booking",
                        (("list", 1),), AuditReason.DAY_LIST)
    assert (line_of(guest).when, line_of(guest).role, line_of(guest).why) == ("kl. 10.00", "pårørende", "Dagsliste")


# ------------------------------------------------------------------ every code the services write has words

_AUDIT_CALLS = {"record", "_record", "_audit_booking", "open_for_booking", "save", "_bookings_of", "AuditRow"}


def _constants(node: ast.expr) -> list[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        return _constants(node.body) + _constants(node.orelse)
    return []


def _written_codes() -> tuple[set[str], set[str]]:
    """Action and reason constants handed to the audit log anywhere in the code."""
    actions: set[str] = set()
    reasons: set[str] = set()
    for package in ("server", "rooms", "scheduling", "notes", "recordings_policy", "web", "signaling"):
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.Call):
                    continue
                name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
                if name not in _AUDIT_CALLS:
                    continue
                for keyword in node.keywords:
                    if keyword.arg == "reason":
                        reasons.update(_constants(keyword.value))
                    elif keyword.arg == "action":
                        actions.update(_constants(keyword.value))
                for arg in node.args:
                    for value in _constants(arg):
                        # Action codes are one word; a code with spaces is a reason.
                        (reasons if " " in value else actions).add(value)
    return actions - {""}, reasons - {""}


def test_every_action_and_reason_the_services_write_has_words() -> None:
    actions, reasons = _written_codes()
    assert {"read", "list", "joined", "chat_posted", "read_shared"} <= actions  # the scan finds them
    missing = {a for a in (*actions, "export:text", "export:pdf", "export:fhir") if not has_labels(actions=(a,))}
    assert not missing, f"audit actions without a catalogue label: {missing}"
    unknown = {r for r in reasons if r not in {c.value for c in AuditReason}}
    assert not unknown, f"reason codes without a catalogue label: {unknown}"
