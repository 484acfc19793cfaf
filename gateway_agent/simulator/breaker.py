"""The supply's breaker (a Linky's power control, or a fuse) in the simulated household.

The same thermal replica as the box's overload guard and the platform's warnings
(gateway_agent.tripmodel): when its state reaches the curve's trip level the supply cuts, the
meter shows 0 W and the household gets no power until someone resets it (`reset()`, an
occupant pressing the Linky's button). Every trip is kept in `trips`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from gateway_agent import tripmodel


class SimulatedBreaker:
    def __init__(self, limit: tripmodel.SupplyLimit) -> None:
        self.limit = limit
        self.theta = 0.0
        self.tripped = False
        self.trips: list[datetime] = []  # when the supply cut, oldest first

    def run(self, start: datetime, end: datetime, load_va: float) -> datetime:
        """`load_va` held from `start` to `end`: the end of this stretch, or the moment the
        supply trips within it."""
        if self.tripped or end <= start:
            return end
        curve = self.limit.curve
        ratio = self.limit.ratio(load_va)
        seconds = (end - start).total_seconds()
        to_trip = tripmodel.seconds_to_trip(self.theta, ratio, curve)
        if to_trip <= seconds:
            self.theta, self.tripped = curve.trip_level, True
            cut = start + timedelta(seconds=to_trip)
            self.trips.append(cut)
            return cut
        self.theta = tripmodel.advance(self.theta, ratio, seconds, curve)
        return end

    def reset(self) -> None:
        """Re-arm: the supply is back (the replica starts cold)."""
        self.tripped, self.theta = False, 0.0
