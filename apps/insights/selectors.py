"""Reads for the reports: the period's peak quarter, overloads, scheduling savings, and the
subscriptions due at a given moment (domain functions: no user, no policy; the portal asks
the data-access policy first).

The energy, live and scheduling apps have no selector for these period reads yet; they
are read here from their rollup / episode / plan tables, never from raw readings.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Count, Q, QuerySet, Sum

from apps.core.permissions import Action
from apps.energy.models import HouseholdEnergy, Resolution
from apps.households.models import Household
from apps.insights.models import ReportSubscription, TipState, TipStatus
from apps.live.models import OverloadEpisode
from apps.scheduling.models import DailyPlan, DailyPlanStatus, PlanRequest, PlanStatus


def peak_quarter(
    *, household: Household, start: datetime, end: datetime
) -> tuple[datetime, int] | None:
    """The quarter of [start, end) with the highest grid import (its start and average W)."""
    row = (
        HouseholdEnergy.objects.filter(
            household=household,
            resolution=Resolution.QUARTER,
            start__gte=start,
            start__lt=end,
            peak_import_w__gt=0,
        )
        .order_by("-peak_import_w", "start")
        .values_list("start", "peak_import_w")
        .first()
    )
    return (row[0], row[1]) if row else None


def overload_episodes(
    *, household: Household, start: datetime, end: datetime
) -> list[OverloadEpisode]:
    return list(
        OverloadEpisode.objects.filter(
            household=household, started_at__gte=start, started_at__lt=end
        ).order_by("started_at")
    )


def scheduling_savings(
    *, household: Household, start: datetime, end: datetime
) -> tuple[int, Decimal, int, Decimal]:
    """Programmes run in [start, end) and interruptible-load plans starting in it, with what
    each saved against starting at once (cost_if_now - expected_cost, VAT excluded)."""
    programmes = PlanRequest.objects.filter(
        household=household,
        status=PlanStatus.DONE,
        planned_start__gte=start,
        planned_start__lt=end,
        expected_cost__isnull=False,
        cost_if_now__isnull=False,
    )
    plans = DailyPlan.objects.filter(
        household=household,
        horizon_start__gte=start,
        horizon_start__lt=end,
        expected_cost__isnull=False,
        cost_if_now__isnull=False,
    ).exclude(status=DailyPlanStatus.NOT_PLANNED)
    programme_savings = [p.saving or Decimal(0) for p in programmes]
    plan_savings = [p.saving or Decimal(0) for p in plans]
    return (
        len(programme_savings),
        sum(programme_savings, Decimal(0)),
        len(plan_savings),
        sum(plan_savings, Decimal(0)),
    )


def subscription_zones() -> list[str]:
    """The time zones of households with someone opted in to a report."""
    return list(
        ReportSubscription.objects.opted_in()
        .order_by()
        .values_list("household__timezone", flat=True)
        .distinct()
    )


def subscriptions_in_zones(*, zones: list[str]) -> QuerySet[ReportSubscription]:
    return (
        ReportSubscription.objects.opted_in()
        .filter(household__timezone__in=zones, user__is_active=True)
        .select_related("household__tenant", "user__tenant")
        .order_by("household_id", "user_id")
    )


def local_now(moment: datetime, zone: str) -> datetime:
    return moment.astimezone(ZoneInfo(zone))


def subscription_of(*, household: Any, user: Any) -> ReportSubscription | None:
    """The user's own choice of reports for this household (None: never chosen)."""
    return ReportSubscription.objects.filter(household=household, user=user.pk).first()


# Coaching tips' states ---------------------------------------------------------------------


def tips_may_change(*, user: Any, household: Household) -> bool:
    """Whether `user` may dismiss or tick off the household's tips (owners, and members the
    owner let control devices; never tenant staff)."""
    return Household.objects.restrict(user, Action.CONTROL_DEVICES).filter(pk=household.pk).exists()


def tip_states(*, household: Household, status: str | None = None) -> QuerySet[TipState]:
    states = TipState.objects.filter(household=household)
    if status is not None:
        states = states.filter(status=status)
    return states.order_by("-eur_per_year", "kind")


def tip_habits(*, household: Household) -> tuple[int, Decimal, int]:
    """Tips done so far, what they are worth per year together, and the open tips' count."""
    row = TipState.objects.filter(household=household).aggregate(
        done=Count("pk", filter=Q(status=TipStatus.DONE)),
        worth=Sum("eur_per_year", filter=Q(status=TipStatus.DONE)),
        open=Count("pk", filter=Q(status=TipStatus.OPEN)),
    )
    return row["done"], row["worth"] or Decimal(0), row["open"]
