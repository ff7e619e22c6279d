"""The ``samkonsult`` command: serve, migrate, seed-demo, create-admin, create-org, create-user, audit."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import os
import sys
from collections.abc import Sequence

from aiohttp import web, web_response

from server.admin_console import CREATE_ADMIN_HINT, database_state, run_create_admin, startup_problem
from server.collector import settle_after_startup
from server.demo import DEMO_PASSWORD, is_seeded, seed_demo
from server.migrate import make_revision, upgrade
from server.people.accounts import AccountService
from server.people.totp import TotpCipher
from server.platform.audit import configured_audit_log
from server.platform.clock import SystemClock
from server.platform.db import Database, create_engine
from server.platform.errors import DomainError, ValidationFailed
from server.platform.roles import OrganisationKind, Role
from server.platform.settings import Settings, SettingsError, load_settings

log = logging.getLogger("samkonsult")


def _settings(args: argparse.Namespace) -> Settings:
    return load_settings(toml_path=args.config)


def _accounts(settings: Settings) -> AccountService:
    clock = SystemClock()
    return AccountService(clock, configured_audit_log(clock, settings), TotpCipher(settings.totp_encryption_key),
                          failed_login_limit=settings.failed_login_limit_per_hour)


async def _seed(settings: Settings, only_if_empty: bool) -> int:
    if not settings.demo_mode:
        # Demo accounts share a password printed in the README: never in a database meant for real use.
        print("Demo data is loaded in demo mode only (SAMKONSULT_DEMO_MODE=true); nothing loaded.", file=sys.stderr)
        return 1
    db = Database(create_engine(settings.database_url))
    try:
        async with db.session() as session:
            if await is_seeded(session):
                if only_if_empty:
                    print("Demo data already present; nothing loaded.")
                    return 0
                print("The database is not empty; refusing to load demo data.", file=sys.stderr)
                return 1
            logins = await seed_demo(session, _accounts(settings), SystemClock())
        print(f"Demo data loaded. Demo logins (password for all: {DEMO_PASSWORD}):")
        for login in logins:
            print(f"  {login.username:<20} {login.name:<16} {login.role:<12} {login.organisation}")
        return 0
    finally:
        await db.close()


def print_demo_logins() -> None:
    from server.demo import _USERS

    print(f"Demo logins (password for all: {DEMO_PASSWORD}):")
    for u in _USERS:
        print(f"  {u.username:<20} {u.name:<16} {u.role.value:<12} {u.organisation}")


async def _create_org(settings: Settings, args: argparse.Namespace) -> int:
    db = Database(create_engine(settings.database_url))
    try:
        async with db.session() as session:
            org = await _accounts(settings).create_organisation(
                session, args.name, OrganisationKind(args.kind), args.code,
                [d.strip() for d in (args.departments or "").split(",") if d.strip()])
        print(f"created organisation {org.id}: {org.name}")
        return 0
    finally:
        await db.close()


async def _create_user(settings: Settings, args: argparse.Namespace) -> int:
    password = os.environ.get("SAMKONSULT_NEW_USER_PASSWORD") or getpass.getpass("Password: ")
    db = Database(create_engine(settings.database_url))
    try:
        async with db.session() as session:
            accounts = _accounts(settings)
            orgs = {o.name: o for o in await accounts.list_organisations(session)}
            if args.organisation not in orgs:
                print(f"unknown organisation {args.organisation!r}", file=sys.stderr)
                return 2
            org = orgs[args.organisation]
            dep_id = None
            if args.department:
                deps = {d.name: d.id for d in await accounts.list_departments(session)
                        if d.organisation_id == org.id}
                dep_id = deps.get(args.department)
                if dep_id is None:
                    print(f"unknown department {args.department!r}", file=sys.stderr)
                    return 2
            user = await accounts.create_user(
                session, username=args.username, display_name=args.name, password=password,
                role=Role(args.role), organisation_id=org.id, department_id=dep_id, email=args.email or "")
        print(f"created user {user.username} ({user.role.value}); TOTP enrolment happens at first login")
        return 0
    except ValidationFailed as exc:
        for field, code in exc.fields.items():
            print(f"{field}: {code}", file=sys.stderr)
        return 2
    finally:
        await db.close()


async def _audit_verify(settings: Settings) -> int:
    """Check the chain with the key and against the signed checkpoints; 0 when intact, 1 when not."""
    audit = configured_audit_log(SystemClock(), settings)
    db = Database(create_engine(settings.database_url))
    try:
        async with db.session(read_only=True) as session:
            result = await audit.verify(session)
        if result.ok:
            where = audit.checkpoints.path if audit.checkpoints is not None else None
            against = (f", {result.checkpoints} checkpoints in {where}" if result.checkpoints
                       else f", no checkpoints yet in {where}" if where else ", no checkpoint file")
            legacy = f" ({result.legacy} from before the audit key, checked unkeyed)" if result.legacy else ""
            print(f"audit log intact: {result.checked} rows{legacy}{against}")
            return 0
        print(f"AUDIT LOG BROKEN: {result.problem} (checked {result.checked} rows)", file=sys.stderr)
        return 1
    finally:
        await db.close()


async def _audit_checkpoint(settings: Settings) -> int:
    """Append a signed checkpoint of the head now (the server also does so every few minutes)."""
    audit = configured_audit_log(SystemClock(), settings)
    if audit.checkpoints is None:
        print("no checkpoint file is configured (SAMKONSULT_AUDIT_CHECKPOINT_FILE)", file=sys.stderr)
        return 2
    db = Database(create_engine(settings.database_url))
    try:
        async with db.session(read_only=True) as session:
            mark = await audit.write_checkpoint(session)
        if mark is None:
            print(f"the newest checkpoint in {audit.checkpoints.path} already shows this head")
        else:
            print(f"checkpoint written to {audit.checkpoints.path}: {mark.seq} rows")
        return 0
    finally:
        await db.close()


async def _settle_collector(_app: web.Application) -> None:
    settle_after_startup()  # server/collector.py says why


def _serve(settings: Settings) -> int:
    from server.app import create_app
    from web.access_log import AccessLogger
    from web.security import SERVER_NAME

    state = asyncio.run(database_state(settings))
    problem = startup_problem(settings, state)
    if problem:
        print(f"samkonsult: cannot start: {problem}", file=sys.stderr)
        return 2
    if not state.admins:
        print(CREATE_ADMIN_HINT, flush=True)
    app = create_app(settings)
    app.on_startup.append(_settle_collector)  # last: after the cleanup contexts built the services
    if settings.demo_mode:
        print_demo_logins()
    print(f"Samkonsult serves on {settings.public_url}", flush=True)
    # Answers aiohttp writes itself, before any of the app's code runs (a malformed request), take
    # their Server header from this module constant; the app names itself on all others.
    web_response.SERVER_SOFTWARE = SERVER_NAME  # type: ignore[attr-defined]  # imported there from .http
    # The access log leaves feed tokens and query values out (web/access_log.py).
    web.run_app(app, host=settings.host, port=settings.port, print=None, shutdown_timeout=10,
                access_log_class=AccessLogger)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="samkonsult", description="Samkonsult joint consultation server")
    parser.add_argument("--config", help="TOML settings file (environment variables override it)")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", help="serve HTTP")
    sub.add_parser("migrate", help="apply database migrations")
    seed = sub.add_parser("seed-demo", help="load demo data")
    seed.add_argument("--if-empty", action="store_true", help="do nothing when data exists")
    rev = sub.add_parser("make-migration", help="write a migration from model changes (developers)")
    rev.add_argument("message")
    admin = sub.add_parser("create-admin", help="create the first administrator (asks for what is not given; "
                                                "without a terminal the password is the first line of stdin)")
    admin.add_argument("--name", help="full name")
    admin.add_argument("--username")
    admin.add_argument("--email")
    admin.add_argument("--organisation", help="an existing organisation, or the health trust to create "
                                              "when the database has none")
    admin.add_argument("--another", action="store_true", help="create one even though an administrator exists")
    org = sub.add_parser("create-org", help="create an organisation")
    org.add_argument("name")
    org.add_argument("--kind", choices=[k.value for k in OrganisationKind], required=True)
    org.add_argument("--code")
    org.add_argument("--departments", help="comma-separated department names")
    user = sub.add_parser("create-user", help="create a staff user (password from a prompt or "
                                              "SAMKONSULT_NEW_USER_PASSWORD)")
    user.add_argument("username")
    user.add_argument("--name", required=True)
    user.add_argument("--role", choices=[r.value for r in Role], required=True)
    user.add_argument("--organisation", required=True)
    user.add_argument("--department")
    user.add_argument("--email")
    audit = sub.add_parser("audit", help="audit log tools")
    audit.add_argument("action", choices=["verify", "checkpoint"],
                       help="verify: check the chain and the checkpoints; checkpoint: write one now")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = _settings(args)
    except SettingsError as exc:
        print(f"samkonsult: cannot start: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        match args.command:
            case "serve":
                return _serve(settings)
            case "migrate":
                asyncio.run(upgrade(settings.database_url))
                print("database migrated")
                return 0
            case "make-migration":
                asyncio.run(make_revision(settings.database_url, args.message))
                return 0
            case "seed-demo":
                return asyncio.run(_seed(settings, args.if_empty))
            case "create-admin":
                return run_create_admin(settings, _accounts(settings), args)
            case "create-org":
                return asyncio.run(_create_org(settings, args))
            case "create-user":
                return asyncio.run(_create_user(settings, args))
            case "audit":
                if args.action == "checkpoint":
                    return asyncio.run(_audit_checkpoint(settings))
                return asyncio.run(_audit_verify(settings))
    except DomainError as exc:
        print(f"samkonsult: {exc.message}", file=sys.stderr)
        return 2
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
