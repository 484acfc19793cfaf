"""Small random planning problems for the property tests and the benchmark's cross-check.

Energies, powers and prices sit on coarse grids (kWh and kW in halves, prices in cents)
so the brute force and the MILP work on the same exactly representable numbers.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from hypothesis import strategies as st

from apps.scheduling.optimizer import (
    Appliance,
    Battery,
    CapacityCharge,
    EVCharge,
    Problem,
    Slot,
    TimeOfDayRange,
    WaterHeater,
)

T0 = datetime(2026, 6, 10, 16, 0, tzinfo=UTC)
QUARTER = timedelta(minutes=15)


def at(index: int) -> datetime:
    return T0 + index * QUARTER


halves = st.integers(min_value=0, max_value=8).map(lambda k: k / 2)
cents = st.integers(min_value=-5, max_value=50).map(lambda k: k / 100)


@st.composite
def slots(draw: st.DrawFn, n: int) -> list[Slot]:
    out = []
    for t in range(n):
        imp = draw(cents)
        out.append(
            Slot(
                start=at(t),
                import_price=imp,
                # Mostly below the import price, sometimes above it (simultaneous import
                # and export would then pay in an LP: the exactness check must catch it).
                export_price=draw(st.sampled_from([0.0, 0.03, imp - 0.02, imp + 0.05, -0.02])),
                pv_kw=draw(st.sampled_from([0.0, 0.0, 0.5, 1.5, 3.0])),
                base_load_kw=draw(st.sampled_from([0.0, 0.25, 0.5, 1.0])),
            )
        )
    return out


@st.composite
def appliance(draw: st.DrawFn, name: str, n: int) -> Appliance:
    length = draw(st.integers(1, min(3, n)))
    profile = [draw(st.sampled_from([0.5, 1.0, 1.5, 2.0])) for _ in range(length)]
    earliest = draw(st.integers(0, n - length))
    latest = draw(st.integers(earliest + length, n))
    quiet = ()
    if draw(st.booleans()):
        # Quiet one local hour of the evening (T0 is 16:00 UTC, the zone is UTC).
        hour = draw(st.integers(16, 18))
        quiet = (TimeOfDayRange(time(hour), time(hour + 1)),)
    return Appliance(name, profile, at(earliest), at(latest), quiet)


@st.composite
def problems(draw: st.DrawFn, max_slots: int = 12) -> Problem:
    n = draw(st.integers(4, max_slots))
    count = draw(st.integers(1, 2))
    ev = None
    if draw(st.booleans()):
        arrival = draw(st.integers(0, n - 2))
        departure = draw(st.integers(arrival + 1, n))
        ev = EVCharge(
            target_kwh=draw(st.integers(0, 4)) / 2,
            max_kw=draw(st.sampled_from([2.0, 3.0, 4.0])),
            arrival=at(arrival),
            departure=at(departure),
            efficiency=draw(st.sampled_from([1.0, 0.9])),
        )
    heater = None
    if draw(st.booleans()):
        a = draw(st.integers(0, n - 1))
        b = draw(st.integers(a + 1, n))
        heater = WaterHeater(draw(st.integers(1, 3)) / 2, 2.0, [(at(a), at(b))])
    battery = None
    if draw(st.booleans()):
        capacity = draw(st.integers(2, 6))
        battery = Battery(
            capacity_kwh=capacity,
            max_charge_kw=draw(st.sampled_from([1.0, 2.0])),
            max_discharge_kw=draw(st.sampled_from([1.0, 2.0])),
            initial_soc_kwh=draw(st.integers(0, capacity)),
            charge_efficiency=draw(st.sampled_from([1.0, 0.9])),
            discharge_efficiency=draw(st.sampled_from([1.0, 0.9])),
        )
    capacity_charge = None
    if draw(st.booleans()):
        capacity_charge = CapacityCharge(
            rate_per_kw=draw(st.sampled_from([0.5, 2.0, 5.0])), floor_kw=draw(halves)
        )
    return Problem(
        slots=draw(slots(n)),
        limit_kw=draw(st.sampled_from([3.0, 4.0, 6.0, 9.0])),
        appliances=[draw(appliance(f"appliance {i}", n)) for i in range(count)],
        ev=ev,
        water_heater=heater,
        battery=battery,
        export_limit_kw=draw(st.sampled_from([None, None, 1.0, 2.5])),
        capacity=capacity_charge,
        allow_pv_curtailment=draw(st.sampled_from([True, True, False])),
    )
