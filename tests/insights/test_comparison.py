"""Social comparison: the floor, the figures by hand, the widening and the privacy of others."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from apps.devices.models import DeviceKind
from apps.energy.models import HouseholdEnergy
from apps.households.models import Household
from apps.insights.comparison import (
    ComparisonGroups,
    _region_filter,
    compare,
    comparison_group,
    region_of,
)
from apps.insights.emails import percentile_text, report_email
from apps.insights.reports import ReportBatch, report_build
from apps.privacy import consent
from tests.factories import DeviceFactory, HouseholdFactory, TenantFactory

MONTH = date(2026, 5, 1)
MONTH_START = datetime(2026, 4, 30, 22, tzinfo=UTC)  # 1 May 00:00 in Brussels
MONTH_END = datetime(2026, 5, 31, 22, tzinfo=UTC)


def month_row(household: Any, kwh: float, *, complete: bool = True) -> None:
    HouseholdEnergy.objects.create(
        household=household,
        resolution="1mo",
        start=MONTH_START,
        import_wh=round(kwh * 1000),
        complete=complete,
        gap_quarters=0 if complete else 4,
    )


def others(world: Any, kwhs: Sequence[float], **attributes: Any) -> list[Any]:
    """Households of our tenant (like ours unless told otherwise) with their month."""
    made = []
    for kwh in kwhs:
        household = HouseholdFactory(tenant=world.home_tenant, **attributes)
        month_row(household, kwh)
        made.append(household)
    return made


# Regions ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("country", "postcode", "region"),
    [
        ("BE", "9000", "90"),
        ("BE", "9030", "90"),
        ("FR", "75001", "75"),
        ("FR", "20000", "20"),
        ("FR", "97110", "971"),
        ("GB", "SW1A 1AA", "SW"),
        ("GB", "m1 1ae", "M"),
        ("GB", "ME1 1AA", "ME"),
    ],
)
def test_region_rule_per_country(country: str, postcode: str, region: str) -> None:
    assert region_of(country, postcode) == region


@pytest.mark.django_db
def test_uk_area_m_is_not_area_me() -> None:
    tenant: Any = TenantFactory(country="GB", timezone="Europe/London", currency="GBP")
    manchester = HouseholdFactory(tenant=tenant, postcode="M1 1AE")
    HouseholdFactory(tenant=tenant, postcode="ME1 1AA")  # Medway
    found = Household.objects.filter(_region_filter("GB", "M"), tenant=tenant)
    assert list(found) == [manchester]


# The floor --------------------------------------------------------------------------------


def test_fourteen_households_are_not_a_group(world: Any) -> None:
    month_row(world.household, 300)
    month_row(world.neighbour, 300)
    others(world, [300] * 12)
    HouseholdFactory(tenant=world.home_tenant)  # no data: not counted
    month_row(HouseholdFactory(tenant=world.home_tenant), 300, complete=False)  # a gap
    result = compare(world.household, MONTH)
    assert not result.available
    assert result.reason == "Not enough similar households to compare with fairly."
    assert result.percentile is None and result.median_kwh is None
    assert result.kwh == Decimal("300.0")  # the household's own figure may be shown
    assert comparison_group(world.household, MONTH_START, MONTH_END) is None


def test_fifteen_households_are_a_group(world: Any) -> None:
    month_row(world.household, 300)
    month_row(world.neighbour, 300)
    others(world, [300] * 13)
    month_row(HouseholdFactory(tenant=world.abroad.tenant), 300)  # another tenant
    result = compare(world.household, MONTH)
    assert result.available
    assert (result.level, result.group_size) == ("similar", 15)
    assert (result.percentile, result.median_kwh, result.efficient_kwh) == (
        50,  # all ties: half of the others count as using less
        Decimal("300.0"),
        Decimal("300.0"),
    )


def test_one_household_above_fifteen_percent_of_the_total_hides_the_group(world: Any) -> None:
    month_row(world.household, 100)
    month_row(world.neighbour, 300)  # 300 of 1,700 kWh = 17.6 %
    others(world, [100] * 13)
    result = compare(world.household, MONTH)
    assert not result.available
    assert result.reason == "Not enough similar households to compare with fairly."
    # At 250 of 1,650 kWh (15.2 %) still hidden; at 240 of 1,640 (14.6 %) shown.
    HouseholdEnergy.objects.filter(household=world.neighbour).update(import_wh=250_000)
    assert not compare(world.household, MONTH).available
    HouseholdEnergy.objects.filter(household=world.neighbour).update(import_wh=240_000)
    assert compare(world.household, MONTH).available


def test_incomplete_own_month_is_not_compared(world: Any) -> None:
    month_row(world.household, 300, complete=False)
    others(world, [300] * 20)
    result = compare(world.household, MONTH)
    assert not result.available
    assert "not complete" in result.reason
    assert result.kwh is None


# The figures ------------------------------------------------------------------------------

OTHERS_KWH = [100, 120, 140, 160, 180, 200, 220, 240, 260, 280, 320, 340, 360, 380]


def test_percentile_median_and_efficient_neighbours_by_hand(world: Any) -> None:
    month_row(world.household, 300)
    month_row(world.neighbour, OTHERS_KWH[0])
    neighbours = others(world, OTHERS_KWH[1:])
    # The house's use counts PV at home and the battery: 250 + 80 - 30 + 5 - 5 = 300.
    HouseholdEnergy.objects.filter(household=world.household).update(
        import_wh=250_000, pv_wh=80_000, export_wh=30_000,
        battery_discharge_wh=5_000, battery_charge_wh=5_000,
    )  # fmt: skip
    result = compare(world.household, MONTH)
    assert result.available and result.group_size == 15
    # Sorted: 100 120 140 160 180 200 220 240 260 280 [300] 320 340 360 380.
    # 10 of the 14 others use less: 10 / 14 = 71.4 %.
    assert result.percentile == 71
    # Median: rank 0.5 x 14 = 7 -> 240. Efficient fifth: rank 0.2 x 14 = 2.8 ->
    # 140 + 0.8 x (160 - 140) = 156.
    assert result.median_kwh == Decimal("240.0")
    assert result.efficient_kwh == Decimal("156.0")
    assert result.kwh == Decimal("300.0")

    # Nothing about any other household: no id, no meter point, no name, no figure
    # besides the two aggregates (the median of an odd group is a rank, not a person).
    text = repr(asdict(result))
    for household in [world.neighbour, *neighbours]:
        assert str(household.pk) not in text
        assert household.meter_point_id not in text
        assert household.name not in text
    shown = {result.kwh, result.median_kwh, result.efficient_kwh}
    hidden = {Decimal(k).quantize(Decimal("0.1")) for k in OTHERS_KWH} - shown
    for figure in hidden:
        assert str(figure) not in text
    assert set(asdict(result)) == {
        "available", "reason", "level", "group", "group_size",
        "kwh", "percentile", "median_kwh", "efficient_kwh",
    }  # fmt: skip


def test_lowest_and_highest_households(world: Any) -> None:
    month_row(world.household, 50)
    month_row(world.neighbour, 100)
    others(world, [100] * 13)
    assert compare(world.household, MONTH).percentile == 0
    HouseholdEnergy.objects.filter(household=world.household).update(import_wh=110_000)
    assert compare(world.household, MONTH).percentile == 100


# Widening ---------------------------------------------------------------------------------


def test_the_narrow_group_is_used_when_large_enough(world: Any) -> None:
    month_row(world.household, 200)
    month_row(world.neighbour, 200)
    others(world, [200] * 13)
    others(world, [900] * 20, heating_type="electric")  # left out of the narrow group
    result = compare(world.household, MONTH)
    assert (result.level, result.group_size, result.median_kwh) == (
        "similar",
        15,
        Decimal("200.0"),
    )
    assert "gas boiler" in result.group and "without solar panels" in result.group


def test_widening_drops_heating_then_size_then_region(world: Any) -> None:
    month_row(world.household, 200)
    alike = others(world, [200] * 5)  # like ours: gas, 2 people, postcode 9000
    # With PV, or in another tenant: never counted at any step.
    pv_homes = others(world, [200] * 20)
    for home in pv_homes:
        DeviceFactory(household=home, kind=DeviceKind.PV_INVERTER, name="Inverter")
    for _ in range(20):
        month_row(HouseholdFactory(tenant=world.abroad.tenant), 200)

    heat_pumps = others(world, [200] * 4, heating_type="heat_pump", postcode="9050")
    assert comparison_group(world.household, MONTH_START, MONTH_END) is None  # 6 + 4 = 10

    electric = others(world, [200] * 5, heating_type="electric")
    group = comparison_group(world.household, MONTH_START, MONTH_END)
    assert group is not None and (group.level, group.size) == ("region_size", 15)
    assert group.criteria["region"] == "90" and "heating_type" not in group.criteria
    assert group.criteria["pv"] is False

    # The households of our size band leave; 14 of 3-4 people in the region arrive.
    HouseholdEnergy.objects.filter(household__in=alike + heat_pumps + electric).delete()
    bigger = others(world, [200] * 14, household_size=4)
    group = comparison_group(world.household, MONTH_START, MONTH_END)
    assert group is not None and (group.level, group.size) == ("region", 15)

    # They leave too; 14 in Antwerpen (postcode area 20) of 5 people arrive.
    HouseholdEnergy.objects.filter(household__in=bigger).delete()
    others(world, [200] * 14, household_size=5, postcode="2000")
    result = compare(world.household, MONTH)
    assert (result.level, result.group_size) == ("tenant", 15)
    assert "postcode area" not in result.group


def test_a_day_can_be_compared_from_daily_rollups(world: Any) -> None:
    day_start = datetime(2026, 5, 4, 22, tzinfo=UTC)  # 5 May in Brussels
    homes = [world.household, world.neighbour] + [
        HouseholdFactory(tenant=world.home_tenant) for _ in range(13)
    ]
    for n, home in enumerate(homes):
        HouseholdEnergy.objects.create(
            household=home, resolution="1d", start=day_start, import_wh=5_000 + n, complete=True
        )
    group = comparison_group(world.household, day_start, datetime(2026, 5, 5, 22, tzinfo=UTC))
    assert group is not None and group.size == 15
    with pytest.raises(ValueError, match="whole local days"):
        comparison_group(world.household, day_start, datetime(2026, 5, 5, 12, tzinfo=UTC))


def test_queries_do_not_grow_with_the_group(world: Any, django_assert_max_num_queries: Any) -> None:
    month_row(world.household, 200)
    others(world, [150, 250] * 30)
    with django_assert_max_num_queries(8):
        result = compare(world.household, MONTH)
    assert result.available and result.group_size == 61


# A batch of reports: each group read once ----------------------------------------------


def test_a_batch_ranks_every_member_like_the_database(
    world: Any, django_assert_max_num_queries: Any
) -> None:
    month_row(world.household, 200)
    month_row(world.neighbour, 150)
    members = [world.household, world.neighbour, *others(world, [150, 250, 200, 90] * 5)]
    groups = ComparisonGroups()
    for household in members:
        assert compare(household, MONTH, groups) == compare(household, MONTH)
    assert groups.reads == 1  # one group ("similar"), read for the first member only
    with django_assert_max_num_queries(1):  # the household's own month, nothing else
        result = compare(world.household, MONTH, groups)
    assert result.available and result.group_size == 22 and result.level == "similar"


def test_a_batch_keeps_groups_apart_and_the_floor(world: Any) -> None:
    month_row(world.household, 200)
    month_row(world.neighbour, 200)
    electric = others(world, [300] * 3, heating_type="electric")  # widened to "region_size"
    others(world, [200] * 13)
    groups = ComparisonGroups()
    ours = compare(world.household, MONTH, groups)
    theirs = compare(electric[0], MONTH, groups)
    assert (ours.level, ours.group_size) == ("similar", 15)
    assert (theirs.level, theirs.group_size) == ("region_size", 18)
    assert theirs == compare(electric[0], MONTH)
    assert "gas boiler" in ours.group and "gas boiler" not in theirs.group
    lonely = HouseholdFactory(tenant=world.abroad.tenant)
    month_row(lonely, 100)
    assert not compare(lonely, MONTH, groups).available  # alone in its tenant


def test_the_monthly_report_carries_the_comparison(world: Any) -> None:
    month_row(world.household, 200)
    month_row(world.neighbour, 150)
    others(world, [150, 250, 200] * 5)
    batch = ReportBatch()
    report = report_build(household=world.household, period="month", day=MONTH, batch=batch)
    assert report.comparison == compare(world.household, MONTH)
    assert report.comparison is not None and report.comparison.available
    assert batch.groups.reads == 1
    assert report_build(household=world.household, period="month", day=MONTH).comparison == (
        report.comparison
    )
    assert report_build(household=world.household, period="week", day=MONTH).comparison is None
    message = report_email(report=report, to="owner@example.invalid", language="en")
    text = percentile_text(report.comparison)
    assert f"{report.comparison.percentile} %" in text
    assert text in message.body and text in str(message.alternatives[0][0])


def test_a_household_that_objects_is_neither_compared_nor_a_comparison_input(
    world: Any,
) -> None:
    """Comparison groups are built from monthly totals for energy services: a household
    that objects to that use is left out of everyone's group and sees no comparison."""
    month_row(world.household, 200)
    neighbours = others(world, [150, 250, 200] * 5 + [100])
    assert compare(world.household, MONTH).group_size == 17
    objecting = neighbours[-1]
    consent.consent_set(
        household=objecting, recipient_kind="telco", purpose="energy_services",
        resolution="1mo", granted=False, by=None,
    )  # fmt: skip
    assert compare(world.household, MONTH).group_size == 16
    refused = compare(objecting, MONTH)
    assert not refused.available and "chose not to share" in refused.reason
