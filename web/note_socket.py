"""``/ws/consultations/{booking_id}/note``: the note's own WebSocket, so open editors see each other's saves and
presence at once.

The note page exists outside a call too, so it has its own socket rather than a share of the call's ``/ws``.
The live channel is the consultation's, not the note row's: opening a note creates nothing (the first save
does), so editors who open a consultation nobody has written in yet meet there, and the first save reaches
the others as any save does. ``/ws/notes/{note_id}``, the address of an existing note, joins the same channel.
It lives in ``web`` because it is the note page's: the same staff session, CSRF token and Origin check as
the page and its API, the same access check as reading the note (:meth:`notes.service.NoteService.live_access`).

What goes over it carries no note text (that stays behind the audited API):

- server → client: ``hello`` (the editor's own id), ``presence`` (everyone who has the note open: name,
  profession, part, typing, unsaved), ``changed`` (``saved``/``signed``/``amended``/``shared``: the version,
  the parts a save touched, who), ``pong``, and ``error`` frames with a stable ``code``;
- client → server: ``presence`` (``part``, ``typing``, ``unsaved``) and ``ping``.

Frames are read by the strict JSON reader and rate limited per socket; a client too slow to take its frames
is disconnected (its editor reconnects and fetches the note). Every minute the socket checks that its
session still exists and still gives access to the note, and closes when not.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

from notes.live import BadPart, LiveEvent, NoteChanged, NoteHub, PresenceChanged, TooManyEditors
from notes.note_views import LiveAccess
from server.people.models import WebSession
from server.platform.actors import Actor
from server.platform.appkeys import DATABASE, SETTINGS
from server.platform.errors import DomainError, PermissionDenied
from server.platform.strict_json import JsonRejected, loads
from web.appkeys import NOTE_HUB, NOTES
from web.context import ctx
from web.guards import require_actor
from web.security import CSRF_COOKIE, csrf_valid

log = logging.getLogger(__name__)

HEARTBEAT = 15.0
CLOSE_TIMEOUT = 3.0
MAX_FRAME_BYTES = 2048
SEND_QUEUE_SIZE = 128
SEND_TIMEOUT = 10.0
RECHECK_SECONDS = 60.0
# Inbound frames per second, sustained, and at once: a typing editor sends a few presence frames a second.
RATE = 10.0
BURST = 30.0
CLOSE_ACCESS_ENDED = 4003
CLOSE_TOO_SLOW = WSCloseCode.TRY_AGAIN_LATER


class _RateLimit:
    """A token bucket: ``RATE`` frames a second, at most ``BURST`` saved up."""

    def __init__(self) -> None:
        self._tokens = BURST
        self._last = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self._tokens = min(BURST, self._tokens + (now - self._last) * RATE)
        self._last = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True


class _Link:
    """The server end of one editor's socket: a bounded queue of frames drained by one writer task."""

    def __init__(self, ws: web.WebSocketResponse) -> None:
        self.ws = ws
        self._queue: asyncio.Queue[str | None] = asyncio.Queue(maxsize=SEND_QUEUE_SIZE)
        self._closing = False
        self._code: int = WSCloseCode.OK

    def send(self, frame: dict[str, Any]) -> None:
        if self._closing:
            return
        try:
            self._queue.put_nowait(json.dumps(frame, ensure_ascii=False, separators=(",", ":")))
        except asyncio.QueueFull:
            log.warning("note editor too slow; closing its socket")
            self.close(CLOSE_TOO_SLOW, drop_queued=True)

    def deliver(self, event: LiveEvent) -> None:
        """The hub's listener: turn a live event into its frame."""
        self.send(event_frame(event))

    def close(self, code: int = WSCloseCode.OK, *, drop_queued: bool = False) -> None:
        if self._closing:
            return
        self._closing = True
        self._code = code
        if drop_queued:
            while not self._queue.empty():
                self._queue.get_nowait()
        with contextlib.suppress(asyncio.QueueFull):
            self._queue.put_nowait(None)

    async def run(self) -> None:
        try:
            while (frame := await self._queue.get()) is not None:
                if self.ws.closed:
                    return
                async with asyncio.timeout(SEND_TIMEOUT):
                    await self.ws.send_str(frame)
        except (ConnectionError, TimeoutError, RuntimeError) as exc:
            log.info("note socket write failed: %s", exc)
        finally:
            self._closing = True
            if not self.ws.closed:
                await self.ws.close(code=self._code)


def event_frame(event: LiveEvent) -> dict[str, Any]:
    """A hub event as the frame an editor reads."""
    if isinstance(event, NoteChanged):
        return {"type": "changed", "kind": event.kind, "version": event.version, "parts": list(event.parts),
                "by": {"id": event.by.id, "name": event.by.name, "profession": event.by.profession}}
    if isinstance(event, PresenceChanged):
        return {"type": "presence", "editors": [
            {"editor": p.editor, "id": p.person.id, "name": p.person.name, "profession": p.person.profession,
             "part": p.part, "typing": p.typing, "unsaved": p.unsaved, "may_write": p.may_write}
            for p in event.editors]}
    raise TypeError(f"unknown live event {event!r}")


def error_frame(code: str, message: str) -> dict[str, Any]:
    """An error a client switches on by ``code`` (the message is for logs and developers)."""
    return {"type": "error", "code": code, "message": message}


