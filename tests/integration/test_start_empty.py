"""Starting empty, as a health trust does: migrate, serve (which names create-admin), create the first
administrator from the console, and log in over HTTP to the two-factor enrolment.

Every command runs as the real ``samkonsult`` process on a temporary SQLite database, outside demo mode.
"""

from __future__ import annotations

import os
import pty
import re
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import aiohttp

from server.admin_console import CREATE_ADMIN_HINT
from server.people import totp
from server.platform.clock import SystemClock
from tests.helpers import LoopbackSecureJar
from tests.serverproc import ROOT, free_port, run_cli, server_env, serving

PASSWORD = "fjellvann-og-fyr-2027"
ADMIN_OPTIONS = ("--name", "Hanne Nordvik", "--username", "hanne.nordvik", "--email", "hanne.nordvik@hn.example.no",
                 "--organisation", "Helse Nord-Trøndelag")
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_ENROL_KEY = re.compile(r"<code>([A-Z2-7]+)</code>")


def production_env(tmp: Path) -> dict[str, str]:
    """Demo mode off, secrets of its own: what the README tells a trust to set."""
    port = free_port()
    return server_env(tmp, port, SAMKONSULT_DEMO_MODE="false", SAMKONSULT_SESSION_SECRET=os.urandom(24).hex(),
                      SAMKONSULT_TOTP_ENCRYPTION_KEY=os.urandom(24).hex(),
                      SAMKONSULT_AUDIT_KEY=os.urandom(24).hex())


def cli(env: dict[str, str], *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "server.cli", *args], cwd=ROOT, env=env, input=stdin,
                          capture_output=True, text=True, timeout=120, check=False)


def users(tmp: Path) -> list[tuple[str, str, int, int]]:
    with sqlite3.connect(tmp / "db.sqlite") as conn:
        return list(conn.execute("SELECT username, role, totp_confirmed, is_demo FROM users ORDER BY id"))


async def _log_in_to_enrolment(base_url: str, username: str, password: str) -> str:
    """Log in with the password; returns the page the server sends the user to after it, read in full."""
    async with aiohttp.ClientSession(base_url, cookie_jar=LoopbackSecureJar()) as client:
        async with client.get("/login") as resp:
            token = _CSRF.search(await resp.text())
        assert token
        async with client.post("/login", data={"csrf_token": token.group(1), "username": username,
                                               "password": password}, allow_redirects=False) as resp:
            assert resp.status == 303, await resp.text()
            target = resp.headers["Location"]
        assert target == "/login/enrol"
        async with client.get(target) as resp:
            assert resp.status == 200
            page = await resp.text()
        key = _ENROL_KEY.search(page)
        assert key, "the enrolment page shows no key to type into an authenticator app"
        # Enrolling with a code from that key lets the administrator in, to the administrator's pages.
        code = totp.current_code(key.group(1), SystemClock().now())
        async with client.post("/login/enrol", data={"csrf_token": token.group(1), "code": code},
                               allow_redirects=False) as resp:
            assert resp.status == 303, await resp.text()
            landed = resp.headers["Location"]
        async with client.get(landed) as resp:
            assert resp.status == 200
        return landed


async def test_a_trust_starts_empty_and_its_first_admin_enrols_two_factor_at_first_login(tmp_path: Path) -> None:
    env = production_env(tmp_path)
    run_cli(env, "migrate")
    with serving(env, tmp_path / "empty.log"):
        pass
    log = (tmp_path / "empty.log").read_text()
    assert log.count(CREATE_ADMIN_HINT) == 1, log
    assert "password for all" not in log  # no demo logins printed outside demo mode
    assert users(tmp_path) == []  # serve loaded nothing

    done = cli(env, "create-admin", *ADMIN_OPTIONS, stdin=PASSWORD + "\n")
    assert done.returncode == 0, done.stderr
    assert "hanne.nordvik" in done.stdout and "Helse Nord-Trøndelag (created now)" in done.stdout
    assert users(tmp_path) == [("hanne.nordvik", "admin", 0, 0)]
    with sqlite3.connect(tmp_path / "db.sqlite") as conn:
        assert list(conn.execute("SELECT name, kind FROM organisations")) == [("Helse Nord-Trøndelag", "hospital")]
        audited = list(conn.execute("SELECT actor_id, object_type, action FROM audit_entries ORDER BY seq"))
    os_user = audited[0][0]
    assert os_user.startswith("console:")
    assert [row[1:] for row in audited] == [("organisation", "create"), ("user", "create")]
    assert cli(env, "audit", "verify").returncode == 0

    with serving(env, tmp_path / "second.log"):
        landed = await _log_in_to_enrolment(env["SAMKONSULT_PUBLIC_URL"], "hanne.nordvik", PASSWORD)
    assert landed.startswith("/admin")
    assert CREATE_ADMIN_HINT not in (tmp_path / "second.log").read_text()
    assert users(tmp_path) == [("hanne.nordvik", "admin", 1, 0)]


