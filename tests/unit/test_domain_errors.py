"""Every domain error derives from ``server.platform.errors.DomainError``, so the transports map them in one place."""

from __future__ import annotations

import pytest

import notes.errors as notes_errors
import scheduling.errors as scheduling_errors
from notes.export_pdf import PdfUnavailable
from server.platform.errors import Conflict, DomainError, ValidationFailed


def _classes(module: object) -> list[type[DomainError]]:
    return [c for c in vars(module).values()
            if isinstance(c, type) and issubclass(c, Exception) and c.__module__ == getattr(module, "__name__")]


@pytest.mark.parametrize("cls", [*_classes(notes_errors), *_classes(scheduling_errors), PdfUnavailable],
                         ids=lambda c: c.__name__)
def test_every_notes_and_scheduling_error_is_a_domain_error(cls: type[DomainError]) -> None:
    assert issubclass(cls, DomainError)
    assert cls.code and cls.code != DomainError.code


def test_code_and_message_of_a_scheduling_error() -> None:
    exc = scheduling_errors.InvalidCalendar("too big", code="calendar.too_large")
    assert (exc.code, exc.message) == ("calendar.too_large", "too big")
    assert scheduling_errors.InvalidCalendar("bad").code == "calendar.invalid"
    assert isinstance(exc, ValueError)  # the pure rules are used where a ValueError is expected too


def test_notes_errors_are_the_kind_of_refusal_they_are() -> None:
    invalid = notes_errors.InvalidNote((notes_errors.FieldError("risks[0].unwanted_event", "required", "empty"),))
    assert isinstance(invalid, ValidationFailed) and invalid.code == "notes.invalid" and invalid.fields == {}
    assert invalid.message == "invalid note: risks[0].unwanted_event: empty"
    assert isinstance(notes_errors.EmptyNote("empty"), ValidationFailed)
    amendment = notes_errors.InvalidAmendment("needs text", code="notes.amendment_empty")
    assert isinstance(amendment, ValidationFailed) and amendment.code == "notes.amendment_empty"
    for locked in (notes_errors.NoteLocked("signed"), notes_errors.NotSigned("draft"),
                   notes_errors.UnknownVersion("v9")):
        assert isinstance(locked, Conflict) and locked.code.startswith("notes.")
    unsupported = notes_errors.UnsupportedSchema("schema 7")
    assert not isinstance(unsupported, ValidationFailed | Conflict)


def test_a_refused_value_becomes_a_refused_field() -> None:
    exc = ValidationFailed.for_field("hours", scheduling_errors.InvalidAvailability("08-07",
                                                                                    code="availability.range"))
    assert type(exc) is ValidationFailed
    assert (exc.code, exc.message, exc.fields) == ("validation_failed", "08-07", {"hours": "availability.range"})
