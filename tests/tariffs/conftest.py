"""Households of the three partners with the ready-made tariffs, and helpers."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from apps.households.models import Household
from apps.tariffs.defaults import ensure_default_tariffs
from apps.tariffs.models import HouseholdTariff, PricePoint, PriceSeries, Tariff, TempoDay
from apps.tenants.models import Currency, Tenant
from tests.factories import HouseholdFactory, TenantFactory

REALDATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "realdata" / "prices"


def realdata(name: str) -> Path:
    path = REALDATA / name
    if not path.is_file():
        pytest.skip(
            f"real price file {name} not found under {REALDATA.resolve()}"
            " (a bare clone has no ../shared/realdata)"
        )
    return path


LONDON = ZoneInfo("Europe/London")
PARIS = ZoneInfo("Europe/Paris")
BRUSSELS = ZoneInfo("Europe/Brussels")


def local(zone: ZoneInfo, *args: int, fold: int = 0) -> dt.datetime:
    return dt.datetime(*args, tzinfo=zone, fold=fold)  # type: ignore[misc]


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)  # type: ignore[misc]


def tariff(tenant: Tenant, code: str) -> Tariff:
    return Tariff.objects.get(tenant=tenant, code=code)


def contract(household: Household, code: str, *, export: str | None = None, **dates: Any) -> Any:
    tenant = household.tenant
    return HouseholdTariff.objects.create(
        household=household,
        tariff=tariff(tenant, code),
        export_tariff=tariff(tenant, export) if export else None,
        valid_from=dates.get("valid_from", dt.date(2025, 1, 1)),
        valid_until=dates.get("valid_until"),
    )


@pytest.fixture
def uk(db: Any) -> Tenant:
    tenant = TenantFactory(
        slug="upl", name="UPL", country="GB", currency=Currency.GBP,
        timezone="Europe/London", language="en",
    )  # fmt: skip
    ensure_default_tariffs(tenant)
    return tenant


@pytest.fixture
def fr(db: Any) -> Tenant:
    tenant = TenantFactory(
        slug="gdf-suez", name="GDF Suez", country="FR", currency=Currency.EUR,
        timezone="Europe/Paris", language="fr",
    )  # fmt: skip
    ensure_default_tariffs(tenant)
    return tenant


@pytest.fixture
def be(db: Any) -> Tenant:
    tenant = TenantFactory(slug="lab-be", name="LAB", country="BE")
    ensure_default_tariffs(tenant)
    return tenant


@pytest.fixture
def uk_home(uk: Tenant) -> Household:
    return HouseholdFactory(tenant=uk)


@pytest.fixture
def fr_home(fr: Tenant) -> Household:
    return HouseholdFactory(tenant=fr)


@pytest.fixture
def be_home(be: Tenant) -> Household:
    return HouseholdFactory(tenant=be)


def tempo_days(tenant: Tenant, colours: dict[dt.date, str]) -> None:
    series = PriceSeries.objects.get(tenant=tenant, kind="tempo")
    TempoDay.objects.bulk_create(
        TempoDay(series=series, date=day, colour=colour) for day, colour in colours.items()
    )


def spot_prices(
    tenant: Tenant, start: dt.datetime, end: dt.datetime, step_minutes: int = 60
) -> PriceSeries:
    """A made-up day-ahead curve: the price per kWh is the UTC hour / 100 (+ minute / 10000)."""
    series = PriceSeries.objects.get(tenant=tenant, kind="prices")
    step = dt.timedelta(minutes=step_minutes)
    points = []
    at = start
    while at < end:
        price = dt.timedelta(hours=at.hour, minutes=at.minute) / dt.timedelta(hours=1)
        points.append(
            PricePoint(series=series, start=at, end=at + step, price_per_kwh=f"{price / 100:.6f}")
        )
        at += step
    PricePoint.objects.bulk_create(points)
    return series
