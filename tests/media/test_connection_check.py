"""The connection check's echo, with a real aiortc client peer over loopback.

The client sends synthetic video and audio and opens a data channel, as the check page does; the server
must send the same media back on the same m-lines, answer pings, close the connection at its time limit,
and refuse checks past its cap and a client's rate.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from aiortc import AudioStreamTrack, RTCDataChannel, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from rooms.media.codec_pinning import pinned_codec_preferences
from rooms.media.connection_check import (
    CheckLimits,
    ConnectionCheckAlreadyOffered,
    ConnectionCheckBusy,
    ConnectionCheckRateLimited,
    ConnectionCheckService,
    InvalidCheckOffer,
    UnknownConnectionCheck,
)
from server.platform.clock import FixedClock

from .loopback_peers import SyntheticVideo, assert_no_task_left, loopback_pc, wait_until


class CheckClient:
    """The check page's stand-in: sends audio and video, counts what comes back, pings the server."""

    def __init__(self) -> None:
        self.pc = loopback_pc()
        self.frames_back: Counter[str] = Counter()
        self.messages: list[dict[str, object]] = []
        self._consumers: list[asyncio.Task[None]] = []
        self.pc.on("track", self._on_track)
        self.channel: RTCDataChannel = self.pc.createDataChannel("check")
        self.channel.on("message", lambda m: self.messages.append(json.loads(m)))

    def _on_track(self, track: MediaStreamTrack) -> None:
        self._consumers.append(asyncio.ensure_future(self._consume(track)))

    async def _consume(self, track: MediaStreamTrack) -> None:
        try:
            while True:
                await track.recv()  # decoded: the server's echo is real VP8/Opus
                self.frames_back[track.kind] += 1
        except MediaStreamError:
            pass

    async def offer(self, *, media: bool = True) -> str:
        if media:
            for track in (SyntheticVideo(), AudioStreamTrack()):
                transceiver = self.pc.addTransceiver(track, direction="sendrecv")
                transceiver.setCodecPreferences(pinned_codec_preferences(track.kind))
        await self.pc.setLocalDescription(await self.pc.createOffer())
        return str(self.pc.localDescription.sdp)

    async def accept(self, answer: str) -> None:
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))

    async def close(self) -> None:
        await self.pc.close()
        for task in self._consumers:
            task.cancel()
        await asyncio.gather(*self._consumers, return_exceptions=True)


class CheckBench:
    def __init__(self) -> None:
        self.clock = FixedClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
        self.service = ConnectionCheckService(clock=self.clock)
        self.clients: list[CheckClient] = []

    def limit(self, limits: CheckLimits) -> None:
        """Use these limits (before the first check starts)."""
        assert self.service.running == 0
        self.service = ConnectionCheckService(clock=self.clock, limits=limits)

    def client(self) -> CheckClient:
        client = CheckClient()
        self.clients.append(client)
        return client

    async def close(self) -> None:
        await self.service.close()
        for client in self.clients:
            await client.close()


@pytest.fixture
async def bench() -> AsyncIterator[CheckBench]:
    check_bench = CheckBench()
    try:
        yield check_bench
    finally:
        await check_bench.close()
    await assert_no_task_left("the connection check")  # nothing of a check or of aiortc may outlive it


async def test_media_comes_back_and_pings_are_answered(bench: CheckBench) -> None:
    client = bench.client()
    ticket = bench.service.start("203.0.113.7")
    await client.accept(await bench.service.answer(ticket.check_id, await client.offer()))

    await wait_until(lambda: client.frames_back["video"] >= 10 and client.frames_back["audio"] >= 10,
                     "video and audio come back from the server")
    await wait_until(lambda: client.channel.readyState == "open", "the data channel opens")
    client.channel.send(json.dumps({"type": "ping", "seq": 41}))
    client.channel.send("not json at all")  # ignored, and the channel stays usable
    client.channel.send(json.dumps({"type": "ping", "seq": 42}))
    client.channel.send(json.dumps({"type": "report"}))
    await wait_until(lambda: len(client.messages) >= 3, "pings and the report are answered")
    assert client.messages[:2] == [{"type": "pong", "seq": 41}, {"type": "pong", "seq": 42}]
    report = client.messages[2]
    assert report["type"] == "report"
    assert isinstance(report["received"], dict) and report["received"]["video"] > 0
    assert isinstance(report["returned"], dict) and report["returned"]["audio"] > 0


