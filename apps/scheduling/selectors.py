"""Reads for the planner's pages and the console."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from apps.core.permissions import Action, Scope, scope_for
from apps.scheduling.models import PlanningRun


def planning_runs(*, user: Any, limit: int = 30) -> QuerySet[PlanningRun]:
    """The fleet's nightly runs: fleet-wide, so only for staff who see the whole fleet."""
    if scope_for(user, Action.VIEW) is not Scope.ALL:
        return PlanningRun.objects.none()
    return PlanningRun.objects.all()[:limit]
