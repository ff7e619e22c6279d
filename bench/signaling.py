"""Signaling: 2,000 WebSockets on ``/ws`` in one server process, memory per idle socket, chat fan-out.

Starts the real server (``migrate``, ``seed-demo``, ``serve``) on loopback with a temporary SQLite
database. Before it starts, the bench writes what many real participants would have into that database
through the server's own services and models: one nurse account per room with a person resource and a
booking that is open now, a staff session for each nurse (``SessionStore.create``, as the login page does
after the second factor), and guest sessions bought with one-time join codes (``JoinCodeService.issue`` and
``GuestAccess.redeem``, as the ``/join`` page does). Nothing is added to the server.

The clients run in a child process, so they do not share the server's core or event loop:

1. every room's nurse opens a socket and joins (admitted directly), each guest opens one and joins (the
   waiting room), and the nurse admits them: ``--sockets`` sockets in rooms of ``--room-size``;
2. after the sockets have been idle for a few seconds, the server's RSS (``/proc/<pid>/status``) is read
   again: (idle RSS - RSS before) / sockets is the memory per idle connection (target <= 50 KiB);
3. messages are sent at a fixed aggregate rate (open loop) from a random participant of each room in
   turn, first at ``--baseline-rate`` (the baseline), then at ``--rate`` (target: p99 <= 20 ms at
   500/s); each is timed from just before the client sends it until each other participant of the
   room has read it: per-recipient latency p50/p95/p99, the deliveries lost, the server's CPU. Two
   kinds: mute changes (reader, room, queues and writers only) and chat messages (the same path plus
   the audit row the server writes, and waits for, before it shows a chat message to anyone);
4. all sockets close; the server is stopped.

Prints figures and the ratio to the baseline; asserts nothing about timings (quality.md).

Run: .venv/bin/python bench/signaling.py [--sockets 2000] [--room-size 5] [--rate 500] [--seconds 20]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import random
import resource
import secrets
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from multiprocessing.connection import Connection as Pipe
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere without installing

from rooms.join_codes import JoinCodeService
from rooms.models import GuestSessionStore, SqlJoinCodeRepository
from rooms.registry import BookingDirectory, BookingRoom, GuestAccess, LiveRegistry
from rooms.roster import ParticipantRole
from scheduling.models import Booking, BookingStatus, ConsultationType, Reservation, Resource, ResourceKind
from scheduling.services.common import new_public_id
from server.booking_directory import SqlBookingDirectory
from server.people import passwords
from server.people.models import Organisation, Patient, User
from server.people.sessions import COOKIE_NAME, SessionPolicy, SessionStore
from server.platform.audit import AuditLog
from server.platform.clock import SystemClock
from server.platform.db import Database, create_engine
from server.platform.roles import OrganisationKind, Role
from tests.serverproc import free_port, run_cli, server_env, serving
from web.context import GUEST_COOKIE

GUEST_ROLES = (ParticipantRole.PATIENT, ParticipantRole.RELATIVE, ParticipantRole.INTERPRETER,
               ParticipantRole.RELATIVE, ParticipantRole.RELATIVE, ParticipantRole.RELATIVE,
               ParticipantRole.RELATIVE)
CHAT_TEXT = "Blodtrykket er 142/88 i dag, vi tar det på nytt etter pausen."
SAFETY = 30.0
"""Seconds any single setup step may take before the bench gives up (never a measured figure)."""
CONNECT_CONCURRENCY = 16
"""Rooms set up at once. The server's join rate hardly depends on it (4 to 64 measured the same):
every join is several serialised SQLite units of work."""
IDLE_SECONDS = 5.0
DRAIN_SECONDS = 3.0
DRAIN_LIMIT = 15.0
CHILD_TIMEOUT = 420.0


# --- what the clients get: one room's booking and the session cookies of its participants -----------


@dataclass(frozen=True)
class RoomPlan:
    """One booking, its nurse's staff session token and its guests' session tokens."""

    booking_id: str
    staff_token: str
    guest_tokens: tuple[str, ...]


class OneUnitOfWork(Database):
    """A ``Database`` whose every unit of work is one shared transaction, committed by the caller.

    The server's own repositories and services run on it unchanged; only the thousands of commits
    (each an fsync with ``synchronous=FULL``) become one, so setting up 2,000 participants takes seconds.
    """

    def __init__(self, database: Database, session: AsyncSession) -> None:
        super().__init__(database.engine)
        self._shared = session

    @asynccontextmanager
    async def session(self, *, write_lock: bool = False) -> AsyncIterator[AsyncSession]:
        yield self._shared


class KnownBookings:
    """``BookingDirectory`` that asks the real one once per booking (redeeming looks the booking up)."""

    def __init__(self, inner: BookingDirectory) -> None:
        self._inner = inner
        self._known: dict[str, BookingRoom | None] = {}

    async def room_for(self, booking_id: str) -> BookingRoom | None:
        if booking_id not in self._known:
            self._known[booking_id] = await self._inner.room_for(booking_id)
        return self._known[booking_id]

    async def rooms_for_staff(self, user_id: int, start: datetime, end: datetime) -> list[BookingRoom]:
        return await self._inner.rooms_for_staff(user_id, start, end)


async def prepare(database_url: str, rooms: int, guests_per_room: int) -> list[RoomPlan]:
    """Write the rooms' nurses, bookings and sessions into the server's database (before it starts)."""
    clock = SystemClock()
    db = Database(create_engine(database_url))
    try:
        now = clock.now()
        start, end = now - timedelta(minutes=5), now + timedelta(minutes=40)
        # One Argon2id hash for every bench nurse: hashing 400 passwords would cost a minute of CPU, and
        # nobody logs in with it (the sessions below are made as the login page makes them).
        password_hash = passwords.hash_password(secrets.token_urlsafe(24))
        staff: list[tuple[str, str]] = []  # (booking id, staff session token)
        sessions = SessionStore(clock, SessionPolicy(lifetime=timedelta(hours=12), idle=timedelta(minutes=30)))
        async with db.session() as session:
            org = (await session.execute(
                select(Organisation).where(Organisation.kind == OrganisationKind.MUNICIPALITY).limit(1)
            )).scalar_one()
            patients = list((await session.execute(select(Patient.id))).scalars().all())
            kind = ConsultationType(code=f"bench-{secrets.token_hex(4)}", name="Samkonsultasjon",
                                    name_en="Joint consultation", duration_minutes=45, buffer_before_minutes=0,
                                    buffer_after_minutes=0, min_notice_minutes=0, active=True)
            session.add(kind)
            await session.flush()
            for number in range(rooms):
                user = User(username=f"bench.sykepleier{number:04d}", display_name=f"Sykepleier {number}",
                            role=Role.NURSE, organisation_id=org.id, password_hash=password_hash,
                            profession="sykepleier", created_at=now, password_changed_at=now)
                session.add(user)
                await session.flush()
                person = Resource(kind=ResourceKind.PERSON, name=user.display_name, organisation_id=org.id,
                                  user_id=user.id, created_at=now)
                session.add(person)
                await session.flush()
                public_id = new_public_id()
                booking = Booking(public_id=public_id, patient_id=patients[number % len(patients)],
                                  consultation_type_id=kind.id, start=start, end=end, status=BookingStatus.BOOKED,
                                  ical_uid=f"{public_id}@bench", created_at=now, updated_at=now)
                booking.reservations.append(Reservation(resource_id=person.id, requirement_key="nurse", position=0,
                                                        blocked_start=start, blocked_end=end, active=True))
                session.add(booking)
                token, _ = await sessions.create(session, user_id=user.id, language="nb", second_factor_done=True)
                staff.append((public_id, token))

        # Guests the way /join makes them: a code issued for the room, then redeemed for a guest session.
        async with db.session() as session:
            shared = OneUnitOfWork(db, session)
            codes = JoinCodeService(SqlJoinCodeRepository(shared), clock=clock)
            registry = LiveRegistry(KnownBookings(SqlBookingDirectory(shared)), database=shared,
                                    audit=AuditLog(clock), clock=clock, join_codes=codes)
            access = GuestAccess(registry, codes, GuestSessionStore(shared, clock), clock)
            plans = []
            for number, (booking_id, staff_token) in enumerate(staff):
                tokens = []
                for seat in range(guests_per_room):
                    issued = await codes.issue(room_id=booking_id, role=GUEST_ROLES[seat % len(GUEST_ROLES)],
                                               display_name=f"Gjest {number}-{seat}", starts_at=start,
                                               ends_at=end, created_by="bench")
                    token = (await access.redeem(booking_id, issued.code,
                                                 client_key=f"bench-{number}-{seat}")).token
                    tokens.append(token)
                plans.append(RoomPlan(booking_id, staff_token, tuple(tokens)))
        return plans
    finally:
        await db.close()


# --- the server process -------------------------------------------------------------------------------


def raise_fd_limit(wanted: int) -> int:
    """Raise the soft open-files limit (children inherit it): the server holds one fd per socket."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    return int(soft)


