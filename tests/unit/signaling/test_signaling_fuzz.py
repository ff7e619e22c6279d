"""Fuzzing: whatever arrives on the socket, ``parse_inbound`` returns a message or raises ProtocolError."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from signaling.errors import ProtocolError
from signaling.parser import INBOUND, parse_inbound

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=50)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=20,
)
field_names = st.sampled_from(
    sorted({name for spec in INBOUND.values() for name in spec.fields} | {"type", "ref", "from", "x"})
)


def _parse(raw: str | bytes) -> None:
    try:
        message = parse_inbound(raw)
    except ProtocolError as error:
        assert error.code and error.message
        return
    assert type(message).__name__.endswith("In")


@FUZZ
@given(st.text(max_size=500))
def test_any_text(raw: str) -> None:
    _parse(raw)


@FUZZ
@given(st.binary(max_size=500))
def test_any_bytes(raw: bytes) -> None:
    _parse(raw)


@FUZZ
@given(json_values)
def test_any_json_value(value: Any) -> None:
    _parse(json.dumps(value))


@FUZZ
@given(st.sampled_from(sorted(INBOUND)), st.dictionaries(field_names, json_values, max_size=6))
def test_known_types_with_arbitrary_fields(kind: str, body: dict[str, Any]) -> None:
    _parse(json.dumps({**body, "type": kind}))


@FUZZ
@given(st.sampled_from(sorted(INBOUND)), st.dictionaries(field_names, json_scalars, max_size=6), st.data())
def test_truncated_and_spliced_frames(kind: str, body: dict[str, Any], data: st.DataObject) -> None:
    text = json.dumps({**body, "type": kind})
    cut = data.draw(st.integers(0, len(text)))
    junk = data.draw(st.text(max_size=5))
    _parse(text[:cut] + junk + text[cut:])
