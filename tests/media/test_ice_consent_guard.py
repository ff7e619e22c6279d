"""A connection closed just as ICE completes must not leave aioice's consent task running."""

import asyncio

import pytest
from aioice import Candidate, Connection, ice

from rooms.media import AiortcHookError
from rooms.media.ice_consent_guard import install_ice_consent_guard

SAFETY_TIMEOUT = 10.0  # only so a broken guard fails instead of hanging; never a timing assertion


async def _pair() -> tuple[Connection, Connection]:
    controlling = Connection(ice_controlling=True, use_ipv6=False)
    controlled = Connection(ice_controlling=False, use_ipv6=False)
    for local, remote in ((controlling, controlled), (controlled, controlling)):
        await local.gather_candidates()
    for local, remote in ((controlling, controlled), (controlled, controlling)):
        for candidate in remote.local_candidates:
            await local.add_remote_candidate(Candidate.from_sdp(candidate.to_sdp()))
        await local.add_remote_candidate(None)
        local.remote_username = remote.local_username
        local.remote_password = remote.local_password
    return controlling, controlled


async def test_a_close_racing_the_end_of_ice_leaves_no_consent_task() -> None:
    install_ice_consent_guard()
    controlling, controlled = await _pair()
    closing: list[asyncio.Task[None]] = []
    real_put = controlling._check_list_state.put_nowait

    def complete_then_close(state: int) -> None:
        # Schedule close() before the completion wakes connect(): close() runs first, finds no
        # consent task yet, and connect() resumes while close() awaits its checks. That is the race.
        if state == ice.ICE_COMPLETED and not closing:
            closing.append(asyncio.ensure_future(controlling.close()))
        real_put(state)

    controlling._check_list_state.put_nowait = complete_then_close  # type: ignore[method-assign]
    try:
        async with asyncio.timeout(SAFETY_TIMEOUT):
            connected = await asyncio.gather(controlling.connect(), controlled.connect(), return_exceptions=True)
            assert closing, f"ICE never completed: {connected}"
            await closing[0]
            consent = controlling._query_consent_task
            assert consent is not None, "connect() resumed before close(): the race was not reproduced"
            await consent  # unguarded, this never ends: close() emptied the pairs it would check
    finally:
        await controlling.close()
        await controlled.close()


def test_an_aioice_that_moved_the_lines_fails_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    async def rewritten_close(self: Connection) -> None:
        """An aioice that marks a closing connection some other way."""

    install_ice_consent_guard()
    monkeypatch.setattr(ice.Connection, "query_consent", ice.Connection.query_consent.__wrapped__)
    monkeypatch.setattr(ice.Connection, "close", rewritten_close)
    with pytest.raises(AiortcHookError, match=r"Connection\.close"):
        install_ice_consent_guard()