@dataclass(frozen=True)
class Sample:
    """The server process from /proc: memory (KiB), open file descriptors, CPU seconds used so far."""

    rss_kib: int
    anon_kib: int
    fds: int
    cpu_seconds: float


def read_process(pid: int) -> Sample:
    fields: dict[str, int] = {}
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            name, _, value = line.partition(":")
            if name in ("VmRSS", "RssAnon"):
                fields[name] = int(value.split()[0])
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        # Fields after the command name (which may contain spaces); utime and stime are the 12th and 13th.
        ticks = stat.read().rpartition(")")[2].split()
    cpu = (int(ticks[11]) + int(ticks[12])) / os.sysconf("SC_CLK_TCK")
    return Sample(fields["VmRSS"], fields["RssAnon"], len(os.listdir(f"/proc/{pid}/fd")), cpu)


# --- the clients (child process) ------------------------------------------------------------------------


@dataclass
class Seat:
    """One client socket and what it has read."""

    ws: aiohttp.ClientWebSocketResponse
    room: int
    participant_id: str = ""
    setting_up: bool = True
    inbox: asyncio.Queue[dict[str, Any]] = field(default_factory=asyncio.Queue)

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send_str(json.dumps(message))

    async def expect(self, kind: str) -> dict[str, Any]:
        """The next setup message of this type; an error frame ends the bench."""
        async with asyncio.timeout(SAFETY):
            while True:
                message = await self.inbox.get()
                if message["type"] == kind:
                    return message
                if message["type"] == "error":
                    raise RuntimeError(f"server refused a setup step: {message}")


