"""Bulk import of staff from a CSV file, as a trust's HR or identity system exports it.

A dry run reads the whole file and lists every problem (row, column, what is wrong) and changes nothing;
the real import checks everything again and creates all the users in the caller's one transaction, or
none. Imported staff get no usable password: the administrator gives each a temporary one from the
user's page (or the user asks for it) when they start, and two-factor is set up at the first login.
"""

from __future__ import annotations

import asyncio
import csv
import io
import re
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.people.models import Organisation, User
from server.people.professions import profession_code
from server.people.staff_admin import contact_problems
from server.platform.actors import Actor
from server.platform.audit import AuditLog
from server.platform.clock import Clock
from server.platform.errors import ValidationFailed
from server.platform.roles import Role

# Under the server's body limit (1 MB) with room for the form around it; some 5,000 staff fit.
MAX_BYTES = 900 * 1024
MAX_ROWS = 5000
COLUMNS = ("username", "name", "role", "organisation", "department", "profession", "email", "phone")
REQUIRED = ("username", "name", "role", "organisation")
# An Argon2 hash never looks like this, so no password matches it until one is set.
NO_PASSWORD = "!imported"
_USERNAME = re.compile(r"^[a-z0-9._-]{1,80}$")
# Roles as people write them in Norwegian and English, besides the codes themselves.
_ROLE_WORDS = {
    "koordinator": Role.COORDINATOR, "spesialist": Role.SPECIALIST, "sykepleier": Role.NURSE,
    "teamleder": Role.TEAM_LEADER, "team leader": Role.TEAM_LEADER, "administrator": Role.ADMIN,
}
# Column names in Norwegian, for a file made by hand in a spreadsheet.
_HEADER_WORDS = {
    "brukernavn": "username", "navn": "name", "rolle": "role", "organisasjon": "organisation",
    "avdeling": "department", "yrke": "profession", "profesjon": "profession", "e-post": "email",
    "epost": "email", "telefon": "phone",
}


@dataclass(frozen=True)
class RowProblem:
    """One thing wrong in the file: its line number (the header is line 1), column and a message code."""

    row: int
    column: str
    code: str


@dataclass
class ImportResult:
    rows: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    created: int = 0

    @property
    def clean(self) -> bool:
        return not self.problems and self.rows > 0


@dataclass(frozen=True)
class _StaffRow:
    line: int
    username: str
    name: str
    role: Role
    organisation_id: int
    department_id: int | None
    profession: str
    email: str
    phone: str


def _decode(data: bytes) -> str | None:
    for encoding in ("utf-8-sig", "cp1252"):  # Excel in Norway saves "CSV" as Windows-1252
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


def _header_name(raw: str) -> str:
    name = raw.strip().lower()
    return _HEADER_WORDS.get(name, name)


def _role(text: str) -> Role | None:
    word = " ".join(text.strip().lower().replace("_", " ").split())
    for role in Role:
        if word == role.value.replace("_", " "):
            return role
    return _ROLE_WORDS.get(word)