async def test_bye_on_the_data_channel_frees_the_place(bench: CheckBench) -> None:
    client = bench.client()
    ticket = bench.service.start("203.0.113.7")
    await client.accept(await bench.service.answer(ticket.check_id, await client.offer(media=False)))
    await wait_until(lambda: client.channel.readyState == "open", "the data channel opens")
    assert bench.service.running == 1
    client.channel.send(json.dumps({"type": "bye"}))
    await wait_until(lambda: bench.service.running == 0, "the server ends the check")
    with pytest.raises(UnknownConnectionCheck):
        bench.service.report(ticket.check_id)


async def test_the_server_closes_the_connection_at_the_time_limit(bench: CheckBench) -> None:
    bench.limit(CheckLimits(time_limit=1.5))
    client = bench.client()
    ticket = bench.service.start("203.0.113.7")
    await client.accept(await bench.service.answer(ticket.check_id, await client.offer()))
    await wait_until(lambda: client.frames_back["video"] > 0, "video comes back")
    # The client does nothing more: the server alone ends the check.
    await wait_until(lambda: bench.service.running == 0, "the check is over at its time limit")
    await wait_until(lambda: client.pc.connectionState in ("closed", "failed") or
                     client.channel.readyState == "closed", "the client sees the connection end")
    with pytest.raises(UnknownConnectionCheck):
        await bench.service.answer(ticket.check_id, await bench.client().offer())


async def test_the_cap_refuses_a_check_with_a_clear_error(bench: CheckBench) -> None:
    bench.limit(CheckLimits(max_running=2))
    first = bench.service.start("198.51.100.1")
    bench.service.start("198.51.100.2")
    with pytest.raises(ConnectionCheckBusy) as refused:
        bench.service.start("198.51.100.3")
    assert refused.value.code == "check_busy"
    assert refused.value.retry_after_seconds > 0
    await bench.service.stop(first.check_id)
    bench.service.start("198.51.100.3")  # a place is free again


async def test_one_client_is_rate_limited_and_others_are_not(bench: CheckBench) -> None:
    bench.limit(CheckLimits(per_client=3, per_client_window=timedelta(minutes=10)))
    for _ in range(3):
        await bench.service.stop(bench.service.start("192.0.2.5").check_id)
    with pytest.raises(ConnectionCheckRateLimited) as refused:
        bench.service.start("192.0.2.5")
    assert refused.value.code == "rate_limited"
    assert 0 < refused.value.retry_after_seconds <= 601
    bench.service.start("192.0.2.6")
    bench.clock.advance(timedelta(minutes=10, seconds=1))
    bench.service.start("192.0.2.5")  # the window has passed


async def test_offers_the_check_cannot_answer_are_refused_before_anything_is_applied(bench: CheckBench) -> None:
    ticket = bench.service.start("203.0.113.7")
    for bad, code in [("", "required"), ("v=0\r\nthis is not sdp", "sdp_media"), ("x" * 20_001, "too_long")]:
        with pytest.raises(InvalidCheckOffer) as refused:
            await bench.service.answer(ticket.check_id, bad)
        assert refused.value.fields == {"sdp": code}
    # Media without a data channel: the page could not measure anything.
    media_only = loopback_pc()
    try:
        media_only.addTransceiver(AudioStreamTrack(), direction="sendrecv")
        await media_only.setLocalDescription(await media_only.createOffer())
        with pytest.raises(InvalidCheckOffer) as refused:
            await bench.service.answer(ticket.check_id, media_only.localDescription.sdp)
        assert refused.value.fields == {"sdp": "sdp_media"}
    finally:
        await media_only.close()
    # The check is still waiting for a good offer, and takes exactly one.
    good = bench.client()
    await good.accept(await bench.service.answer(ticket.check_id, await good.offer(media=False)))
    with pytest.raises(ConnectionCheckAlreadyOffered):
        await bench.service.answer(ticket.check_id, await bench.client().offer(media=False))
