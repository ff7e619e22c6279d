"""The tables of consultation notes: one note per booking, every version, the signature, the amendments.

Every table is prefixed ``note_`` (``notes`` for the note itself). Versions, the signature and the
amendments are append-only: rows are inserted, never updated or deleted, so every edit anybody ever saved
can be read back. ``UNIQUE(note_id, version)`` is what makes two concurrent saves safe: both may compute
version N+1 from the same latest, but only one insert wins; the other is merged again on top of it.

The note row holds pointers that are cheap to read (latest version, sharing, chain hash of the signature
and amendments) and is the one row a writer updates, which also serialises writers of one note on
PostgreSQL.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from server.platform.model_base import Base

__all__ = ["NoteAmendmentRow", "NoteDraftRow", "NoteRow", "NoteSignatureRow", "NoteVersionRow"]


class NoteRow(Base):
    """The joint note of one consultation (booking). ``public_id`` goes in URLs and is unguessable."""

    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    # One note per consultation: the unique key settles two people opening a new note at once.
    booking_id: Mapped[int] = mapped_column(ForeignKey("sched_bookings.id", ondelete="RESTRICT"), unique=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="RESTRICT"), index=True)
    latest_version: Mapped[int] = mapped_column(Integer, default=1)
    # Patients and relatives see the signed summary only when staff have shared it.
    shared: Mapped[bool] = mapped_column(Boolean, default=False)
    # sha256 of the signature's seal or of the last amendment: a changed or dropped record shows.
    chain_hash: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime]
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class NoteVersionRow(Base):
    """One saved version of the content, as canonical JSON (:func:`notes.codec.note_to_json`)."""

    __tablename__ = "note_versions"
    __table_args__ = (UniqueConstraint("note_id", "version", name="uq_note_versions_note_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    note_id: Mapped[int] = mapped_column(ForeignKey("notes.id", ondelete="RESTRICT"))
    version: Mapped[int] = mapped_column(Integer)
    content: Mapped[str] = mapped_column(Text)
    author_id: Mapped[str] = mapped_column(String(64))
    author_name: Mapped[str] = mapped_column(String(200))
    author_profession: Mapped[str] = mapped_column(String(80), default="")
    created_at: Mapped[datetime]


class NoteSignatureRow(Base):
    """Who signed which version, when, and the hash of what they signed; at most one per note."""

    __tablename__ = "note_signatures"

    note_id: Mapped[int] = mapped_column(ForeignKey("notes.id", ondelete="RESTRICT"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(80))
    signer_id: Mapped[str] = mapped_column(String(64))
    signer_name: Mapped[str] = mapped_column(String(200))
    signer_profession: Mapped[str] = mapped_column(String(80), default="")
    signed_at: Mapped[datetime]


class NoteAmendmentRow(Base):
    """A signed amendment after signing, chained by hash to the signature and the amendment before."""

    __tablename__ = "note_amendments"
    __table_args__ = (
        UniqueConstraint("note_id", "number", name="uq_note_amendments_note_number"),
        Index("ix_note_amendments_note", "note_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    note_id: Mapped[int] = mapped_column(ForeignKey("notes.id", ondelete="RESTRICT"))
    number: Mapped[int] = mapped_column(Integer)
    part: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    author_id: Mapped[str] = mapped_column(String(64))
    author_name: Mapped[str] = mapped_column(String(200))
    author_profession: Mapped[str] = mapped_column(String(80), default="")
    signed_at: Mapped[datetime]
    chain_hash: Mapped[str] = mapped_column(String(80))


class NoteDraftRow(Base):
    """One author's draft of one part: what they typed that breaks a rule, kept until they fix it.

    Unlike versions, drafts are working state: the next save of the part replaces the row, and a save in
    which the part is valid (or gone) removes it. ``content`` is the part as submitted (JSON, ASCII-escaped
    so no character can upset the database), ``errors`` the list of its field errors (JSON).
    """

    __tablename__ = "note_drafts"
    __table_args__ = (UniqueConstraint("note_id", "author_id", "part", name="uq_note_drafts_note_author_part"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    note_id: Mapped[int] = mapped_column(ForeignKey("notes.id", ondelete="RESTRICT"))
    author_id: Mapped[str] = mapped_column(String(64))
    author_name: Mapped[str] = mapped_column(String(200))
    part: Mapped[str] = mapped_column(String(200))
    content: Mapped[str] = mapped_column(Text)
    errors: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime]
