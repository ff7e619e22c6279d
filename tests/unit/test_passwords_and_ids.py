"""Password hashing parameters, TOTP and national identity numbers."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from argon2 import extract_parameters
from argon2.low_level import Type
from hypothesis import given
from hypothesis import strategies as st

from server.people import passwords, totp
from server.people.national_id import InvalidNationalId, first_synthetic_id, make_synthetic_id, parse_national_id


def test_argon2id_with_at_least_19_mib_and_two_passes() -> None:
    params = extract_parameters(passwords.hash_password("correct horse battery"))
    assert params.type is Type.ID
    assert params.memory_cost >= 19 * 1024
    assert params.time_cost >= 2


def test_verify_password() -> None:
    stored = passwords.hash_password("correct horse battery")
    assert passwords.verify_password(stored, "correct horse battery")
    assert not passwords.verify_password(stored, "wrong horse battery")
    assert not passwords.verify_password(None, "anything")
    assert not passwords.verify_password("not-a-hash", "anything")


def test_password_rules() -> None:
    assert passwords.password_problem("short") == "password_too_short"
    assert passwords.password_problem(" leading space!") == "password_whitespace"
    assert passwords.password_problem("long enough password") is None


def test_totp_accepts_current_and_adjacent_step_only() -> None:
    secret = totp.new_secret()
    now = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    code = totp.current_code(secret, now)
    assert totp.verify_code(secret, code, now)
    assert totp.verify_code(secret, code, now + timedelta(seconds=30))
    assert not totp.verify_code(secret, code, now + timedelta(minutes=5))
    assert not totp.verify_code(secret, "12345", now)
    assert not totp.verify_code(secret, "abcdef", now)


def test_totp_cipher_round_trip_and_wrong_key() -> None:
    secret = totp.new_secret()
    token = totp.TotpCipher("key-one-0123456789").encrypt(secret)
    assert secret not in token
    assert totp.TotpCipher("key-one-0123456789").decrypt(token) == secret
    assert totp.TotpCipher("key-two-0123456789").decrypt(token) is None


def test_qr_code_is_inline_svg() -> None:
    svg = totp.qr_svg(totp.provisioning_uri(totp.new_secret(), "kari"))
    assert svg.startswith("<svg") and "http" not in svg.split(">")[0].replace("http://www.w3.org", "")


@pytest.mark.parametrize("value", ["", "123", "1234567890a", "01018012345"])
def test_invalid_national_ids(value: str) -> None:
    with pytest.raises(InvalidNationalId):
        parse_national_id(value)


def test_check_digits_both_verified() -> None:
    valid = first_synthetic_id(date(1938, 3, 14))
    assert parse_national_id(valid).birth_date == date(1938, 3, 14)
    for position in (9, 10):
        digit = (int(valid[position]) + 1) % 10
        broken = valid[:position] + str(digit) + valid[position + 1 :]
        with pytest.raises(InvalidNationalId) as info:
            parse_national_id(broken)
        assert info.value.code == "nin_checksum"


def test_synthetic_numbers_have_month_plus_80() -> None:
    nin = first_synthetic_id(date(1945, 11, 2))
    assert int(nin[2:4]) == 91
    parsed = parse_national_id(nin)
    assert parsed.is_synthetic and parsed.birth_date == date(1945, 11, 2)


def test_known_published_test_number() -> None:
    # A widely published fictitious example number; checks the mod-11 weights independently.
    parsed = parse_national_id("01010750160")
    assert parsed.birth_date == date(2007, 1, 1)


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2039, 12, 31)), st.integers(0, 499))
def test_synthetic_round_trip(born: date, offset: int) -> None:
    individual = offset + (500 if born.year >= 2000 else 0)
    try:
        nin = make_synthetic_id(born, individual)
    except ValueError:
        return  # this individual number gives check digit 10; real numbers skip it too
    assert parse_national_id(nin).birth_date == born