def _origin_ours(request: web.Request, public_url: str) -> bool:
    # Browsers always send Origin on a WebSocket; only our own pages may open one with our cookies.
    origin = request.headers.get("Origin")
    return origin is not None and origin in {public_url.rstrip("/"), f"{request.scheme}://{request.host}"}


async def consultation_note_socket(request: web.Request) -> web.StreamResponse:
    """``/ws/consultations/{booking_id}/note``: the live channel of a consultation's note (existing or not)."""
    return await _serve(request, request.match_info["booking_id"], by_note=False)


async def note_socket(request: web.Request) -> web.StreamResponse:
    """``/ws/notes/{note_id}``: the same channel, found from an existing note's id."""
    return await _serve(request, request.match_info["note_id"], by_note=True)


async def _serve(request: web.Request, key: str, *, by_note: bool) -> web.StreamResponse:
    """Upgrade a same-origin request of staff with access to the note, then relay presence and changes."""
    settings = request.app[SETTINGS]
    if not _origin_ours(request, settings.public_url):
        raise PermissionDenied("this origin may not open a note socket", code="forbidden_origin")
    if not csrf_valid(settings.session_secret, request.cookies.get(CSRF_COOKIE), request.query.get("csrf")):
        raise DomainError("missing or wrong CSRF token", code="csrf_failed")
    actor = require_actor(request)
    reason = request.query.get("reason", "")[:300]
    access = await _access(request, actor, key, reason, by_note=by_note)
    channel = access.consultation_id

    ws = web.WebSocketResponse(heartbeat=HEARTBEAT, max_msg_size=MAX_FRAME_BYTES, timeout=CLOSE_TIMEOUT,
                               compress=False)
    await ws.prepare(request)
    link = _Link(ws)
    writer = asyncio.create_task(link.run())
    hub = request.app[NOTE_HUB]
    try:
        editor_id = hub.join(channel, access.person, link, may_write=access.may_write)
    except TooManyEditors:
        link.send(error_frame("too_many_editors", "the note has too many open editors"))
        link.close(WSCloseCode.TRY_AGAIN_LATER)
        await writer
        return ws
    # The hello goes out after the presence the join queued; the client only needs its own id from it.
    link.send({"type": "hello", "editor": editor_id, "consultation": channel})
    recheck = asyncio.create_task(_recheck(request, actor, access, reason, link))
    limit = _RateLimit()
    try:
        async for message in ws:
            if message.type is WSMsgType.TEXT:
                if limit.take():
                    _handle(hub, channel, editor_id, message.data, link)
                else:
                    link.send(error_frame("rate_limited", "too many messages; slow down"))
            elif message.type is WSMsgType.BINARY:
                link.send(error_frame("bad_frame", "frames are JSON text"))
            elif message.type is WSMsgType.ERROR:
                log.info("note socket error: %s", ws.exception())
    finally:
        hub.leave(channel, editor_id)
        recheck.cancel()
        link.close()
        await writer
    return ws


async def _access(request: web.Request, actor: Actor, key: str, reason: str, *, by_note: bool) -> LiveAccess:
    async with request.app[DATABASE].session() as session:
        if by_note:
            return await request.app[NOTES].live_access_by_note(session, actor, key, reason)
        return await request.app[NOTES].live_access(session, actor, key, reason)


def _handle(hub: NoteHub, channel: str, editor_id: str, data: str, link: _Link) -> None:
    """One inbound frame; a bad one gets an error frame and the socket goes on."""
    try:
        frame = loads(data, max_bytes=MAX_FRAME_BYTES)
    except JsonRejected as exc:
        link.send(error_frame("bad_json", exc.message))
        return
    if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
        link.send(error_frame("bad_message", "a frame is an object with a type"))
        return
    kind = frame["type"]
    if kind == "ping":
        link.send({"type": "pong"})
        return
    if kind != "presence":
        link.send(error_frame("unknown_type", f"unknown frame type {kind[:40]!r}"))
        return
    unknown = set(frame) - {"type", "part", "typing", "unsaved"}
    part, typing, unsaved = frame.get("part"), frame.get("typing", False), frame.get("unsaved", False)
    if unknown or not (part is None or isinstance(part, str)) or not isinstance(typing, bool) \
            or not isinstance(unsaved, bool):
        link.send(error_frame("bad_message", "presence is {part: string or null, typing: bool, unsaved: bool}"))
        return
    try:
        hub.update(channel, editor_id, part=part, typing=typing, unsaved=unsaved)
    except BadPart as exc:
        link.send(error_frame("bad_part", str(exc)))


async def _recheck(request: web.Request, actor: Actor, access: LiveAccess, reason: str, link: _Link) -> None:
    """Close the socket once its session has ended (logout, expiry) or no longer gives access to the note."""
    web_session = ctx(request).session
    token_hash = web_session.token_hash if web_session is not None else None
    while True:
        await asyncio.sleep(RECHECK_SECONDS)
        try:
            async with request.app[DATABASE].session() as session:
                alive = token_hash is not None and await session.get(WebSession, token_hash) is not None
                if alive:
                    await request.app[NOTES].live_access(session, actor, access.consultation_id, reason)
        except DomainError:
            alive = False
        if not alive:
            link.send(error_frame("access_ended", "your session has ended or no longer gives access to the note"))
            link.close(CLOSE_ACCESS_ENDED)
            return
