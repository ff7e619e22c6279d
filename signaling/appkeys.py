"""Typed app keys that only the signaling endpoint reads (the shared live services are in
``rooms.appkeys``)."""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web

from rooms.access import Caller
from signaling.connection import Connection

CONNECTIONS: web.AppKey[set[Connection]] = web.AppKey("signaling_connections")
# Monotonic seconds for per-socket rate limits: time.monotonic in production, a fake in tests.
MONOTONIC: web.AppKey[Callable[[], float]] = web.AppKey("signaling_monotonic")
# Who is calling, read from the HTTP session and cookies; given by the composition root, so the socket
# admits people exactly as the call page does without importing the HTTP side.
CALLER: web.AppKey[Callable[[web.Request], Caller]] = web.AppKey("signaling_caller")
