"""The typed inputs and outputs of setting a trust up: health rooms, equipment items, bookable staff and
the bulk import of rooms (frozen dataclasses, no ORM objects)."""

from __future__ import annotations

from dataclasses import dataclass

from scheduling.room_import import RowProblem
from scheduling.services.views import HoursInput


@dataclass(frozen=True)
class RoomInput:
    """A new health room: where it is, its built-in equipment and its weekly opening hours."""

    name: str
    municipality_id: int | None
    address: str = ""
    email: str = ""
    equipment_codes: tuple[str, ...] = ()
    hours: tuple[HoursInput, ...] = ()


@dataclass(frozen=True)
class ResourceChange:
    """New details of an existing resource; fields that do not apply to its kind are ignored."""

    name: str
    address: str = ""
    email: str = ""
    equipment_codes: tuple[str, ...] = ()
    located_in_id: int | None = None


@dataclass(frozen=True)
class EquipmentItemInput:
    """A piece of equipment of one kind, owned by an organisation and maybe kept in a health room."""

    code: str
    name: str
    organisation_id: int | None
    room_id: int | None = None


@dataclass(frozen=True)
class BookableCandidate:
    """A staff member who could be made bookable (or be bookable again)."""

    user_id: int
    name: str
    role: str
    organisation: str
    department: str
    was_bookable: bool


@dataclass(frozen=True)
class ImportReport:
    """What a room import found: ``rooms`` rows that are ready, every problem, and whether it wrote."""

    rooms: int
    problems: tuple[RowProblem, ...]
    imported: bool
