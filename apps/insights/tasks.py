"""Thin Celery tasks: the hourly pick of reports due, one report's send (idempotent), and
the daily refresh of each household's coaching tips."""

from __future__ import annotations

from datetime import date

from celery import shared_task
from django.utils import timezone

from apps.households.models import Household
from apps.insights import selectors, services


@shared_task
def send_due_reports() -> int:
    """Hourly: queue the reports of the households in their local morning."""
    due = services.reports_due(now=timezone.now())
    for item in due:
        send_report.delay(str(item.subscription_id), item.period, item.first_day.isoformat())
    return len(due)


@shared_task
def send_report(subscription_id: str, period: str, first_day_iso: str) -> bool:
    if period not in ("day", "week", "month"):
        return False
    return services.report_send(
        subscription_id=subscription_id,
        period=period,  # type: ignore[arg-type]
        first_day=date.fromisoformat(first_day_iso),
    )


@shared_task
def refresh_stale_tips() -> int:
    """Hourly: queue a refresh of the tips not computed for a day (a bounded batch)."""
    stale = selectors.tips_stale(now=timezone.now())
    for household_id in stale:
        refresh_tips.delay(str(household_id))
    return len(stale)


@shared_task
def refresh_tips(household_id: str) -> int:
    household = Household.objects.select_related("tenant").filter(pk=household_id).first()
    if household is None:
        return 0
    return len(services.tips_refresh(household=household))
