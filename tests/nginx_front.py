"""nginx in front of several nodes, as a trust runs it: one address for everyone, nodes behind it.

Debian's nginx on a loopback port, passing WebSockets on (as ``docs/deploy/nginx.conf`` does) to the
first node, and to the next when the first refuses the connection (``backup``): the way a front sends
people on to a live node when one stops.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.serverproc import is_ready, stop_process

NGINX = "/usr/sbin/nginx"

_CONFIG = """
user root;
worker_processes 1;
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/nginx-error.log notice;
events {{ worker_connections 512; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;

    map $http_upgrade $connection_upgrade {{
        default upgrade;
        ''      close;
    }}

    upstream nodes {{
{servers}
    }}

    server {{
        listen 127.0.0.1:{port};
        proxy_http_version 1.1;
        proxy_set_header Host $http_host;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection $connection_upgrade;
        proxy_connect_timeout 1s;
        proxy_next_upstream error timeout;
        proxy_read_timeout 1h;
        location / {{
            proxy_pass http://nodes;
        }}
    }}
}}
"""


@contextmanager
def running_front(directory: Path, port: int, node_ports: list[int]) -> Iterator[str]:
    """nginx on ``port`` in front of the nodes (the first preferred, the others its backups); yields its URL."""
    if not shutil.which(NGINX):
        message = f"{NGINX} is missing; `make pytest` installs it (scripts/install-system-packages.sh)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    directory.mkdir(parents=True, exist_ok=True)
    first, *others = node_ports
    servers = [f"        server 127.0.0.1:{first} max_fails=1 fail_timeout=30s;"]
    servers += [f"        server 127.0.0.1:{other} backup;" for other in others]
    config = directory / "nginx.conf"
    config.write_text(_CONFIG.format(dir=directory, port=port, servers="\n".join(servers)), encoding="utf-8")
    proc = subprocess.Popen([NGINX, "-p", str(directory), "-c", str(config)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while not is_ready(f"{url}/readyz"):
            if proc.poll() is not None or time.monotonic() > deadline:
                log = directory / "nginx-error.log"
                pytest.fail(f"nginx did not start on port {port}:\n{log.read_text() if log.exists() else ''}")
            time.sleep(0.1)
        yield url
    finally:
        stop_process(proc)
