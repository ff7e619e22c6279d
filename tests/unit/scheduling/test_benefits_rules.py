"""The pure rules of the benefits report: the small-cell values, percentiles, the complementary rule,
matching a typed hospital name."""

from __future__ import annotations

import json

import pytest

from scheduling.benefits.report import Amount, Count, Share, Unit
from scheduling.benefits.service import _complement, _figures, _match_hospital, _Sums, percentile
from scheduling.benefits.settings import DEFAULTS


def test_a_small_count_never_prints() -> None:
    for n in range(5):
        c = Count.of(n)
        assert c.suppressed and c.value is None and c.display() == "<5" and str(c) == "<5"
        assert c.as_json() == {"value": None, "suppressed": True, "below_limit": True}
        assert repr(c) == "Count()" and str(n) not in json.dumps(c.as_json())
    assert Count.of(5).as_json() == {"value": 5, "suppressed": False, "below_limit": False}
    assert Count.of(5).display() == "5"
    # hidden to protect a neighbour: not "<5", which would be untrue of twelve
    assert Count.of(12).hidden().as_json() == {"value": None, "suppressed": True, "below_limit": False}
    assert Count.of(12).hidden().display() == ":"
    with pytest.raises(ValueError):
        Count.of(-1)


def test_figures_derived_from_a_small_count_are_hidden_with_it() -> None:
    km = Amount.of(240.0, Unit.KM, basis=Count.of(3))
    assert km.value is None and km.display() == "<5" and km.as_json() == {
        "value": None, "unit": "km", "suppressed": True, "below_limit": True}
    assert Amount.of(240.0, Unit.KM, basis=Count.of(9).hidden()).display() == ":"
    assert Amount.of(240.0, Unit.KM, basis=Count.of(7)).display() == "240.0"
    assert Share.of(Count.of(3), Count.of(20), 0.3).as_json() == {
        "value": None, "target": 0.3, "meets_target": None, "suppressed": True, "below_limit": True}
    share = Share.of(Count.of(6), Count.of(20), 0.3)
    assert share.value == pytest.approx(0.3) and share.meets_target is True and share.display() == "30 %"


def test_percentile_interpolates_between_ranks() -> None:
    values = [50.0, 74.0, 146.0, 164.0, 166.0, 362.0]
    assert percentile(values, 0.5) == pytest.approx(155.0)
    assert percentile(values, 0.9) == pytest.approx(166 + (362 - 166) * 0.5)
    assert percentile([7.0], 0.9) == 7.0
    with pytest.raises(ValueError):
        percentile([], 0.5)


def test_one_hidden_part_takes_the_smallest_shown_part_with_it() -> None:
    assert _complement([20, 3, 9], [False] * 3) == [False, False, True]
    assert _complement([20, 3, 2], [False] * 3) == [False, False, False]  # two hidden: neither can be told
    assert _complement([20, 0, 9], [False] * 3) == [False, False, False]  # a zero names nobody
    assert _complement([20, 12, 9], [False, True, False]) == [False, False, True]  # hidden by another rule
    assert _complement([3], [False]) == [False]


def test_within_a_cell_the_statuses_protect_each_other() -> None:
    # 20 held, 2 cancelled, 6 no-shows, 7 upcoming: the 2 alone would be 35 - 20 - 6 - 7
    figures = _figures(_Sums(consultations=35, held=20, cancelled=2, no_show=6, upcoming=7), DEFAULTS)
    assert figures.cancelled.display() == "<5" and figures.no_show.display() == ":"
    assert figures.held.value == 20 and figures.upcoming.value == 7
    # escorts 3 and nurses 8 add up with the patients to the trips: the 8 goes too
    figures = _figures(_Sums(consultations=20, held=20, escort_trips=3, nurse_trips=8), DEFAULTS)
    assert figures.trips_avoided.value == 31 and figures.nurse_trips_avoided.value is None


def test_a_typed_hospital_name_is_matched_carefully() -> None:
    hospitals = [(1, "Helgelandssykehuset Mo i Rana"), (2, "Helgelandssykehuset Sandnessjøen"),
                 (3, "Nordlandssykehuset Bodø")]
    assert _match_hospital("  nordlandssykehuset   BODØ ", hospitals) == 3
    assert _match_hospital("Mo i Rana", hospitals) == 1
    assert _match_hospital("Helgelandssykehuset", hospitals) is None  # two fit: no guess
    assert _match_hospital("Tromsø", hospitals) is None
    assert _match_hospital("", hospitals) is None


def test_no_follow_up_code_is_part_of_another() -> None:
    # the report counts each code with a plain substring test on the comma-separated list
    from scheduling.models import FollowUp

    codes = [c.value for c in FollowUp]
    assert not [(a, b) for a in codes for b in codes if a != b and a in b]
