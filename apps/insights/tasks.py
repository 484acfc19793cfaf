"""Thin Celery tasks: the hourly pick of reports due, and one report's send (idempotent)."""

from __future__ import annotations

from datetime import date

from celery import shared_task
from django.utils import timezone

from apps.insights import services


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
