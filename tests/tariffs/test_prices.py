"""price_slots and the per-day terms for every kind of tariff, in the household's zone."""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from apps.households.models import Household
from apps.tariffs.defaults import ensure_default_tariffs
from apps.tariffs.models import HouseholdTariff, Tariff, TariffVersion, TouPeriod
from apps.tariffs.selectors import (
    MissingPrice,
    NoTariff,
    PriceSlot,
    capacity_terms,
    price_slots,
    standing_charge,
    tariff_version_at,
    vat_rate,
)
from apps.tenants.models import Tenant
from tests.factories import HouseholdFactory, TenantFactory
from tests.tariffs.conftest import (
    BRUSSELS,
    LONDON,
    PARIS,
    contract,
    local,
    spot_prices,
    tariff,
    tempo_days,
    utc,
)

D = Decimal
Q = dt.timedelta(minutes=15)


def slot_at(household: Household, at: dt.datetime) -> PriceSlot:
    """The one quarter-hour slot starting at `at`."""
    (slot,) = price_slots(household=household, start=at, end=at + Q)
    return slot


def local_day(zone: Any, day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(day, dt.time(), tzinfo=zone)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=zone)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


def periods_of_day(household: Household, zone: Any, day: dt.date) -> list[PriceSlot]:
    start, end = local_day(zone, day)
    return price_slots(household=household, start=start, end=end)


SPRING = dt.date(2026, 3, 29)
AUTUMN = dt.date(2026, 10, 25)


# Flat and defaults ----------------------------------------------------------------------


def test_flat_default_tariff_applies_without_a_contract(uk_home: Household) -> None:
    slot = slot_at(uk_home, utc(2026, 1, 15, 12, 0))
    assert (slot.import_price, slot.export_price, slot.period) == (
        D("0.2368"),
        D("0.15"),  # the tenant's default export tariff (SEG)
        "flat",
    )
    assert slot.version_id == tariff(uk_home.tenant, "uk-flat").versions.get().pk


def test_no_tariff_names_the_first_slot(db: Any) -> None:
    tenant = TenantFactory(country="IT", timezone="Europe/Rome")  # no ready-made tariffs
    household = HouseholdFactory(tenant=tenant)
    with pytest.raises(NoTariff, match=r"2026-01-15.*2026-01-15T11:00:00\+00:00"):
        price_slots(household=household, start=utc(2026, 1, 15, 11), end=utc(2026, 1, 15, 12))


def test_contract_overrides_the_default_and_is_dated(uk_home: Household) -> None:
    contract(uk_home, "uk-e7", valid_from=dt.date(2026, 2, 1))
    assert slot_at(uk_home, utc(2026, 1, 31, 3)).period == "flat"
    assert slot_at(uk_home, utc(2026, 2, 1, 3)).period == "night"


# Economy 7 and Economy 10 ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("hour", "minute", "period", "price"),
    [
        (0, 0, "night", "0.1420"),
        (6, 45, "night", "0.1420"),
        (7, 0, "day", "0.2960"),
        (23, 45, "day", "0.2960"),
    ],
)
def test_economy_7(uk_home: Household, hour: int, minute: int, period: str, price: str) -> None:
    contract(uk_home, "uk-e7")
    slot = slot_at(uk_home, local(LONDON, 2026, 1, 15, hour, minute))
    assert (slot.period, slot.import_price) == (period, D(price))


@pytest.mark.parametrize(
    ("hour", "minute", "period"),
    [
        (0, 0, "offpeak"), (4, 45, "offpeak"), (5, 0, "peak"), (12, 45, "peak"),
        (13, 0, "offpeak"), (15, 45, "offpeak"), (16, 0, "peak"), (19, 45, "peak"),
        (20, 0, "offpeak"), (21, 45, "offpeak"), (22, 0, "peak"), (23, 45, "peak"),
    ],
)  # fmt: skip
def test_economy_10_windows(uk_home: Household, hour: int, minute: int, period: str) -> None:
    contract(uk_home, "uk-e10")
    slot = slot_at(uk_home, local(LONDON, 2026, 7, 15, hour, minute))  # summer: BST
    assert slot.period == period
    assert slot.import_price == (D("0.1650") if period == "offpeak" else D("0.2900"))


