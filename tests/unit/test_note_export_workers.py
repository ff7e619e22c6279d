"""Note exports render in worker processes: bounded in number and time, and a stuck one is stopped
without harming the next."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import pytest

from notes.export_pdf import wrap_lines
from notes.export_workers import ExportBusy, ExportJob, ExportTimedOut, ExportWorkers, render_export
from notes.model import NoteContent, NoteHeader, SubjectRef
from notes.note_views import ExportFormat
from notes.signing import NoteState


def _job(fmt: ExportFormat = ExportFormat.TEXT, filename: str = "samkonsult-notat-n1") -> ExportJob:
    header = NoteHeader("n1", SubjectRef("p1", "Kari Nordmann"), datetime(2026, 12, 1, 10, tzinfo=UTC), ())
    return ExportJob(fmt, header, NoteState(NoteContent()), "nb", filename)


def stuck_when_asked(job: ExportJob) -> bytes:
    """Renders like the server, except that a job named "stuck" stands in for a pathological note whose
    render never ends (runs in the worker process)."""
    if job.filename == "stuck":
        time.sleep(3600)
    return render_export(job)


async def test_an_export_is_rendered_in_a_worker_process() -> None:
    workers = ExportWorkers(1)
    try:
        pdf = await workers.render(_job(ExportFormat.PDF))
        text = await workers.render(_job())
    finally:
        await workers.close()
    assert pdf.body.startswith(b"%PDF") and pdf.filename == "samkonsult-notat-n1"
    assert "Kari Nordmann" in text.body.decode()
    assert workers.in_flight == 0


async def test_a_stuck_export_is_stopped_and_the_next_one_still_renders() -> None:
    workers = ExportWorkers(1, time_limit=5.0, render=stuck_when_asked)
    try:
        with pytest.raises(ExportTimedOut) as refused:
            await workers.render(_job(filename="stuck"))
        assert refused.value.retry_after_seconds > 0
        again = await workers.render(_job())
    finally:
        await workers.close()
    assert "Kari Nordmann" in again.body.decode()


async def test_past_the_queue_an_export_is_refused_at_once_as_busy() -> None:
    workers = ExportWorkers(1, queue=0, render=stuck_when_asked)
    first = asyncio.create_task(workers.render(_job(filename="stuck")))
    try:
        async with asyncio.timeout(30):
            while workers.in_flight == 0:  # noqa: ASYNC110
                await asyncio.sleep(0.01)
        with pytest.raises(ExportBusy):
            await workers.render(_job())
    finally:
        await workers.close()
        first.cancel()
        await asyncio.gather(first, return_exceptions=True)


def test_pdf_lines_break_at_spaces_keep_the_texts_own_breaks_and_split_only_overlong_words() -> None:
    def measure(text: str) -> float:
        return float(len(text))  # one unit a letter

    assert wrap_lines("ett to tre fire", 7, measure) == ["ett to", "tre", "fire"]
    assert wrap_lines("første\n\nandre", 10, measure) == ["første", "", "andre"]
    assert wrap_lines("kort " + "x" * 12, 5, measure) == ["kort", "xxxxx", "xxxxx", "xx"]
    text = " ".join(["hjemmesykepleien"] * 200)
    lines = wrap_lines(text, 80, measure)
    assert all(measure(line) <= 80 for line in lines) and " ".join(lines) == text
