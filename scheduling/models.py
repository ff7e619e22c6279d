"""The tables of scheduling: resources and their hours, imported busy times, consultation types,
referrals, bookings with one reservation per resource, the notification outbox and feed tokens.

Every table is prefixed ``sched_`` so that the domain's tables sort together and cannot collide with
those of other packages. Times are UTC (``UTCDateTime`` via the ``datetime`` annotation); weekly hours
and exceptions are local wall-clock times in the resource's own zone.

No double booking: a reservation holds the *blocked* range of its booking (the consultation plus its
buffers). On PostgreSQL an exclusion constraint over ``(resource_id, tstzrange(blocked))`` for active
reservations makes an overlap impossible whatever the application does; on SQLite the booking service
checks and inserts under ``BEGIN IMMEDIATE``.
"""

from __future__ import annotations

import enum
from datetime import date, datetime, time

from sqlalchemy import (
    Boolean,
    Date,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    Time,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ExcludeConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.platform.model_base import Base

__all__ = [
    "AvailabilityException",
    "Booking",
    "BookingStatus",
    "CalendarSource",
    "CalendarSourceKind",
    "ConsultationType",
    "Equipment",
    "ExceptionKindDb",
    "FeedToken",
    "ImportedBusyInterval",
    "OutboxChannel",
    "OutboxMessage",
    "OutboxStatus",
    "Referral",
    "ReferralStatus",
    "RequirementKind",
    "Reservation",
    "Resource",
    "ResourceKind",
    "RoomEquipment",
    "TypeRequirement",
    "Urgency",
    "WeeklyHoursRow",
]


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    # the same storage as server.people.models: the value string with a CHECK constraint, portable and readable
    return Enum(cls, name=name, native_enum=False, create_constraint=True, length=32,
                values_callable=lambda members: [m.value for m in members])


class ResourceKind(enum.StrEnum):
    PERSON = "person"
    HEALTH_ROOM = "health_room"
    EQUIPMENT = "equipment"


class ExceptionKindDb(enum.StrEnum):
    CLOSED = "closed"
    EXTRA = "extra"


class CalendarSourceKind(enum.StrEnum):
    UPLOAD = "upload"
    FEED = "feed"


class RequirementKind(enum.StrEnum):
    """What one required participant of a consultation type is."""

    NAMED_PERSON = "named_person"  # exactly resource_id
    DEPARTMENT_SPECIALIST = "department_specialist"  # any specialist of department_id
    MUNICIPALITY_NURSE = "municipality_nurse"  # any nurse of the municipality the consultation is in
    HEALTH_ROOM = "health_room"  # a health room of that municipality with the listed equipment
    PATIENT_HOME = "patient_home"  # the patient takes part from home: no resource to reserve
    # any bookable person of ``profession``: of department_id, or of the municipality when none is named
    PROFESSION = "profession"


class Urgency(enum.StrEnum):
    DAY = "day"
    WEEK = "week"
    FOUR_WEEKS = "four_weeks"


class ReferralStatus(enum.StrEnum):
    OPEN = "open"
    BOOKED = "booked"
    CLOSED = "closed"


class BookingStatus(enum.StrEnum):
    BOOKED = "booked"
    ARRIVED = "arrived"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"


class OutboxChannel(enum.StrEnum):
    EMAIL = "email"
    SMS = "sms"


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    NO_GATEWAY = "no_gateway"


class Resource(Base):
    """A bookable person, health room or piece of equipment."""

    __tablename__ = "sched_resources"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[ResourceKind] = mapped_column(_enum(ResourceKind, "sched_resource_kind"))
    name: Mapped[str] = mapped_column(String(200))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"), index=True)
    # a person resource is one staff user; unique so that a user has one calendar
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id", ondelete="SET NULL"))
    profession: Mapped[str] = mapped_column(String(80), default="")
    # health rooms: where they are; the municipality is the organisation that runs the room
    address: Mapped[str] = mapped_column(String(300), default="")
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    municipality_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"))
    # where invites for a room go (the room's shared mailbox); people get theirs at the user's address
    email: Mapped[str] = mapped_column(String(254), default="")
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Oslo")
    closed_on_public_holidays: Mapped[bool] = mapped_column(Boolean, default=True)
    # an equipment item kept in a health room (its kinds then count as the room's); None: the
    # organisation's own, brought along where it is needed
    located_in_id: Mapped[int | None] = mapped_column(ForeignKey("sched_resources.id", ondelete="SET NULL"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]

    equipment: Mapped[list[Equipment]] = relationship(secondary="sched_room_equipment", lazy="selectin",
                                                      order_by="Equipment.code")


class Equipment(Base):
    """A kind of equipment (room camera, examination camera, ...): what a health room has built in, and
    what an equipment resource is."""

    __tablename__ = "sched_equipment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(200))


class RoomEquipment(Base):
    __tablename__ = "sched_room_equipment"

    resource_id: Mapped[int] = mapped_column(ForeignKey("sched_resources.id", ondelete="CASCADE"),
                                             primary_key=True)
    equipment_id: Mapped[int] = mapped_column(ForeignKey("sched_equipment.id", ondelete="RESTRICT"),
                                              primary_key=True)


class WeeklyHoursRow(Base):
    """One open range on one weekday (0 = Monday), local wall time; ``end`` 00:00 means 24:00."""

    __tablename__ = "sched_weekly_hours"
    __table_args__ = (Index("ix_sched_weekly_hours_resource", "resource_id", "weekday"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("sched_resources.id", ondelete="CASCADE"))
    weekday: Mapped[int] = mapped_column(Integer)
    start_time: Mapped[time] = mapped_column(Time)
    end_time: Mapped[time] = mapped_column(Time)


class AvailabilityException(Base):
    """A dated change to the weekly hours: closed (all day or a range) or extra hours."""

    __tablename__ = "sched_availability_exceptions"
    __table_args__ = (Index("ix_sched_availability_exceptions_resource", "resource_id", "day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("sched_resources.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    kind: Mapped[ExceptionKindDb] = mapped_column(_enum(ExceptionKindDb, "sched_exception_kind"))
    start_time: Mapped[time | None] = mapped_column(Time)
    end_time: Mapped[time | None] = mapped_column(Time)
    note: Mapped[str] = mapped_column(String(200), default="")


class CalendarSource(Base):
    """Where a resource's own busy times come from: an uploaded file or a feed URL fetched on a schedule.

    A failed fetch only sets ``last_error``: the intervals of the last good import stay in place.
    """

    __tablename__ = "sched_calendar_sources"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("sched_resources.id", ondelete="CASCADE"), index=True)
    kind: Mapped[CalendarSourceKind] = mapped_column(_enum(CalendarSourceKind, "sched_calendar_source_kind"))
    url: Mapped[str] = mapped_column(String(2000), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    last_good_import_at: Mapped[datetime | None]
    last_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str] = mapped_column(String(500), default="")
    occurrences: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]


class ImportedBusyInterval(Base):
    """One busy interval of a resource from its own calendar (times only; no titles are kept)."""

    __tablename__ = "sched_imported_busy"
    __table_args__ = (Index("ix_sched_imported_busy_resource_start", "resource_id", "start"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sched_calendar_sources.id", ondelete="CASCADE"),
                                           index=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("sched_resources.id", ondelete="CASCADE"))
    start: Mapped[datetime]
    end: Mapped[datetime]


class ConsultationType(Base):
    """A kind of consultation: how long, with which buffers and notice, and who must take part."""

    __tablename__ = "sched_consultation_types"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200), default="")
    duration_minutes: Mapped[int] = mapped_column(Integer)
    buffer_before_minutes: Mapped[int] = mapped_column(Integer, default=0)
    buffer_after_minutes: Mapped[int] = mapped_column(Integer, default=0)
    min_notice_minutes: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    requirements: Mapped[list[TypeRequirement]] = relationship(
        lazy="selectin", order_by="TypeRequirement.position", cascade="all, delete-orphan")


class TypeRequirement(Base):
    """One required participant of a consultation type; ``key`` names its role ("specialist", "room")."""

    __tablename__ = "sched_type_requirements"
    __table_args__ = (UniqueConstraint("consultation_type_id", "key", name="uq_sched_type_requirements_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    consultation_type_id: Mapped[int] = mapped_column(
        ForeignKey("sched_consultation_types.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    key: Mapped[str] = mapped_column(String(40))
    kind: Mapped[RequirementKind] = mapped_column(_enum(RequirementKind, "sched_requirement_kind"))
    resource_id: Mapped[int | None] = mapped_column(ForeignKey("sched_resources.id", ondelete="CASCADE"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id", ondelete="CASCADE"))
    # equipment codes a health room must have, comma separated (few, short, only ever read whole)
    equipment_codes: Mapped[str] = mapped_column(String(500), default="")
    # a server.people.professions.Profession code, for the PROFESSION kind
    profession: Mapped[str] = mapped_column(String(40), default="")


class Referral(Base):
    """A request for a joint consultation, waiting in the coordinators' queue until it is booked."""

    __tablename__ = "sched_referrals"
    __table_args__ = (Index("ix_sched_referrals_status_created", "status", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="RESTRICT"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    urgency: Mapped[Urgency] = mapped_column(_enum(Urgency, "sched_urgency"))
    what_matters: Mapped[str] = mapped_column(Text, default="")
    wished_participants: Mapped[str] = mapped_column(Text, default="")
    consultation_type_id: Mapped[int | None] = mapped_column(
        ForeignKey("sched_consultation_types.id", ondelete="SET NULL"))
    referred_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    referring_organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"))
    # for the benefits report: the trip the patient is spared
    otherwise_hospital: Mapped[str] = mapped_column(String(200), default="")
    travel_hours: Mapped[float | None] = mapped_column(Float)
    # the patient could not have travelled alone: an escort's trip is spared too
    escort_needed: Mapped[bool] = mapped_column(Boolean, default=False)
    # the municipal nurse would have gone along to the hospital: her trip and hours are spared too
    nurse_would_travel: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[ReferralStatus] = mapped_column(_enum(ReferralStatus, "sched_referral_status"))
    created_at: Mapped[datetime]
    responded_at: Mapped[datetime | None]
    closed_reason: Mapped[str] = mapped_column(String(500), default="")


class Booking(Base):
    """A booked consultation. ``public_id`` goes in URLs; ``ical_uid`` never changes; ``sequence`` rises."""

    __tablename__ = "sched_bookings"
    __table_args__ = (Index("ix_sched_bookings_start", "start"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    referral_id: Mapped[int | None] = mapped_column(ForeignKey("sched_referrals.id", ondelete="SET NULL"),
                                                    index=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="RESTRICT"), index=True)
    consultation_type_id: Mapped[int] = mapped_column(
        ForeignKey("sched_consultation_types.id", ondelete="RESTRICT"))
    start: Mapped[datetime]
    end: Mapped[datetime]
    status: Mapped[BookingStatus] = mapped_column(_enum(BookingStatus, "sched_booking_status"))
    cancel_reason: Mapped[str] = mapped_column(String(500), default="")
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    ical_uid: Mapped[str] = mapped_column(String(200), unique=True)
    patient_at_home: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # set when the reminder went to the outbox; cleared by a reschedule so the new time is reminded
    reminder_queued_at: Mapped[datetime | None]

    reservations: Mapped[list[Reservation]] = relationship(
        lazy="selectin", order_by="Reservation.position", cascade="all, delete-orphan",
        back_populates="booking")


class AdmissionAvoided(enum.StrEnum):
    """Whether, in the view of the staff who held it, the consultation spared the patient an admission."""

    YES = "yes"
    NO = "no"
    UNCERTAIN = "uncertain"


class FollowUp(enum.StrEnum):
    """Who follows the patient up after the consultation."""

    HOME_CARE = "home_care"
    GP = "gp"
    OUTPATIENT = "outpatient"
    ADMISSION = "admission"


class ConsultationOutcome(Base):
    """What followed a held consultation, recorded by staff when they complete it (for the benefits report)."""

    __tablename__ = "sched_consultation_outcomes"

    booking_id: Mapped[int] = mapped_column(ForeignKey("sched_bookings.id", ondelete="RESTRICT"), primary_key=True)
    admission_avoided: Mapped[AdmissionAvoided] = mapped_column(
        _enum(AdmissionAvoided, "sched_admission_avoided"))
    # FollowUp codes, comma separated in the order of the enum (few, short, only ever read whole)
    follow_up: Mapped[str] = mapped_column(String(200), default="")
    recorded_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    recorded_at: Mapped[datetime]


class Reservation(Base):
    """One resource held for one booking over the blocked range (consultation plus buffers)."""

    __tablename__ = "sched_reservations"
    __table_args__ = (
        Index("ix_sched_reservations_resource_start", "resource_id", "blocked_start"),
        # The database's own guarantee of "no double booking" on PostgreSQL (needs btree_gist for the
        # integer equality in a GiST index). SQLite has no such constraint; see the booking service.
        ExcludeConstraint(
            (text("resource_id"), "="),
            (text("tstzrange(blocked_start, blocked_end, '[)')"), "&&"),
            name="ex_sched_reservations_no_overlap",
            using="gist",
            where=text("active"),
        ).ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("sched_bookings.id", ondelete="CASCADE"), index=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("sched_resources.id", ondelete="RESTRICT"))
    requirement_key: Mapped[str] = mapped_column(String(40))
    position: Mapped[int] = mapped_column(Integer, default=0)
    blocked_start: Mapped[datetime]
    blocked_end: Mapped[datetime]
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    booking: Mapped[Booking] = relationship(back_populates="reservations")


class OutboxMessage(Base):
    """A message waiting to go out (or gone); written in the same transaction as its cause."""

    __tablename__ = "sched_outbox"
    __table_args__ = (Index("ix_sched_outbox_status_next", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[OutboxChannel] = mapped_column(_enum(OutboxChannel, "sched_outbox_channel"))
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300), default="")
    body: Mapped[str] = mapped_column(Text)
    ics: Mapped[bytes | None] = mapped_column(LargeBinary)
    ics_method: Mapped[str] = mapped_column(String(20), default="")
    purpose: Mapped[str] = mapped_column(String(40), default="")
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("sched_bookings.id", ondelete="SET NULL"),
                                                   index=True)
    status: Mapped[OutboxStatus] = mapped_column(_enum(OutboxStatus, "sched_outbox_status"))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    last_error: Mapped[str] = mapped_column(String(500), default="")
    """The technical detail of the last failure, for the logs and operators; people see ``failure``."""
    failure: Mapped[str] = mapped_column(String(40), default="", server_default="")
    """Why the last attempt failed, as a code of :data:`scheduling.outbox.FAILURES` ("" when it did not)."""
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]


class FeedToken(Base):
    """A subscribable calendar feed of one resource; only the SHA-256 of the token is stored."""

    __tablename__ = "sched_feed_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("sched_resources.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(100), default="")
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
