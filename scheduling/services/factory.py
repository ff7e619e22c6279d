"""One place that wires the scheduling services together (for ``server/app.py`` and tests)."""

from __future__ import annotations

from dataclasses import dataclass

from scheduling.benefits.service import BenefitsService
from scheduling.benefits.settings import BenefitSettingsService
from scheduling.feed_addresses import FeedAddressPolicy
from scheduling.join_code_messages import JoinCodeMessenger
from scheduling.models import OutboxChannel
from scheduling.outbox import Outbox
from scheduling.services.bookings import BookingService
from scheduling.services.calendar_sources import CalendarSourceService
from scheduling.services.feeds import FeedService
from scheduling.services.notifications import NotificationSettings, Notifier
from scheduling.services.outcomes import OutcomeService
from scheduling.services.referrals import ReferralService
from scheduling.services.resources import ResourceService
from scheduling.services.setup import SetupService
from scheduling.services.slots import SlotService
from server.people.patients import PatientService
from server.platform.audit import AuditLog
from server.platform.clock import Clock


@dataclass(frozen=True)
class SchedulingServices:
    """Every scheduling service, sharing one clock, audit log and outbox."""

    resources: ResourceService
    setup: SetupService
    calendars: CalendarSourceService
    slots: SlotService
    referrals: ReferralService
    bookings: BookingService
    feeds: FeedService
    outbox: Outbox
    notifier: Notifier
    join_code_messages: JoinCodeMessenger
    benefits: BenefitsService
    benefit_settings: BenefitSettingsService
    outcomes: OutcomeService

    @classmethod
    def create(cls, clock: Clock, audit: AuditLog, notifications: NotificationSettings,
               patients: PatientService | None = None,
               gateways: frozenset[OutboxChannel] = frozenset(),
               feed_policy: FeedAddressPolicy | None = None) -> SchedulingServices:
        """``gateways``: the channels the outbox dispatcher can send on (none: every message waits);
        ``feed_policy``: which addresses calendar feeds may be fetched from (default: public ones only)."""
        patients = patients or PatientService(clock, audit)
        outbox = Outbox(clock, gateways)
        notifier = Notifier(clock, outbox, notifications)
        slots = SlotService(clock)
        resources = ResourceService(clock)
        bookings = BookingService(clock, audit, slots, notifier, patients)
        return cls(
            resources=resources,
            setup=SetupService(clock),
            calendars=CalendarSourceService(clock, resources, feed_policy),
            slots=slots,
            referrals=ReferralService(clock, audit, patients),
            bookings=bookings,
            feeds=FeedService(clock, audit, notifier),
            outbox=outbox,
            notifier=notifier,
            join_code_messages=JoinCodeMessenger(clock, audit, outbox),
            benefits=BenefitsService(clock, audit),
            benefit_settings=BenefitSettingsService(clock, audit),
            outcomes=OutcomeService(clock, audit, bookings),
        )
