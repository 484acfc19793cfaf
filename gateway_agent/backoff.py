"""Exponential backoff with full jitter (the AWS Architecture Blog's "full jitter").

delay = uniform(0, min(cap, base * 2**attempt)). Full jitter spreads a fleet of boxes that
lost the link at the same moment, so they do not all come back in one wave.

Hand-written rather than `backoff`/`tenacity`: those wrap a blocking call in a retry
decorator, while the agent's loop only needs "how long until the next try" for a scheduler
that keeps reading the meter meanwhile. Ten lines, no dependency.
"""

from __future__ import annotations

import random

MAX_EXPONENT = 30  # 2**30 already dwarfs any cap; keeps the float finite


class Backoff:
    def __init__(
        self, base_s: float = 1.0, cap_s: float = 600.0, rng: random.Random | None = None
    ) -> None:
        if base_s <= 0 or cap_s < base_s:
            raise ValueError("need 0 < base_s <= cap_s")
        self.base_s = base_s
        self.cap_s = cap_s
        self.failures = 0
        self._rng = rng or random.Random()

    def ceiling(self) -> float:
        """The largest delay the next failure may draw."""
        return min(self.cap_s, self.base_s * 2 ** min(self.failures, MAX_EXPONENT))

    def next_delay(self) -> float:
        """Record one more failure and draw the wait before the next try."""
        delay = self._rng.uniform(0, self.ceiling())
        self.failures += 1
        return delay

    def reset(self) -> None:
        self.failures = 0
