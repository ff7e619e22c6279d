"""The one strict JSON reader: what it accepts reads as json.loads would; all else is JsonRejected."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.platform.strict_json import MAX_DEPTH, MAX_INT_DIGITS, JsonRejected, loads

LIMIT = 1 << 20

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
documents = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=30,
)


def rejected(data: str | bytes, **limits: int) -> JsonRejected:
    with pytest.raises(JsonRejected) as info:
        loads(data, max_bytes=limits.pop("max_bytes", LIMIT), **limits)
    assert info.value.message and str(info.value) == info.value.message
    return info.value


@given(documents)
def test_valid_documents_read_as_json_loads_reads_them(document: object) -> None:
    text = json.dumps(document)
    assert loads(text, max_bytes=LIMIT) == json.loads(text)
    assert loads(text.encode(), max_bytes=LIMIT) == json.loads(text)


@given(st.text(max_size=200))
def test_any_text_is_read_or_rejected_never_crashes(text: str) -> None:
    try:
        loads(text, max_bytes=LIMIT)
    except JsonRejected:
        pass


@given(st.binary(max_size=200))
def test_any_bytes_are_read_or_rejected_never_crash(data: bytes) -> None:
    try:
        loads(data, max_bytes=LIMIT)
    except JsonRejected:
        pass


@given(documents, st.text(max_size=8))
def test_a_duplicate_key_is_refused_at_any_depth(document: object, key: str) -> None:
    inner = json.dumps(key)
    # Built around the document, not by replacing a marker in it: a generated document may hold the marker.
    text = '{"outer": [' + json.dumps(document) + ", {" + f"{inner}: 1, {inner}: 2" + "}]}"
    error = rejected(text)
    assert (error.reason, error.key) == ("duplicate_key", key)


@pytest.mark.parametrize("open_, close", [("[", "]"), ('{"a":', "}")])
def test_nesting_is_limited(open_: str, close: str) -> None:
    assert loads(open_ * MAX_DEPTH + "1" + close * MAX_DEPTH, max_bytes=LIMIT) is not None
    assert rejected(open_ * (MAX_DEPTH + 1) + "1" + close * (MAX_DEPTH + 1)).reason == "too_deep"
    assert rejected("[" * 50_000).reason == "too_deep"  # where json.loads raised RecursionError
    assert rejected("[1]" + "[" * 10, max_depth=5).reason == "too_deep"


def test_brackets_inside_strings_are_not_nesting() -> None:
    text = json.dumps(["[" * 1000, {"k": "{" * 1000 + '\\"[[['}])
    assert loads(text, max_bytes=LIMIT) == json.loads(text)


def test_integers_are_limited_in_digits() -> None:
    longest = "9" * MAX_INT_DIGITS
    assert loads(f"[{longest}, -{longest}]", max_bytes=LIMIT) == [int(longest), -int(longest)]
    assert rejected("9" * (MAX_INT_DIGITS + 1)).reason == "number_too_long"
    assert rejected('{"n": ' + "9" * 5000 + "}").reason == "number_too_long"  # past Python's own limit
    assert rejected("123456", max_int_digits=5).reason == "number_too_long"


@pytest.mark.parametrize("text", ["NaN", "[Infinity]", '{"a": -Infinity}', "1e999", "-1e999"])
def test_numbers_must_be_finite(text: str) -> None:
    assert rejected(text).reason == "not_finite"


def test_size_is_counted_in_utf8_bytes() -> None:
    assert loads('"' + "a" * 8 + '"', max_bytes=10) == "a" * 8
    assert rejected('"' + "a" * 9 + '"', max_bytes=10).reason == "too_large"
    assert rejected('"' + "ø" * 5 + '"', max_bytes=10).reason == "too_large"  # 7 characters, 12 bytes
    assert rejected(b"[" + b"1," * 10 + b"1]", max_bytes=10).reason == "too_large"


def test_text_must_be_utf8() -> None:
    assert rejected(b'"\xff\xfe"').reason == "not_utf8"


@pytest.mark.parametrize("text", ["", "{", "{'a': 1}", "[1,]", "tru", '{"a" 1}', "1 2"])
def test_syntax_errors_say_where(text: str) -> None:
    error = rejected(text)
    assert error.reason == "syntax" and "line 1" in error.message
