"""Audit rows written in groups, each caller still waiting until its own row is committed.

A live consultation audits every chat message, reading and roster change before anyone sees it. With
one transaction per row, the commit (an fsync on SQLite) was the limit: about 200 chat messages a
second per process. Rows that arrive while a commit is running now go into the next transaction
together, so a burst costs one commit, the first row of a quiet moment is written at once, and no
action is shown before its row is durable.
"""

from __future__ import annotations

import asyncio

from server.platform.audit import AuditLog, AuditRow
from server.platform.db import Database

MAX_ROWS_PER_COMMIT = 256


__all__ = ["MAX_ROWS_PER_COMMIT", "AuditRow", "GroupCommitAudit"]


class GroupCommitAudit:
    """Appends audit rows in shared transactions; ``record`` returns once the row is committed.

    If a transaction fails, every caller whose row was in it gets the exception (their action must
    then not go ahead), and the rows after it are written in the next one.
    """

    def __init__(self, database: Database, audit: AuditLog, *, max_rows: int = MAX_ROWS_PER_COMMIT) -> None:
        self._db = database
        self._audit = audit
        self._max_rows = max_rows
        self._pending: list[tuple[AuditRow, asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None
        self.commits = 0

    async def record(self, row: AuditRow) -> None:
        """Append ``row``; returns when it is committed, raises what the database raised."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((row, done))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._drain(), name="audit-group-commit")
        # A caller that gives up (a closed socket) does not take its row back: it is written anyway.
        await asyncio.shield(done)

    async def _drain(self) -> None:
        while self._pending:
            batch = self._pending[: self._max_rows]
            del self._pending[: self._max_rows]
            try:
                async with self._db.session() as session:
                    await self._audit.record_many(session, [row for row, _ in batch])
            except Exception as exc:  # handed to every caller of the batch, who refuses its action
                for _, done in batch:
                    if not done.done():
                        done.set_exception(exc)
            else:
                self.commits += 1
                for _, done in batch:
                    if not done.done():
                        done.set_result(None)

    async def close(self) -> None:
        """Wait for the rows already handed in to be written."""
        if self._writer is not None:
            await asyncio.gather(self._writer, return_exceptions=True)
