"""How pages write a time: Oslo time, Babel's day and month names, the offset where a time repeats."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest

from web import i18n
from web.render import local_date, local_datetime, local_day, local_time, local_time_range


@pytest.fixture
def language() -> Iterator[None]:
    i18n.load_catalogues()
    yield
    i18n.set_language(i18n.DEFAULT_LANGUAGE)


def test_a_consultation_in_bokmal_and_in_english(language: None) -> None:
    start, end = datetime(2026, 12, 1, 10, 30, tzinfo=UTC), datetime(2026, 12, 1, 11, 0, tzinfo=UTC)
    i18n.set_language("nb")
    assert local_time_range(start, end) == "tirsdag 1. desember 2026 kl. 11.30–12.00"
    i18n.set_language("en")
    assert local_time_range(start, end) == "Tuesday 1 December 2026, 11:30–12:00"


def test_a_moment_in_bokmal_and_in_english(language: None) -> None:
    moment = datetime(2026, 11, 30, 10, 30, tzinfo=UTC)
    i18n.set_language("nb")
    assert local_datetime(moment) == "mandag 30. november 2026 kl. 11.30"
    assert local_datetime(moment, "short") == "30.11.2026 kl. 11.30"
    assert local_date(date(2026, 11, 30), "long") == "mandag 30. november 2026"
    i18n.set_language("en")
    assert local_datetime(moment) == "Monday 30 November 2026, 11:30"
    assert local_datetime(moment, "short") == "30/11/2026, 11:30"
    assert local_date(date(2026, 11, 30), "long") == "Monday 30 November 2026"


def test_summer_time_is_read_in_oslo(language: None) -> None:
    i18n.set_language("nb")
    assert local_time(datetime(2026, 6, 1, 6, 0, tzinfo=UTC)) == "08.00"


def test_the_repeated_hour_when_summer_time_ends_names_its_offset(language: None) -> None:
    # 31 October 2027: clocks go back from 03:00 summer time to 02:00, so 02:30 happens twice
    first, second = datetime(2027, 10, 31, 0, 30, tzinfo=UTC), datetime(2027, 10, 31, 1, 30, tzinfo=UTC)
    i18n.set_language("nb")
    assert local_time(first) == "02.30 (UTC+2)"
    assert local_time(second) == "02.30 (UTC+1)"
    assert local_time_range(first, second) == "søndag 31. oktober 2027 kl. 02.30 (UTC+2)–02.30 (UTC+1)"
    # the hour before and after is unambiguous and stays plain
    assert local_time(datetime(2027, 10, 30, 23, 30, tzinfo=UTC)) == "01.30"
    assert local_time(datetime(2027, 10, 31, 2, 30, tzinfo=UTC)) == "03.30"


def test_a_range_over_midnight_names_both_days(language: None) -> None:
    i18n.set_language("nb")
    text = local_time_range(datetime(2026, 12, 1, 22, 30, tzinfo=UTC), datetime(2026, 12, 1, 23, 30, tzinfo=UTC))
    assert text == "tirsdag 1. desember 2026 kl. 23.30 – onsdag 2. desember 2026 kl. 00.30"


def test_short_day_headings(language: None) -> None:
    i18n.set_language("nb")
    assert local_day(date(2026, 11, 30)) == "mandag 30. nov."
    i18n.set_language("en")
    assert local_day(date(2026, 11, 30)) == "Monday 30 Nov"
