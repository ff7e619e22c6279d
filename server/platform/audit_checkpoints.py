"""Signed checkpoints of the audit chain's head, kept in a file outside the database.

The keyed chain shows a changed row, but not a log cut short with its head moved back, nor one deleted
whole: both leave a chain that adds up. Every few minutes (and when the server stops) the head's
sequence number and hash are appended here as one JSON line signed with the audit key, so
``samkonsult audit verify`` can tell that rows the log once had are gone. Someone who can write the
database but not this file (or who can write the file but does not have the key) cannot hide it.

A line is ``{"seq": …, "hash": …, "keyed_from": …, "at": …, "mac": …}``; the MAC is an HMAC-SHA256
over the other fields with the audit key.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

_DOMAIN = b"samkonsult audit checkpoint\n"
"""Kept in front of what a checkpoint's MAC covers, so no chain row can ever pass for a checkpoint."""


class CheckpointProblem(Exception):
    """A line of the checkpoint file is not one this key signed: the file was altered."""

    def __init__(self, line: int) -> None:
        super().__init__(f"checkpoint line {line} is not signed with the audit key")
        self.line = line


@dataclass(frozen=True)
class Checkpoint:
    """The head of the chain as it was at ``at``: ``seq`` rows, the last with hash ``head_hash``."""

    seq: int
    head_hash: str
    keyed_from: int
    at: str


def _signed_part(seq: int, head_hash: str, keyed_from: int, at: str) -> bytes:
    return json.dumps({"at": at, "hash": head_hash, "keyed_from": keyed_from, "seq": seq},
                      sort_keys=True, separators=(",", ":")).encode("utf-8")


class CheckpointFile:
    """Appends signed checkpoints to ``path`` and reads them back, checking every signature."""

    def __init__(self, path: str | Path, key: bytes) -> None:
        self._path = Path(path)
        self._key = key
        self._lock = threading.Lock()
        self._last: tuple[int, str] | None = None

    @property
    def path(self) -> Path:
        return self._path

    def _mac(self, seq: int, head_hash: str, keyed_from: int, at: str) -> str:
        return hmac.new(self._key, _DOMAIN + _signed_part(seq, head_hash, keyed_from, at),
                        hashlib.sha256).hexdigest()

    def read(self) -> list[Checkpoint]:
        """Every checkpoint in the file, oldest first; no file means none yet.

        Raises ``CheckpointProblem`` for a line that is not valid or not signed with this key.
        """
        try:
            text = self._path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        found: list[Checkpoint] = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
                mark = Checkpoint(seq=int(data["seq"]), head_hash=str(data["hash"]),
                                  keyed_from=int(data["keyed_from"]), at=str(data["at"]))
                mac = str(data["mac"])
            except (ValueError, KeyError, TypeError):
                raise CheckpointProblem(number) from None
            if not hmac.compare_digest(mac, self._mac(mark.seq, mark.head_hash, mark.keyed_from, mark.at)):
                raise CheckpointProblem(number)
            found.append(mark)
        return found

    def append(self, seq: int, head_hash: str, keyed_from: int, at: datetime) -> Checkpoint | None:
        """Append a checkpoint of this head, durably; ``None`` if the newest one already shows it."""
        with self._lock:
            if self._last is None:
                existing = self.read()
                if existing:
                    self._last = (existing[-1].seq, existing[-1].head_hash)
            if self._last == (seq, head_hash):
                return None
            mark = Checkpoint(seq, head_hash, keyed_from, at.isoformat())
            line = json.dumps({"seq": seq, "hash": head_hash, "keyed_from": keyed_from, "at": mark.at,
                               "mac": self._mac(seq, head_hash, keyed_from, mark.at)},
                              separators=(",", ":"))
            self._path.parent.mkdir(parents=True, exist_ok=True)
            # Owner-only, append-only writes, and on disk before we say so: a checkpoint lost in a
            # crash would let the rows after the previous one go unnoticed.
            fd = os.open(self._path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, (line + "\n").encode("utf-8"))
                os.fsync(fd)
            finally:
                os.close(fd)
            self._last = (seq, head_hash)
            return mark
