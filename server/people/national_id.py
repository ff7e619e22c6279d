"""Norwegian national identity numbers (fødselsnummer, D-number, synthetic test numbers).

Both check digits are verified (mod 11). Synthetic numbers (month + 80) are the kind Norwegian
test environments use; demo data only ever uses those, never real people's numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

_W1 = (3, 7, 6, 1, 8, 9, 4, 5, 2)
_W2 = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)


class InvalidNationalId(ValueError):
    """The number is not a valid Norwegian identity number; ``code`` says why."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class NationalId:
    value: str
    birth_date: date
    is_d_number: bool
    is_synthetic: bool


def _check_digit(digits: str, weights: tuple[int, ...]) -> int | None:
    remainder = sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11
    check = (11 - remainder) % 11
    return None if check == 10 else check


def _century(individual: int, year: int) -> int | None:
    if individual <= 499:
        return 1900
    if individual <= 749 and year >= 54:
        return 1800
    if individual >= 900 and year >= 40:
        return 1900
    if individual >= 500 and year <= 39:
        return 2000
    return None


def parse_national_id(raw: str) -> NationalId:
    """Validate and decode; raises ``InvalidNationalId`` with a reason code."""
    value = raw.replace(" ", "").strip()
    if len(value) != 11 or not value.isdigit():
        raise InvalidNationalId("nin_format")
    if _check_digit(value[:9], _W1) != int(value[9]) or _check_digit(value[:10], _W2) != int(value[10]):
        raise InvalidNationalId("nin_checksum")
    day, month, year = int(value[0:2]), int(value[2:4]), int(value[4:6])
    is_d = day > 40
    if is_d:
        day -= 40
    synthetic = month > 80
    if synthetic:
        month -= 80
    elif month > 40:  # H-numbers (help numbers)
        month -= 40
    century = _century(int(value[6:9]), year)
    if century is None:
        raise InvalidNationalId("nin_date")
    try:
        born = date(century + year, month, day)
    except ValueError:
        raise InvalidNationalId("nin_date") from None
    return NationalId(value=value, birth_date=born, is_d_number=is_d, is_synthetic=synthetic)


def make_synthetic_id(born: date, individual: int) -> str:
    """Build a valid synthetic number (month + 80) for test and demo data.

    Raises ValueError when this individual number gives an invalid check digit; try the next one.
    """
    if born.year >= 2000:
        if not 500 <= individual <= 999:
            raise ValueError("individual number must be 500-999 for births from 2000")
    elif not 0 <= individual <= 499:
        raise ValueError("individual number must be 0-499 for births 1900-1999")
    base = f"{born.day:02d}{born.month + 80:02d}{born.year % 100:02d}{individual:03d}"
    k1 = _check_digit(base, _W1)
    if k1 is None:
        raise ValueError("no valid first check digit")
    k2 = _check_digit(base + str(k1), _W2)
    if k2 is None:
        raise ValueError("no valid second check digit")
    return base + str(k1) + str(k2)


def first_synthetic_id(born: date, start: int = 100) -> str:
    """The first valid synthetic number for a birth date, from a starting individual number."""
    for individual in range(start, start + 400):
        try:
            return make_synthetic_id(born, individual)
        except ValueError:
            continue
    raise ValueError("no synthetic number found")
