"""Kill the real server (SIGKILL) while saves are in flight, restart it, find every acknowledged save intact.

The server runs as `samkonsult serve` on a temporary SQLite database (WAL, ``synchronous=FULL``), with demo
data and password-only demo logins. Four writers save the same note at once, each appending tokens to its
own profession's text, based on the version it last saw (so every save also merges with the others). A save
counts as acknowledged when the client got its 200; after a kill and a restart each writer's text must hold
every token it saw acknowledged, and the versions must run without a gap.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.helpers import LoopbackSecureJar

ROOT = Path(__file__).resolve().parents[2]
CYCLES = 4
WRITERS = 4
ACKS_BEFORE_KILL = 12
# SQLite serves waiting writers in no particular order, so one writer can take a dozen saves in a row:
# the kill waits until every writer has had one acknowledged in this cycle (or, failing that, this many).
MAX_ACKS_BEFORE_KILL = 400
PASSWORD = "demo-passord-2026"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env(tmp: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAMKONSULT_")}
    env.update({
        "SAMKONSULT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp / 'db.sqlite'}",
        "SAMKONSULT_DEMO_MODE": "true",
        "SAMKONSULT_DEMO_RELAX_TOTP": "true",
        "SAMKONSULT_DEMO_SECRETS_FILE": str(tmp / "secrets.json"),
        "SAMKONSULT_PORT": str(port),
        "SAMKONSULT_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "SAMKONSULT_BACKGROUND_JOBS": "false",
    })
    return env


def _cli(env: dict[str, str], *args: str) -> None:
    done = subprocess.run([sys.executable, "-m", "server.cli", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, f"{args}: {done.stdout}\n{done.stderr}"


def _spawn(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen([sys.executable, "-m", "server.cli", "serve"], cwd=ROOT, env=env, stdout=out,
                                stderr=subprocess.STDOUT)


def _fail_start(proc: subprocess.Popen[bytes], log: Path) -> None:
    proc.kill()
    pytest.fail(f"the server did not start:\n{log.read_text(errors='replace')}")


async def _start(env: dict[str, str], base: str, log: Path) -> subprocess.Popen[bytes]:
    proc = _spawn(env, log)
    deadline = time.monotonic() + 30
    async with aiohttp.ClientSession() as http:
        while True:
            try:
                async with http.get(f"{base}/readyz") as resp:
                    if resp.status == 200:
                        return proc
            except aiohttp.ClientError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                _fail_start(proc, log)
            await asyncio.sleep(0.1)


async def _login(http: aiohttp.ClientSession, base: str, username: str) -> str:
    """Password-only demo login; returns the CSRF token for API calls."""
    import re

    page = await (await http.get(f"{base}/login")).text()
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    resp = await http.post(f"{base}/login", data={"csrf_token": token.group(1), "username": username,
                                                  "password": PASSWORD}, allow_redirects=False)
    assert resp.status == 303, await resp.text()
    page = await (await http.get(f"{base}/account")).text()
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token, "not logged in"
    return token.group(1)


def _professions(note: dict[str, Any]) -> dict[str, str]:
    return {p["profession"]: p["text"] for p in note["content"]["profession_texts"]}


async def _writer(http: aiohttp.ClientSession, url: str, token: str, name: str, cycle: int,
                  note: dict[str, Any], acked: list[str], all_acks: list[tuple[str, str]], stop: asyncio.Event,
                  enough: asyncio.Event) -> None:
    """Append tokens to this writer's text until the server goes away; remember what was acknowledged."""
    seq = 0
    while not stop.is_set():
        seq += 1
        mark = f"c{cycle}s{seq}"
        texts = _professions(note)
        texts[name] = (texts.get(name, "") + " " + mark).strip()
        content = {**note["content"], "profession_texts": [{"profession": p, "text": t} for p, t in texts.items()]}
        try:
            async with http.put(url, json={"based_on": note["version"], "content": content},
                                headers={"X-CSRF-Token": token}) as resp:
                if resp.status != 200:
                    raise AssertionError(f"save refused: {resp.status} {await resp.text()}")
                body = await resp.json()
        except (aiohttp.ClientError, TimeoutError):
            return  # killed mid-request: this save was never acknowledged
        note = body["note"]
        acked.append(mark)
        all_acks.append((name, mark))
        everyone = len({writer for writer, _ in all_acks}) == WRITERS
        if (len(all_acks) >= ACKS_BEFORE_KILL and everyone) or len(all_acks) >= MAX_ACKS_BEFORE_KILL:
            enough.set()


async def test_acknowledged_saves_survive_kill_9(tmp_path: Path) -> None:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = _env(tmp_path, port)
    _cli(env, "migrate")
    _cli(env, "seed-demo")
    with sqlite3.connect(tmp_path / "db.sqlite") as conn:
        booking = conn.execute("SELECT public_id FROM sched_bookings").fetchone()[0]
    log = tmp_path / "serve.log"
    acked: dict[str, list[str]] = {f"w{i}": [] for i in range(WRITERS)}

    for cycle in range(CYCLES):
        proc = await _start(env, base, log)
        try:
            async with aiohttp.ClientSession(cookie_jar=LoopbackSecureJar(),
                                             timeout=aiohttp.ClientTimeout(total=20)) as http:
                token = await _login(http, base, "lege")
                async with http.get(f"{base}/api/bookings/{booking}/note") as resp:
                    assert resp.status == 200
                    note = await resp.json()
                # Everything acknowledged before the last kill is there, intact.
                texts = _professions(note)
                for name, marks in acked.items():
                    assert set(marks) <= set(texts.get(name, "").split()), f"lost saves of {name}"
                url = f"{base}{note['links']['self']}"
                stop, enough = asyncio.Event(), asyncio.Event()
                this_cycle: list[tuple[str, str]] = []

                async def killer(enough_acks: asyncio.Event = enough, stop_event: asyncio.Event = stop,
                                 process: subprocess.Popen[bytes] = proc) -> None:
                    await enough_acks.wait()
                    # The writers keep firing: saves are in flight when the process dies.
                    os.kill(process.pid, signal.SIGKILL)
                    process.wait()
                    stop_event.set()

                await asyncio.gather(killer(), *(
                    _writer(http, url, token, name, cycle, note, acked[name], this_cycle, stop, enough)
                    for name in acked))
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        assert proc.returncode == -signal.SIGKILL

    proc = await _start(env, base, log)
    try:
        async with aiohttp.ClientSession(cookie_jar=LoopbackSecureJar()) as http:
            await _login(http, base, "lege")
            note = await (await http.get(f"{base}/api/bookings/{booking}/note")).json()
            versions: list[dict[str, Any]] = []
            page_url: str | None = note["links"]["versions"]
            while page_url is not None:  # every page, following Link rel="next"
                page = await http.get(f"{base}{page_url}")
                versions += await page.json()
                page_url = page.links["next"]["url"].path_qs if "next" in page.links else None
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=15)
    texts = _professions(note)
    for name, marks in acked.items():
        assert marks, f"{name} never got a save acknowledged"
        assert set(marks) <= set(texts[name].split()), f"lost saves of {name}"
    assert [v["version"] for v in versions] == list(range(1, note["version"] + 1))