def test_economy_7_across_the_spring_forward_night(uk_home: Household) -> None:
    """00:00 GMT to 07:00 BST is only six hours of night."""
    contract(uk_home, "uk-e7")
    slots = periods_of_day(uk_home, LONDON, SPRING)
    assert len(slots) == 92
    assert Counter(s.period for s in slots) == {"night": 24, "day": 68}
    assert slot_at(uk_home, utc(2026, 3, 29, 5, 45)).period == "night"  # 06:45 BST
    assert slot_at(uk_home, utc(2026, 3, 29, 6, 0)).period == "day"  # 07:00 BST


def test_economy_7_across_the_autumn_night(uk_home: Household) -> None:
    contract(uk_home, "uk-e7")
    slots = periods_of_day(uk_home, LONDON, AUTUMN)
    assert len(slots) == 100
    assert Counter(s.period for s in slots) == {"night": 32, "day": 68}
    # 01:00-02:00 local happens twice, night both times.
    assert slot_at(uk_home, utc(2026, 10, 25, 0, 30)).period == "night"  # 01:30 BST
    assert slot_at(uk_home, utc(2026, 10, 25, 1, 30)).period == "night"  # 01:30 GMT
    assert slot_at(uk_home, utc(2026, 10, 25, 7, 0)).period == "day"  # 07:00 GMT


# France: HP/HC and Tempo ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("hour", "minute", "period"),
    [(5, 45, "HC"), (6, 0, "HP"), (21, 45, "HP"), (22, 0, "HC"), (0, 0, "HC")],
)
def test_heures_pleines_heures_creuses(
    fr_home: Household, hour: int, minute: int, period: str
) -> None:
    contract(fr_home, "fr-hphc")
    slot = slot_at(fr_home, local(PARIS, 2026, 1, 15, hour, minute))
    assert slot.period == period
    assert slot.import_price == (D("0.1363") if period == "HC" else D("0.1734"))


@pytest.mark.parametrize(
    ("day", "counts"),
    [(SPRING, {"HC": 20 + 8, "HP": 64}), (AUTUMN, {"HC": 28 + 8, "HP": 64})],
)
def test_hp_hc_on_the_23_and_25_hour_days(
    fr_home: Household, day: dt.date, counts: dict[str, int]
) -> None:
    contract(fr_home, "fr-hphc")
    slots = periods_of_day(fr_home, PARIS, day)
    assert len(slots) == sum(counts.values())
    assert Counter(s.period for s in slots) == counts


def test_flat_base_on_the_23_and_25_hour_days(fr_home: Household) -> None:
    assert len(periods_of_day(fr_home, PARIS, SPRING)) == 92
    assert len(periods_of_day(fr_home, PARIS, AUTUMN)) == 100
    assert {s.import_price for s in periods_of_day(fr_home, PARIS, SPRING)} == {D("0.1627")}


@pytest.fixture
def tempo_home(fr_home: Household) -> Household:
    contract(fr_home, "fr-tempo")
    tempo_days(
        fr_home.tenant,
        {
            dt.date(2026, 1, 14): "BLUE",
            dt.date(2026, 1, 15): "RED",
            dt.date(2026, 1, 16): "WHITE",
            dt.date(2026, 3, 28): "WHITE",
            dt.date(2026, 3, 29): "BLUE",
            dt.date(2025, 7, 31): "BLUE",
            dt.date(2025, 8, 1): "BLUE",
        },
    )
    return fr_home


@pytest.mark.parametrize(
    ("at", "period", "price"),
    [
        ((2026, 1, 15, 5, 45), "blue_hc", "0.1027"),  # still the blue day of the 14th
        ((2026, 1, 15, 6, 0), "red_hp", "0.5390"),
        ((2026, 1, 15, 21, 45), "red_hp", "0.5390"),
        ((2026, 1, 15, 22, 0), "red_hc", "0.1217"),
        ((2026, 1, 16, 0, 0), "red_hc", "0.1217"),  # after midnight: still the red day
        ((2026, 1, 16, 5, 45), "red_hc", "0.1217"),
        ((2026, 1, 16, 6, 0), "white_hp", "0.1442"),
    ],
)
def test_tempo_red_day_spans_midnight(
    tempo_home: Household, at: tuple[int, ...], period: str, price: str
) -> None:
    slot = slot_at(tempo_home, local(PARIS, *at))
    assert (slot.period, slot.import_price) == (period, D(price))


def test_tempo_red_night_in_one_call(tempo_home: Household) -> None:
    start = local(PARIS, 2026, 1, 15, 6).astimezone(dt.UTC)
    slots = price_slots(household=tempo_home, start=start, end=start + dt.timedelta(days=1))
    assert Counter(s.period for s in slots) == {"red_hp": 64, "red_hc": 32}


