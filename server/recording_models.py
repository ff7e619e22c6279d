"""The recordings table: one row per recording of a consultation, kept after its files are deleted.

The row holds what is needed to find, open and account for a recording: its booking, purpose, who
proposed and started it, when it ran, when it must be gone, where its sealed files are and its data key
wrapped under the master key (``SAMKONSULT_RECORDING_KEY``, never in the database). On deletion the
files and the wrapped key go; the row stays, with ``deleted_at`` and why, so the audit trail can say
what existed.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from server.platform.model_base import Base


class RecordingState(enum.StrEnum):
    RECORDING = "recording"
    COMPLETE = "complete"
    FAILED = "failed"  # stopped by a write error or a full disk; what was sealed up to then is kept
    DELETED = "deleted"


class Recording(Base):
    __tablename__ = "recordings"
    __table_args__ = (Index("ix_recordings_delete_after", "state", "delete_after"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("sched_bookings.id", ondelete="RESTRICT"), index=True)
    purpose: Mapped[str] = mapped_column(String(32))
    proposed_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    started_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    started_at: Mapped[datetime]
    stopped_at: Mapped[datetime | None]
    stop_reason: Mapped[str | None] = mapped_column(String(32))
    delete_after: Mapped[datetime]
    storage_name: Mapped[str] = mapped_column(String(64), unique=True)
    parts: Mapped[int] = mapped_column(Integer, default=0)
    wrapped_key: Mapped[bytes | None] = mapped_column(LargeBinary(64))
    size_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    state: Mapped[str] = mapped_column(String(16))
    deleted_at: Mapped[datetime | None]
    deletion_reason: Mapped[str | None] = mapped_column(String(500))