@dataclass
class Phase:
    """One fan-out run: what was sent and each recipient's latency (seconds)."""

    name: str
    message: str
    rate: float
    sent: int = 0
    send_seconds: float = 0.0
    wall_seconds: float = 0.0
    """From the first send until the last copy was read (or the drain gave up)."""
    expected: int = 0
    latencies: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    loop_lag: list[float] = field(default_factory=list)
    all_sent: bool = False
    complete: asyncio.Event = field(default_factory=asyncio.Event)
    """Set once everything is sent and every expected copy has been read."""

    def record(self, latency: float) -> None:
        self.latencies.append(latency)
        if self.all_sent and len(self.latencies) >= self.expected:
            self.complete.set()


class Fanout:
    """Sends timed messages and matches every copy the other participants read.

    A chat message carries its sequence number in its text. A mute change carries nothing of ours, but
    one socket delivers in order, so a recipient's k-th ``mute`` from a sender answers that sender's k-th
    change. Each send remembers its phase, so a late copy counts against the phase that sent it.
    """

    def __init__(self) -> None:
        self._chats: list[tuple[float, Phase]] = []
        self._mutes: dict[str, list[tuple[float, Phase]]] = {}
        self._muted: dict[str, bool] = {}
        self._mutes_read: dict[tuple[str, str], int] = {}  # (recipient, sender) -> count
        self.errors: dict[str, int] = {}
        """Error frames read outside the setup (rate limited, internal error, ...), by code."""

    def chat(self, phase: Phase) -> dict[str, Any]:
        self._chats.append((time.perf_counter(), phase))
        return {"type": "chat", "text": f"{CHAT_TEXT} #{len(self._chats) - 1}"}

    def mute(self, sender: Seat, phase: Phase) -> dict[str, Any]:
        muted = not self._muted.get(sender.participant_id, False)
        self._muted[sender.participant_id] = muted
        self._mutes.setdefault(sender.participant_id, []).append((time.perf_counter(), phase))
        return {"type": "mute", "kind": "audio", "muted": muted}

    def read(self, seat: Seat, message: dict[str, Any], now: float) -> None:
        sender = str(message.get("participant_id"))
        if sender == seat.participant_id:
            return  # the sender's own copy of a chat message: not a delivery to another participant
        sent: tuple[float, Phase] | None = None
        if message["type"] == "chat":
            seq = int(str(message.get("text", "")).rpartition("#")[2] or -1)
            sent = self._chats[seq] if 0 <= seq < len(self._chats) else None
        else:
            key = (seat.participant_id, sender)
            index = self._mutes_read.get(key, 0)
            self._mutes_read[key] = index + 1
            changes = self._mutes.get(sender, [])
            sent = changes[index] if index < len(changes) else None
        if sent is not None:
            sent[1].record(now - sent[0])


