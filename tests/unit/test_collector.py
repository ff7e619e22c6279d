"""The collector policy the server and the media workers apply once start-up is done."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from server.collector import FULL_COLLECTION_EVERY, settle_after_startup


@pytest.fixture
def restored_collector() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


@pytest.mark.usefixtures("restored_collector")
def test_start_up_objects_are_frozen_and_full_collections_spaced_out() -> None:
    young, middle, _ = gc.get_threshold()
    settle_after_startup()
    assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == (young, middle, FULL_COLLECTION_EVERY)
    assert gc.isenabled(), "cycles are still collected, only less often"