def test_tempo_missing_colour_is_never_guessed(tempo_home: Household) -> None:
    with pytest.raises(MissingPrice, match=r"No Tempo colour for 2026-01-17.*05:00:00\+00:00"):
        price_slots(
            household=tempo_home,
            start=local(PARIS, 2026, 1, 17, 5),
            end=local(PARIS, 2026, 1, 17, 7),
        )


def test_tempo_on_the_23_hour_day(tempo_home: Household) -> None:
    slots = periods_of_day(tempo_home, PARIS, SPRING)
    assert len(slots) == 92
    # 00:00-06:00 CEST/CET belongs to the white day of the 28th: five real hours.
    assert Counter(s.period for s in slots) == {"white_hc": 20, "blue_hp": 64, "blue_hc": 8}


def test_tempo_versions_change_on_their_date(tempo_home: Household) -> None:
    before = slot_at(tempo_home, local(PARIS, 2025, 7, 31, 12))
    after = slot_at(tempo_home, local(PARIS, 2025, 8, 1, 12))
    assert (before.import_price, after.import_price) == (D("0.1293"), D("0.1245"))
    assert before.version_id != after.version_id


# Belgium: bi-horaire, dynamic, injection ------------------------------------------------


@pytest.mark.parametrize(
    ("at", "period"),
    [
        ((2026, 1, 16, 21, 45), "day"),  # Friday
        ((2026, 1, 16, 22, 0), "night"),
        ((2026, 1, 17, 12, 0), "night"),  # Saturday noon
        ((2026, 1, 18, 18, 0), "night"),  # Sunday
        ((2026, 1, 19, 6, 45), "night"),  # Monday morning
        ((2026, 1, 19, 7, 0), "day"),
    ],
)
def test_bi_horaire_weekend_is_night(be_home: Household, at: tuple[int, ...], period: str) -> None:
    slot = slot_at(be_home, local(BRUSSELS, *at))  # the tenant's default tariff
    assert slot.period == period
    assert slot.import_price == (D("0.25") if period == "night" else D("0.31"))
    assert slot.export_price == D("0.035")  # default injection tariff


@pytest.mark.parametrize(("day", "count"), [(SPRING, 92), (AUTUMN, 100)])
def test_bi_horaire_on_dst_sundays(be_home: Household, day: dt.date, count: int) -> None:
    slots = periods_of_day(be_home, BRUSSELS, day)
    assert len(slots) == count
    assert {s.period for s in slots} == {"night"}


def test_bi_horaire_on_a_weekday_around_the_change(be_home: Household) -> None:
    # Monday 2026-03-30, the first CEST weekday: day from 07:00 CEST = 05:00 UTC.
    assert slot_at(be_home, utc(2026, 3, 30, 4, 45)).period == "night"
    assert slot_at(be_home, utc(2026, 3, 30, 5, 0)).period == "day"


@pytest.mark.parametrize(("day", "count"), [(SPRING, 92), (AUTUMN, 100)])
def test_dynamic_prices_on_dst_days(be_home: Household, day: dt.date, count: int) -> None:
    contract(be_home, "be-dynamic", export="be-injection")
    start, end = local_day(BRUSSELS, day)
    spot_prices(be_home.tenant, start, end, step_minutes=15)
    slots = price_slots(household=be_home, start=start, end=end)
    assert len(slots) == count
    first = slots[0]
    assert first.start == start and first.period == "dynamic"
    # Spot (UTC hour / 100) plus the 0.12 markup.
    expected = D(f"{start.hour / 100:.6f}") + D("0.12")
    assert first.import_price == expected
    assert slots[-1].end == end
    assert {s.export_price for s in slots} == {D("0.035")}


def test_hourly_points_price_each_quarter(be_home: Household) -> None:
    contract(be_home, "be-dynamic")
    spot_prices(be_home.tenant, utc(2026, 1, 15, 10), utc(2026, 1, 15, 12), step_minutes=60)
    slots = price_slots(household=be_home, start=utc(2026, 1, 15, 10), end=utc(2026, 1, 15, 12))
    assert [s.import_price for s in slots] == [D("0.22")] * 4 + [D("0.23")] * 4
    # No export tariff in the contract and no bundled export price: export earns nothing.
    assert {s.export_price for s in slots} == {D(0)}


