"""The console side of starting empty: ``samkonsult create-admin`` and what ``serve`` says about the database.

At a terminal the command asks for what was not given as an option and for the password twice, without
echo. Without a terminal (a script, a pipe) every field must come as an option and the password is the
first line of standard input, so it never shows in the process list or the shell history.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO

from sqlalchemy import inspect

from server.people import passwords
from server.people.accounts import AccountService
from server.people.first_admin import (
    NewAdmin,
    active_admin_count,
    active_demo_account_count,
    console_actor,
    create_admin,
    organisation_names,
)
from server.platform.db import Database, create_engine
from server.platform.errors import Conflict, ValidationFailed
from server.platform.settings import Settings

PASSWORD_TRIES = 3
CREATE_ADMIN_HINT = "No administrator yet: run `samkonsult create-admin` to create the first one."

_FIELD_NAMES = {"username": "username", "display_name": "name", "email": "e-mail", "organisation": "organisation",
                "password": "password"}
_PROBLEMS = {
    "required": "is required",
    "username_invalid": "may hold letters, digits, dots, hyphens and underscores only",
    "username_taken": "is taken",
    "email_invalid": "is not an e-mail address",
    "password_too_short": f"must be at least {passwords.MIN_LENGTH} characters",
    "password_whitespace": "must not begin or end with a space",
}


def password_rule(code: str) -> str:
    """The app's password rule behind ``code``, in words for the operator."""
    return _PROBLEMS.get(code, code)


@dataclass(frozen=True)
class DatabaseState:
    """What ``serve`` checks before it listens."""

    migrated: bool
    admins: int = 0
    demo_accounts: int = 0


async def _migrated(db: Database) -> bool:
    """Whether the schema exists; a database that cannot be reached raises its own error instead."""
    async with db.engine.connect() as conn:
        return bool(await conn.run_sync(lambda sync: inspect(sync).has_table("users")))


async def database_state(settings: Settings) -> DatabaseState:
    db = Database(create_engine(settings.database_url))
    try:
        if not await _migrated(db):
            return DatabaseState(False)
        async with db.session() as session:
            return DatabaseState(True, await active_admin_count(session), await active_demo_account_count(session))
    finally:
        await db.close()


def startup_problem(settings: Settings, state: DatabaseState) -> str | None:
    """Why ``serve`` must not start on this database, or None."""
    if not state.migrated:
        return "the database has no tables yet: run `samkonsult migrate` first"
    if state.demo_accounts and not settings.demo_mode:
        return (f"the database holds {state.demo_accounts} demo accounts, whose password is public; "
                "outside demo mode start from a database without demo data")
    return None


class _Refused(Exception):
    """The command stops here; the message says why (already printed as it happened, or to print)."""

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.code = code


class _Console:
    """Questions and answers: a terminal, or options and one password line on standard input."""

    def __init__(self, stdin: TextIO, stdout: TextIO, ask_secret: Callable[[str], str]) -> None:
        self.stdin, self.stdout, self._ask_secret = stdin, stdout, ask_secret
        self.interactive = stdin.isatty()

    def field(self, given: str | None, option: str, question: str) -> str:
        if given is not None:
            return given
        if not self.interactive:
            raise _Refused(f"{option} is required when standard input is not a terminal")
        while True:
            print(question, end="", file=self.stdout, flush=True)
            answer = self.stdin.readline()
            if not answer:
                raise _Refused("no answer; nothing created")
            if answer.strip():
                return answer.strip()

    def password(self) -> str:
        if not self.interactive:
            line = self.stdin.readline()
            password = line.removesuffix("\n").removesuffix("\r")
            problem = passwords.password_problem(password)
            if problem:
                raise _Refused(f"password (first line of standard input) {password_rule(problem)}; nothing created")
            return password
        for _ in range(PASSWORD_TRIES):
            password = self._ask_secret("Password: ")
            problem = passwords.password_problem(password)
            if problem:
                print(f"The password {password_rule(problem)}.", file=self.stdout)
                continue
            if self._ask_secret("Password again: ") != password:
                print("The two passwords differ.", file=self.stdout)
                continue
            return password
        raise _Refused("no acceptable password; nothing created")


async def _peek(settings: Settings) -> tuple[int, list[str]] | None:
    """Active administrators and organisation names; None when the database has no tables yet."""
    db = Database(create_engine(settings.database_url))
    try:
        if not await _migrated(db):
            return None
        async with db.session() as session:
            return await active_admin_count(session), await organisation_names(session)
    finally:
        await db.close()


async def _create(settings: Settings, accounts: AccountService, new: NewAdmin, another: bool) -> str:
    db = Database(create_engine(settings.database_url))
    actor = console_actor(_os_user())
    try:
        async with db.session(write_lock=True) as session:
            created = await create_admin(session, accounts, new, another=another, actor=actor)
    finally:
        await db.close()
    made = " (created now)" if created.organisation_created else ""
    return (f"Created administrator {created.username} in {created.organisation}{made}. At the first login "
            "they set up two-factor login with an authenticator app.")


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid {os.getuid()}"


def _pick_organisation(console: _Console, given: str | None, names: list[str]) -> str:
    if given is not None or len(names) > 1:
        if len(names) > 1 and given is None and console.interactive:
            print("Organisations: " + "; ".join(names), file=console.stdout)
        return console.field(given, "--organisation", "Organisation of the administrator: ")
    if names:
        return names[0]
    return console.field(None, "--organisation", "The database has no organisation yet. Name of the health trust: ")


def run_create_admin(settings: Settings, accounts: AccountService, args: argparse.Namespace, *,
                     stdin: TextIO | None = None, stdout: TextIO | None = None,
                     ask_secret: Callable[[str], str] = getpass.getpass) -> int:
    """``samkonsult create-admin``: 0 created, 1 refused (an administrator exists), 2 bad input or database."""
    import asyncio

    console = _Console(stdin or sys.stdin, stdout or sys.stdout, ask_secret)
    peeked = asyncio.run(_peek(settings))
    if peeked is None:
        print("samkonsult create-admin: the database has no tables yet: run `samkonsult migrate` first",
              file=sys.stderr)
        return 2
    admins, names = peeked
    if admins and not args.another:
        print(f"samkonsult create-admin: {admins} active administrator(s) exist already; refusing. An administrator "
              "can add users in the pages; use --another to create one more from here.", file=sys.stderr)
        return 1
    try:
        new = NewAdmin(
            display_name=console.field(args.name, "--name", "Full name: "),
            username=console.field(args.username, "--username", "Username: "),
            email=console.field(args.email, "--email", "E-mail: "),
            organisation=_pick_organisation(console, args.organisation, names),
            password=console.password(),
        )
        print(asyncio.run(_create(settings, accounts, new, args.another)), file=console.stdout)
        return 0
    except _Refused as exc:
        print(f"samkonsult create-admin: {exc}", file=sys.stderr)
        return exc.code
    except Conflict as exc:
        print(f"samkonsult create-admin: {exc.message}; refusing (use --another)", file=sys.stderr)
        return 1
    except ValidationFailed as exc:
        for field, code in exc.fields.items():
            detail = password_rule(code)
            if code == "unknown_organisation":
                detail = "is not one of: " + "; ".join(names)
            print(f"samkonsult create-admin: {_FIELD_NAMES.get(field, field)} {detail}", file=sys.stderr)
        print("samkonsult create-admin: nothing created", file=sys.stderr)
        return 2
