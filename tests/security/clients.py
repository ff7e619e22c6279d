"""More browsers against the app under test: another cookie jar, and if asked another client address."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import TCPConnector
from aiohttp.test_utils import TestClient

from tests.helpers import LoopbackSecureJar


@asynccontextmanager
async def another_browser(client: TestClient, source_address: str | None = None) -> AsyncIterator[TestClient]:
    """A second client of the same running server, with its own cookies.

    ``source_address`` picks the loopback address the connection comes from (any of 127.0.0.0/8 reaches
    the server), so the app sees a different ``request.remote`` without trusting any header.
    """
    connector = TCPConnector(local_addr=(source_address, 0)) if source_address else None
    other = TestClient(client.server, cookie_jar=LoopbackSecureJar(), connector=connector)
    try:
        yield other
    finally:
        # Only this client's session: the server belongs to the fixture that started it.
        await other.session.close()