async def _read(seat: Seat, fanout: Fanout) -> None:
    # One reader per socket, as a browser has: chat and mute are timed on arrival, the rest feeds the setup.
    async for frame in seat.ws:
        if frame.type is not aiohttp.WSMsgType.TEXT:
            continue
        now = time.perf_counter()
        message = json.loads(frame.data)
        if message["type"] in ("chat", "mute"):
            fanout.read(seat, message, now)
        elif seat.setting_up:
            seat.inbox.put_nowait(message)
        elif message["type"] == "error":
            code = str(message.get("code"))
            fanout.errors[code] = fanout.errors.get(code, 0) + 1


class Clients:
    """All the bench's sockets, in rooms."""

    def __init__(self, http: aiohttp.ClientSession, base_url: str) -> None:
        self._http = http
        self._base = base_url
        self.fanout = Fanout()
        self.rooms: list[list[Seat]] = []
        self._readers: list[asyncio.Task[None]] = []

    async def _connect(self, room: int, booking_id: str, cookie: str, token: str) -> Seat:
        ws = await self._http.ws_connect(f"{self._base}/ws?room={booking_id}", timeout=aiohttp.ClientWSTimeout(
            ws_close=5.0), headers={"Origin": self._base, "Cookie": f"{cookie}={token}"}, autoping=True)
        seat = Seat(ws, room)
        self._readers.append(asyncio.create_task(_read(seat, self.fanout)))
        return seat

    async def fill_room(self, number: int, plan: RoomPlan) -> list[Seat]:
        """The nurse joins, each guest joins the waiting room, and the nurse admits them."""
        nurse = await self._connect(number, plan.booking_id, COOKIE_NAME, plan.staff_token)
        await nurse.send({"type": "join", "version": 1})
        nurse.participant_id = (await nurse.expect("admitted"))["participant_id"]
        seats = [nurse]
        for token in plan.guest_tokens:
            guest = await self._connect(number, plan.booking_id, GUEST_COOKIE, token)
            await guest.send({"type": "join", "version": 1})
            guest.participant_id = (await guest.expect("waiting"))["participant_id"]
            await nurse.send({"type": "admit", "target": guest.participant_id})
            await guest.expect("admitted")
            seats.append(guest)
        for seat in seats:
            seat.setting_up = False
            seat.inbox = asyncio.Queue()  # roster and bitrate updates are of no further use
        return seats

    async def fill(self, plans: list[RoomPlan], first: int) -> None:
        gate = asyncio.Semaphore(CONNECT_CONCURRENCY)

        async def one(number: int, plan: RoomPlan) -> list[Seat]:
            async with gate:
                return await self.fill_room(number, plan)

        self.rooms.extend(await asyncio.gather(*(one(first + i, p) for i, p in enumerate(plans))))

    @property
    def sockets(self) -> int:
        return sum(len(room) for room in self.rooms)

    async def run_phase(self, name: str, message: str, rate: float, seconds: float, rng: random.Random) -> Phase:
        """Send ``message`` (chat or mute) at ``rate``/s in total, rooms in turn, a random participant each."""
        phase = Phase(name, message, rate)
        errors_before = dict(self.fanout.errors)
        lag = asyncio.create_task(_measure_lag(phase.loop_lag))
        count = int(rate * seconds)
        start = time.perf_counter()
        for i in range(count):
            # Open loop: each message has its slot in the schedule, whatever happened to the previous ones.
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            room = self.rooms[i % len(self.rooms)]
            sender = room[rng.randrange(len(room))]
            await sender.send(self.fanout.chat(phase) if message == "chat" else self.fanout.mute(sender, phase))
            phase.sent += 1
            phase.expected += len(room) - 1
        phase.send_seconds = time.perf_counter() - start
        phase.all_sent = True
        if len(phase.latencies) >= phase.expected:
            phase.complete.set()
        # Wait while copies keep coming (an overloaded server is late, not lossy); what has not come
        # after DRAIN_SECONDS without progress, or DRAIN_LIMIT in all, is counted as lost.
        drain_end = time.perf_counter() + DRAIN_LIMIT
        seen = -1
        while not phase.complete.is_set() and len(phase.latencies) > seen and time.perf_counter() < drain_end:
            seen = len(phase.latencies)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(DRAIN_SECONDS):
                    await phase.complete.wait()
        lag.cancel()
        phase.wall_seconds = time.perf_counter() - start
        phase.errors = {code: count - errors_before.get(code, 0) for code, count in self.fanout.errors.items()
                        if count > errors_before.get(code, 0)}
        return phase

    async def close(self) -> None:
        await asyncio.gather(*(seat.ws.close() for room in self.rooms for seat in room), return_exceptions=True)
        for reader in self._readers:
            reader.cancel()
        await asyncio.gather(*self._readers, return_exceptions=True)


