"""Reads for the planner's pages and the console."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Count, F, QuerySet, Sum

from apps.core.permissions import Action, Scope, scope_for
from apps.scheduling.models import (
    DailyPlan,
    DailyPlanStatus,
    PlanningRun,
    PlanRequest,
    PlanStatus,
)


def planning_runs(*, user: Any, limit: int = 30) -> QuerySet[PlanningRun]:
    """The fleet's nightly runs: fleet-wide, so only for staff who see the whole fleet."""
    if scope_for(user, Action.VIEW) is not Scope.ALL:
        return PlanningRun.objects.none()
    return PlanningRun.objects.all()[:limit]


def savings_between(
    *, household: Any, start: datetime, end: datetime
) -> tuple[int, Decimal, int, Decimal]:
    """Programmes run in [start, end) and interruptible-load plans starting in it, each with
    what it saved against starting at once (cost_if_now - expected_cost, VAT excluded):
    (programmes, their saving, day plans, their saving), summed in the database."""
    saved = Sum(F("cost_if_now") - F("expected_cost"))
    programmes = PlanRequest.objects.filter(
        household=household, status=PlanStatus.DONE,
        planned_start__gte=start, planned_start__lt=end,
        expected_cost__isnull=False, cost_if_now__isnull=False,
    ).aggregate(n=Count("pk"), saved=saved)  # fmt: skip
    day_plans = DailyPlan.objects.filter(
        household=household, horizon_start__gte=start, horizon_start__lt=end,
        expected_cost__isnull=False, cost_if_now__isnull=False,
    ).exclude(status=DailyPlanStatus.NOT_PLANNED)  # fmt: skip
    plans = day_plans.aggregate(n=Count("pk"), saved=saved)
    return (
        programmes["n"], programmes["saved"] or Decimal(0),
        plans["n"], plans["saved"] or Decimal(0),
    )  # fmt: skip
