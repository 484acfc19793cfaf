"""The PV forecast: clear-sky physics, the learned index, fleet pooling, DST, intraday."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest

from apps.energy.models import DeviceEnergy
from apps.forecasting import pv, services
from apps.forecasting.models import Forecast, Horizon, PvClearSkyIndex
from tests.factories import TenantFactory
from tests.forecasting.helpers import BRUSSELS, pv_home, pv_rollups

TARGET = date(2026, 6, 15)
NOW = datetime(2026, 6, 14, 18, 0, tzinfo=UTC)
BRUSSELS_ROOF = pv.PvSpec(50.85, 4.35, 50, 4.0, 35, 180, 4.0, 14)


def peak_kw(day: date) -> tuple[float, datetime, np.ndarray]:
    wh = pv.clear_sky_day(BRUSSELS_ROOF, day, BRUSSELS)
    starts = pv.day_quarters(day, BRUSSELS)
    top = int(wh.argmax())
    return wh[top] * 4 / 1000, starts[top].to_pydatetime().astimezone(BRUSSELS), wh


def test_clear_sky_is_zero_at_night_and_peaks_sensibly_in_june_and_december() -> None:
    june_kw, june_at, june = peak_kw(date(2026, 6, 21))
    december_kw, december_at, december = peak_kw(date(2026, 12, 21))
    for wh in (june, december):
        assert wh[:16].sum() == 0  # 00:00-04:00 local
        assert wh[-4:].sum() == 0  # 23:00-24:00
    assert 2.2 < june_kw < 3.6  # ~65 % of 4 kWp at noon after losses, heat and inverter
    assert 0.8 < december_kw < 2.4
    assert december_kw < june_kw
    assert june.sum() > 2.2 * december.sum()  # long days vs short, low sun
    assert 12 <= june_at.hour <= 14  # solar noon ~13:45 CEST
    assert 11 <= december_at.hour <= 13  # ~12:45 CET
    assert (june <= 4000 / 4 + 1e-9).all()


def test_inverter_limit_caps_the_quarters() -> None:
    capped = pv.PvSpec(50.85, 4.35, 50, 4.0, 35, 180, 1.5, 14)
    wh = pv.clear_sky_day(capped, date(2026, 6, 21), BRUSSELS)
    assert wh.max() == pytest.approx(1500 / 4)


@pytest.mark.django_db
def test_learned_index_converges_to_the_households_systematic_70_percent() -> None:
    home, _, system = pv_home()
    clear = pv.clear_sky_day(pv.PvSpec.of(system), TARGET, BRUSSELS)
    sunny = clear >= 200  # quarters well above dawn and dusk

    pv_rollups(system, TARGET - timedelta(days=6), 6, 0.7)
    few = services.forecast_pv_household(household=home, day=TARGET, now=NOW)
    assert few is not None
    early = np.array(few.values_wh)[sunny] / clear[sunny]
    # 6 days: 20 % own (0.7), 80 % the prior (0.6): on its way, not there yet.
    assert 0.6 < early.mean() < 0.66

    pv_rollups(system, TARGET - timedelta(days=40), 34, 0.7)
    learned = services.forecast_pv_household(household=home, day=TARGET, now=NOW)
    assert learned is not None
    ratio = np.array(learned.values_wh)[sunny] / clear[sunny]
    assert ratio == pytest.approx(np.full(len(ratio), 0.7), abs=0.01)
    assert learned.meta["own_days"] == 40
    assert learned.meta["own_weight_max"] == 1
    assert PvClearSkyIndex.objects.get(household=home, month=6).days == 40


@pytest.mark.django_db
def test_a_new_household_borrows_its_neighbours_index_and_blends_towards_its_own() -> None:
    tenant = TenantFactory()
    for lat, lon in ((50.88, 4.35), (50.85, 4.45)):  # ~3 and ~7 km away, 80 %
        _, _, neighbour = pv_home(latitude=lat, longitude=lon, tenant=tenant)
        pv_rollups(neighbour, TARGET - timedelta(days=40), 40, 0.8)
        services.forecast_pv_household(household=neighbour.household, day=TARGET, now=NOW)
    _, _, far = pv_home(latitude=51.9, longitude=4.35, tenant=tenant)  # ~117 km
    pv_rollups(far, TARGET - timedelta(days=40), 40, 0.3)
    services.forecast_pv_household(household=far.household, day=TARGET, now=NOW)
    _, _, foreign = pv_home(latitude=50.86, longitude=4.36)  # another tenant, next door
    pv_rollups(foreign, TARGET - timedelta(days=40), 40, 0.3)
    services.forecast_pv_household(household=foreign.household, day=TARGET, now=NOW)

    home, _, system = pv_home(tenant=tenant)
    clear = pv.clear_sky_day(pv.PvSpec.of(system), TARGET, BRUSSELS)
    sunny = clear >= 200

    def index() -> float:
        forecast = services.forecast_pv_household(household=home, day=TARGET, now=NOW)
        assert forecast is not None
        return float((np.array(forecast.values_wh)[sunny] / clear[sunny]).mean())

    assert index() == pytest.approx(0.8, abs=0.01)  # nothing of its own: the neighbours'
    pv_rollups(system, TARGET - timedelta(days=12), 12, 0.5)
    assert index() == pytest.approx(0.4 * 0.5 + 0.6 * 0.8, abs=0.01)  # 12/30 its own
    pv_rollups(system, TARGET - timedelta(days=40), 28, 0.5)
    assert index() == pytest.approx(0.5, abs=0.01)  # 40 days: its own alone


@pytest.mark.django_db
@pytest.mark.parametrize(("day", "count"), [(date(2026, 3, 29), 92), (date(2026, 10, 25), 100)])
def test_dst_days_have_92_and_100_quarters(day: date, count: int) -> None:
    home, _, _ = pv_home()
    forecast = services.forecast_pv_household(
        household=home, day=day, now=datetime(2026, 3, 1, tzinfo=UTC)
    )
    assert forecast is not None
    assert len(forecast.values_wh) == count
    series = forecast.series()
    assert series[0][0] == datetime.combine(day, datetime.min.time(), BRUSSELS)
    assert forecast.end == datetime.combine(day + timedelta(days=1), datetime.min.time(), BRUSSELS)
    assert sum(forecast.values_wh) > 0


@pytest.mark.django_db
def test_reissue_replaces_the_same_day_and_horizon() -> None:
    home, _, system = pv_home()
    first = services.forecast_pv_household(household=home, day=TARGET, now=NOW)
    pv_rollups(system, TARGET - timedelta(days=40), 40, 0.9)
    later = NOW + timedelta(hours=1)
    second = services.forecast_pv_household(household=home, day=TARGET, now=later)
    assert first is not None and second is not None
    assert Forecast.objects.filter(household=home, kind="pv").count() == 1
    assert second.pk == first.pk and second.issued_at == later
    assert sum(second.values_wh) > sum(first.values_wh)


@pytest.mark.django_db
def test_intraday_scales_the_rest_of_today_by_the_measured_ratio_bounded() -> None:
    home, _, system = pv_home()
    pv_rollups(system, TARGET - timedelta(days=40), 40, 0.8)
    ahead = services.forecast_pv_household(household=home, day=TARGET, now=NOW)
    assert ahead is not None
    # A dull morning: half the (80 %-of-clear-sky) forecast up to 12:00 local.
    pv_rollups(system, TARGET, 1, 0.4)
    noon = datetime(2026, 6, 15, 12, 0, tzinfo=BRUSSELS)
    DeviceEnergy.objects.filter(household=home, start__gte=noon).delete()
    intraday = services.forecast_pv_household(
        household=home, day=TARGET, horizon=Horizon.INTRADAY, now=noon
    )
    assert intraday is not None
    assert intraday.start == noon
    assert intraday.meta["ratio"] == pytest.approx(0.5, abs=0.01)
    rest, ratio = dict(ahead.series()), intraday.meta["ratio"]
    for moment, value in intraday.series():
        assert value == pytest.approx(rest[moment] * ratio, abs=1)
    assert len(intraday.values_wh) == 48
    assert pv.intraday_ratio(0, 1000, kwp=4) == pv.INTRADAY_BOUNDS[0]
    assert pv.intraday_ratio(5000, 1000, kwp=4) == pv.INTRADAY_BOUNDS[1]
    assert pv.intraday_ratio(10, 5, kwp=4) == 1.0  # barely any sun seen yet