async def _measure_lag(out: list[float]) -> None:
    # The client's own event-loop delay is part of every measured latency; it is reported next to them.
    while True:
        before = time.perf_counter()
        await asyncio.sleep(0.01)
        out.append(time.perf_counter() - before - 0.01)


def _summary(phase: Phase) -> dict[str, Any]:
    latencies = sorted(phase.latencies)
    lag = sorted(phase.loop_lag)
    return {
        "name": phase.name, "message": phase.message, "rate": phase.rate, "sent": phase.sent,
        "achieved_rate": phase.sent / phase.send_seconds if phase.send_seconds else 0.0,
        "expected": phase.expected, "received": len(latencies),
        "p50": percentile(latencies, 50), "p95": percentile(latencies, 95), "p99": percentile(latencies, 99),
        "max": latencies[-1] if latencies else float("nan"),
        "lag_p99": percentile(lag, 99), "errors": phase.errors,
    }


def percentile(ordered: list[float], p: float) -> float:
    """Nearest-rank percentile of an already sorted list (nan when empty)."""
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


async def _client_main(base_url: str, pid: int, plans: list[RoomPlan], args: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar()) as http:
        clients = Clients(http, base_url)
        out["started"] = asdict(read_process(pid))
        # One room first, so the server's one-off costs (imports, first room, caches) are not
        # counted against the sockets.
        await clients.fill(plans[:1], 0)
        for message in ("mute", "chat"):
            await clients.run_phase("warm-up", message, 20, 1, random.Random(1))
        await asyncio.sleep(1)
        warm = clients.sockets
        out["before"] = asdict(read_process(pid))
        began = time.perf_counter()
        await clients.fill(plans[1:], 1)
        out["fill_seconds"] = time.perf_counter() - began
        out["sockets"] = clients.sockets
        out["room_size"] = len(plans[0].guest_tokens) + 1
        out["measured_sockets"] = clients.sockets - warm
        print(f"  {clients.sockets} sockets joined in {out['fill_seconds']:.1f} s; idle {IDLE_SECONDS:.0f} s",
              flush=True)
        await asyncio.sleep(IDLE_SECONDS)
        out["idle"] = asdict(read_process(pid))
        rng = random.Random(7)
        phases = []
        # Mute changes first: they go through the same reader, room and queues as chat but touch no
        # database, so the two together separate the signaling path from chat's audit write.
        for message in ("mute", "chat"):
            for name, rate, seconds in (("baseline", args["baseline_rate"], args["baseline_seconds"]),
                                        ("load", args["rate"], args["seconds"])):
                print(f"  {message} {name}: {rate:g} messages/s for {seconds:g} s", flush=True)
                cpu_before = read_process(pid).cpu_seconds
                phase = await clients.run_phase(name, message, rate, seconds, rng)
                summary = _summary(phase)
                summary["server_cpu"] = read_process(pid).cpu_seconds - cpu_before
                summary["wall"] = phase.wall_seconds
                phases.append(summary)
        out["phases"] = phases
        out["after_load"] = asdict(read_process(pid))
        await clients.close()
        await asyncio.sleep(2)
        out["closed"] = asdict(read_process(pid))
    return out


