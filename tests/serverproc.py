"""The real server as a subprocess, started the way `make run` starts it: migrate, seed-demo, serve.

Listens on a free loopback port with a temporary SQLite database, and stops when the block ends.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT_SECONDS = 30


class ServerError(RuntimeError):
    """The server could not be prepared or started; the message holds its output."""


@dataclass(frozen=True)
class Server:
    base_url: str
    log_path: Path
    env: dict[str, str]

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stop_process(proc: subprocess.Popen[bytes], grace_seconds: float = 10) -> None:
    """Ask a process the tests started to stop (SIGTERM); kill it if it has not within ``grace_seconds``."""
    proc.terminate()
    try:
        proc.wait(timeout=grace_seconds)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def run_cli(env: dict[str, str], *args: str) -> None:
    done = subprocess.run([sys.executable, "-m", "server.cli", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0:
        raise ServerError(f"samkonsult {' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")


def is_ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as resp:
            return bool(resp.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def server_env(tmp: Path, port: int, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAMKONSULT_")}
    env.update({
        "SAMKONSULT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp / 'db.sqlite'}",
        "SAMKONSULT_DEMO_MODE": "true",
        "SAMKONSULT_DEMO_SECRETS_FILE": str(tmp / "secrets.json"),
        "SAMKONSULT_AUDIT_CHECKPOINT_FILE": str(tmp / "audit-checkpoints.jsonl"),
        "SAMKONSULT_RECORDING_DIR": str(tmp / "recordings"),
        "SAMKONSULT_PORT": str(port),
        "SAMKONSULT_PUBLIC_URL": f"http://127.0.0.1:{port}",
    })
    env.update(extra)
    return env


@contextmanager
def serving(env: dict[str, str], log_path: Path) -> Iterator[int]:
    """``samkonsult serve`` as a child process with ``env``; yields its pid once /readyz answers."""
    base_url = f"http://127.0.0.1:{env['SAMKONSULT_PORT']}"  # its own port: a front may not be up yet
    with log_path.open("w", encoding="utf-8") as log_file:
        proc = subprocess.Popen([sys.executable, "-m", "server.cli", "serve"], cwd=ROOT, env=env,
                                stdout=log_file, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + START_TIMEOUT_SECONDS
            while not is_ready(f"{base_url}/readyz"):
                if proc.poll() is not None:
                    raise ServerError(f"the server exited with {proc.returncode}:\n{log_path.read_text()}")
                if time.monotonic() > deadline:
                    raise ServerError(f"the server was not ready in {START_TIMEOUT_SECONDS} s:\n{log_path.read_text()}")
                time.sleep(0.1)
            yield proc.pid
        finally:
            stop_process(proc, grace_seconds=15)


@contextmanager
def running_server(tmp: Path, *, seed: bool = True, **extra_env: str) -> Iterator[Server]:
    """Migrate (and seed), serve, wait for /readyz; terminate the process afterwards."""
    port = free_port()
    env = server_env(tmp, port, **extra_env)
    run_cli(env, "migrate")
    if seed:
        run_cli(env, "seed-demo", "--if-empty")
    log_path = tmp / f"serve-{port}.log"
    with serving(env, log_path):
        yield Server(env["SAMKONSULT_PUBLIC_URL"], log_path, env)
