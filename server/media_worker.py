"""A media worker process: ``python -m server.media_worker [--forwarding=MODE] <fd>``, started by the server,
never by hand.

It serves the media of the rooms pinned to it over the channel inherited as file descriptor ``fd`` and
exits when the server closes that channel (or dies). Interrupts and stop requests are the server's to
handle: Ctrl-C in a terminal, ``timeout`` and a service manager reach the whole process group, and a
worker must close its peer connections when the server tells it to, not die halfway. The server kills a
worker that does not stop.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import sys
from collections.abc import Sequence

from rooms.live_media import default_peer_factory
from rooms.media import DEFAULT_FORWARDING, FORWARDING_MODES, ForwardingMode, check_forwarding_mode, verify_aiortc_hook
from rooms.media_host import MediaHost
from server.collector import settle_after_startup
from server.recorder import make_recorder

log = logging.getLogger("samkonsult.media_worker")


_FORWARDING_OPTION = "--forwarding="


def worker_command(forwarding: ForwardingMode = DEFAULT_FORWARDING) -> list[str]:
    """How the server starts a worker with this Python (the channel's descriptor is appended)."""
    return [sys.executable, "-m", "server.media_worker", _FORWARDING_OPTION + forwarding]


async def _serve(fd: int, forwarding: ForwardingMode) -> None:
    channel = socket.socket(fileno=fd)
    reader, writer = await asyncio.open_connection(sock=channel)
    settle_after_startup()  # a full collection's pause would stall every stream of every room here
    await MediaHost(reader, writer, peer_factory=default_peer_factory, recorder_factory=make_recorder,
                    forwarding=forwarding).serve()


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    forwarding = DEFAULT_FORWARDING
    if args and args[0].startswith(_FORWARDING_OPTION) and args[0][len(_FORWARDING_OPTION):] in FORWARDING_MODES:
        forwarding = check_forwarding_mode(args.pop(0)[len(_FORWARDING_OPTION):])
    if len(args) != 1 or not args[0].isdigit():
        print(f"usage: python -m server.media_worker [{_FORWARDING_OPTION}frames|packets] <channel fd> "
              "(started by the server)", file=sys.stderr)
        return 2
    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop_signal, signal.SIG_IGN)
    level = os.environ.get("SAMKONSULT_LOG_LEVEL", "INFO").upper()
    logging.basicConfig(level=level if level in {"DEBUG", "INFO", "WARNING", "ERROR"} else "INFO",
                        format="%(asctime)s %(levelname)s media-worker[%(process)d] %(name)s: %(message)s")
    verify_aiortc_hook()  # an aiortc that moved its internals must stop the worker at once, loudly
    asyncio.run(_serve(int(args[0]), forwarding))
    return 0


if __name__ == "__main__":
    sys.exit(main())
