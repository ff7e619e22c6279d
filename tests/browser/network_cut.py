"""A network of its own for one browser, which a test can cut: a Linux network namespace and nftables.

One participant's Chromium runs inside a namespace joined to this machine by a veth pair, so its UDP
(the media path) can be dropped by an nftables rule inside the namespace without touching anyone
else's. The browser still opens the server at ``127.0.0.1:PORT`` (a secure context for camera and
cookies): a small forwarder listens there inside the namespace and relays each TCP connection to the
server, and can cut them all at once, as a lost network does. Needs root and ``nft``
(``scripts/install-system-packages.sh``); anything missing fails the test, it never skips it.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import re
import secrets
import shutil
import socket
import subprocess
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

CLONE_NEWNET = 0x40000000

# Drops every UDP packet in and out of the namespace: ICE, DTLS and RTP alike; TCP is untouched.
_BLOCK_UDP = """table inet cut {
  chain out { type filter hook output priority 0; policy accept; meta l4proto udp drop; }
  chain in { type filter hook input priority 0; policy accept; meta l4proto udp drop; }
}
"""


def _run(*args: str, stdin: str | None = None) -> None:
    done = subprocess.run(args, input=stdin, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.fail(f"`{' '.join(args)}` failed ({done.returncode}): {done.stderr.strip()}; the network-drop "
                    "test needs root (CAP_NET_ADMIN), iproute2 and nftables")


@dataclass
class Namespace:
    """A network namespace with a veth link to this machine and a default route through it."""

    name: str
    host_ip: str
    udp_blocked: bool = False

    def block_udp(self) -> None:
        """Drop all UDP of the namespace: its browser's media path is gone, its signaling is not."""
        _run("ip", "netns", "exec", self.name, "nft", "-f", "-", stdin=_BLOCK_UDP)
        self.udp_blocked = True

    def restore_udp(self) -> None:
        _run("ip", "netns", "exec", self.name, "nft", "delete", "table", "inet", "cut")
        self.udp_blocked = False

    def chromium_wrapper(self, directory: Path, chromium: str) -> Path:
        """An executable that starts ``chromium`` inside the namespace (Playwright's pipe passes through)."""
        wrapper = directory / "chromium-in-netns"
        wrapper.write_text(f'#!/bin/sh\nexec ip netns exec {self.name} {chromium} "$@"\n', encoding="utf-8")
        wrapper.chmod(0o755)
        return wrapper


@contextlib.contextmanager
def namespace() -> Iterator[Namespace]:
    """Create the namespace and its veth pair; delete both afterwards, whatever happened."""
    for tool in ("ip", "ss", "nft"):
        if shutil.which(tool) is None:
            pytest.fail(f"`{tool}` is missing: `make pytest` installs it (scripts/install-system-packages.sh)")
    tag = secrets.token_hex(3)
    name, host_if, ns_if = f"samk-drop-{tag}", f"skd{tag}h", f"skd{tag}n"
    subnet = f"10.213.{secrets.randbelow(256)}"
    _run("ip", "netns", "add", name)
    try:
        _run("ip", "link", "add", host_if, "type", "veth", "peer", "name", ns_if, "netns", name)
        _run("ip", "addr", "add", f"{subnet}.1/30", "dev", host_if)
        _run("ip", "link", "set", host_if, "up")
        _run("ip", "-n", name, "addr", "add", f"{subnet}.2/30", "dev", ns_if)
        _run("ip", "-n", name, "link", "set", ns_if, "up")
        _run("ip", "-n", name, "link", "set", "lo", "up")
        _run("ip", "-n", name, "route", "add", "default", "via", f"{subnet}.1")
        yield Namespace(name, f"{subnet}.1")
    finally:
        # Deleting the namespace deletes its end of the veth, its rules, and with it the host's end.
        subprocess.run(["ip", "netns", "del", name], capture_output=True, check=False)
        subprocess.run(["ip", "link", "del", host_if], capture_output=True, check=False)


def _listen_inside(name: str, port: int) -> socket.socket:
    """A listening TCP socket on 127.0.0.1:``port`` of namespace ``name`` (made on a throwaway thread:
    setns moves only the calling thread, and a socket stays in the namespace it was made in)."""
    result: list[socket.socket | BaseException] = []

    def make() -> None:
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            fd = os.open(f"/run/netns/{name}", os.O_RDONLY)
            try:
                if libc.setns(fd, CLONE_NEWNET) != 0:
                    errno = ctypes.get_errno()
                    raise OSError(errno, os.strerror(errno))
            finally:
                os.close(fd)
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("127.0.0.1", port))
            sock.listen(64)
            sock.setblocking(False)
            result.append(sock)
        except BaseException as exc:  # handed to the caller's thread
            result.append(exc)

    thread = threading.Thread(target=make, name="netns-listener")
    thread.start()
    thread.join()
    if isinstance(result[0], BaseException):
        pytest.fail(f"cannot listen inside namespace {name}: {result[0]}")
    return result[0]


@dataclass
class Forwarder:
    """Relays TCP from 127.0.0.1:port inside the namespace to the server on this machine's 127.0.0.1:port."""

    port: int
    _server: asyncio.Server | None = None
    _writers: set[asyncio.StreamWriter] = field(default_factory=set)

    async def start(self, ns: Namespace) -> None:
        self._server = await asyncio.start_server(self._relay, sock=_listen_inside(ns.name, self.port))

    async def _relay(self, inside_r: asyncio.StreamReader, inside_w: asyncio.StreamWriter) -> None:
        try:
            server_r, server_w = await asyncio.open_connection("127.0.0.1", self.port)
        except OSError:
            inside_w.transport.abort()
            return
        self._writers.update((inside_w, server_w))

        async def pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError, asyncio.CancelledError):
                while data := await reader.read(65536):
                    writer.write(data)
                    await writer.drain()
            writer.transport.abort()

        await asyncio.gather(pump(inside_r, server_w), pump(server_r, inside_w))
        self._writers.difference_update((inside_w, server_w))

    async def cut(self) -> None:
        """The network is gone: every connection is reset and no new one gets through."""
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()


@contextlib.asynccontextmanager
async def forwarder(ns: Namespace, port: int) -> AsyncIterator[Forwarder]:
    relay = Forwarder(port)
    await relay.start(ns)
    try:
        yield relay
    finally:
        await relay.cut()


def listening_pid(port: int) -> int:
    """The process listening on TCP ``port`` of this machine (the server under test)."""
    out = subprocess.run(["ss", "-H", "-ltnp", f"sport = :{port}"], capture_output=True, text=True,
                         check=True).stdout
    match = re.search(r"pid=(\d+)", out)
    assert match, f"nothing listens on port {port}: {out!r}"
    return int(match.group(1))


def _with_children(pid: int) -> set[int]:
    """``pid`` and its descendants (the server's media workers, which hold its peer connections)."""
    family, todo = set(), [pid]
    while todo:
        current = todo.pop()
        family.add(current)
        for task in Path(f"/proc/{current}/task").glob("*/children"):
            with contextlib.suppress(OSError):
                todo.extend(int(child) for child in task.read_text().split())
    return family


def udp_sockets(pid: int) -> set[str]:
    """The local addresses of the UDP sockets process ``pid`` and its children hold open (aiortc's ICE
    sockets: in the media workers when the server runs them, else in the server itself)."""
    out = subprocess.run(["ss", "-H", "-uanp"], capture_output=True, text=True, check=True).stdout
    pids = _with_children(pid)
    return {line.split()[3] for line in out.splitlines()
            if any(f"pid={p}," in line for p in pids)}