def client_process(pipe: Pipe, base_url: str, pid: int, plans: list[RoomPlan], args: dict[str, Any]) -> None:
    """Entry point of the child process: runs every client and sends back plain figures."""
    try:
        pipe.send(asyncio.run(_client_main(base_url, pid, plans, args)))
    except BaseException as exc:  # the parent must hear about a failure instead of waiting it out
        pipe.send({"error": f"{type(exc).__name__}: {exc}"})
        raise
    finally:
        pipe.close()


def run_clients(base_url: str, pid: int, plans: list[RoomPlan], args: dict[str, Any]) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe(duplex=False)
    child = context.Process(target=client_process, args=(theirs, base_url, pid, plans, args), name="bench-clients")
    child.start()
    theirs.close()
    try:
        if not ours.poll(CHILD_TIMEOUT):
            raise TimeoutError(f"the clients did not finish in {CHILD_TIMEOUT:.0f} s")
        result: dict[str, Any] = ours.recv()
    finally:
        child.join(timeout=10)
        if child.is_alive():
            child.kill()
            child.join()
    if "error" in result:
        raise RuntimeError(f"the client process failed: {result['error']}")
    return result


# --- report ----------------------------------------------------------------------------------------------


def report(result: dict[str, Any]) -> None:
    def mib(kib: int) -> str:
        return f"{kib / 1024:.1f} MiB"

    started, before, idle = result["started"], result["before"], result["idle"]
    after, closed = result["after_load"], result["closed"]
    n = result["measured_sockets"]
    print()
    print(f"sockets open: {result['sockets']} (server fds: {idle['fds']}); "
          f"joined in {result['fill_seconds']:.1f} s")
    print(f"server RSS: started {mib(started['rss_kib'])}, after one warm-up room {mib(before['rss_kib'])}, "
          f"{result['sockets']} idle sockets {mib(idle['rss_kib'])}, after the load {mib(after['rss_kib'])}, "
          f"all sockets closed {mib(closed['rss_kib'])}")
    join_cpu = (idle["cpu_seconds"] - before["cpu_seconds"]) / n * 1000
    print(f"server CPU to open and join (with admission): {join_cpu:.1f} ms per socket")
    per_rss = (idle["rss_kib"] - before["rss_kib"]) / n
    per_anon = (idle["anon_kib"] - before["anon_kib"]) / n
    print(f"memory per idle connection: {per_rss:.1f} KiB RSS ({per_anon:.1f} KiB anonymous) over {n} sockets "
          "(target <= 50 KiB)")
    print("  GC note: the server's collector is not forced (no hook exists, none is added): the idle figure "
          "includes garbage not yet collected and the allocator's free lists; after closing, RSS stays up "
          "because freed memory is kept by pymalloc/glibc, and seats are still held for their grace period.")
    for message, what in (("mute", "mute changes (no database write)"),
                          ("chat", "chat messages (each audited in SQLite before fan-out)")):
        phases = {p["name"]: p for p in result["phases"] if p["message"] == message}
        print(f"fan-out of {what}, {result['room_size'] - 1} recipients each:")
        for phase in phases.values():
            lost = phase["expected"] - phase["received"]
            print(f"  {phase['name']:<8} {phase['sent']} sent at {phase['achieved_rate']:.0f}/s "
                  f"(asked {phase['rate']:g}/s), {phase['expected']} deliveries expected, {lost} lost; "
                  f"per recipient p50 {phase['p50'] * 1000:.1f} ms, p95 {phase['p95'] * 1000:.1f} ms, "
                  f"p99 {phase['p99'] * 1000:.1f} ms, max {phase['max'] * 1000:.0f} ms; "
                  f"client loop lag p99 {phase['lag_p99'] * 1000:.1f} ms; error frames {phase['errors'] or 'none'}")
            print(f"  {'':<8} server CPU {phase['server_cpu'] / phase['wall'] * 100:.0f} % of a core over "
                  f"{phase['wall']:.1f} s, {phase['server_cpu'] / max(1, phase['sent']) * 1000:.2f} ms per message")
        base, load = phases["baseline"], phases["load"]
        print(f"  ratio load/baseline: p50 {load['p50'] / base['p50']:.1f}x, p99 {load['p99'] / base['p99']:.1f}x")
    print("target: p99 <= 20 ms at 500 messages/s")
    print(f"server log: {result['log_warnings']} warning/error lines")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sockets", type=int, default=2000)
    parser.add_argument("--room-size", type=int, default=5, help="one nurse and room-size - 1 guests (2-8)")
    parser.add_argument("--rate", type=float, default=500.0, help="messages per second, all rooms together")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--baseline-rate", type=float, default=50.0)
    parser.add_argument("--baseline-seconds", type=float, default=8.0)
    args = parser.parse_args()
    if not 2 <= args.room_size <= 1 + len(GUEST_ROLES):
        parser.error("--room-size must be 2-8 (the room admits at most 8)")
    rooms = max(2, args.sockets // args.room_size)
    limit = raise_fd_limit(rooms * args.room_size * 2 + 512)
    print(f"signaling bench: {rooms} rooms of {args.room_size} = {rooms * args.room_size} sockets; "
          f"open-files limit {limit}", flush=True)
    with tempfile.TemporaryDirectory(prefix="samkonsult-bench-") as tmp_name:
        tmp = Path(tmp_name)
        port = free_port()
        env = server_env(tmp, port)
        run_cli(env, "migrate")
        run_cli(env, "seed-demo", "--if-empty")
        began = time.perf_counter()
        plans = asyncio.run(prepare(env["SAMKONSULT_DATABASE_URL"], rooms, args.room_size - 1))
        print(f"  {rooms} nurses, bookings and staff sessions, {rooms * (args.room_size - 1)} guest sessions "
              f"written in {time.perf_counter() - began:.1f} s", flush=True)
        with serving(env, tmp / "serve.log") as pid:
            result = run_clients(env["SAMKONSULT_PUBLIC_URL"], pid, plans, {
                "rate": args.rate, "seconds": args.seconds,
                "baseline_rate": args.baseline_rate, "baseline_seconds": args.baseline_seconds,
            })
            result["log_warnings"] = sum(
                1 for line in (tmp / "serve.log").read_text(errors="replace").splitlines()
                if " WARNING " in line or " ERROR " in line)
    report(result)


if __name__ == "__main__":
    main()