def test_missing_dynamic_price_names_the_slot(be_home: Household) -> None:
    contract(be_home, "be-dynamic")
    spot_prices(be_home.tenant, utc(2026, 1, 15, 10), utc(2026, 1, 15, 11), step_minutes=15)
    with pytest.raises(MissingPrice, match=r"2026-01-15T11:00:00\+00:00"):
        price_slots(household=be_home, start=utc(2026, 1, 15, 10), end=utc(2026, 1, 15, 12))


def test_a_month_in_a_few_queries_and_milliseconds(
    be_home: Household, django_assert_max_num_queries: Any
) -> None:
    contract(be_home, "be-dynamic", export="be-injection")
    start, end = utc(2026, 1, 1), utc(2026, 2, 1)
    spot_prices(be_home.tenant, start, end, step_minutes=15)
    began = time.perf_counter()
    with django_assert_max_num_queries(6):
        slots = price_slots(household=be_home, start=start, end=end)
    elapsed = time.perf_counter() - began
    assert len(slots) == 2976
    assert elapsed < 1.0, f"{elapsed:.3f}s for a month"


# Slot edges -----------------------------------------------------------------------------


def test_unaligned_edges_are_cut(uk_home: Household) -> None:
    slots = price_slots(
        household=uk_home, start=utc(2026, 1, 15, 10, 7), end=utc(2026, 1, 15, 10, 40)
    )
    assert [(s.start.minute, s.end.minute) for s in slots] == [(7, 15), (15, 30), (30, 40)]


def test_naive_datetimes_are_refused(uk_home: Household) -> None:
    with pytest.raises(ValueError, match="aware"):
        price_slots(household=uk_home, start=dt.datetime(2026, 1, 1), end=utc(2026, 1, 2))


# Standing charge, capacity, VAT, version ------------------------------------------------


def test_standing_charge_follows_the_version(tempo_home: Household) -> None:
    assert standing_charge(household=tempo_home, day=dt.date(2025, 7, 31)) == D("0.4821")
    assert standing_charge(household=tempo_home, day=dt.date(2025, 8, 1)) == D("0.5368")


def test_version_at_uses_the_households_day(tempo_home: Household) -> None:
    # 22:30 UTC on 31 July is already 1 August in Paris.
    version = tariff_version_at(household=tempo_home, at=utc(2025, 7, 31, 22, 30))
    assert version.valid_from == dt.date(2025, 8, 1)


def test_capacity_terms(be_home: Household, uk_home: Household) -> None:
    assert capacity_terms(household=be_home, month=dt.date(2026, 2, 1)) == (
        D("51.92"),
        D("2.5"),
    )
    assert capacity_terms(household=uk_home, month=dt.date(2026, 2, 1)) is None


def test_vat_rates(be_home: Household, fr_home: Household, uk_home: Household) -> None:
    at = utc(2026, 1, 15, 12)
    assert vat_rate(household=be_home, at=at) == D("0.06")
    assert vat_rate(household=fr_home, at=at) == D("0.20")
    assert vat_rate(household=uk_home, at=at) == D("0.05")


# Validation -----------------------------------------------------------------------------


def test_versions_must_not_overlap(fr: Tenant) -> None:
    tempo = tariff(fr, "fr-tempo")
    first = tempo.versions.first()
    assert first is not None
    overlapping = TariffVersion(
        tariff=tempo,
        valid_from=dt.date(2025, 7, 1),
        vat_rate=D("0.2"),
        price_series=first.price_series,
    )
    with pytest.raises(ValidationError, match="Overlaps"):
        overlapping.full_clean()


def test_contracts_stay_in_the_tenant(fr_home: Household, be: Tenant) -> None:
    foreign = HouseholdTariff(
        household=fr_home, tariff=tariff(be, "be-bihoraire"), valid_from=dt.date(2026, 1, 1)
    )
    with pytest.raises(ValidationError, match="import tariff of the tenant"):
        foreign.full_clean()


def test_ready_made_tariffs_are_idempotent(uk: Tenant, fr: Tenant, be: Tenant) -> None:
    before = (Tariff.objects.count(), TariffVersion.objects.count(), TouPeriod.objects.count())
    for tenant in (uk, fr, be):
        ensure_default_tariffs(tenant)
    after = (Tariff.objects.count(), TariffVersion.objects.count(), TouPeriod.objects.count())
    assert before == after == (12, 13, 25)
