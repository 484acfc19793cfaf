"""Social comparison: a household's consumption against similar households (aggregates only).

The group. Similar households share the household's tenant, its region, its household size
band, its heating type and whether they have PV. The region is a prefix of the postcode:

- Belgium: the first two digits (9000 Gent and 9030 Mariakerke are both "90");
- France: the département, the first two digits (75 Paris, 20 Corsica as a whole), three
  for the overseas départements (971-976);
- United Kingdom: the postcode area, the leading letters of the outward code ("SW" for
  SW1A 1AA, "M" for M1 1AE - and M1 is not ME1);
- anywhere else: the first two characters.

Size bands: 1, 2, 3-4 and 5 or more people.

A group is shown only when at least `MIN_GROUP_SIZE` households (the household included)
have complete data for the period and no household uses more than `MAX_SHARE` of the
group's total (so that no single household's figure can be inferred). When the narrow group
fails, it is widened step by step - without the heating type, then without the size band,
then the whole tenant instead of the region - and the result says which group was used.
The PV criterion is kept at every step: a household's consumption with and without a roof
of panels is not comparable.

Consumption is the house's own use (grid import + PV - export + battery discharge -
charge) from the rollups: the monthly rollup for a calendar month, the daily rollups for
any other run of whole days. "Complete" means every rollup of the period is complete.

Everything is aggregated in the database (a grouped subquery per step, then LIMIT/OFFSET
reads for the two quantiles), so a step costs a handful of queries whatever the tenant's
size. The result carries the household's own figure and group aggregates, never another
household's id or figure. A run over many households (the month's reports) passes one
`ComparisonGroups`: each group is then read once (its members' figures kept in memory,
sorted, for the ranks and quantiles) instead of once per household.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Count, Exists, F, Max, OuterRef, Q, QuerySet, Sum
from django.utils.translation import gettext as _

from apps.devices.models import Device, DeviceKind
from apps.energy import periods
from apps.energy.models import HouseholdEnergy
from apps.forecasting.models import PvSystem
from apps.households.models import Household
from apps.privacy import consent
from apps.privacy.models import Purpose, RecipientKind, Resolution

MIN_GROUP_SIZE = 15
MAX_SHARE = Decimal("0.15")
EFFICIENT_QUANTILE = Decimal("0.2")  # what the most efficient fifth use at most
MEDIAN_QUANTILE = Decimal("0.5")
# Rollups of other households are found within half a day of ours: a month or a day starts
# at local midnight, which differs between the zones of one tenant by less than 12 hours.
ZONE_SLACK = timedelta(hours=12)
KWH = Decimal(1000)
TENTH = Decimal("0.1")

# The widening steps, narrowest first: the criteria each one keeps besides tenant and PV.
LEVELS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("similar", ("region", "size", "heating")),
    ("region_size", ("region", "size")),
    ("region", ("region",)),
    ("tenant", ()),
)

HOUSE_WH = (
    F("import_wh")
    + F("pv_wh")
    - F("export_wh")
    + F("battery_discharge_wh")
    - F("battery_charge_wh")
)


# Criteria ---------------------------------------------------------------------------------


def region_of(country: str, postcode: str) -> str:
    """The region key of a postcode (see the module's docstring)."""
    code = re.sub(r"\s+", "", postcode or "").upper()
    if country == "GB":
        match = re.match(r"[A-Z]{1,2}(?=[0-9])", code)
        return match.group() if match else code[:2]
    if country == "FR" and code[:2] in ("97", "98"):
        return code[:3]
    return code[:2]


def _region_filter(country: str, region: str) -> Q:
    pattern = r"^\s*" + re.escape(region)
    if country == "GB":
        pattern += "[0-9]"  # the area's letters end where the district's digits begin
    return Q(postcode__iregex=pattern)


def size_band(size: int) -> tuple[int, int | None]:
    """(lowest, highest) people of the household's band; None: no upper bound."""
    if size <= 1:
        return 1, 1
    if size == 2:
        return 2, 2
    if size <= 4:
        return 3, 4
    return 5, None


def _size_filter(size: int) -> Q:
    low, high = size_band(size)
    if low == 1:
        return Q(household_size__lte=1)
    if high is None:
        return Q(household_size__gte=low)
    return Q(household_size__gte=low, household_size__lte=high)


def has_pv_expression() -> Any:
    return Exists(
        Device.objects.filter(household=OuterRef("pk"), kind=DeviceKind.PV_INVERTER)
    ) | Exists(PvSystem.objects.filter(household=OuterRef("pk")))


def household_has_pv(household: Household) -> bool:
    return (
        Device.objects.filter(household=household, kind=DeviceKind.PV_INVERTER).exists()
        or PvSystem.objects.filter(household=household).exists()
    )


def _describe(level: str, household: Household, region: str, pv: bool) -> str:
    low, high = size_band(household.household_size)
    if high is None:
        people = _("%(low)s or more people") % {"low": low}
    elif low == high:
        people = _("%(count)s people") % {"count": low} if low > 1 else _("1 person")
    else:
        people = _("%(low)s to %(high)s people") % {"low": low, "high": high}
    parts = []
    if level != "tenant":
        parts.append(_("postcode area %(region)s") % {"region": region})
    if level in ("similar", "region_size"):
        parts.append(people)
    if level == "similar":
        parts.append(str(household.get_heating_type_display()).lower())
    parts.append(_("with solar panels") if pv else _("without solar panels"))
    return _("Households of %(tenant)s: %(criteria)s") % {
        "tenant": household.tenant.name,
        "criteria": ", ".join(parts),
    }


# The group --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Period:
    resolution: str
    expected: int  # rollups of `resolution` in the period
    window: tuple[datetime, datetime]  # where other zones' rollups of the period start


def _period(household: Household, start: datetime, end: datetime) -> _Period:
    zone = ZoneInfo(household.timezone)
    months = periods.months(start, end, zone)
    if months and months[0][0] == start and months[-1][1] == end:
        resolution, count = "1mo", len(months)
    else:
        days = periods.days(start, end, zone)
        if not days or days[0][0] != start or days[-1][1] != end:
            raise ValueError("A comparison period is made of whole local days.")
        resolution, count = "1d", len(days)
    return _Period(resolution, count, (start - ZONE_SLACK, end - ZONE_SLACK))


def _per_household(members: QuerySet[Household], period: _Period) -> QuerySet[Any]:
    """One row per member with complete data: (household_id, wh). A subquery, never read."""
    return (
        HouseholdEnergy.objects.filter(
            household__in=members.values("pk"),
            resolution=period.resolution,
            start__gte=period.window[0],
            start__lt=period.window[1],
        )
        .values("household_id")
        .annotate(
            wh=Sum(HOUSE_WH),
            rows=Count("pk"),
            complete_rows=Count("pk", filter=Q(complete=True)),
        )
        .filter(rows=period.expected, complete_rows=period.expected)
    )


@dataclass(frozen=True)
class ComparisonGroup:
    """The group used, its size and aggregates. `_rows` is a subquery of members' figures:
    domain code may use it for further aggregates; never show its rows. `_sorted` holds
    the members' figures in order when the group was read for a batch (`ComparisonGroups`):
    the quantiles and ranks are then taken from it instead of the database."""

    level: str  # "similar", "region_size", "region" or "tenant"
    description: str
    criteria: dict[str, Any]
    size: int
    total_wh: int
    _rows: QuerySet[Any] = field(repr=False, compare=False)
    _sorted: tuple[int, ...] | None = field(default=None, repr=False, compare=False)

    def _ranked(self, index: int) -> list[int]:
        """The figures at ranks index and index + 1 (the last one alone at the end)."""
        if self._sorted is not None:
            return list(self._sorted[index : index + 2])
        ordered = self._rows.order_by("wh", "household_id").values_list("wh", flat=True)
        return list(ordered[index : index + 2])

    def quantile_wh(self, q: Decimal) -> Decimal:
        """The q-quantile of the members' consumption, interpolated between the two
        neighbouring ranks (like PostgreSQL's percentile_cont and numpy's default)."""
        position = q * (self.size - 1)
        index = int(position)
        pair = self._ranked(index)
        low = Decimal(pair[0])
        high = Decimal(pair[-1])
        return low + (high - low) * (position - index)

    def below_and_ties(self, wh: int) -> tuple[int, int]:
        """How many members use less than `wh`, and how many exactly `wh`."""
        if self._sorted is not None:
            below = bisect_left(self._sorted, wh)
            return below, bisect_right(self._sorted, wh) - below
        counts = self._rows.aggregate(
            below=Count("household_id", filter=Q(wh__lt=wh)),
            ties=Count("household_id", filter=Q(wh=wh)),
        )
        return counts["below"], counts["ties"]


class ComparisonGroups:
    """The comparison groups met in one run (the month's reports of a fleet): each group's
    statistics and its members' sorted figures are read once, then every member is ranked
    in memory. The households' PV is read once per tenant. Keep one only for a run: it
    does not see data written after a group was read."""

    def __init__(self) -> None:
        self._groups: dict[tuple[Any, ...], ComparisonGroup | None] = {}
        self._pv: dict[Any, set[Any]] = {}
        self._objecting: set[Any] | None = None
        self.reads = 0  # groups read from the database

    def objects(self, household: Household) -> bool:
        """Whether the household objected to being compared (read once per run)."""
        if self._objecting is None:
            self._objecting = set(
                Household.objects.filter(pk__in=_not_compared()).values_list("pk", flat=True)
            )
        return household.pk in self._objecting

    def has_pv(self, household: Household) -> bool:
        if household.tenant_id not in self._pv:
            with_pv = Household.objects.filter(tenant_id=household.tenant_id).alias(
                has_pv=has_pv_expression()
            )
            self._pv[household.tenant_id] = set(
                with_pv.filter(has_pv=True).values_list("pk", flat=True)
            )
        return household.pk in self._pv[household.tenant_id]

    def get(
        self, key: tuple[Any, ...], read: Callable[[], ComparisonGroup | None]
    ) -> ComparisonGroup | None:
        if key not in self._groups:
            self.reads += 1
            group = read()
            if group is not None:  # ranked in memory from now on
                ordered = group._rows.order_by("wh", "household_id").values_list("wh", flat=True)
                group = replace(group, _sorted=tuple(ordered))
            self._groups[key] = group
        return self._groups[key]


def _levels(household: Household) -> list[tuple[str, dict[str, Any], Q]]:
    country = household.tenant.country
    region = region_of(country, household.postcode)
    out = []
    for level, keeps in LEVELS:
        criteria: dict[str, Any] = {}
        q = Q()
        if "region" in keeps:
            criteria["region"] = region
            q &= _region_filter(country, region)
        if "size" in keeps:
            criteria["size_band"] = size_band(household.household_size)
            q &= _size_filter(household.household_size)
        if "heating" in keeps:
            criteria["heating_type"] = household.heating_type
            q &= Q(heating_type=household.heating_type)
        out.append((level, criteria, q))
    return out


def _group_at(
    members: QuerySet[Household], period: _Period, level: str, criteria: dict[str, Any]
) -> ComparisonGroup | None:
    """The group of `members` for the period if it passes the floor (no description yet)."""
    rows = _per_household(members, period)
    stats = rows.aggregate(size=Count("household_id"), total=Sum("wh"), top=Max("wh"))
    size, total, top = stats["size"], stats["total"] or 0, stats["top"] or 0
    if size >= MIN_GROUP_SIZE and total > 0 and top <= MAX_SHARE * total:
        return ComparisonGroup(level, "", criteria, size, total, rows)
    return None


def comparison_group(
    household: Household,
    period_start: datetime,
    period_end: datetime,
    groups: ComparisonGroups | None = None,
) -> ComparisonGroup | None:
    """The narrowest group of households similar to `household` that passes the floor for
    [period_start, period_end) (whole local days or months), or None when even the whole
    tenant does not. The household itself is counted when its data is complete. With
    `groups`, a group already read in this run is not read again."""
    period = _period(household, period_start, period_end)
    pv = groups.has_pv(household) if groups else household_has_pv(household)
    region = region_of(household.tenant.country, household.postcode)
    base = (
        Household.objects.filter(tenant_id=household.tenant_id)
        .exclude(pk__in=_not_compared())
        .alias(has_pv=has_pv_expression())
        .filter(has_pv=pv)
    )
    for level, kept, q in _levels(household):
        criteria = {**kept, "tenant": household.tenant.slug, "pv": pv}
        read = partial(_group_at, base.filter(q), period, level, criteria)
        key = (household.tenant_id, period, level, tuple(sorted(criteria.items())))
        group = groups.get(key, read) if groups else read()
        if group is not None:
            return replace(group, description=_describe(level, household, region, pv))
    return None


# The comparison ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Comparison:
    available: bool
    reason: str = ""  # why there is no comparison (translated); "" when available
    level: str = ""
    group: str = ""  # the group's description (translated)
    group_size: int = 0
    kwh: Decimal | None = None  # the household's own consumption
    percentile: int | None = None  # share of the other members using less (0-100)
    median_kwh: Decimal | None = None
    efficient_kwh: Decimal | None = None  # the 20th percentile: the efficient fifth's use


def _kwh(wh: Decimal | int) -> Decimal:
    return (Decimal(wh) / KWH).quantize(TENTH, rounding=ROUND_HALF_UP)


def own_consumption_wh(household: Household, start: datetime, end: datetime) -> int | None:
    """The household's consumption over the period, None when a rollup is missing or has a gap."""
    period = _period(household, start, end)
    rows = HouseholdEnergy.objects.filter(
        household=household, resolution=period.resolution, start__gte=start, start__lt=end
    ).aggregate(
        wh=Sum(HOUSE_WH), rows=Count("pk"), complete_rows=Count("pk", filter=Q(complete=True))
    )
    if rows["rows"] != period.expected or rows["complete_rows"] != period.expected:
        return None
    return int(rows["wh"])


def _not_compared() -> Any:
    """Households that objected to the telco using their monthly totals for energy
    services: comparison groups are built from those totals, so they are left out."""
    return consent.refusing_households(
        recipient=RecipientKind.TELCO, purpose=Purpose.ENERGY_SERVICES, resolution=Resolution.MONTH
    )


def _objects(household: Household) -> bool:
    return Household.objects.filter(pk=household.pk, pk__in=_not_compared()).exists()


def compare(
    household: Household, month: date, groups: ComparisonGroups | None = None
) -> Comparison:
    """The household's consumption in the local calendar month holding `month` against its
    comparison group: percentile, median and the efficient neighbours' figure. Pass the
    run's `groups` when comparing many households (the month's reports)."""
    zone = ZoneInfo(household.timezone)
    first = month.replace(day=1)
    start = periods.local_midnight(first, zone)
    end = periods.local_midnight(periods.first_of_month(first, 1), zone)
    if groups.objects(household) if groups else _objects(household):
        return Comparison(
            available=False,
            reason=_("You chose not to share your monthly totals for energy services, so you "
                     "are not compared with other households."),
        )  # fmt: skip
    own = own_consumption_wh(household, start, end)
    if own is None:
        return Comparison(
            available=False,
            reason=_("Your consumption for this month is not complete yet, so it cannot be "
                     "compared."),
        )  # fmt: skip
    group = comparison_group(household, start, end, groups)
    if group is None:
        return Comparison(
            available=False,
            reason=_("Not enough similar households to compare with fairly."),
            kwh=_kwh(own),
        )
    below, ties = group.below_and_ties(own)
    others = group.size - 1
    # Ties with others count half; the household itself is one of the ties.
    share = (Decimal(below) + Decimal(ties - 1) / 2) / others
    return Comparison(
        available=True,
        level=group.level,
        group=group.description,
        group_size=group.size,
        kwh=_kwh(own),
        percentile=int((share * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)),
        median_kwh=_kwh(group.quantile_wh(MEDIAN_QUANTILE)),
        efficient_kwh=_kwh(group.quantile_wh(EFFICIENT_QUANTILE)),
    )
