"""Thin Celery tasks: the nightly fleet re-planning, in chunks, and one household's."""

from __future__ import annotations

from datetime import date, timedelta

from celery import shared_task
from django.utils import timezone

from apps.households.models import Household
from apps.scheduling import daily, services

CHUNK = 200


@shared_task
def plan_fleet(day_iso: str | None = None) -> int:
    """Start the day's fleet run: one task per chunk of households (idempotent)."""
    day = date.fromisoformat(day_iso) if day_iso else timezone.localdate()
    _, chunks = services.planning_run_start(day=day, chunk_size=CHUNK)
    for chunk in chunks:
        plan_fleet_chunk.delay(day.isoformat(), chunk)
    return len(chunks)


@shared_task
def plan_fleet_chunk(day_iso: str, household_ids: list[str]) -> int:
    run = services.planning_run(
        day=date.fromisoformat(day_iso), chunk=household_ids, now=timezone.now()
    )
    return run.households_done


@shared_task
def refresh_household_plans(household_id: str) -> int:
    household = Household.objects.select_related("tenant").get(pk=household_id)
    return services.plans_refresh(household=household, now=timezone.now())


@shared_task
def plan_household_day(household_id: str, day_iso: str | None = None) -> int:
    """One household's day-ahead plan of its EV charging and water heater (a rule changed)."""
    household = Household.objects.select_related("tenant").get(pk=household_id)
    day = date.fromisoformat(day_iso) if day_iso else timezone.localdate()
    return len(daily.daily_plan(household=household, day=day, now=timezone.now()))


@shared_task
def refresh_plans_due() -> int:
    """After each intraday forecast: the plans of the next 12 hours, planned again."""
    return services.plans_due_refresh(now=timezone.now(), within=timedelta(hours=12))
