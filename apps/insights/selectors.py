"""Reads for the reports: the subscriptions due at a given moment and the tips (domain
functions: no user, no policy; the portal asks the data-access policy first). A period's
peak quarter, overloads and scheduling savings come from the energy, live and scheduling
apps' own selectors."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery, Sum

from apps.core.permissions import Action
from apps.households.models import Household
from apps.insights.models import ReportSubscription, TipCheck, TipState, TipStatus

# Tips are computed again once a day (by the hourly task, a bounded batch per run).
TIPS_MAX_AGE = timedelta(days=1)
TIPS_REFRESH_BATCH = 5000


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


def tips_checked_at(*, household: Household) -> datetime | None:
    """When the household's tips were last computed (None: never)."""
    return TipCheck.objects.filter(household=household).values_list("checked_at", flat=True).first()


def tips_stale(*, now: datetime, limit: int = TIPS_REFRESH_BATCH) -> list[Any]:
    """Ids of households whose tips were not computed in the last `TIPS_MAX_AGE` (never
    checked first, then the oldest checks), at most `limit`."""
    return list(
        Household.objects.filter(
            ~Exists(
                TipCheck.objects.filter(
                    household=OuterRef("pk"), checked_at__gte=now - TIPS_MAX_AGE
                )
            )
        )
        .annotate(
            checked_at=Subquery(
                TipCheck.objects.filter(household=OuterRef("pk")).values("checked_at")
            )
        )
        .order_by(F("checked_at").asc(nulls_first=True), "pk")
        .values_list("pk", flat=True)[:limit]
    )


def tip_habits(*, household: Household, at: datetime | None = None) -> tuple[int, Decimal, int]:
    """Tips done, what they are worth per year together, and the tips open: now, or as they
    stood at `at` (a past report's end). A tip counts as done from its `done_at`, as open
    from its `first_seen_at` until it was done or dismissed (`updated_at` of a dismissed
    tip: a dismissed or done tip is never touched by a refresh again)."""
    if at is None:
        done = Q(status=TipStatus.DONE)
        open_ = Q(status=TipStatus.OPEN)
    else:
        done = Q(status=TipStatus.DONE, done_at__lt=at)
        closed = done | Q(status=TipStatus.DISMISSED, updated_at__lt=at)
        open_ = Q(first_seen_at__lt=at) & ~closed
    row = TipState.objects.filter(household=household).aggregate(
        done=Count("pk", filter=done),
        worth=Sum("eur_per_year", filter=done),
        open=Count("pk", filter=open_),
    )
    return row["done"], row["worth"] or Decimal(0), row["open"]
