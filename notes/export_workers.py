"""Note exports rendered in worker processes, so no export ever stalls the server's event loop.

A ~1 MB note's PDF took 5.7 s to render on the server's own thread, and every call and page froze for
that long. An export is a pure function of (format, header, state, language), so it runs in a small
process pool instead; the event loop only pickles the note across (milliseconds for a megabyte).

Bounded three ways, because health trusts export in bursts (end of day, record system uploads):
- a few workers (default: the number of cores, at most 4), so exports never take every core from calls;
- a short queue: past it, an export is refused at once as busy (HTTP 503 with Retry-After) rather than
  waiting unboundedly while its user's request times out;
- a time limit per export: a worker that takes longer is killed and the pool replaced, so one
  pathological note cannot hold a worker forever; its user gets a clear error, everyone else nothing.

Workers are started with ``spawn``: forking a process that runs aiortc's and the database driver's
threads could copy a lock in its held state into the child.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

from notes.errors import NotesError
from notes.export_fhir import export_fhir_json
from notes.export_pdf import export_pdf
from notes.export_text import export_text
from notes.headings import Language
from notes.model import NoteHeader
from notes.note_views import ExportFormat, ExportResult
from notes.signing import NoteState
from server.platform.errors import Unavailable

log = logging.getLogger(__name__)

DEFAULT_TIME_LIMIT = 30.0
DEFAULT_QUEUE = 8
_BUSY_RETRY_SECONDS = 5


class ExportBusy(NotesError, Unavailable):
    """Every export worker is taken and the queue is full; try again in a few seconds."""

    code = "notes.export_busy"


class ExportTimedOut(NotesError, Unavailable):
    """The export took longer than its time limit; its worker was stopped."""

    code = "notes.export_timed_out"


class ExportFailed(NotesError, Unavailable):
    """The worker rendering the export stopped without an answer."""

    code = "notes.export_failed"


@dataclass(frozen=True)
class ExportJob:
    """Everything an export needs, read from the database before rendering starts (the unit of work,
    and SQLite's write lock with it, is released before the slow part)."""

    format: ExportFormat
    header: NoteHeader
    state: NoteState
    language: Language
    filename: str


def render_export(job: ExportJob) -> bytes:
    """The export's bytes (UTF-8 for text and FHIR). Runs in a worker process; pure."""
    match job.format:
        case ExportFormat.TEXT:
            return export_text(job.header, job.state, job.language).encode()
        case ExportFormat.PDF:
            return export_pdf(job.header, job.state, job.language)
        case ExportFormat.FHIR:
            return export_fhir_json(job.header, job.state, job.language).encode()


def _default_workers() -> int:
    return max(1, min(4, os.cpu_count() or 1))


class ExportWorkers:
    """A bounded pool of processes rendering note exports, each with a time limit."""

    def __init__(self, workers: int | None = None, *, time_limit: float = DEFAULT_TIME_LIMIT,
                 queue: int = DEFAULT_QUEUE, render: Callable[[ExportJob], bytes] = render_export) -> None:
        """``render`` must be a module-level function (it is pickled to the workers by name)."""
        self._render = render
        self._workers = workers or _default_workers()
        self._time_limit = time_limit
        self._capacity = self._workers + queue
        self._in_flight = 0
        self._pool: ProcessPoolExecutor | None = None

    @property
    def in_flight(self) -> int:
        """Exports rendering or waiting for a worker now."""
        return self._in_flight

    async def render(self, job: ExportJob) -> ExportResult:
        """Render ``job`` in a worker. Raises :class:`ExportBusy`, :class:`ExportTimedOut` or
        :class:`ExportFailed`; the caller's note and everything else stay untouched either way."""
        if self._in_flight >= self._capacity:
            raise ExportBusy("every export worker is busy", retry_after_seconds=_BUSY_RETRY_SECONDS)
        self._in_flight += 1
        pool = self._pool_now()
        try:
            future = asyncio.get_running_loop().run_in_executor(pool, self._render, job)
            try:
                async with asyncio.timeout(self._time_limit):
                    body = await future
            except TimeoutError:
                log.warning("note export (%s) exceeded %.0f s; stopping its workers", job.format.value,
                            self._time_limit)
                self._replace(pool)
                raise ExportTimedOut(f"the export took longer than {self._time_limit:.0f} s",
                                     retry_after_seconds=_BUSY_RETRY_SECONDS) from None
            except BrokenProcessPool:
                self._replace(pool)
                raise ExportFailed("the export worker stopped", retry_after_seconds=_BUSY_RETRY_SECONDS) from None
        finally:
            self._in_flight -= 1
        return ExportResult(job.format, body, job.filename)

    async def close(self) -> None:
        """Stop the workers (at server shutdown); running exports are abandoned."""
        if self._pool is not None:
            pool, self._pool = self._pool, None
            _terminate(pool)
            await asyncio.to_thread(pool.shutdown, wait=True, cancel_futures=True)

    def _pool_now(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(self._workers, mp_context=multiprocessing.get_context("spawn"))
        return self._pool

    def _replace(self, pool: ProcessPoolExecutor) -> None:
        """Kill ``pool``'s workers (exports queued behind the slow one fail as ``ExportFailed`` and
        may be asked for again) and start afresh on the next export."""
        if self._pool is pool:
            self._pool = None
        _terminate(pool)
        pool.shutdown(wait=False, cancel_futures=True)


def _terminate(pool: ProcessPoolExecutor) -> None:
    # ProcessPoolExecutor cannot stop one running task; killing its processes is the only way to take
    # back a worker stuck in a render (Python 3.14 adds terminate_workers() for exactly this).
    processes = getattr(pool, "_processes", None) or {}
    for process in list(processes.values()):
        if process.is_alive():
            process.kill()
