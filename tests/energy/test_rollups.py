"""Rollups from synthetic readings with known answers."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from apps.energy.models import DeviceEnergy, HouseholdEnergy
from apps.telemetry.models import MeterReading
from tests.energy.helpers import meter, rollup, store
from tests.factories import HouseholdFactory

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 6, 10, 10, 0, tzinfo=UTC)


def rows(household: Any, resolution: str) -> list[HouseholdEnergy]:
    return list(
        HouseholdEnergy.objects.filter(household=household, resolution=resolution).order_by("start")
    )


def by_start(household: Any, resolution: str) -> dict[datetime, HouseholdEnergy]:
    return {row.start: row for row in rows(household, resolution)}


def snapshot(household: Any) -> list[tuple]:
    return list(
        HouseholdEnergy.objects.filter(household=household)
        .order_by("resolution", "start")
        .values_list("resolution", "start", "import_wh", "complete", "gap_quarters")
    )


@pytest.fixture
def home() -> Any:
    return HouseholdFactory(timezone="Europe/Brussels")


def test_constant_power_gives_known_quarters_hours_and_peak(home: Any) -> None:
    store(meter(home, T0, T0 + timedelta(hours=1)), roll=home)
    quarters = by_start(home, "15m")
    for n in range(4):
        quarter = quarters[T0 + timedelta(minutes=15 * n)]
        assert (quarter.import_wh, quarter.complete, quarter.gap_quarters) == (300, True, 0)
        assert quarter.import_by_register == {"1": 300}
        assert quarter.peak_import_w == 1200
    hour = by_start(home, "1h")[T0]
    assert (hour.import_wh, hour.complete, hour.peak_import_w) == (1200, True, 1200)


def test_a_quarter_without_boundary_readings_is_a_gap_not_an_estimate(home: Any) -> None:
    readings = [
        r
        for r in meter(home, T0, T0 + timedelta(hours=1))
        if not T0 + timedelta(minutes=20) <= r.time <= T0 + timedelta(minutes=50)
    ]
    store(readings, roll=home)
    quarters = by_start(home, "15m")
    assert quarters[T0].complete and quarters[T0].import_wh == 300
    for minute in (15, 30, 45):  # boundaries 10:30 and 10:45 have no fresh reading
        gap = quarters[T0 + timedelta(minutes=minute)]
        assert (gap.complete, gap.import_wh, gap.gap_quarters) == (False, 0, 1)
    hour = by_start(home, "1h")[T0]
    assert (hour.import_wh, hour.complete, hour.gap_quarters) == (300, False, 3)


def test_a_reading_exactly_on_a_boundary_belongs_to_that_boundary(home: Any) -> None:
    readings = meter(home, T0, T0 + timedelta(minutes=30), every=timedelta(minutes=15))
    readings[1].import_wh = {"1": 1_000_100}  # exactly 10:15
    readings[2].import_wh = {"1": 1_000_250}  # exactly 10:30
    store(readings, roll=home)
    quarters = by_start(home, "15m")
    assert quarters[T0].import_wh == 100
    assert quarters[T0 + timedelta(minutes=15)].import_wh == 150


def test_a_register_going_down_is_a_gap_never_negative(home: Any) -> None:
    readings = meter(home, T0, T0 + timedelta(minutes=30), every=timedelta(minutes=15))
    readings[2].import_wh = {"1": 5}  # meter replaced
    store(readings, roll=home)
    quarter = by_start(home, "15m")[T0 + timedelta(minutes=15)]
    assert (quarter.complete, quarter.import_wh) == (False, 0)


def test_out_of_order_batches_and_reruns_give_the_same_rollups(home: Any) -> None:
    other = HouseholdFactory(timezone="Europe/Brussels")
    day = meter(home, T0, T0 + timedelta(hours=6))
    store(day[180:], roll=home)  # the later half first
    store(day[:180], roll=home)
    reference = meter(other, T0, T0 + timedelta(hours=6))
    store(reference, roll=other)
    assert [s[:1] + s[2:] for s in snapshot(home)] == [s[:1] + s[2:] for s in snapshot(other)]
    before = snapshot(home)
    rollup(home, T0, T0 + timedelta(hours=6))  # idempotent
    assert snapshot(home) == before
    assert HouseholdEnergy.objects.filter(household=home, resolution="15m").count() == len(
        [s for s in before if s[0] == "15m"]
    )


def test_a_batch_three_days_late_completes_its_day(home: Any) -> None:
    zone = ZoneInfo("Europe/Brussels")
    start = datetime(2026, 6, 1, tzinfo=zone).astimezone(UTC)
    readings = meter(home, start, start + timedelta(days=5), every=timedelta(minutes=5))
    outage = (start + timedelta(days=1), start + timedelta(days=2))
    live = [r for r in readings if not outage[0] < r.time < outage[1]]
    late = [r for r in readings if outage[0] < r.time < outage[1]]
    store(live, roll=home)
    day2 = by_start(home, "1d")[outage[0]]
    assert not day2.complete and day2.gap_quarters > 0
    month = by_start(home, "1mo")[start]
    assert not month.complete
    store(late, roll=home)  # the box is back and uploads its outbox
    day2 = by_start(home, "1d")[outage[0]]
    assert (day2.complete, day2.gap_quarters, day2.import_wh) == (True, 0, 24 * 1200)
    days = [d for d in rows(home, "1d") if start <= d.start < start + timedelta(days=5)]
    assert [d.import_wh for d in days] == [24 * 1200] * 5


@pytest.mark.parametrize("zone_name", ["Europe/London", "Europe/Paris", "Europe/Brussels"])
@pytest.mark.parametrize(("day", "quarters"), [(date(2026, 3, 29), 92), (date(2026, 10, 25), 100)])
def test_dst_days_have_their_real_length(zone_name: str, day: date, quarters: int) -> None:
    home = HouseholdFactory(timezone=zone_name)
    zone = ZoneInfo(zone_name)
    midnight = datetime.combine(day, datetime.min.time(), tzinfo=zone).astimezone(UTC)
    following = datetime.combine(
        day + timedelta(days=1), datetime.min.time(), tzinfo=zone
    ).astimezone(UTC)
    every = timedelta(minutes=15)
    store(meter(home, midnight - timedelta(hours=2), following + timedelta(hours=2), every=every))
    rollup(home, midnight - timedelta(hours=2), following + timedelta(hours=2))
    row = by_start(home, "1d")[midnight]
    inside = [q for q in rows(home, "15m") if midnight <= q.start < following]
    assert len(inside) == quarters
    assert (row.complete, row.gap_quarters, row.import_wh) == (True, 0, quarters * 300)
    assert (following - midnight) == timedelta(minutes=15 * quarters)


def test_month_is_the_sum_of_its_days_and_the_register_delta(home: Any) -> None:
    """Bill-grade: the month equals the meter's own register delta over the month."""
    zone = ZoneInfo("Europe/Brussels")
    start = datetime(2026, 3, 1, tzinfo=zone).astimezone(UTC)
    end = datetime(2026, 4, 1, tzinfo=zone).astimezone(UTC)

    def power(t: datetime) -> float:  # varies by hour and day: no tidy multiples
        return 300 + (t.hour * 137 + t.day * 61) % 2500

    margin, every = timedelta(hours=1), timedelta(minutes=5)
    readings = meter(home, start - margin, end + margin, every=every, import_w=power)
    for r in readings:  # two tariff registers
        total = r.import_wh["1"]
        r.import_wh = {"1": total // 3, "2": total - total // 3}
    store(readings, roll=home)
    month = by_start(home, "1mo")[start]
    days = [d for d in rows(home, "1d") if start <= d.start < end]
    assert len(days) == 31 and month.complete and month.gap_quarters == 0
    assert month.import_wh == sum(d.import_wh for d in days)
    at = {r.time: r.import_wh for r in MeterReading.objects.filter(time__in=[start, end])}
    assert month.import_by_register == {k: at[end][k] - at[start][k] for k in ("1", "2")}
    assert month.peak_import_w == max(d.peak_import_w for d in days)
    assert month.peak_import_w == max(
        q.peak_import_w for q in rows(home, "15m") if start <= q.start < end
    )


def test_device_energy_from_power_and_from_counter(world: Any) -> None:
    from tests.energy.helpers import device
    from tests.factories import DeviceFactory

    home = world.household
    plug = DeviceFactory(household=home, kind="smart_plug")
    readings = device(plug.pk, home, T0, T0 + timedelta(minutes=30), power_w=lambda t: 400)
    counter = DeviceFactory(household=home, kind="heat_pump")
    counted = device(counter.pk, home, T0, T0 + timedelta(minutes=30), power_w=lambda t: 0)
    for n, r in enumerate(counted):
        r.energy_wh = 5000 + 50 * n  # 50 Wh a minute, whatever power says
    store(readings + counted, roll=home)
    energy = {
        (d.device_id, d.start): d
        for d in DeviceEnergy.objects.filter(resolution="15m", household=home)
    }
    assert energy[(plug.pk, T0)].energy_wh == 100 and energy[(plug.pk, T0)].complete
    assert energy[(counter.pk, T0)].energy_wh == 750
    # 10:30 has no reading after it: the trapezoid cannot cover the quarter.
    assert not energy[(plug.pk, T0 + timedelta(minutes=30))].complete
    assert by_start(home, "15m")[T0].devices_wh == 850
