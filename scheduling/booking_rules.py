"""What may happen next to a booking: the one home of the status rules, handed to views as data.

The service enforces these rules and the pages show only what they allow, so a page never offers an
action the service would refuse (an arrived patient's consultation cannot be moved, only cancelled).
"""

from __future__ import annotations

from collections.abc import Mapping

from scheduling.models import BookingStatus

# Which status may follow which; cancelling goes through cancel() so that invites and reservations follow.
TRANSITIONS: Mapping[BookingStatus, frozenset[BookingStatus]] = {
    BookingStatus.BOOKED: frozenset({BookingStatus.ARRIVED, BookingStatus.IN_PROGRESS, BookingStatus.NO_SHOW}),
    BookingStatus.ARRIVED: frozenset({BookingStatus.IN_PROGRESS, BookingStatus.NO_SHOW}),
    BookingStatus.IN_PROGRESS: frozenset({BookingStatus.COMPLETED}),
    BookingStatus.COMPLETED: frozenset(),
    BookingStatus.CANCELLED: frozenset(),
    BookingStatus.NO_SHOW: frozenset(),
}
# Moving changes everyone's time: only before anybody has arrived.
_RESCHEDULABLE = frozenset({BookingStatus.BOOKED})
_CANCELLABLE = frozenset({BookingStatus.BOOKED, BookingStatus.ARRIVED})
# The longest cancel reason kept (the column's size); a longer one is refused, never cut.
CANCEL_REASON_MAX = 500
JOINABLE_STATUSES = frozenset({BookingStatus.BOOKED, BookingStatus.ARRIVED, BookingStatus.IN_PROGRESS})


def next_statuses(status: BookingStatus) -> tuple[BookingStatus, ...]:
    """The statuses staff may set next, in the order of the consultation's course."""
    order = list(BookingStatus)
    return tuple(sorted(TRANSITIONS[status], key=order.index))


def may_reschedule(status: BookingStatus) -> bool:
    """Whether the booking may be moved to another time."""
    return status in _RESCHEDULABLE


def may_cancel(status: BookingStatus) -> bool:
    """Whether the booking may be cancelled."""
    return status in _CANCELLABLE


def joinable(status: BookingStatus) -> bool:
    """Whether the consultation's video room may be joined (it still takes place)."""
    return status in JOINABLE_STATUSES
