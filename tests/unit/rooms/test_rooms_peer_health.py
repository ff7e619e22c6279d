"""The rule that replaces a peer connection beyond saving: plain values in, a decision out (no aiortc)."""

from __future__ import annotations

import pytest

from rooms.peer_health import PEER_CONNECT_TIMEOUT, PEER_DEAD_AFTER, PEER_SILENT_AFTER, PeerHealth, check_peer

BORN = PeerHealth(created=100.0)


def test_a_connected_peer_lives_and_forgets_a_past_disconnection() -> None:
    check = check_peer(PeerHealth(created=100.0, bad_since=150.0), "connected", 1000.0)
    assert not check.dead and check.health == BORN


@pytest.mark.parametrize("state", ["failed", "closed"])
def test_a_failed_or_closed_peer_is_dead_at_once(state: str) -> None:
    assert check_peer(BORN, state, 100.0).dead


@pytest.mark.parametrize("state", ["new", "connecting"])
def test_a_peer_that_never_connects_is_dead_after_the_connect_timeout(state: str) -> None:
    assert not check_peer(BORN, state, 100.0 + PEER_CONNECT_TIMEOUT - 0.1).dead
    check = check_peer(BORN, state, 100.0 + PEER_CONNECT_TIMEOUT)
    assert check.dead and check.health == BORN


def test_a_disconnection_is_timed_from_when_it_was_first_seen() -> None:
    first = check_peer(BORN, "disconnected", 500.0)
    assert not first.dead and first.health.bad_since == 500.0
    later = check_peer(first.health, "disconnected", 500.0 + PEER_DEAD_AFTER - 0.1)
    assert not later.dead and later.health.bad_since == 500.0
    assert check_peer(later.health, "disconnected", 500.0 + PEER_DEAD_AFTER).dead


def test_a_blip_that_recovers_starts_the_next_spell_afresh() -> None:
    spell = check_peer(BORN, "disconnected", 500.0).health
    recovered = check_peer(spell, "connected", 503.0).health
    again = check_peer(recovered, "disconnected", 506.0)
    assert not again.dead and again.health.bad_since == 506.0


def test_the_limits_can_be_given() -> None:
    assert check_peer(BORN, "connecting", 101.0, connect_timeout=1.0).dead
    assert check_peer(PeerHealth(100.0, bad_since=100.0), "disconnected", 100.5, dead_after=0.5).dead


def test_a_connected_peer_that_receives_nothing_is_dead_after_the_silence_limit() -> None:
    counting = check_peer(BORN, "connected", 200.0, received=40)
    assert not counting.dead and counting.health.received_at == 200.0
    still = check_peer(counting.health, "connected", 200.0 + PEER_SILENT_AFTER - 0.1, received=40)
    assert not still.dead and still.health.received_at == 200.0
    assert check_peer(still.health, "connected", 200.0 + PEER_SILENT_AFTER, received=40).dead


def test_packets_again_restart_the_silence_clock() -> None:
    quiet = check_peer(check_peer(BORN, "connected", 200.0, received=40).health, "connected", 210.0, received=40)
    back = check_peer(quiet.health, "connected", 212.0, received=41)
    assert not back.dead and back.health.received_at == 212.0
    assert not check_peer(back.health, "connected", 212.0 + PEER_SILENT_AFTER - 0.1, received=41).dead


def test_an_uncounted_peer_is_never_judged_by_silence() -> None:
    counted = check_peer(BORN, "connected", 200.0, received=40).health
    uncounted = check_peer(counted, "connected", 200.0 + 10 * PEER_SILENT_AFTER)
    assert not uncounted.dead and uncounted.health == BORN
    assert not check_peer(uncounted.health, "connected", 200.0 + 20 * PEER_SILENT_AFTER).dead


def test_the_silence_limit_can_be_given() -> None:
    counted = check_peer(BORN, "connected", 200.0, received=1).health
    assert check_peer(counted, "connected", 200.5, received=1, silent_after=0.5).dead
