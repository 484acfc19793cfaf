"""Reads for the reports: the subscriptions due at a given moment and the tips (domain
functions: no user, no policy; the portal asks the data-access policy first). A period's
peak quarter, overloads and scheduling savings come from the energy, live and scheduling
apps' own selectors."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Count, Q, QuerySet, Sum

from apps.core.permissions import Action
from apps.households.models import Household
from apps.insights.models import ReportSubscription, TipState, TipStatus


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
