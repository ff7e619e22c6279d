"""Note export benchmark: a ~1 MB note's PDF, and how long the event loop stalls while it is made.

Run: ``.venv/bin/python bench/note_export.py [--rounds 3]``

The note is as large as the note rules allow in practice: 50 risk analyses with full bow-ties, 200
measures and 20 professions' texts, about 1.4 MB of text. A ticker task sleeps 5 ms at a time and
records how late it wakes: that lateness is what every call and page on the server would feel.

Baseline, in the same process: the PDF rendered on the event loop's own thread (as before exports moved
to worker processes). Then the same PDF through :class:`notes.export_workers.ExportWorkers`, first with
a cold pool (the worker process starts), then warm.

Prints the time per PDF, the longest stall for each way, their ratio and the machine's load
(target: longest stall <= 50 ms while a 1 MB note's PDF is made).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from anywhere without installing

from notes.codec import note_to_json
from notes.export_workers import ExportJob, ExportWorkers, render_export
from notes.model import (
    Measure,
    NoteContent,
    NoteHeader,
    Person,
    ProfessionText,
    Responsible,
    ResponsibleKind,
    RiskAnalysis,
    SubjectRef,
    WhatMatters,
)
from notes.note_views import ExportFormat
from notes.signing import NoteState

WORDS = ("pasienten", "fall", "hjemmesykepleien", "ernæring", "søvn", "smerter", "legemidler", "datter",
         "rullator", "blodtrykk", "oppfølging", "trygghet", "kveldsbesøk", "fastlegen", "væske", "mobilisering")


def _text(rng: random.Random, chars: int) -> str:
    out: list[str] = []
    size = 0
    while size < chars:
        word = rng.choice(WORDS)
        out.append(word)
        size += len(word) + 1
    return " ".join(out)[:chars]


def large_note(rng: random.Random) -> NoteContent:
    """About 1.4 MB of note text, every part within the note's own limits."""
    risks = tuple(
        RiskAnalysis(f"r{i}", _text(rng, 1000),
                     causes=tuple(_text(rng, 1000) for _ in range(5)),
                     consequences=tuple(_text(rng, 1000) for _ in range(5)),
                     proactive_measures=tuple(_text(rng, 1000) for _ in range(5)),
                     reactive_measures=tuple(_text(rng, 1000) for _ in range(5)))
        for i in range(50))
    measures = tuple(
        Measure(f"m{i}", _text(rng, 1000), Responsible(ResponsibleKind.HOME_CARE, "Hjemmesykepleien sone 2"),
                start_date=date(2026, 12, 1), evaluation_date=date(2027, 1, 15))
        for i in range(200))
    texts = tuple(ProfessionText(f"profession{i}", _text(rng, 10_000)) for i in range(20))
    return NoteContent(what_matters=WhatMatters(_text(rng, 10_000), ("Bo hjemme", "Gå tur")), risks=risks,
                       measures=measures, profession_texts=texts)


class StallMeter:
    """Sleeps 5 ms at a time and keeps the worst lateness of a wake-up."""

    def __init__(self) -> None:
        self.worst = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _tick(self) -> None:
        while True:
            before = time.perf_counter()
            await asyncio.sleep(0.005)
            self.worst = max(self.worst, time.perf_counter() - before - 0.005)

    async def measure(self, work: Callable[[], Awaitable[object]]) -> tuple[float, float]:
        """(seconds the work took, worst stall in seconds while it ran)."""
        self.worst = 0.0
        self._task = asyncio.create_task(self._tick())
        await asyncio.sleep(0.02)
        started = time.perf_counter()
        await work()
        took = time.perf_counter() - started
        await asyncio.sleep(0.02)  # the ticker wakes and counts a stall the work caused at its very end
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        return took, self.worst


async def main(rounds: int) -> None:
    content = large_note(random.Random(7))
    size = len(note_to_json(content))
    header = NoteHeader("bench", SubjectRef("p1", "Kari Nordmann"), datetime(2026, 12, 1, 10, tzinfo=UTC),
                        (Person("u1", "Lege Lise", "physician"),))
    job = ExportJob(ExportFormat.PDF, header, NoteState(content, version=42), "nb", "bench")
    print(f"note: {size / 1e6:.2f} MB of stored JSON; cores: {os.cpu_count()}")
    meter = StallMeter()

    async def in_loop() -> None:
        render_export(job)  # deliberately on the loop's thread: the old way

    async def idle() -> None:
        await asyncio.sleep(2)

    workers = ExportWorkers()
    try:
        quiet = await meter.measure(idle)  # what the machine alone does to a 5 ms sleep
        baseline = [await meter.measure(in_loop) for _ in range(rounds)]
        cold = await meter.measure(lambda: workers.render(job))
        warm = [await meter.measure(lambda: workers.render(job)) for _ in range(rounds)]
    finally:
        await workers.close()

    def worst(samples: list[tuple[float, float]]) -> tuple[float, float]:
        return max(s[0] for s in samples), max(s[1] for s in samples)

    base_took, base_stall = worst(baseline)
    warm_took, warm_stall = worst(warm)
    print(f"idle, nothing rendering:     longest stall {quiet[1] * 1000:.1f} ms (the machine's own noise)")
    print(f"baseline, on the event loop: PDF {base_took * 1000:.0f} ms, longest stall {base_stall * 1000:.0f} ms")
    print(f"worker pool, cold start:     PDF {cold[0] * 1000:.0f} ms, longest stall {cold[1] * 1000:.1f} ms")
    print(f"worker pool, warm:           PDF {warm_took * 1000:.0f} ms, longest stall {warm_stall * 1000:.1f} ms")
    print(f"stall ratio (baseline / warm pool): {base_stall / max(warm_stall, 1e-4):.0f}x; target stall <= 50 ms: "
          f"{'met' if max(warm_stall, cold[1]) <= 0.050 else 'NOT met'}")
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    asyncio.run(main(parser.parse_args().rounds))
