"""The audit log's tables: the chain's head and the append-only entries."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from server.platform.model_base import Base


class AuditHead(Base):
    """One row holding the tip of the audit chain; updating it first serialises audit writers."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    last_hash: Mapped[str] = mapped_column(String(64))
    # Rows below this sequence number were written before the chain had a key (plain SHA-256); set by
    # the migration that introduced the key, and carried in every signed checkpoint.
    keyed_from: Mapped[int] = mapped_column(Integer, default=1, server_default="1")


class AuditEntry(Base):
    """An append-only record of who touched what; each row hashes its predecessor."""

    __tablename__ = "audit_entries"
    __table_args__ = (Index("ix_audit_entries_patient_at", "patient_id", "at"),)

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime]
    actor_kind: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[str] = mapped_column(String(64))
    actor_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    organisation: Mapped[str] = mapped_column(String(200))
    # No foreign key: the log must outlive anything it mentions.
    patient_id: Mapped[int | None] = mapped_column(Integer)
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(Text, default="")
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