class StaffImport:
    """Checks and imports a staff CSV file."""

    def __init__(self, clock: Clock, audit: AuditLog) -> None:
        self._clock = clock
        self._audit = audit

    async def check(self, session: AsyncSession, data: bytes) -> tuple[ImportResult, list[_StaffRow]]:
        """Every problem in the file, and the rows ready to create when there are none. Changes nothing.

        Decoding, sniffing and splitting a file of up to 900 kB and checking thousands of rows is pure
        CPU work that grows with the file: it runs in a worker thread, so the event loop that carries
        every call's signaling keeps answering meanwhile.
        """
        result, header, body = await asyncio.to_thread(_read_table, data)
        if result.problems or not body:
            return result, []
        orgs = (await session.execute(select(Organisation))).scalars().all()
        by_name = {o.name.lower(): o for o in orgs} | {o.code: o for o in orgs if o.code}
        usernames = [_username(cells, header) for _, cells in body]
        existing = set((await session.execute(
            select(func.lower(User.username)).where(func.lower(User.username).in_(set(usernames))))).scalars())
        ready = await asyncio.to_thread(self._check_rows, body, header, usernames, by_name, existing, result)
        return result, ready if not result.problems else []

    def _check_rows(self, body: list[tuple[int, list[str]]], header: list[str], usernames: list[str],
                    orgs: dict[str, Organisation], existing: set[str], result: ImportResult) -> list[_StaffRow]:
        seen: dict[str, int] = {}
        ready: list[_StaffRow] = []
        for (line, cells), username in zip(body, usernames, strict=True):
            row = self._check_row(line, cells, header, username, orgs, existing, seen, result)
            if row is not None:
                ready.append(row)
        return ready

    def _check_row(self, line: int, cells: list[str], header: list[str], username: str,
                   orgs: dict[str, Organisation], existing: set[str], seen: dict[str, int],
                   result: ImportResult) -> _StaffRow | None:
        problems: list[RowProblem] = []
        if len(cells) > len(header):
            problems.append(RowProblem(line, "", "csv_too_many_cells"))
        value = {name: (cells[i].strip() if i < len(cells) else "") for i, name in enumerate(header)}
        for column in REQUIRED:
            if not value.get(column):
                problems.append(RowProblem(line, column, "required"))
        if username and not _USERNAME.match(username):
            problems.append(RowProblem(line, "username", "username_invalid"))
        elif username in existing:
            problems.append(RowProblem(line, "username", "username_taken"))
        elif username in seen:
            problems.append(RowProblem(line, "username", "csv_username_repeated"))
        if username:
            seen.setdefault(username, line)
        if len(value.get("name", "")) > 200:
            problems.append(RowProblem(line, "name", "too_long"))
        role = _role(value.get("role", "")) if value.get("role") else None
        if value.get("role") and role is None:
            problems.append(RowProblem(line, "role", "csv_unknown_role"))
        org = orgs.get(value.get("organisation", "").lower()) or orgs.get(value.get("organisation", ""))
        if value.get("organisation") and org is None:
            problems.append(RowProblem(line, "organisation", "csv_unknown_organisation"))
        department_id: int | None = None
        if value.get("department") and org is not None:
            found = [d for d in org.departments if d.name.lower() == value["department"].lower()]
            if found:
                department_id = found[0].id
            else:
                problems.append(RowProblem(line, "department", "unknown_department"))
        profession = profession_code(value.get("profession", ""))
        if profession is None:
            problems.append(RowProblem(line, "profession", "csv_unknown_profession"))
        for column, code in contact_problems(value.get("email", ""), value.get("phone", "")).items():
            problems.append(RowProblem(line, column, code))
        result.problems.extend(problems)
        if problems or role is None or org is None or profession is None:
            return None
        return _StaffRow(line, username, value["name"], role, org.id, department_id, profession,
                         value.get("email", ""), value.get("phone", ""))

    async def run(self, session: AsyncSession, actor: Actor, data: bytes) -> ImportResult:
        """Create every user of a clean file in the caller's transaction; refuse the whole file otherwise."""
        result, rows = await self.check(session, data)
        if not result.clean:
            raise ValidationFailed("the file has problems", {"file": "csv_has_problems"})
        now = self._clock.now()
        users = [User(username=r.username, display_name=r.name, email=r.email, phone=r.phone, role=r.role,
                      profession=r.profession, organisation_id=r.organisation_id, department_id=r.department_id,
                      password_hash=NO_PASSWORD, is_demo=False, is_active=True, must_change_password=True,
                      created_at=now, password_changed_at=now, totp_confirmed=False, totp_last_step=0,
                      language="nb")
                 for r in rows]
        session.add_all(users)
        await session.flush()
        for user in users:
            await self._audit.record(session, actor, action="import", object_type="user", object_id=user.id)
        result.created = len(users)
        return result


def _username(cells: list[str], header: list[str]) -> str:
    index = header.index("username") if "username" in header else -1
    return cells[index].strip().lower() if 0 <= index < len(cells) else ""


def _read_table(data: bytes) -> tuple[ImportResult, list[str], list[tuple[int, list[str]]]]:
    """The file's header and non-empty rows (numbered as a spreadsheet shows them), or its problems."""
    result = ImportResult()
    if not data.strip():
        result.problems.append(RowProblem(0, "", "csv_empty"))
        return result, [], []
    if len(data) > MAX_BYTES:
        result.problems.append(RowProblem(0, "", "csv_too_large"))
        return result, [], []
    text = _decode(data)
    if text is None or "\x00" in text:
        result.problems.append(RowProblem(0, "", "csv_unreadable"))
        return result, [], []
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(text.split("\n", 1)[0], ",;\t")
    except csv.Error:
        dialect = csv.excel
    try:
        lines = list(csv.reader(io.StringIO(text, newline=""), dialect))
    except csv.Error:
        result.problems.append(RowProblem(0, "", "csv_unreadable"))
        return result, [], []
    header = [_header_name(h) for h in lines[0]]
    for column in header:
        if column and column not in COLUMNS:
            result.problems.append(RowProblem(1, column, "csv_unknown_column"))
    for column in REQUIRED:
        if column not in header:
            result.problems.append(RowProblem(1, column, "csv_missing_column"))
    if len(set(header)) != len(header):
        result.problems.append(RowProblem(1, "", "csv_duplicate_column"))
    body = [(i + 2, cells) for i, cells in enumerate(lines[1:]) if any(c.strip() for c in cells)]
    if len(body) > MAX_ROWS:
        result.problems.append(RowProblem(0, "", "csv_too_many_rows"))
        return result, [], []
    result.rows = len(body)
    if result.problems:
        return result, [], []
    if not body:
        result.problems.append(RowProblem(0, "", "csv_no_rows"))
        return result, [], []
    return result, header, body