def test_a_weak_password_is_refused_with_the_apps_rule_and_nothing_is_created(tmp_path: Path) -> None:
    env = production_env(tmp_path)
    run_cli(env, "migrate")
    short = cli(env, "create-admin", *ADMIN_OPTIONS, stdin="kort123\n")
    assert short.returncode == 2
    assert "at least 10 characters" in short.stderr
    spaced = cli(env, "create-admin", *ADMIN_OPTIONS, stdin=" " + PASSWORD + "\n")
    assert spaced.returncode == 2 and "space" in spaced.stderr
    assert users(tmp_path) == []
    with sqlite3.connect(tmp_path / "db.sqlite") as conn:
        assert list(conn.execute("SELECT name FROM organisations")) == []


def test_a_second_admin_needs_another_and_an_existing_organisation(tmp_path: Path) -> None:
    env = production_env(tmp_path)
    run_cli(env, "migrate")
    assert cli(env, "create-admin", *ADMIN_OPTIONS, stdin=PASSWORD + "\n").returncode == 0
    second = ("--name", "Ola Vik", "--username", "ola.vik", "--email", "ola.vik@hn.example.no")
    refused = cli(env, "create-admin", *second, stdin=PASSWORD + "\n")
    assert refused.returncode == 1
    assert "--another" in refused.stderr
    unknown = cli(env, "create-admin", "--another", *second, "--organisation", "Helse Sør", stdin=PASSWORD + "\n")
    assert unknown.returncode == 2 and "Helse Nord-Trøndelag" in unknown.stderr
    taken = cli(env, "create-admin", "--another", "--name", "X", "--username", "hanne.nordvik", "--email",
                "x@hn.example.no", stdin=PASSWORD + "\n")
    assert taken.returncode == 2 and "username is taken" in taken.stderr
    # The only organisation is taken when none is named.
    another = cli(env, "create-admin", "--another", *second, stdin=PASSWORD + "\n")
    assert another.returncode == 0, another.stderr
    assert users(tmp_path) == [("hanne.nordvik", "admin", 0, 0), ("ola.vik", "admin", 0, 0)]


def test_without_a_terminal_every_field_must_be_given(tmp_path: Path) -> None:
    env = production_env(tmp_path)
    run_cli(env, "migrate")
    done = cli(env, "create-admin", "--name", "Hanne Nordvik", stdin=PASSWORD + "\n")
    assert done.returncode == 2 and "--username is required" in done.stderr
    assert users(tmp_path) == []


def _read_until(fd: int, marker: str, seen: list[str]) -> None:
    deadline = time.monotonic() + 60  # a safety net: each read returns as soon as output comes
    while marker not in "".join(seen):
        assert time.monotonic() < deadline, "".join(seen)
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        seen.append(chunk.decode(errors="replace"))
    assert marker in "".join(seen), "".join(seen)


def test_at_a_terminal_it_asks_and_takes_the_password_twice_without_echo(tmp_path: Path) -> None:
    env = production_env(tmp_path)
    run_cli(env, "migrate")
    pid, fd = pty.fork()
    if pid == 0:  # the child: samkonsult with the pseudo-terminal as its terminal
        os.chdir(ROOT)
        os.execve(sys.executable, [sys.executable, "-m", "server.cli", "create-admin"], env)
    seen: list[str] = []
    try:
        for question, answer in (("Full name: ", "Hanne Nordvik"), ("Username: ", "hanne.nordvik"),
                                 ("E-mail: ", "hanne.nordvik@hn.example.no"),
                                 ("Name of the health trust: ", "Helse Nord-Trøndelag"),
                                 ("Password: ", "kort"),
                                 ("at least 10 characters", None),
                                 ("Password: ", PASSWORD), ("Password again: ", PASSWORD + "x"),
                                 ("differ", None),
                                 ("Password: ", PASSWORD), ("Password again: ", PASSWORD),
                                 ("Created administrator hanne.nordvik", None)):
            _read_until(fd, question, seen)
            text = "".join(seen)
            seen.clear()
            seen.append(text[text.index(question) + len(question):])
            if answer is not None:
                os.write(fd, (answer + "\n").encode())
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    assert os.waitstatus_to_exitcode(status) == 0
    assert users(tmp_path) == [("hanne.nordvik", "admin", 0, 0)]


def test_production_refuses_demo_accounts_and_demo_data(tmp_path: Path) -> None:
    env = production_env(tmp_path)
    run_cli(env, "migrate")
    refused = cli(env, "seed-demo")
    assert refused.returncode == 1 and "demo mode only" in refused.stderr
    assert users(tmp_path) == []
    run_cli({**env, "SAMKONSULT_DEMO_MODE": "true", "SAMKONSULT_SESSION_SECRET": "",
             "SAMKONSULT_TOTP_ENCRYPTION_KEY": ""}, "seed-demo")
    serve = cli(env, "serve")
    assert serve.returncode == 2
    assert "demo accounts" in serve.stderr and "public" in serve.stderr


def test_serve_on_a_database_never_migrated_says_to_migrate(tmp_path: Path) -> None:
    served = cli(production_env(tmp_path), "serve")
    assert served.returncode == 2 and "samkonsult migrate" in served.stderr

