"""The forecast page: a day's PV and load forecasts against the measured rollups."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client

from apps.devices.models import DeviceKind
from apps.energy.models import DeviceEnergy, HouseholdEnergy, Resolution
from apps.forecasting import selectors
from apps.forecasting.models import Forecast, PvSystem
from apps.portal.forecast_view import energy
from tests.conftest import World, mfa_login
from tests.factories import DeviceFactory
from tests.forecasting.helpers import load_rollups, pv_rollups, quarters

pytestmark = pytest.mark.django_db
BRUSSELS = ZoneInfo("Europe/Brussels")
NOW = dt.datetime(2026, 6, 11, 12, 0, tzinfo=BRUSSELS)
YESTERDAY = dt.date(2026, 6, 10)


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def client_for(world: World, role: str) -> Client:
    client = Client()
    mfa_login(client, world.users[role])
    return client


def url(world: World, day: dt.date | None = None) -> str:
    query = f"?date={day.isoformat()}" if day else ""
    return f"/households/{world.household.pk}/forecast/{query}"


def midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), tzinfo=BRUSSELS).astimezone(dt.UTC)


def forecast(world: World, kind: str, day: dt.date, values: list[int], **extra: Any) -> None:
    Forecast.objects.create(
        household=world.household, kind=kind, horizon=extra.pop("horizon", "day_ahead"),
        day=day, issued_at=midnight(day) - dt.timedelta(hours=6),
        start=extra.pop("start", midnight(day)), values_wh=values,
    )  # fmt: skip


def appliance_idle(world: World, first: dt.date, days: int) -> None:
    """The world's (controllable, schedulable) appliance measured at 0 Wh: the base load
    leaves out a quarter where such an appliance has no complete rollup."""
    DeviceEnergy.objects.bulk_create(
        DeviceEnergy(
            device=world.devices["ours"], household=world.household,
            resolution=Resolution.QUARTER, start=s.to_pydatetime(), energy_wh=0, complete=True,
        )
        for s in quarters(first, days)
    )  # fmt: skip


def load_history(world: World) -> None:
    """The day before: flat 100 Wh; yesterday 100 Wh, 180 Wh from 18:00 (forecast: 160)."""
    load_rollups(world.household, YESTERDAY - dt.timedelta(days=1), 1, lambda t: 100)
    load_rollups(world.household, YESTERDAY, 1, lambda t: 180 if t.hour >= 18 else 100)
    appliance_idle(world, YESTERDAY - dt.timedelta(days=1), 2)
    forecast(world, "load", YESTERDAY, [100] * 72 + [160] * 24)


@pytest.fixture
def solar(world: World) -> PvSystem:
    world.household.timezone = "Europe/Brussels"
    world.household.save()
    inverter = DeviceFactory(
        household=world.household, gateway=world.gateways["ours"], name="Roof",
        kind=DeviceKind.PV_INVERTER, rated_power_w=4000, controllable=False,
    )  # fmt: skip
    system = PvSystem.objects.create(
        household=world.household, device=inverter, latitude=50.85, longitude=4.35,
        kwp=4.0, inverter_ac_kw=4.0,
    )  # fmt: skip
    pv_rollups(system, YESTERDAY - dt.timedelta(days=1), 1, 0.4)  # a grey day
    pv_rollups(system, YESTERDAY, 1, 0.7)
    measured = DeviceEnergy.objects.filter(
        device=inverter, resolution=Resolution.QUARTER, start__gte=midnight(YESTERDAY)
    ).order_by("start")
    forecast(world, "pv", YESTERDAY, [round(row.energy_wh * 0.9) for row in measured])
    return system


def test_the_owner_reads_yesterday_s_pv_and_load_errors_as_the_selector_computes_them(
    world: World, solar: PvSystem
) -> None:
    load_history(world)
    page = client_for(world, "household_owner").get(url(world)).content.decode()
    assert 'data-testid="day-label">Wednesday 10 June 2026<' in page  # yesterday by default
    for kind in ("pv", "load"):
        result = selectors.forecast_vs_actual(
            household_id=world.household.pk, kind=kind,
            start=midnight(YESTERDAY), end=midnight(YESTERDAY + dt.timedelta(days=1)),
        )  # fmt: skip
        assert result["measured_quarters"] == 96 and result["skill"] is not None
        assert f'data-testid="mae-{kind}">{energy(result["mae_wh"])}<' in page
        assert f'data-testid="rmse-{kind}">{energy(result["rmse_wh"])}<' in page
        assert f'data-testid="skill-{kind}">{round(result["skill"] * 100)} %<' in page
        chart = page.split(f'data-testid="chart-{kind}"')[1].split("</svg>")[0]
        assert chart.count('<path class="series s-forecast"') == 1
        assert chart.count('<path class="series s-actual"') == 1
    # PV: 10 % under every quarter of a sunny day, where persistence missed a grey day's 0.3.
    summary = page.split('data-testid="summary-pv"')[1].split("</p>")[0]
    assert "Forecast error" in summary and "better than assuming yesterday repeats" in summary
    # Load: 20 Wh short after 18:00, where the day before (100 Wh all day) was 80 Wh short.
    load = page.split('data-testid="summary-load"')[1].split("</p>")[0]
    assert "Forecast error 5 Wh per quarter hour" in load  # 24 x 20 / 96
    assert "75 % better than assuming yesterday repeats" in load  # 1 - 5 / (24 x 80 / 96)
    assert f'href="?date={YESTERDAY - dt.timedelta(days=1)}"' in page
    assert 'href="?date=2026-06-11"' in page  # next: today


def test_today_shows_the_intraday_forecast_beside_the_day_ahead(world: World) -> None:
    today = dt.date(2026, 6, 11)
    load_rollups(world.household, today, 1, lambda t: 100)
    appliance_idle(world, today, 1)
    HouseholdEnergy.objects.filter(start__gte=NOW).delete()  # measured: the morning only
    forecast(world, "load", today, [110] * 96)
    forecast(world, "load", today, [130] * 48, horizon="intraday", start=NOW.astimezone(dt.UTC))
    page = client_for(world, "household_owner").get(url(world, today)).content.decode()
    assert "today, so far" in page
    assert 'href="?date=2026-06-12" aria-label="Next day"' in page  # tomorrow's day ahead
    chart = page.split('data-testid="chart-load"')[1].split("</svg>")[0]
    assert '<path class="series s-intraday"' in chart
    assert 'data-testid="mae-load">10 Wh<' in page  # over the 48 quarters measured so far
    assert "48 / 96" in page


def test_a_household_without_pv_sees_only_the_load(world: World) -> None:
    load_history(world)
    page = client_for(world, "household_member").get(url(world)).content.decode()
    assert 'data-testid="forecast-load"' in page and 'data-testid="forecast-pv"' not in page
    assert "Solar production" not in page


def test_without_any_forecast_the_page_says_when_the_first_comes(world: World) -> None:
    page = client_for(world, "household_owner").get(url(world)).content.decode()
    assert "your first forecast is made tonight" in page
    assert 'data-testid="forecast-load"' not in page


def test_a_day_without_a_forecast_says_so(world: World) -> None:
    load_history(world)
    page = client_for(world, "household_owner").get(url(world, dt.date(2026, 5, 1))).content
    assert "No forecast for this day." in page.decode()


def test_dso_staff_403_the_neighbour_404_anonymous_the_login(world: World) -> None:
    load_history(world)
    assert client_for(world, "dso_staff").get(url(world)).status_code == 403  # daily at most
    assert client_for(world, "neighbour_owner").get(url(world)).status_code == 404
    assert client_for(world, "abroad_owner").get(url(world)).status_code == 404
    anonymous = Client().get(url(world))
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/login/")


def test_the_household_and_energy_pages_link_to_it_for_those_who_may_read_it(
    world: World,
) -> None:
    link = f'href="/households/{world.household.pk}/forecast/"'
    owner = client_for(world, "household_owner")
    assert link in owner.get(f"/households/{world.household.pk}/").content.decode()
    energy_page = owner.get(f"/households/{world.household.pk}/energy/").content.decode()
    assert link in energy_page
