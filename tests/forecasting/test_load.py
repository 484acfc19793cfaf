"""The base-load forecast: similar days by day type, holidays, DST, scheduled appliances."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from apps.devices.models import DeviceKind
from apps.energy.models import DeviceEnergy, HouseholdEnergy, Resolution
from apps.forecasting import load, selectors, services
from apps.forecasting.models import Forecast
from tests.factories import DeviceFactory, HouseholdFactory
from tests.forecasting.helpers import BRUSSELS, load_rollups

pytestmark = pytest.mark.django_db
OUTLIER_DAY = date(2026, 6, 10)


def weekly(moment: datetime) -> float:
    kind = load.day_type(moment.date(), "BE")
    if kind == load.SUNDAY_HOLIDAY:
        return 150
    if kind == load.SATURDAY:
        return 200
    if moment.date() == OUTLIER_DAY and moment.hour == 19:
        return 5000  # one party night
    return 300 if 18 <= moment.hour < 21 else 100


def test_day_types_and_holidays() -> None:
    assert load.easter(2026) == date(2026, 4, 5)
    assert load.easter(2027) == date(2027, 3, 28)
    assert load.day_type(date(2026, 6, 17), "BE") == load.WEEKDAY
    assert load.day_type(date(2026, 6, 20), "BE") == load.SATURDAY
    assert load.day_type(date(2026, 6, 21), "BE") == load.SUNDAY_HOLIDAY
    assert load.day_type(date(2026, 7, 21), "BE") == load.SUNDAY_HOLIDAY  # national day
    assert load.day_type(date(2026, 7, 14), "FR") == load.SUNDAY_HOLIDAY
    assert load.day_type(date(2026, 7, 14), "BE") == load.WEEKDAY
    assert load.day_type(date(2026, 5, 25), "GB") == load.SUNDAY_HOLIDAY  # spring bank hol.
    assert load.day_type(date(2026, 12, 28), "GB") == load.SUNDAY_HOLIDAY  # Boxing Day moved


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 6, 17), None),  # a Wednesday: the weekday shape
        (date(2026, 6, 20), 200),  # a Saturday
        (date(2026, 5, 25), 150),  # Whit Monday: a holiday reads Sundays and holidays
    ],
)
def test_similar_days_reproduce_a_weekly_pattern(day: date, expected: int | None) -> None:
    home = HouseholdFactory()
    first = day - timedelta(weeks=8)
    load_rollups(home, first, (day - first).days, weekly)
    forecast = services.forecast_load_household(
        household=home, day=day, now=datetime.combine(day, datetime.min.time(), UTC)
    )
    assert forecast is not None
    assert len(forecast.values_wh) == 96
    if expected is not None:
        assert set(forecast.values_wh) == {expected}
        assert set(forecast.error_wh) == {0}
        return
    by_time = {s.astimezone(BRUSSELS).strftime("%H:%M"): v for s, v in forecast.series()}
    assert by_time["03:00"] == 100 and by_time["18:00"] == 300
    assert by_time["19:00"] == 300  # the party night is trimmed away...
    errors = dict(zip(by_time, forecast.error_wh, strict=True))
    assert errors["19:00"] > 50 and errors["03:00"] == 0  # ...but shows in the error
    assert forecast.meta["day_type"] == load.WEEKDAY
    assert (
        forecast.meta["similar_days"] == 37
    )  # 8 weeks of weekdays less May 1, Ascension, Whit Monday
    assert forecast.meta["expected_mae_wh"] > 0


def test_dst_day_reads_the_repeated_hour_twice() -> None:
    home = HouseholdFactory()
    day = date(2026, 10, 25)
    load_rollups(home, day - timedelta(weeks=8), 56, lambda t: 100 + t.hour)
    forecast = services.forecast_load_household(
        household=home, day=day, now=datetime(2026, 11, 1, tzinfo=UTC)
    )
    assert forecast is not None
    assert len(forecast.values_wh) == 100
    assert forecast.values_wh[8:16] == [102] * 8  # 02:00-03:00 CEST then CET


def test_no_history_no_forecast() -> None:
    home = HouseholdFactory()
    assert services.forecast_load_household(household=home, day=date(2026, 6, 17)) is None
    assert not Forecast.objects.exists()


def test_base_load_leaves_out_controllable_smart_appliances() -> None:
    home = HouseholdFactory()
    charger = DeviceFactory(household=home, kind=DeviceKind.EV_CHARGER, controllable=True)
    fridge = DeviceFactory(household=home, kind=DeviceKind.APPLIANCE, controllable=False)
    start = datetime(2026, 6, 10, 8, 0, tzinfo=UTC)
    for n in range(2):
        moment = start + timedelta(minutes=15 * n)
        HouseholdEnergy.objects.create(
            household=home, resolution=Resolution.QUARTER, start=moment, import_wh=500,
            complete=True,
        )  # fmt: skip
        for device in (charger, fridge):
            DeviceEnergy.objects.create(
                device=device, household=home, resolution=Resolution.QUARTER, start=moment,
                energy_wh=300 if device == charger else 50, complete=n == 0 or device == fridge,
            )  # fmt: skip
    _, values = selectors.load_measured(household=home, start=start, end=start + timedelta(hours=1))
    assert list(values) == [200]  # the charger's gap drops the second quarter
    _, house = selectors.load_measured(
        household=home, start=start, end=start + timedelta(hours=1), exclude_scheduled=False
    )
    assert list(house) == [500, 500]


def test_reissue_replaces_the_load_forecast() -> None:
    home = HouseholdFactory()
    day = date(2026, 6, 17)
    load_rollups(home, day - timedelta(weeks=8), 56, weekly)
    now = datetime(2026, 6, 16, 18, 0, tzinfo=UTC)
    first = services.forecast_load_household(household=home, day=day, now=now)
    HouseholdEnergy.objects.update(import_wh=400)
    second = services.forecast_load_household(household=home, day=day, now=now)
    assert first is not None and second is not None and first.pk == second.pk
    assert Forecast.objects.filter(household=home).count() == 1
    assert set(second.values_wh) == {400}
