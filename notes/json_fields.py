"""Typed readers for fields of untrusted JSON objects, each error kept with its path (``measures[0].what``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import TypeVar

from notes.errors import FieldError
from server.platform.date_bounds import in_range

E = TypeVar("E", bound=StrEnum)
T = TypeVar("T")


class FieldReader:
    """Walks untrusted JSON data, collecting type errors with their paths instead of stopping at the first."""

    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def fail(self, path: str, code: str, message: str) -> None:
        self.errors.append(FieldError(path, code, message))

    def obj(self, path: str, data: object, allowed: set[str]) -> dict[str, object] | None:
        if not isinstance(data, dict):
            self.fail(path, "type", "must be an object")
            return None
        for key in data:
            if key not in allowed:
                self.fail(join_path(path, str(key)), "unknown_key", "is not part of the note")
        return data

    def string(self, path: str, obj: dict[str, object], key: str, *, required: bool = False) -> str:
        value = obj.get(key)
        if value is None:
            if required:
                self.fail(join_path(path, key), "required", "is missing")
            return ""
        if not isinstance(value, str):
            self.fail(join_path(path, key), "type", "must be a string")
            return ""
        return value

    def strings(self, path: str, obj: dict[str, object], key: str) -> tuple[str, ...]:
        value = obj.get(key)
        if value is None:
            return ()
        if not isinstance(value, list):
            self.fail(join_path(path, key), "type", "must be a list of strings")
            return ()
        out: list[str] = []
        for i, item in enumerate(value):
            if isinstance(item, str):
                out.append(item)
            else:
                self.fail(f"{join_path(path, key)}[{i}]", "type", "must be a string")
        return tuple(out)

    def enum(self, path: str, obj: dict[str, object], key: str, kind: type[E], default: E | None) -> E | None:
        value = obj.get(key)
        if value is None and default is not None:
            return default
        if isinstance(value, str):
            try:
                return kind(value)
            except ValueError:
                pass
        self.fail(join_path(path, key), "bad_choice", f"one of {[k.value for k in kind]}")
        return None

    def day(self, path: str, obj: dict[str, object], key: str) -> date | None:
        value = obj.get(key)
        if value is None:
            return None
        if isinstance(value, str):
            try:
                parsed_day = date.fromisoformat(value)
            except ValueError:
                parsed_day = None
            if parsed_day is not None and in_range(parsed_day):
                return parsed_day
        self.fail(join_path(path, key), "bad_date", "must be a date YYYY-MM-DD")
        return None

    def moment(self, path: str, obj: dict[str, object], key: str) -> datetime | None:
        value = obj.get(key)
        if isinstance(value, str):
            try:
                parsed = datetime.fromisoformat(value)
            except ValueError:
                parsed = None
            if parsed is not None and parsed.tzinfo is not None and in_range(parsed):
                return parsed
        self.fail(join_path(path, key), "bad_time", "must be an ISO time with offset, e.g. 2026-11-23T08:00:00Z")
        return None

    def number(self, path: str, obj: dict[str, object], key: str, *, required: bool) -> Decimal | None:
        value = obj.get(key)
        if value is None and not required:
            return None
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            try:
                number = Decimal(str(value))
            except InvalidOperation:
                number = None
            if number is not None and number.is_finite():
                return number
        self.fail(join_path(path, key), "bad_number", "must be a finite decimal number")
        return None

    def items(self, path: str, data: object, read: Callable[[str, object], T | None]) -> tuple[T, ...]:
        if data is None:
            return ()
        if not isinstance(data, list):
            self.fail(path, "type", "must be a list")
            return ()
        out: list[T] = []
        for i, item in enumerate(data):
            value = read(f"{path}[{i}]", item)
            if value is not None:
                out.append(value)
        return tuple(out)

    # -- the parts


def join_path(path: str, key: str) -> str:
    """The path of ``key`` inside the object at ``path``."""
    return f"{path}.{key}" if path else key
