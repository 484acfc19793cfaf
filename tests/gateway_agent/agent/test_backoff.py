"""Backoff: exponential ceiling, full jitter under it, a cap, and a reset."""

from __future__ import annotations

import random

import pytest

from gateway_agent.backoff import Backoff


def test_the_ceiling_doubles_up_to_the_cap() -> None:
    backoff = Backoff(base_s=1, cap_s=600, rng=random.Random(1))
    ceilings = []
    for _ in range(12):
        ceilings.append(backoff.ceiling())
        backoff.next_delay()
    assert ceilings[:5] == [1, 2, 4, 8, 16]
    assert ceilings[-1] == 600
    assert max(ceilings) == 600


def test_every_delay_lies_between_zero_and_the_ceiling() -> None:
    backoff = Backoff(base_s=2, cap_s=600, rng=random.Random(7))
    for _ in range(200):
        ceiling = backoff.ceiling()
        assert 0 <= backoff.next_delay() <= ceiling


def test_jitter_spreads_a_fleet_and_is_reproducible_with_a_seed() -> None:
    def delays(seed: int) -> list[float]:
        backoff = Backoff(base_s=1, cap_s=600, rng=random.Random(seed))
        for _ in range(10):
            backoff.next_delay()
        return [Backoff(1, 600, random.Random(seed + i)).next_delay() for i in range(3)] + [
            backoff.next_delay()
        ]

    assert delays(3) == delays(3)
    fleet = [Backoff(1, 600, random.Random(seed)) for seed in range(50)]
    for box in fleet:
        for _ in range(9):
            box.next_delay()
    tenth = [box.next_delay() for box in fleet]
    assert len({round(d) for d in tenth}) > 25  # not one wave
    assert min(tenth) < 100 < max(tenth)


def test_many_failures_do_not_overflow() -> None:
    backoff = Backoff(base_s=1, cap_s=600, rng=random.Random(0))
    backoff.failures = 10_000
    assert 0 <= backoff.next_delay() <= 600


def test_a_success_starts_again_from_the_base() -> None:
    backoff = Backoff(base_s=1, cap_s=600, rng=random.Random(0))
    for _ in range(8):
        backoff.next_delay()
    backoff.reset()
    assert backoff.ceiling() == 1


def test_nonsense_bounds_are_refused() -> None:
    with pytest.raises(ValueError):
        Backoff(base_s=10, cap_s=1)
