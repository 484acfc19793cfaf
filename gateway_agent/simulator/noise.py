"""Deterministic randomness: the same (seed, stream, index) always gives the same number.

A stateful RNG would make the simulation depend on how often it was asked (a restart, a
different step size); a hash of the coordinates does not. SplitMix64 mixing.
"""

from __future__ import annotations

MASK = (1 << 64) - 1


def _mix(value: int) -> int:
    value = (value + 0x9E3779B97F4A7C15) & MASK
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & MASK
    return value ^ (value >> 31)


def unit(seed: int, stream: int, index: int) -> float:
    """A number in [0, 1) fixed by its three coordinates."""
    mixed = _mix(_mix(_mix(seed & MASK) ^ (stream & MASK)) ^ (index & MASK))
    return (mixed >> 11) / float(1 << 53)
