"""A throwaway Redis on loopback for the tests that span nodes: Debian's redis-server, nothing kept on disk."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.serverproc import free_port, stop_process

REDIS_SERVER = "/usr/bin/redis-server"


@contextmanager
def running_redis(directory: Path) -> Iterator[str]:
    """Start redis-server on a free loopback port; yields its URL; stops it afterwards."""
    if not shutil.which(REDIS_SERVER):
        message = f"{REDIS_SERVER} is missing; `make pytest` installs it (scripts/install-system-packages.sh)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    port = free_port()
    proc = subprocess.Popen(
        [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(directory), "--protected-mode", "yes"],
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 10
        while True:
            probe = subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True, text=True,
                                   check=False)
            if probe.stdout.strip() == "PONG":
                break
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"redis-server did not start on port {port}")
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        stop_process(proc)
